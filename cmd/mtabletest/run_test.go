package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
)

// The tests run the command in-process through run.

type result struct {
	code           int
	stdout, stderr string
}

func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	args = originalWorld(args)
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// originalWorld adds -leases=false to args that do not choose a world:
// the command's tests check its behaviour (flags, files, shrinking,
// groups, exit codes) in the fast original world, whose failures and
// timings they were measured on; TestLeaseWorld runs the production
// world.
func originalWorld(args []string) []string {
	if len(args) > 0 && args[0] == "merge" {
		return args
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-leases") || strings.HasPrefix(a, "--leases") || strings.HasPrefix(a, "-check-history") {
			return args
		}
	}
	return append([]string{"-leases=false"}, args...)
}

// foundBug is the bug the exploration tests switch on, and foundIn the
// iterations within which the harness finds it (it does within a few
// dozen at the default seed).
const (
	foundBug = "7"
	foundIn  = "2000"
)

// findFailure explores foundBug into dir and returns the path of the
// failing iteration's trace (as run) and the run's output. The run
// shrinks the failure (unless extra turns it off) and writes the shrunk
// run's trace beside it (shrunkPath).
func findFailure(t *testing.T, dir string, extra ...string) (string, result) {
	t.Helper()
	args := append([]string{"-bug", foundBug, "-iterations", foundIn, "-out", dir}, extra...)
	r := runCmd(t, args...)
	if r.code != exitFailure {
		t.Fatalf("mtabletest %s: exit code got %d, want %d (bug %s not found?)\nstderr: %s", strings.Join(args, " "), r.code, exitFailure, foundBug, r.stderr)
	}
	traces, err := filepath.Glob(filepath.Join(dir, "*.trace"))
	want := 2
	if slices.Contains(extra, "-shrink=false") {
		want = 1
	}
	if err != nil || len(traces) != want {
		t.Fatalf("trace files in %s: got %v (err %v), want %d", dir, traces, err, want)
	}
	for _, p := range traces {
		if !strings.HasSuffix(p, "-shrunk.trace") {
			return p, r
		}
	}
	t.Fatalf("trace files in %s: got %v, want one of the run as found", dir, traces)
	return "", r
}

