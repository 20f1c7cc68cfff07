package rewrite_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/sched/internal/rewrite"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden rewrites the package testdata/golden and compares each file
// with its golden output, NAME.go.golden (go test -update rewrites them).
func TestGolden(t *testing.T) {
	res, err := rewrite.Load(rewrite.Config{}, "./testdata/golden")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/golden/*.go")
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			abs, _ := filepath.Abs(name)
			orig, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := res.Files[abs]
			if !ok {
				got = orig // nothing to rewrite: the golden file is the original
			}
			golden := name + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
			if g, w := strings.Count(string(got), "\n"), strings.Count(string(orig), "\n"); g != w {
				t.Errorf("got %d lines, want the original's %d", g, w)
			}
		})
	}
}

// TestRefuse checks the diagnostics for the constructs of
// testdata/refuse, which cannot be rewritten.
func TestRefuse(t *testing.T) {
	_, err := rewrite.Load(rewrite.Config{}, "./testdata/refuse")
	var diags rewrite.Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("got %v, want diagnostics", err)
	}
	var got []string
	for _, d := range diags {
		got = append(got, filepath.Base(d.Pos.Filename)+":"+strings.SplitN(d.Error(), ":", 2)[1])
	}
	golden := "testdata/refuse/diagnostics.golden"
	text := strings.Join(got, "\n") + "\n"
	if *update {
		if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if text != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", text, want)
	}
}

// TestGoldenBuilds writes the rewrite of testdata/golden as an overlay
// and vets the package with it: the rewritten code compiles against
// package sched and passes go vet.
func TestGoldenBuilds(t *testing.T) {
	overlay := writeOverlay(t, "./testdata/golden")
	if out, err := exec.Command("go", "vet", "-overlay="+overlay, "./testdata/golden").CombinedOutput(); err != nil {
		t.Fatalf("go vet of the rewritten package: %v\n%s", err, out)
	}
}

// writeOverlay rewrites the packages and writes the rewritten files and
// an overlay for them to a temporary directory; it returns the overlay.
func writeOverlay(t *testing.T, patterns ...string) string {
	t.Helper()
	res, err := rewrite.Load(rewrite.Config{}, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	replace := map[string]string{}
	i := 0
	for orig, src := range res.Files {
		dst := filepath.Join(dir, fmt.Sprintf("%d_%s", i, filepath.Base(orig)))
		i++
		if err := os.WriteFile(dst, src, 0o644); err != nil {
			t.Fatal(err)
		}
		replace[orig] = dst
	}
	data, err := json.Marshal(map[string]any{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return overlay
}

// TestModuleWithoutSched checks the error for a module that does not
// require package sched's: the rewritten code could not build.
func TestModuleWithoutSched(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.26\n",
		"p/p.go": "package p\n\nfunc F(c chan int) { c <- 1 }\n",
	}
	for name, text := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := rewrite.Load(rewrite.Config{Dir: dir}, "./p")
	want := "add it with go get github.com/migratingtable/migratingtable"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want an error saying %q", err, want)
	}
}
