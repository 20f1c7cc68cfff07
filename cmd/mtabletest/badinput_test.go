package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// usageError checks r is a refusal: exit 2, nothing on stdout, one line
// on stderr starting "mtabletest: " and holding each of want.
func usageError(t *testing.T, r result, want ...string) {
	t.Helper()
	if r.code != exitUsage {
		t.Errorf("exit code got %d, want %d; stderr: %s", r.code, exitUsage, r.stderr)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasPrefix(r.stderr, "mtabletest: ") {
		t.Errorf("stderr got %q, want one line starting \"mtabletest: \"", r.stderr)
	}
	if strings.Contains(r.stderr, "internal error") {
		t.Errorf("stderr got %q: a panic reached the last line of defence", r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr got %q, want it to mention %q", r.stderr, w)
		}
	}
}

// TestTinyStepBound: a step bound too small for the run to load its
// tables (mtabletest -iterations 1 -max-steps 1 panicked with an index
// out of range in oracle 2) is a step-bound failure like any other, and
// its trace replays.
func TestTinyStepBound(t *testing.T) {
	dir := t.TempDir()
	r := runCmd(t, "-iterations", "1", "-max-steps", "1", "-out", dir)
	if r.code != exitFailure {
		t.Fatalf("exit code got %d, want %d: %s", r.code, exitFailure, r.stderr)
	}
	if !strings.Contains(r.stdout, "--- failing check: step-bound ---") || !strings.Contains(r.stdout, "step bound exceeded at step 1") {
		t.Errorf("output does not report the step bound:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "FLAKY") {
		t.Errorf("the trace does not reproduce:\n%s", r.stdout)
	}
	traces, _ := filepath.Glob(filepath.Join(dir, "*.trace"))
	if len(traces) != 2 {
		t.Fatalf("traces written: %v, want the run's and its shrunk run's", traces)
	}
	for _, tr := range traces {
		if rr := runCmd(t, "-replay", tr); rr.code != exitFailure || rr.stderr != "" {
			t.Errorf("replay %s: exit code %d, stderr %q; want 1 and nothing", tr, rr.code, rr.stderr)
		}
	}
}

// editTrace returns the seed trace with the first line matching re
// replaced by repl (a regexp replacement), written to a new file.
func editTrace(t *testing.T, re, repl string) string {
	t.Helper()
	data := mustRead(t, seedTrace)
	rx := regexp.MustCompile("(?m)" + re)
	loc := rx.FindIndex(data)
	if loc == nil {
		t.Fatalf("the seed trace has no line matching %q", re)
	}
	edited := append(append(append([]byte(nil), data[:loc[0]]...), rx.ReplaceAll(data[loc[0]:loc[1]], []byte(repl))...), data[loc[1]:]...)
	path := filepath.Join(t.TempDir(), "edited.trace")
	if err := os.WriteFile(path, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReplayEditedTrace: a trace file edited into one this program
// cannot have recorded is refused with one line and exit 2, whether the
// edit is caught when the file is read (its parameters) or by the
// replay (its decisions). Before, a diverging first draw panicked (index
// out of range in oracle 2), a repeated initial row made the main
// machine panic (reported as a failure of the library, exit 1), and a
// step bound below the trace's length reported a step-bound failure
// (exit 1) though the trace's run went on.
func TestReplayEditedTrace(t *testing.T) {
	tests := []struct {
		name      string
		re, repl  string
		want      []string
		diverging bool // the replay runs and says the schedule diverged
	}{
		{"first draw made a schedule decision", `^c 0/2$`, "s 0", []string{"the schedule diverged at step 2", "program calls Choose(2)"}, true},
		{"first draw changed to another valid value", `^c 0/2$`, "c 1/2", []string{"the schedule diverged at step 3", `"c 2/3"`, "Choose(2)"}, true},
		{"a schedule decision changed", `^s 1$`, "s 5", []string{"the schedule diverged at step", `"s 5"`}, true},
		{"a later choice changed", `^c 4/5$`, "c 0/5", []string{"the schedule diverged"}, true},
		{"step bound below the trace's length", `^max-steps 5000$`, "max-steps 5", []string{"the schedule diverged at step 6", " more decisions, program failed: step bound exceeded at step 5"}, true},
		{"initial row repeated", `^param initial-rows=.*$`, "param initial-rows=0,1,0", []string{"initial row 0 listed twice"}, false},
		{"latency huge", `^param latency=.*$`, "param latency=9223372036854775807", []string{"latency 9223372036854775807 out of range"}, false},
		{"weights overflowing", `^param weights=.*$`, "param weights=batch=9223372036854775807,query=9223372036854775807,retrieve=1,stream=1", []string{"call weights"}, false},
		{"bug unknown", `^param bug=.*$`, "param bug=99:Nothing", []string{`bug="99:Nothing"`}, false},
		{"apps out of range", `^param apps=.*$`, "param apps=17", []string{"apps 17 out of range"}, false},
		{"decision out of its bound", `^c 0/3$`, "c 3/3", []string{"not a usable trace file", "0 <= V < N"}, false},
		{"end line wrong", `^end [0-9]+$`, "end 1", []string{"end line says 1 decisions, file holds "}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := editTrace(t, tt.re, tt.repl)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"-replay", path}, &out, &errb)
			usageError(t, result{code, "", errb.String()}, tt.want...)
			if got := strings.Contains(out.String(), "--- the schedule diverged ---"); got != tt.diverging {
				t.Errorf("output says the schedule diverged: %v, want %v\n%s", got, tt.diverging, out.String())
			}
			if strings.Contains(out.String(), "--- failing check: panic") {
				t.Errorf("the replay reports a panic:\n%s", out.String())
			}
		})
	}
}

// TestReplayNotATraceFile: files that are no trace at all.
func TestReplayNotATraceFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := os.Stat("/dev/zero"); err == nil {
		t.Run("endless", func(t *testing.T) {
			usageError(t, runCmd(t, "-replay", "/dev/zero"), "-replay /dev/zero: larger than 64 MiB")
		})
	}
	t.Run("directory", func(t *testing.T) {
		usageError(t, runCmd(t, "-replay", dir), "-replay "+dir)
	})
	t.Run("empty", func(t *testing.T) {
		path := filepath.Join(dir, "empty.trace")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		usageError(t, runCmd(t, "-replay", path), "trace is empty")
	})
}

