//go:build unix

package main

import (
	"bytes"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// drain reads a FIFO to its end in the background, as a consumer of
// the output would; the returned function waits and returns the bytes.
// Called after the command returned: if the command never opened the
// FIFO, the reader is still blocked in open, and a writer opened and
// closed here lets it see an empty stream instead of hanging the test.
func drain(t *testing.T, path string) func() []byte {
	t.Helper()
	done := make(chan []byte, 1)
	go func() {
		f, err := os.Open(path) // blocks until the command opens it to write
		if err != nil {
			done <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		done <- b
	}()
	return func() []byte {
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		return <-done
	}
}

// snapshot records what is at path, so a test can check it was left
// alone: the entry's type, a link's target, a file's content.
type snapshot struct {
	mode    fs.FileMode
	link    string
	content []byte
}

func snap(t *testing.T, path string) snapshot {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("lstat %s: %v", path, err)
	}
	s := snapshot{mode: fi.Mode()}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		s.link, _ = os.Readlink(path)
	case fi.Mode().IsRegular():
		s.content, _ = os.ReadFile(path)
	}
	return s
}

func (s snapshot) equal(o snapshot) bool {
	return s.mode == o.mode && s.link == o.link && bytes.Equal(s.content, o.content)
}

// noTempFiles fails if dir holds a leftover temporary file.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// TestOutputFileRules runs -replay with -html and with -history-out
// over each kind of thing the path can name, and checks the rules of
// fileRules: what is written, what is refused (exit 2, one line, the
// entry untouched, before the replay runs) and what is written through.
func TestOutputFileRules(t *testing.T) {
	for _, flagName := range []string{"-html", "-history-out"} {
		t.Run(flagName, func(t *testing.T) {
			// wantOut: a marker of the page or of the history array.
			wantOut := "<!DOCTYPE html>"
			if flagName == "-history-out" {
				wantOut = `"record":`
			}
			replay := func(path string, extra ...string) result {
				return runCmd(t, append([]string{"-replay", seedTrace, flagName, path}, extra...)...)
			}
			refused := func(t *testing.T, r result, path string, msg ...string) {
				t.Helper()
				if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "mtabletest: "+flagName+" "+path+": ") {
					t.Errorf("exit code %d, stderr %q: want 2 and one line naming %s %s", r.code, r.stderr, flagName, path)
				}
				if r.stdout != "" {
					t.Errorf("stdout %q: want nothing (refused before the replay)", r.stdout)
				}
				for _, m := range msg {
					if !strings.Contains(r.stderr, m) {
						t.Errorf("stderr %q lacks %q", r.stderr, m)
					}
				}
			}

			t.Run("missing: created", func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "out")
				if r := replay(path); r.code != exitFailure {
					t.Fatalf("exit code got %d, want 1: %s", r.code, r.stderr)
				}
				if got := string(mustRead(t, path)); !strings.Contains(got, wantOut) {
					t.Errorf("%s holds no %q", path, wantOut)
				}
			})
			t.Run("missing parent: refused", func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "no", "such", "out")
				refused(t, replay(path), path, "directory "+filepath.Join(dir, "no", "such")+" does not exist")
				if _, err := os.Stat(filepath.Join(dir, "no")); err == nil {
					t.Errorf("the missing parent was created")
				}
			})
			t.Run("regular file: refused without -overwrite", func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "mine")
				if err := os.WriteFile(path, []byte("my notes\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				before := snap(t, path)
				refused(t, replay(path), path, "file exists", "-overwrite")
				if !snap(t, path).equal(before) {
					t.Errorf("%s was changed", path)
				}
			})
			t.Run("regular file: replaced with -overwrite", func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "old")
				if err := os.WriteFile(path, []byte("an old page\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if r := replay(path, "-overwrite"); r.code != exitFailure {
					t.Fatalf("exit code got %d, want 1: %s", r.code, r.stderr)
				}
				fi, err := os.Lstat(path)
				if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
					t.Errorf("after -overwrite: %v, %v; want a regular file with its mode 0600 kept", fi.Mode(), err)
				}
				if got := string(mustRead(t, path)); !strings.Contains(got, wantOut) {
					t.Errorf("%s was not replaced", path)
				}
				noTempFiles(t, dir)
			})
			for _, link := range []struct {
				name, target string
				msg          string
			}{
				{"link to a regular file", "target-file", "a symbolic link to a regular file"},
				{"link to a directory", "target-dir", "a symbolic link to a directory"},
				{"link to nothing", "missing", "a symbolic link to nothing"},
			} {
				t.Run(link.name+": refused even with -overwrite", func(t *testing.T) {
					dir := t.TempDir()
					if err := os.WriteFile(filepath.Join(dir, "target-file"), []byte("theirs\n"), 0o644); err != nil {
						t.Fatal(err)
					}
					if err := os.Mkdir(filepath.Join(dir, "target-dir"), 0o755); err != nil {
						t.Fatal(err)
					}
					path := filepath.Join(dir, "link")
					if err := os.Symlink(link.target, path); err != nil {
						t.Skipf("symlink: %v", err)
					}
					before, target := snap(t, path), snap(t, filepath.Join(dir, "target-file"))
					refused(t, replay(path, "-overwrite"), path, link.msg)
					if !snap(t, path).equal(before) || !snap(t, filepath.Join(dir, "target-file")).equal(target) {
						t.Errorf("the link or its target was changed")
					}
					noTempFiles(t, dir)
				})
			}
			t.Run("directory: refused", func(t *testing.T) {
				path := t.TempDir()
				refused(t, replay(path, "-overwrite"), path, "a directory")
			})
			t.Run("socket: refused", func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "sock")
				l, err := net.Listen("unix", path)
				if err != nil {
					t.Skipf("unix socket: %v", err)
				}
				defer l.Close()
				refused(t, replay(path, "-overwrite"), path, "a socket")
			})
			t.Run("FIFO: written through", func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "fifo")
				mkfifo(t, path)
				got := drain(t, path)
				if r := replay(path); r.code != exitFailure {
					t.Fatalf("exit code got %d, want 1: %s", r.code, r.stderr)
				}
				if b := got(); !strings.Contains(string(b), wantOut) {
					t.Errorf("the reader of the FIFO got %d bytes without %q", len(b), wantOut)
				}
				if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
					t.Errorf("%s is no longer a FIFO: %v %v", path, fi.Mode(), err)
				}
			})
			t.Run("link to a FIFO: written through", func(t *testing.T) {
				dir := t.TempDir()
				fifo := filepath.Join(dir, "fifo")
				mkfifo(t, fifo)
				path := filepath.Join(dir, "link")
				if err := os.Symlink("fifo", path); err != nil {
					t.Skipf("symlink: %v", err)
				}
				got := drain(t, fifo)
				if r := replay(path); r.code != exitFailure {
					t.Fatalf("exit code got %d, want 1: %s", r.code, r.stderr)
				}
				if b := got(); !strings.Contains(string(b), wantOut) {
					t.Errorf("the reader of the FIFO got %d bytes without %q", len(b), wantOut)
				}
				if s := snap(t, path); s.link != "fifo" {
					t.Errorf("the link was replaced: %+v", s)
				}
			})
			t.Run("link to /dev/null: written through", func(t *testing.T) {
				// Through a link in a temporary directory: a regression
				// replaces the link, never /dev/null itself.
				fi, err := os.Stat(os.DevNull)
				if err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
					t.Skipf("%s is not a character device here", os.DevNull)
				}
				dir := t.TempDir()
				path := filepath.Join(dir, "null")
				if err := os.Symlink(os.DevNull, path); err != nil {
					t.Skipf("symlink: %v", err)
				}
				if r := replay(path); r.code != exitFailure {
					t.Fatalf("exit code got %d, want 1: %s", r.code, r.stderr)
				}
				if s := snap(t, path); s.link != os.DevNull {
					t.Errorf("the link to %s was replaced: %+v", os.DevNull, s)
				}
				noTempFiles(t, dir)
			})
		})
	}
}

