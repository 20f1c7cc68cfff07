// Command schedrewrite rewrites Go packages for package sched and writes
// the result as a go build overlay, so that the packages' own tests run
// under sched's controlled primitives while their sources stay as they
// are.
//
// Usage:
//
//	schedrewrite -o DIR [-overlay FILE] [-tags T1,T2] [-notests] [-v] PACKAGES...
//	go test -overlay=DIR/overlay.json [-tags T1,T2] PACKAGES...
//
// It loads and type-checks the packages (as go list names them: ./...,
// import paths), with their test files unless -notests is given,
// rewrites their channels, select statements, go statements and imports
// of sync, sync/atomic, time and context for sched (see the rewriting
// table in sched/internal/rewrite's documentation), and writes each file
// the rewrite changes under DIR, and the overlay that maps the original
// file to it in FILE (DIR/overlay.json by default). The rewritten files
// keep the original's lines, so compiler errors, panics and sched's
// reports name the original file and line.
//
// The packages' module must require github.com/migratingtable/migratingtable
// (go get github.com/migratingtable/migratingtable). The tests that run
// under sched are written by hand: a test that calls the package's code
// under sched.Run or an Explorer, usually in a file with a build tag
// (//go:build sched) so that the plain go test leaves it out; give the tag
// to go test with the overlay.
//
// DIR must be empty, absent, or a directory this command wrote before;
// the files it wrote then are replaced. Nothing else is overwritten.
//
// Code that cannot be rewritten correctly is reported, one line per
// place, as "file:line:col: message", and nothing is written; the exit
// status is then 1, as for any other error.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/migratingtable/migratingtable/sched/internal/rewrite"
)

// manifest is the file, in DIR, that lists what the command wrote there.
const manifest = ".schedrewrite"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schedrewrite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "the directory to write the rewritten files to (required); it must be empty, absent or written by schedrewrite before")
	overlay := fs.String("overlay", "", "the overlay file to write, for go build -overlay (default DIR/overlay.json)")
	tags := fs.String("tags", "", "comma-separated build tags to load the packages with (give the same to go test)")
	noTests := fs.Bool("notests", false, "leave the packages' _test.go files out (they are rewritten by default)")
	verbose := fs.Bool("v", false, "print each rewritten file and where it was written")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: schedrewrite -o DIR [flags] PACKAGES...\n\n"+
			"schedrewrite rewrites the packages' channels, selects, go statements and\n"+
			"imports of sync, sync/atomic, time and context for package sched, writes the\n"+
			"changed files under DIR and an overlay mapping the originals to them; then\n"+
			"go test -overlay=DIR/overlay.json PACKAGES runs them under sched, sources untouched.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "schedrewrite: %v\n", err)
		return 1
	}
	if *out == "" {
		return fail(errors.New("-o DIR is required"))
	}
	if fs.NArg() == 0 {
		return fail(errors.New("no packages given"))
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return fail(err)
	}
	ovl := filepath.Join(dir, "overlay.json")
	if *overlay != "" {
		if ovl, err = filepath.Abs(*overlay); err != nil {
			return fail(err)
		}
	}
	previous, err := checkDir(dir, ovl)
	if err != nil {
		return fail(err)
	}

	cfg := rewrite.Config{NoTests: *noTests}
	if *tags != "" {
		cfg.Tags = strings.Split(*tags, ",")
	}
	res, err := rewrite.Load(cfg, fs.Args()...)
	var diags rewrite.Diagnostics
	if errors.As(err, &diags) {
		wd, _ := os.Getwd()
		for _, d := range diags {
			if rel, err := filepath.Rel(wd, d.Pos.Filename); err == nil && !strings.HasPrefix(rel, "..") {
				d.Pos.Filename = rel
			}
			fmt.Fprintln(stderr, d.Error())
		}
		return 1
	}
	if err != nil {
		// Load's errors are lines "file:line:col: message".
		fmt.Fprintln(stderr, err)
		return 1
	}

	for _, name := range previous {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fail(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	var origs []string
	for name := range res.Files {
		origs = append(origs, name)
	}
	slices.Sort(origs)
	replace := map[string]string{}
	var written []string
	for _, orig := range origs {
		rel := filepath.Join(strings.ReplaceAll(strings.TrimPrefix(filepath.Dir(orig), string(filepath.Separator)), string(filepath.Separator), "_"), filepath.Base(orig))
		dst := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fail(err)
		}
		if err := os.WriteFile(dst, res.Files[orig], 0o644); err != nil {
			return fail(err)
		}
		replace[orig] = dst
		written = append(written, rel)
		if *verbose {
			fmt.Fprintf(stdout, "%s -> %s\n", orig, dst)
		}
	}
	data, err := json.MarshalIndent(struct{ Replace map[string]string }{replace}, "", "\t")
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(ovl, append(data, '\n'), 0o644); err != nil {
		return fail(err)
	}
	if rel, err := filepath.Rel(dir, ovl); err == nil && !strings.HasPrefix(rel, "..") {
		written = append(written, rel)
	}
	if err := os.WriteFile(filepath.Join(dir, manifest), []byte(strings.Join(written, "\n")+"\n"), 0o644); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "rewrote %d files of %d packages; run: go test -overlay=%s %s\n",
		len(origs), len(res.Packages), ovl, strings.Join(fs.Args(), " "))
	return 0
}

// checkDir makes sure that writing to dir and ovl loses nothing: dir is
// absent, empty or holds the manifest of an earlier run (whose files it
// returns, to be replaced), and ovl, if it exists outside dir, is an
// overlay whose files are all in dir.
func checkDir(dir, ovl string) ([]string, error) {
	var previous []string
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	case len(entries) > 0:
		b, err := os.ReadFile(filepath.Join(dir, manifest))
		if err != nil {
			return nil, fmt.Errorf("%s is not empty and was not written by schedrewrite: give an empty or new directory", dir)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l != "" {
				previous = append(previous, l)
			}
		}
	}
	if rel, err := filepath.Rel(dir, ovl); err == nil && !strings.HasPrefix(rel, "..") {
		return previous, nil
	}
	b, err := os.ReadFile(ovl)
	if errors.Is(err, os.ErrNotExist) {
		return previous, nil
	}
	if err != nil {
		return nil, err
	}
	var old struct{ Replace map[string]string }
	if err := json.Unmarshal(b, &old); err != nil {
		return nil, fmt.Errorf("%s exists and is not an overlay: give another -overlay file", ovl)
	}
	for _, dst := range old.Replace {
		if rel, err := filepath.Rel(dir, dst); err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("%s exists and is not an overlay into %s: give another -overlay file", ovl, dir)
		}
	}
	return previous, nil
}