// shrunkPath is the path of the shrunk run's trace beside the trace of
// the run it was shrunk from.
func shrunkPath(path string) string { return strings.TrimSuffix(path, ".trace") + "-shrunk.trace" }

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.trace")
	truncated := filepath.Join(dir, "truncated.trace")
	if err := os.WriteFile(truncated, []byte("sched-trace 1\nstrategy random\nseed 1\ns 0\ns 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.trace")
	if err := os.WriteFile(garbage, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noParams := filepath.Join(dir, "noparams.trace")
	if err := os.WriteFile(noParams, []byte("sched-trace 1\nstrategy random\nseed 1\nend 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string // substrings of the one-line error
	}{
		{"bug 99", []string{"-bug", "99"}, []string{"-bug", `no bug "99"`, fmt.Sprintf("0..%d", len(mtable.Bugs())-1), "-bug list"}},
		{"bug name", []string{"-bug", "NoSuchBug"}, []string{`no bug "NoSuchBug"`}},
		{"strategy", []string{"-strategy", "bogus"}, []string{`-strategy "bogus"`, "portfolio"}},
		{"iterations", []string{"-iterations", "-1"}, []string{"-iterations -1"}},
		{"iterations not a number", []string{"-iterations", "many"}, []string{"-iterations", "many"}},
		{"shard syntax", []string{"-shard", "2"}, []string{"-shard", "K/N"}},
		{"shard range", []string{"-shard", "3/2"}, []string{"1 <= K <= N", "3/2"}},
		{"dfs sharded", []string{"-strategy", "dfs", "-shard", "1/2"}, []string{"dfs cannot be sharded"}},
		{"unknown flag", []string{"-frobnicate"}, []string{"frobnicate"}},
		{"argument", []string{"extra"}, []string{`unexpected argument "extra"`}},
		{"html without replay", []string{"-html", "x.html"}, []string{"-html needs -replay"}},
		{"missing trace", []string{"-replay", missing}, []string{missing, "no such file"}},
		{"truncated trace", []string{"-replay", truncated}, []string{truncated, "truncated"}},
		{"not a trace", []string{"-replay", garbage}, []string{garbage, "not a sched trace"}},
		{"trace without params", []string{"-replay", noParams}, []string{noParams, `no "bug" parameter`}},
		{"replay with seed", []string{"-replay", missing, "-seed", "3"}, []string{"-seed cannot be used with -replay"}},
		{"bug all sharded", []string{"-bug", "all", "-shard", "1/2"}, []string{"-bug all cannot be combined"}},
		{"seeds for no bug", []string{"-seeds", dir, "-bug", "none"}, []string{"correct library"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit code got %d, want %d; stderr: %s", r.code, exitUsage, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout got %q, want nothing", r.stdout)
			}
			if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasPrefix(r.stderr, "mtabletest: ") {
				t.Errorf("stderr got %q, want one line starting \"mtabletest: \"", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr got %q, want it to mention %q", r.stderr, w)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	r := runCmd(t, "-h")
	if r.code != exitPass {
		t.Fatalf("-h: exit code got %d, want 0", r.code)
	}
	for _, w := range []string{"-iterations", "-seed", "314159", "-bug all", "-bug list", "reproducible", "-bug", "-strategy", "-depth", "preemption bound", "iterative deepening", "-max-steps",
		"-parallel", "GOMAXPROCS", "-shard", "-replay", "-html", "-out", "mtabletest-out", "-keep-going", "-json", "-v", "-history-out", "-seeds", "Exit status",
		"-overwrite", "-history-limit", "1GiB", "130 interrupted", "SIGINT", "Files:", "FIFO", "symbolic link", "refused unless -overwrite",
		"-shrink", "-shrink-runs", "-shrink-time", "mtabletest merge"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("-h output lacks %q", w)
		}
	}
}

func TestBugList(t *testing.T) {
	r := runCmd(t, "-bug", "list")
	if r.code != exitPass {
		t.Fatalf("-bug list: exit code got %d, want 0; stderr %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if got, want := len(lines), len(mtable.Bugs())+1; got != want {
		t.Errorf("-bug list: got %d lines, want %d (none and one per bug)", got, want)
	}
	for _, b := range mtable.Bugs() {
		if !strings.Contains(r.stdout, b.String()) || !strings.Contains(r.stdout, b.Description()) {
			t.Errorf("-bug list lacks bug %d %s with its description", int(b), b)
		}
	}
}

func TestCleanRunPasses(t *testing.T) {
	n := "200"
	if testing.Short() {
		n = "40"
	}
	dir := t.TempDir()
	r := runCmd(t, "-iterations", n, "-out", dir)
	if r.code != exitPass {
		t.Fatalf("correct library, %s iterations: exit code got %d, want 0\n%s%s", n, r.code, r.stdout, r.stderr)
	}
	// The banner lists the seed, strategy, iterations, bug and every
	// workload parameter; the summary closes the run.
	want := []string{"seed               314159", "strategy           portfolio", "iterations         " + n, "bug                none"}
	for _, kv := range harness.DefaultWorkload().Params() {
		want = append(want, kv[0])
	}
	want = append(want, "--- summary ---", n+" iterations in", "no failure found")
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr got %q, want nothing (not a terminal: no progress display)", r.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("-out dir holds %d files after a clean run, want none", len(entries))
	}
}

// report returns the sections of a failure report from the failing
// check to the steps, included.
func report(s string) string {
	i := strings.Index(s, "--- failing check")
	if i < 0 {
		return ""
	}
	s = s[i:]
	for _, end := range []string{"\n--- shrunk ---", "\n--- reproduce ---", "\n--- summary ---"} {
		if j := strings.Index(s, end); j >= 0 {
			s = s[:j]
		}
	}
	return strings.TrimSpace(s)
}

// TestFailureReportAndReplay: the report shows the shrunk run first,
// with every step up to the check, then what it was shrunk from and the
// commands that replay both runs; replaying each trace reproduces its
// run's report exactly.
func TestFailureReportAndReplay(t *testing.T) {
	dir := t.TempDir()
	path, r := findFailure(t, dir)
	shrunk := shrunkPath(path)
	for _, w := range []string{"=== FAILURE in iteration", ", shrunk ===", "--- failing check:", "--- oracles ---", "--- every step (",
		"--- shrunk ---\nshrunk from ", " steps / ", " calls / ", " machines / ", " faults to ",
		"--- reproduce ---\ngo run ./cmd/mtabletest -replay " + shrunk + "    # the shrunk run\ngo run ./cmd/mtabletest -replay " + path + "    # the run as found",
		"--- summary ---", "trace: " + path + "\n", "trace: " + shrunk + " (shrunk)\n"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("exploration output lacks %q:\n%s", w, r.stdout)
		}
	}
	if i, j := strings.Index(r.stdout, "--- every step"), strings.Index(r.stdout, "--- shrunk ---"); i < 0 || j < i {
		t.Errorf("the shrunk run's steps do not come before what it was shrunk from:\n%s", r.stdout)
	}
	rs := runCmd(t, "-replay", shrunk)
	if rs.code != exitFailure {
		t.Fatalf("-replay %s: exit code got %d, want %d\n%s", shrunk, rs.code, exitFailure, rs.stderr)
	}
	if got, want := report(rs.stdout), report(r.stdout); got != want || got == "" {
		t.Errorf("the shrunk trace's replay reports differently from the exploration:\n--- got\n%s\n--- want\n%s", got, want)
	}
	// Without shrinking, the report is of the run as found.
	r = runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", t.TempDir(), "-shrink=false")
	for _, w := range []string{"=== FAILURE in iteration", "--- failing check:", "--- oracles ---", "--- last 30 ",
		"--- summary ---"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("-shrink=false: exploration output lacks %q", w)
		}
	}
	if strings.Contains(r.stdout, "shrunk") {
		t.Errorf("-shrink=false: the output mentions a shrunk run:\n%s", r.stdout)
	}
	base := filepath.Base(path)
	if !strings.HasPrefix(base, "bug-7-EnsurePartitionSwitchedFromPopulated-it") {
		t.Errorf("trace file name got %q, want it named for bug 7 and the iteration", base)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "\n# mtabletest failure kind: ") {
		t.Errorf("trace file lacks the failure kind comment:\n%s", data)
	}

	rr := runCmd(t, "-replay", path)
	if rr.code != exitFailure {
		t.Fatalf("-replay: exit code got %d, want %d\n%s", rr.code, exitFailure, rr.stderr)
	}
	if got, want := report(rr.stdout), report(r.stdout); got != want || got == "" {
		t.Errorf("replay report differs from the exploration's:\n--- got\n%s\n--- want\n%s", got, want)
	}
}

func TestVerboseAndHistory(t *testing.T) {
	dir := t.TempDir()
	path, _ := findFailure(t, dir)
	hist := filepath.Join(dir, "hist.json")
	r := runCmd(t, "-replay", path, "-v", "-history-out", hist)
	if r.code != exitFailure {
		t.Fatalf("-replay -v: exit code got %d, want %d: %s", r.code, exitFailure, r.stderr)
	}
	if !strings.Contains(r.stdout, "--- full step trace (") || !strings.Contains(r.stdout, `[0 main]: spawn machine 1 "migrator"`) {
		t.Errorf("-v output lacks the full step trace")
	}
	hs := readHistories(t, hist)
	if len(hs) != 1 {
		t.Fatalf("-history-out: got %d histories, want 1", len(hs))
	}
	rec, err := hs[0].ParseRecord()
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.History) == 0 || len(rec.Final) == 0 {
		t.Errorf("-history-out: the record has %d operations and %d final partitions, want some of each", len(rec.History), len(rec.Final))
	}
}

// decodeSummary parses a -json summary and zeroes its timing fields.
func decodeSummary(t *testing.T, s string) summaryJSON {
	t.Helper()
	var js summaryJSON
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&js); err != nil {
		t.Fatalf("-json output is not the summary: %v\n%s", err, s)
	}
	js.ElapsedSeconds, js.IterationsPerSecond = 0, 0
	if js.Shrink != nil {
		js.Shrink.Seconds = 0
	}
	return js
}