// TestOutDirNeverWritesOver puts something other than the trace under
// the name the failing iteration's trace gets in -out: each is left
// alone, and the trace takes the next name.
func TestOutDirNeverWritesOver(t *testing.T) {
	// The name the trace takes, from a first run.
	first := t.TempDir()
	path, _ := findFailure(t, first)
	name := filepath.Base(path)
	trace := mustRead(t, path)
	second := strings.TrimSuffix(name, ".trace") + "-2.trace"

	tests := []struct {
		name  string
		setup func(t *testing.T, dir, path string)
	}{
		{"FIFO", func(t *testing.T, dir, path string) { mkfifo(t, path) }},
		{"directory", func(t *testing.T, dir, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"link to the same trace", func(t *testing.T, dir, path string) {
			// Even the same content behind a link is not reused: the
			// reported path must be a file of this directory.
			if err := os.WriteFile(filepath.Join(dir, "elsewhere"), trace, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("elsewhere", path); err != nil {
				t.Skipf("symlink: %v", err)
			}
		}},
		{"link to another file", func(t *testing.T, dir, path string) {
			if err := os.WriteFile(filepath.Join(dir, "theirs"), []byte("theirs\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("theirs", path); err != nil {
				t.Skipf("symlink: %v", err)
			}
		}},
		{"dangling link", func(t *testing.T, dir, path string) {
			if err := os.Symlink("nowhere", path); err != nil {
				t.Skipf("symlink: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			occupied := filepath.Join(dir, name)
			tt.setup(t, dir, occupied)
			before := snap(t, occupied)
			r := runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", dir)
			if r.code != exitFailure {
				t.Fatalf("exit code got %d, want 1: %s", r.code, r.stderr)
			}
			if !snap(t, occupied).equal(before) {
				t.Errorf("%s was changed", occupied)
			}
			want := filepath.Join(dir, second)
			if got := mustRead(t, want); !bytes.Equal(got, trace) {
				t.Errorf("%s does not hold the trace", want)
			}
			if !strings.Contains(r.stdout, "trace: "+want+"\n") {
				t.Errorf("output does not name %s as the trace", want)
			}
		})
	}
}

// TestOutDirKinds: -out may be missing (created with its parents) or a
// link to a directory; anything else is refused before the run.
func TestOutDirKinds(t *testing.T) {
	t.Run("missing, with its parents: created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		if r := runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", dir); r.code != exitFailure {
			t.Fatalf("exit code got %d, want 1: %s", r.code, r.stderr)
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "*.trace")); len(m) != 2 {
			t.Errorf("traces in %s: %v, want the run's and its shrunk run's", dir, m)
		}
	})
	t.Run("link to a directory: followed", func(t *testing.T) {
		base := t.TempDir()
		real := filepath.Join(base, "real")
		if err := os.Mkdir(real, 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(base, "link")
		if err := os.Symlink("real", link); err != nil {
			t.Skipf("symlink: %v", err)
		}
		if r := runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", link); r.code != exitFailure {
			t.Fatalf("exit code got %d, want 1: %s", r.code, r.stderr)
		}
		if m, _ := filepath.Glob(filepath.Join(real, "*.trace")); len(m) != 2 {
			t.Errorf("traces in %s: %v, want the run's and its shrunk run's", real, m)
		}
	})
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, path string)
		msg   string
	}{
		{"FIFO", func(t *testing.T, path string) { mkfifo(t, path) }, "a FIFO, not a directory"},
		{"dangling link", func(t *testing.T, path string) {
			if err := os.Symlink("nowhere", path); err != nil {
				t.Skipf("symlink: %v", err)
			}
		}, "a symbolic link to nothing"},
	} {
		t.Run(tt.name+": refused", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			tt.setup(t, path)
			r := runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", path)
			if r.code != exitUsage || r.stdout != "" || !strings.HasPrefix(r.stderr, "mtabletest: -out "+path+": ") || !strings.Contains(r.stderr, tt.msg) {
				t.Errorf("exit code %d, stdout %q, stderr %q: want 2 before the run, naming -out and %q", r.code, r.stdout, r.stderr, tt.msg)
			}
		})
	}
}