// TestFlagValues: flag values that panicked, hung or misbehaved get one
// line and exit 2 (the values the command refused already are in
// TestUsageErrors); the edge values that are valid run.
func TestFlagValues(t *testing.T) {
	const maxInt = "9223372036854775807"
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"depth huge (hung allocating change points)", []string{"-strategy", "pct", "-depth", "1000000000"}, []string{"-depth 1000000000", "0..400"}},
		{"depth negative", []string{"-depth", "-1"}, []string{"-depth -1"}},
		{"max-steps huge", []string{"-max-steps", maxInt}, []string{"-max-steps " + maxInt, "0..1000000"}},
		{"max-steps negative", []string{"-max-steps", "-3"}, []string{"-max-steps -3"}},
		{"parallel huge", []string{"-parallel", "1000000"}, []string{"-parallel 1000000", "0..256"}},
		{"parallel negative", []string{"-parallel", "-1"}, []string{"-parallel -1"}},
		{"iterations negative", []string{"-iterations", "-5"}, []string{"-iterations -5"}},
		{"iterations past int", []string{"-iterations", "99999999999999999999"}, []string{"-iterations", "out of range"}},
		{"seed not a number", []string{"-seed", "abc"}, []string{"-seed", "abc"}},
		{"seed negative", []string{"-seed", "-1"}, []string{"-seed", "-1"}},
		{"shard 3/2", []string{"-shard", "3/2"}, []string{"-shard", "3/2"}},
		{"shard 0/0", []string{"-shard", "0/0"}, []string{"-shard", "0/0"}},
		{"strategy junk", []string{"-strategy", "junk"}, []string{`-strategy "junk"`}},
		{"bug 99", []string{"-bug", "99"}, []string{`no bug "99"`}},
		{"bug -5", []string{"-bug", "-5"}, []string{`no bug "-5"`}},
		{"history-limit junk", []string{"-history-out", "h.json", "-history-limit", "lots"}, []string{"-history-limit", "500M"}},
		{"history-limit tiny", []string{"-history-out", "h.json", "-history-limit", "10"}, []string{"-history-limit", "1 KiB"}},
		{"history-limit without -history-out", []string{"-history-limit", "1M"}, []string{"-history-limit needs -history-out"}},
		{"seeds with -history-out (ignored before)", []string{"-seeds", "d", "-history-out", "h.json"}, []string{"-seeds cannot be combined"}},
		{"seeds with -json (ignored before)", []string{"-seeds", "d", "-json"}, []string{"-seeds cannot be combined"}},
		{"seeds with -shard", []string{"-seeds", "d", "-shard", "1/2"}, []string{"-seeds cannot be combined"}},
		{"history-limit past int64", []string{"-history-out", "h.json", "-history-limit", "99999999999G"}, []string{"-history-limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.args...)
			usageError(t, r, tt.want...)
			if r.stdout != "" {
				t.Errorf("stdout got %q, want nothing", r.stdout)
			}
		})
	}

	valid := []struct {
		name string
		args []string
		want string // in the output
	}{
		{"parallel 0 is every core", []string{"-parallel", "0", "-iterations", "3"}, "3 iterations in"},
		{"depth at its limit", []string{"-strategy", "pct", "-depth", "400", "-iterations", "3"}, "strategy           pct (depth 400)"},
		{"dfs with a preemption bound", []string{"-strategy", "dfs", "-depth", "2", "-iterations", "3"}, "strategy           dfs (preemption bounds 0..2, iterative deepening)"},
		{"dfs without a bound", []string{"-strategy", "dfs", "-iterations", "3"}, "strategy           dfs (no preemption bound)"},
		{"iterations 0", []string{"-iterations", "0"}, "0 iterations in"},
		// (iterations-first+shards-1)/shards overflowed: nothing ran.
		{"iterations and shards at int's limit", []string{"-iterations", maxInt, "-shard", "2/" + maxInt}, "1 iterations in"},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, append(tt.args, "-out", t.TempDir())...)
			if r.code != exitPass || !strings.Contains(r.stdout, tt.want) {
				t.Errorf("exit code %d (want 0), stderr %q, output lacks %q?\n%s", r.code, r.stderr, tt.want, r.stdout)
			}
		})
	}
}

// panicWriter panics on every write.
type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic(fmt.Sprintf("write to a %T", panicWriter{})) }

// TestLastLineOfDefence: a panic in the command (here its output
// writer's) is one line on stderr and exit 2, not a crash.
func TestLastLineOfDefence(t *testing.T) {
	var errb bytes.Buffer
	code := run(context.Background(), []string{"-bug", "list"}, panicWriter{}, &errb)
	if code != exitUsage {
		t.Errorf("exit code got %d, want %d", code, exitUsage)
	}
	got := errb.String()
	if strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "mtabletest: internal error") ||
		!strings.Contains(got, "panic: write to a main.panicWriter") || !strings.Contains(got, "badinput_test.go:") {
		t.Errorf("stderr got %q, want one line: internal error, the panic and where", got)
	}
}