func TestJSONIndependentOfParallel(t *testing.T) {
	n := "400"
	if testing.Short() {
		n = "150"
	}
	for _, args := range [][]string{
		// Shrinking every failure, in the workers; with a small budget,
		// which many of them reach.
		{"-bug", foundBug, "-iterations", n, "-keep-going", "-shrink-runs", "150"},
		// Shrinking the first failure with -parallel runs at a time.
		{"-bug", foundBug, "-iterations", foundIn},
		{"-iterations", "60"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			var sums []summaryJSON
			var outs []string
			for _, p := range []string{"1", "2", "2"} { // the last run repeats the second in the same -out
				a := append([]string{"-json", "-out", dir, "-parallel", p}, args...)
				r := runCmd(t, a...)
				if r.code == exitUsage {
					t.Fatalf("%v: %s", a, r.stderr)
				}
				sums = append(sums, decodeSummary(t, r.stdout))
				outs = append(outs, r.stdout)
			}
			for i := 1; i < len(sums); i++ {
				if !reflect.DeepEqual(sums[i], sums[0]) {
					t.Errorf("run %d summary differs from run 0's:\n--- got\n%s\n--- want\n%s", i, outs[i], outs[0])
				}
			}
		})
	}
}

func TestOutNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	path, _ := findFailure(t, dir)
	orig, _ := os.ReadFile(path)

	// Same run again: the identical file is reused, nothing new written.
	r := runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", dir)
	if !strings.Contains(r.stdout, "trace: "+path+"\n") {
		t.Errorf("rerun: output does not name the identical existing trace %s", path)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("rerun: -out holds %d files, want 2 (the identical traces, of the run and of its shrunk run, reused)", len(entries))
	}

	// The same trace with other comments is the same run: reused too.
	if err := os.WriteFile(path, append([]byte("# a note of mine\n"), orig...), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", dir)
	if !strings.Contains(r.stdout, "trace: "+path+"\n") {
		t.Errorf("rerun after a comment was added: output does not name the existing trace %s", path)
	}

	// A different file under that name is kept, and a new name taken.
	other := []byte("someone else's file\n")
	if err := os.WriteFile(path, other, 0o644); err != nil {
		t.Fatal(err)
	}
	r = runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", dir)
	if got, _ := os.ReadFile(path); !bytes.Equal(got, other) {
		t.Errorf("existing file %s was overwritten", path)
	}
	want := strings.TrimSuffix(path, ".trace") + "-2.trace"
	got, err := os.ReadFile(want)
	if err != nil {
		t.Fatalf("new trace under a new name: %v\n%s", err, r.stdout)
	}
	if !bytes.Equal(got, orig) {
		t.Errorf("%s: got other content than the first run's trace", want)
	}
	if !strings.Contains(r.stdout, "-replay "+want+"    # the run as found\n") {
		t.Errorf("the reproduce command does not name the new file %s", want)
	}
}