// TestSeedsReplacesOnlyRegularFiles: -seeds replaces its own regular
// bug-N-Name.trace files, but not a link in their place.
func TestSeedsReplacesOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bug-7-EnsurePartitionSwitchedFromPopulated.trace")
	if err := os.WriteFile(path, []byte("an old seed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCmd(t, "-seeds", dir, "-bug", foundBug, "-iterations", foundIn); r.code != exitPass {
		t.Fatalf("-seeds over a regular file: exit code got %d, want 0: %s", r.code, r.stderr)
	}
	if got := mustRead(t, path); !bytes.HasPrefix(got, []byte("sched-trace ")) {
		t.Errorf("the seed file was not replaced: %q", got)
	}
	noTempFiles(t, dir)

	if err := os.WriteFile(filepath.Join(dir, "theirs"), []byte("theirs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if err := os.Symlink("theirs", path); err != nil {
		t.Skipf("symlink: %v", err)
	}
	before := snap(t, path)
	r := runCmd(t, "-seeds", dir, "-bug", foundBug, "-iterations", foundIn)
	if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "mtabletest: -seeds "+path+": a symbolic link to a regular file") {
		t.Errorf("-seeds over a link: exit code %d, stdout %q, stderr %q; want 2 naming the link, before exploring", r.code, r.stdout, r.stderr)
	}
	if !snap(t, path).equal(before) || string(mustRead(t, filepath.Join(dir, "theirs"))) != "theirs\n" {
		t.Errorf("the link or its target was changed")
	}
}

// TestOutputsDistinct: an output naming another output, or the trace
// being replayed, is refused, -overwrite or not.
func TestOutputsDistinct(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.trace")
	if err := os.WriteFile(trace, mustRead(t, seedTrace), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("t.trace", filepath.Join(dir, "alias")); err != nil {
		t.Skipf("symlink: %v", err)
	}
	out := filepath.Join(dir, "out")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"-html is -history-out", []string{"-replay", trace, "-html", out, "-history-out", dir + "/./out"}, "-html and -history-out name the same file"},
		{"-html is the trace", []string{"-replay", trace, "-html", trace, "-overwrite"}, "-html " + trace + " is the trace file -replay reads"},
		{"-history-out is the trace, through a link", []string{"-replay", filepath.Join(dir, "alias"), "-history-out", trace, "-overwrite"}, "is the trace file -replay reads"},
	}
	before := mustRead(t, trace)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.args...)
			if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit code %d, stdout %q, stderr %q; want 2 and one line saying %q", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
	if !bytes.Equal(mustRead(t, trace), before) {
		t.Errorf("the trace was changed")
	}
	if _, err := os.Lstat(out); err == nil {
		t.Errorf("%s was written", out)
	}
}
