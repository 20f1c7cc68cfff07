package azuritetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindAzuriteWithoutNode(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("AZURITE_TABLE", "")
	_, _, skip, err := findAzurite()
	if err != nil {
		t.Fatalf("got error %v, want a skip message", err)
	}
	if !strings.Contains(skip, "Node.js (node) is not on PATH") || !strings.Contains(skip, InstallCommand) {
		t.Errorf("skip message %q does not say that node is missing and how to install", skip)
	}
}

func TestFindAzuriteNotInstalled(t *testing.T) {
	// A fake node on PATH and a module root without node_modules.
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "node"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	t.Setenv("AZURITE_TABLE", "")
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module github.com/migratingtable/migratingtable\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(root, "mtable", "aztable")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	_, _, skip, err := findAzurite()
	if skip != "" {
		t.Fatalf("got skip %q, want an error", skip)
	}
	if err == nil || !strings.Contains(err.Error(), "npm ci --prefix tools/azurite") {
		t.Errorf("got %v, want an error giving the install command", err)
	}
}

func TestConnectionStringNamesEndpoint(t *testing.T) {
	s := &Server{endpoint: "http://127.0.0.1:1234/devstoreaccount1"}
	cs := s.ConnectionString()
	for _, want := range []string{"AccountName=devstoreaccount1", "TableEndpoint=http://127.0.0.1:1234/devstoreaccount1", "AccountKey=" + devKey} {
		if !strings.Contains(cs, want) {
			t.Errorf("connection string lacks %q", want)
		}
	}
}