func TestReplayDivergence(t *testing.T) {
	dir := t.TempDir()
	path, _ := findFailure(t, dir)
	data, _ := os.ReadFile(path)
	// Keep only the first 10 decisions: the program asks for one the
	// trace does not hold, long before any check can fail.
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var head, decisions []string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "s ") || strings.HasPrefix(l, "c "):
			decisions = append(decisions, l)
		case strings.HasPrefix(l, "end "):
		default:
			head = append(head, l)
		}
	}
	keep := decisions[:10]
	cut := strings.Join(append(append(head, keep...), "end "+itoa(len(keep))), "\n") + "\n"
	short := filepath.Join(dir, "short.trace")
	if err := os.WriteFile(short, []byte(cut), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, "-replay", short)
	if r.code != exitUsage {
		t.Errorf("diverging replay: exit code got %d, want %d", r.code, exitUsage)
	}
	if !strings.Contains(r.stdout, "--- the schedule diverged ---") {
		t.Errorf("diverging replay: output does not say the schedule diverged:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "the schedule diverged") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("diverging replay: stderr got %q, want one line saying the schedule diverged", r.stderr)
	}
}

func TestExploreHistoryOutAndVerbose(t *testing.T) {
	dir := t.TempDir()
	hist := filepath.Join(dir, "hist.json")
	r := runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", dir, "-v", "-history-out", hist)
	if r.code != exitFailure {
		t.Fatalf("exit code got %d, want %d: %s", r.code, exitFailure, r.stderr)
	}
	if !strings.Contains(r.stdout, "--- full step trace (") {
		t.Errorf("-v: output lacks the failing iteration's full step trace")
	}
	hs := readHistories(t, hist)
	if len(hs) == 0 {
		t.Fatalf("-history-out: no histories")
	}
	for i, h := range hs {
		rec, err := h.ParseRecord()
		if err != nil {
			t.Fatal(err)
		}
		if h.Iteration != i || len(rec.History) == 0 {
			t.Errorf("-history-out: history %d is of iteration %d with %d operations, want iteration %d with operations", i, h.Iteration, len(rec.History), i)
		}
	}
	last := hs[len(hs)-1].Iteration
	if !strings.Contains(r.stdout, fmt.Sprintf("=== FAILURE in iteration %d, shrunk ===", last)) {
		t.Errorf("-history-out: the last history is of iteration %d, not the reported failure's", last)
	}
}

