package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rewriteTestdata is a package of the rewriter's testdata.
const golden = "../../internal/rewrite/testdata/golden"

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     func(dir string) []string
		prepare  func(t *testing.T, dir string)
		wantCode int
		wantErr  string // a line of stderr
	}{
		{
			name:     "help",
			args:     func(string) []string { return []string{"-h"} },
			wantCode: 0,
			wantErr:  "usage: schedrewrite -o DIR [flags] PACKAGES...",
		},
		{
			name:     "no dir",
			args:     func(string) []string { return []string{golden} },
			wantCode: 1,
			wantErr:  "schedrewrite: -o DIR is required",
		},
		{
			name:     "no packages",
			args:     func(dir string) []string { return []string{"-o", dir} },
			wantCode: 1,
			wantErr:  "schedrewrite: no packages given",
		},
		{
			name: "directory of the user",
			args: func(dir string) []string { return []string{"-o", dir, golden} },
			prepare: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: 1,
			wantErr:  " is not empty and was not written by schedrewrite: give an empty or new directory",
		},
		{
			name:     "refused",
			args:     func(dir string) []string { return []string{"-o", dir, "../../internal/rewrite/testdata/refuse"} },
			wantCode: 1,
			wantErr:  "testdata/refuse/refuse.go:12:6: named channel type Named: not supported (declare it as an alias: type Named = chan int)",
		},
		{
			name:     "type error",
			args:     func(dir string) []string { return []string{"-o", dir, "./testdata/broken"} },
			wantCode: 1,
			wantErr:  "broken.go:4:9: cannot use \"x\" (untyped string constant) as int value in return statement",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			var stdout, stderr bytes.Buffer
			code := run(tt.args(dir), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("got exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("got stderr:\n%s\nwant a line containing %q", stderr.String(), tt.wantErr)
			}
			if code != 0 {
				if _, err := os.Stat(filepath.Join(dir, "overlay.json")); err == nil {
					t.Errorf("an overlay was written although the command failed")
				}
			}
		})
	}
}

// TestOverlay writes an overlay twice into the same directory (the second
// run replaces the first's files) and checks that it maps every original
// to a rewritten file in the directory.
func TestOverlay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	for range 2 {
		var stdout, stderr bytes.Buffer
		if code := run([]string{"-o", dir, golden}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit code %d: %s", code, stderr.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "overlay.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ov struct{ Replace map[string]string }
	if err := json.Unmarshal(b, &ov); err != nil {
		t.Fatal(err)
	}
	inputs, _ := filepath.Glob(filepath.Join(golden, "*.go"))
	changed := 0 // the inputs whose golden rewrite differs from them
	for _, in := range inputs {
		a, _ := os.ReadFile(in)
		b, _ := os.ReadFile(in + ".golden")
		if !bytes.Equal(a, b) {
			changed++
		}
	}
	if got, want := len(ov.Replace), changed; got != want || want == 0 {
		t.Fatalf("got %d files in the overlay, want %d", got, want)
	}
	for orig, dst := range ov.Replace {
		if !filepath.IsAbs(orig) || !strings.HasPrefix(dst, dir+string(filepath.Separator)) {
			t.Errorf("overlay maps %s to %s, want an absolute original and a file in %s", orig, dst, dir)
		}
		want, err := os.ReadFile(orig + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s.golden", dst, orig)
		}
	}
}
