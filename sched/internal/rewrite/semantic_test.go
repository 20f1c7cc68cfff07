package rewrite_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// programs are the test programs of testdata/programs, each a small
// native Go program with a main and, in a file built with the tag sched,
// the entry point a user writes by hand: a test that runs it under sched.
// The buggy ones take -fixed for their fixed variant.
var programs = []struct {
	name string
	args []string // the arguments of the native runs
}{
	{"pipeline", nil},
	{"lostwakeup", []string{"-fixed"}},
	{"doubleclose", []string{"-fixed"}},
	{"sendleak", []string{"-fixed"}},
	{"lockorder", []string{"-fixed"}},
}

func programPaths() []string {
	var paths []string
	for _, p := range programs {
		paths = append(paths, "./testdata/programs/"+p.name)
	}
	return paths
}

func goCmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestSemantics builds each program as it is and rewritten (with the
// overlay), checks that outside a run both print the same, then runs
// the programs' sched entry points against the rewritten code: each
// buggy variant's bug is found (a panic for the lost wakeup, which times
// out, and for the double close; a leak for the unbuffered send; a
// deadlock for the lock order) and each fixed variant is clean.
func TestSemantics(t *testing.T) {
	overlay := writeOverlay(t, programPaths()...)
	plain, rewritten := t.TempDir(), t.TempDir()
	goCmd(t, append([]string{"build", "-o", plain + "/"}, programPaths()...)...)
	goCmd(t, append([]string{"build", "-overlay=" + overlay, "-o", rewritten + "/"}, programPaths()...)...)
	for _, p := range programs {
		run := func(dir string) string {
			out, err := exec.Command(filepath.Join(dir, p.name), p.args...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %v: %v\n%s", p.name, p.args, err, out)
			}
			return string(out)
		}
		got, want := run(rewritten), run(plain)
		if got != want || want == "" {
			t.Errorf("%s: rewritten program printed %q, the original %q", p.name, got, want)
		}
	}

	out := goCmd(t, append([]string{"test", "-count=1", "-v", "-tags=sched", "-overlay=" + overlay}, programPaths()...)...)
	if got := strings.Count(out, "--- PASS: TestSched"); got != len(programs) {
		t.Errorf("got %d passing sched entry points, want %d:\n%s", got, len(programs), out)
	}
	// The reports name the original files' lines: the rewrite keeps them.
	for _, at := range []struct{ file, code string }{
		{"sendleak/sendleak.go", "result <- n * n"},
		{"doubleclose/doubleclose.go", "close(c.done)"},
		{"lockorder/lockorder.go", "second.mu.Lock()"},
	} {
		src, err := os.ReadFile("testdata/programs/" + at.file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(src), "\n")
		found := false
		for i, l := range lines {
			if strings.TrimSpace(l) == at.code && strings.Contains(out, fmt.Sprintf("%s:%d)", filepath.Base(at.file), i+1)) {
				found = true
			}
		}
		if !found {
			t.Errorf("no report names the line of %s in %s:\n%s", at.code, at.file, out)
		}
	}
	if testing.Verbose() {
		os.Stdout.WriteString(out)
	}
}