func TestHistoryOutShard(t *testing.T) {
	dir := t.TempDir()
	hist := filepath.Join(dir, "hist.json")
	r := runCmd(t, "-iterations", "20", "-shard", "2/3", "-out", dir, "-history-out", hist)
	if r.code != exitPass {
		t.Fatalf("exit code got %d, want 0: %s", r.code, r.stderr)
	}
	hs := readHistories(t, hist)
	var got []int
	for _, h := range hs {
		got = append(got, h.Iteration)
	}
	if want := []int{1, 4, 7, 10, 13, 16, 19}; !reflect.DeepEqual(got, want) {
		t.Errorf("-history-out -shard 2/3: iterations got %v, want %v", got, want)
	}
}

func TestReplayJSON(t *testing.T) {
	dir := t.TempDir()
	path, _ := findFailure(t, dir)
	r := runCmd(t, "-replay", path, "-json")
	if r.code != exitFailure {
		t.Fatalf("exit code got %d, want %d: %s", r.code, exitFailure, r.stderr)
	}
	var js replayJSON
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&js); err != nil {
		t.Fatalf("-replay -json: stdout is not the replay summary: %v\n%s", err, r.stdout)
	}
	want := replayJSON{Replay: path, Bug: "7:EnsurePartitionSwitchedFromPopulated", Steps: js.Steps, Failed: true,
		Kind: js.RecordedKind, Check: js.Check, RecordedKind: js.RecordedKind, Reproduced: true}
	if js != want || js.RecordedKind == "" || js.Steps == 0 {
		t.Errorf("-replay -json: got %+v, want %+v", js, want)
	}
	if !strings.Contains(r.stderr, "=== FAILURE in iteration") {
		t.Errorf("-replay -json: the report is not on stderr")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestSeedsMode(t *testing.T) {
	dir := t.TempDir()
	for round := range 2 {
		r := runCmd(t, "-seeds", dir, "-bug", foundBug, "-iterations", foundIn)
		if r.code != exitPass {
			t.Fatalf("round %d: -seeds: exit code got %d, want 0\n%s%s", round, r.code, r.stdout, r.stderr)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "bug-7-EnsurePartitionSwitchedFromPopulated.trace" {
		t.Fatalf("-seeds wrote %v, want just bug-7-EnsurePartitionSwitchedFromPopulated.trace (replaced, not duplicated)", entries)
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	clock := time.Unix(1000, 0)
	p := &progress{w: &b, now: func() time.Time { return clock }}
	p.update(harness.Progress{Done: 250, Total: 1000, Failures: 2, Elapsed: 5e9})
	if got, want := b.String(), "\r\x1b[K250/1000 iterations  50 it/s  2 failures  ETA 15s"; got != want {
		t.Errorf("progress line: got %q, want %q", got, want)
	}
	// Within 100ms of the last draw nothing is drawn; after it, or for
	// the last iteration, the line is redrawn.
	b.Reset()
	clock = clock.Add(99 * time.Millisecond)
	p.update(harness.Progress{Done: 251, Total: 1000, Elapsed: 5e9})
	if b.Len() != 0 {
		t.Errorf("update 99ms after the last draw: drew %q, want nothing", b.String())
	}
	clock = clock.Add(time.Millisecond)
	p.update(harness.Progress{Done: 252, Total: 1000, Elapsed: 5e9})
	if !strings.Contains(b.String(), "252/1000") {
		t.Errorf("update 100ms after the last draw: drew %q, want the line redrawn", b.String())
	}
	p.update(harness.Progress{Done: 1000, Total: 1000, Elapsed: 10e9})
	p.clear()
	if got := b.String(); !strings.Contains(got, "1000/1000") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("final update and clear: got %q", got)
	}
	if isTerminal(&b) {
		t.Errorf("isTerminal(buffer) = true, want false")
	}
}

func TestBugAll(t *testing.T) {
	n := "5000"
	if testing.Short() {
		n = "300" // the table and its verdict, not the gate itself
	}
	r := runCmd(t, "-bug", "all", "-iterations", n, "-json", "-out", t.TempDir())
	if r.code == exitUsage {
		t.Fatalf("-bug all: %s", r.stderr)
	}
	var all allJSON
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatalf("-bug all -json: %v\n%s", err, r.stdout)
	}
	if got, want := len(all.Runs), len(mtable.Bugs())+1; got != want {
		t.Fatalf("-bug all: got %d runs, want %d (the correct library and each bug)", got, want)
	}
	wantPassed := true
	for i, run := range all.Runs {
		b := mtable.NoBug
		if i > 0 {
			b = mtable.Bugs()[i-1]
		}
		if run.Bug != bugName(b) {
			t.Errorf("run %d: bug got %q, want %q", i, run.Bug, bugName(b))
		}
		if (run.FirstFailure != nil) != (run.TraceFile != "") {
			t.Errorf("run %d (%s): first failure %v but trace file %q", i, run.Bug, run.FirstFailure, run.TraceFile)
		}
		if !strings.Contains(r.stderr, "\n"+map[bool]string{true: "none", false: fmt.Sprintf("%2d %s", int(b), b)}[i == 0]) {
			t.Errorf("run %d: no table line for %s", i, run.Bug)
		}
		switch {
		case b == mtable.NoBug && run.Failures > 0:
			wantPassed = false
		case b.Lease() && (run.Iterations != 0 || run.Skipped == ""):
			t.Errorf("run %d (%s): a lease bug was run (%d iterations, skipped %q); want it listed as not explored", i, run.Bug, run.Iterations, run.Skipped)
		case b != mtable.NoBug && run.Failures == 0 && !believedBenign[b] && !b.Lease():
			wantPassed = false
		}
	}
	if all.Passed != wantPassed || (r.code == exitPass) != wantPassed {
		t.Errorf("-bug all: passed %v, exit code %d; want passed %v from the runs", all.Passed, r.code, wantPassed)
	}
	if !testing.Short() && !all.Passed {
		t.Errorf("-bug all -iterations %s: the correct library failed or a catchable bug was not found:\n%s", n, r.stderr)
	}
}

func TestCheckReproduces(t *testing.T) {
	dir := t.TempDir()
	path, _ := findFailure(t, dir)
	_, it, err := replayFile(mustRead(t, path))
	if err != nil || it.Failure == nil {
		t.Fatalf("replaying %s: err %v, failed %v", path, err, it != nil && it.Failure != nil)
	}
	if msg := checkReproduces(path, it); msg != "" {
		t.Errorf("checkReproduces of the run itself: got %q, want \"\"", msg)
	}
	other := *it
	f := *it.Failure
	f.Kind = "deadlock"
	other.Failure = &f
	if msg := checkReproduces(path, &other); !strings.Contains(msg, "the replay failed with "+it.Failure.Kind+", the run with deadlock") {
		t.Errorf("checkReproduces with another kind: got %q, want it to name both kinds", msg)
	}
	if msg := checkReproduces(filepath.Join(dir, "gone.trace"), it); !strings.Contains(msg, "cannot read it back") {
		t.Errorf("checkReproduces of a missing file: got %q", msg)
	}
}

func TestOutUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-out", file)
	if r.code != exitUsage {
		t.Errorf("-out over a regular file: exit code got %d, want %d", r.code, exitUsage)
	}
	if !strings.HasPrefix(r.stderr, "mtabletest: -out "+file+": ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("-out over a regular file: stderr got %q, want one line naming -out and the path", r.stderr)
	}
}

func TestReplayPassingRun(t *testing.T) {
	ec := (&config{strategy: "random", seed: 1, bug: mtable.NoBug, parallel: 1}).exploreConfig()
	it, err := harness.RunOnce(ec.Options, ec.SchedConfig(0), 0)
	if err != nil || it.Failure != nil {
		t.Fatalf("the correct library's iteration 0: err %v, failure %v", err, it != nil && it.Failure != nil)
	}
	path := filepath.Join(t.TempDir(), "pass.trace")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := it.Sched.Trace.Write(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := runCmd(t, "-replay", path)
	if r.code != exitPass {
		t.Fatalf("replay of a passing run: exit code got %d, want 0: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "--- replay passed: every check passed ---") {
		t.Errorf("replay of a passing run: output lacks the verdict:\n%s", r.stdout)
	}
}

// readHistories reads a -history-out file.
func readHistories(t *testing.T, path string) []harness.History {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var hs []harness.History
	if err := json.Unmarshal(data, &hs); err != nil {
		t.Fatalf("-history-out: %v", err)
	}
	return hs
}

// TestLeaseWorld: by default the command explores the production world
// (processes with leases, crashes, stalls, clock skew), says so in its
// banner, and finds a lease bug there.
func TestLeaseWorld(t *testing.T) {
	r := runCmd(t, "-leases", "-bug", "14", "-iterations", "500", "-shrink=false", "-out", t.TempDir())
	if r.code != exitFailure {
		t.Fatalf("exit code got %d, want %d (bug 14 not found in 500 iterations):\n%s", r.code, exitFailure, r.stderr)
	}
	for _, want := range []string{"leases             true", "faults             " + fmt.Sprint(harness.DefaultFaults), "clock-skew         true", "max-steps          40000"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("the banner does not say %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
}
