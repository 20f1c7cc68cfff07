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
)

func TestShrinkFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"shrink-runs 0", []string{"-shrink-runs", "0"}, []string{"-shrink-runs 0", "1..1000000"}},
		{"shrink-runs huge", []string{"-shrink-runs", "2000000"}, []string{"-shrink-runs 2000000", "1..1000000"}},
		{"shrink-time negative", []string{"-shrink-time", "-1s"}, []string{"-shrink-time -1s"}},
		{"shrink-time junk", []string{"-shrink-time", "soon"}, []string{"-shrink-time", "soon"}},
		{"budget without shrinking", []string{"-shrink=false", "-shrink-runs", "10"}, []string{"-shrink=false turns off"}},
		{"replay and shrink", []string{"-replay", "x.trace", "-shrink-runs", "10"}, []string{"cannot be used with -replay"}},
		{"seeds and shrink", []string{"-seeds", "d", "-shrink=false"}, []string{"-seeds cannot be combined with -shrink"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, tt.args...)
			usageError(t, r, tt.want...)
		})
	}
}

// TestShrunkTrace: the shrunk trace is a self-contained file of the
// shrunk workload that replays the failure decision for decision, and
// its report shows every step up to the check on one screen.
func TestShrunkTrace(t *testing.T) {
	dir := t.TempDir()
	path, r := findFailure(t, dir, "-json")
	js := decodeSummary(t, r.stdout)
	shrunk := shrunkPath(path)
	if js.ShrunkTraceFile != shrunk || js.TraceFile != path || js.Shrink == nil {
		t.Fatalf("-json: trace %q, shrunk %q, shrink %+v; want %q and %q", js.TraceFile, js.ShrunkTraceFile, js.Shrink, path, shrunk)
	}
	if strings.Contains(r.stderr, "FLAKY") {
		t.Errorf("a trace does not replay the same:\n%s", r.stderr)
	}
	tr, it, err := replayFile(mustRead(t, shrunk))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"swarm", "app-calls"} {
		if _, ok := tr.Param(kv); !ok {
			t.Errorf("the shrunk trace has no %q parameter", kv)
		}
	}
	if v, _ := tr.Param("swarm"); v != "false" {
		t.Errorf("the shrunk trace's workload is a swarm (swarm=%s), want its fixed shape", v)
	}
	if !reflect.DeepEqual(it.Sched.Trace.Decisions, tr.Decisions) || it.Failure == nil || it.Failure.Kind != js.Kind {
		t.Errorf("replaying the shrunk trace: %v, want the recorded failure %s decision for decision", it.Failure, js.Kind)
	}
	got := js.Shrink.Shrunk
	if want := js.Shrink.Original; got.Steps > want.Steps || got.Calls > want.Calls || got.Machines > want.Machines {
		t.Errorf("shrunk %+v is larger than the original %+v", got, want)
	}
	// Its steps are those up to the failing check (the run may go on).
	if int64(got.Steps) != harness.ShapeOf(it).Steps || js.Shrink.ShownSteps != harness.ShownSteps(it) || js.Shrink.ShownSteps > harness.ShortRun {
		t.Errorf("shrunk steps %d, shown %d; the replay has %d steps up to the check, %d shown (at most %d)", got.Steps, js.Shrink.ShownSteps, harness.ShapeOf(it).Steps, harness.ShownSteps(it), harness.ShortRun)
	}
	if !strings.Contains(string(mustRead(t, shrunk)), "\n# shrunk from ") {
		t.Errorf("the shrunk trace's comments do not say what it was shrunk from")
	}
}

// TestKeepGoingGroups: with -keep-going every failure is shrunk and the
// summary groups them by signature and shrunk shape. Bug 12 has one
// cause (a DeleteIfExists of an absent row dropped in
// USE_NEW_HIDE_METADATA): one group, holding every failure.
func TestKeepGoingGroups(t *testing.T) {
	n := "400"
	if testing.Short() {
		n = "200"
	}
	r := runCmd(t, "-bug", "12", "-iterations", n, "-keep-going", "-json", "-out", t.TempDir())
	if r.code != exitFailure {
		t.Fatalf("exit code got %d, want 1: %s", r.code, r.stderr)
	}
	js := decodeSummary(t, r.stdout)
	total := 0
	for _, g := range js.Groups {
		total += g.Count
	}
	if js.Failures < 2 || len(js.Groups) == 0 || total != js.Failures {
		t.Fatalf("%d failures in groups %+v: want the groups to hold them all", js.Failures, js.Groups)
	}
	// Bug 12 shows mostly as the unexpected error of a batch (a request
	// Azure would refuse); that group holds the first failure.
	g := js.Groups[0]
	if g.Signature != "assertion: unexpected error" || g.Shape != "calls Batch*" || g.FirstIteration != *js.FirstFailure || g.Count < 2 {
		t.Errorf("first group %+v: want the unexpected error of a batch, holding the first failure", g)
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("failures by signature and shrunk shape (%d group", len(js.Groups))) ||
		!strings.Contains(r.stderr, "assertion: unexpected error; calls Batch* (first: iteration") {
		t.Errorf("the summary does not print the groups:\n%s", r.stderr)
	}
}

// normalize reduces the trace paths of a summary (timings already
// zeroed by decodeSummary) to their base names (the run and the merge
// write to different directories).
func normalize(js summaryJSON) summaryJSON {
	base := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Base(p)
	}
	js.TraceFile, js.ShrunkTraceFile = base(js.TraceFile), base(js.ShrunkTraceFile)
	var files []string
	for _, f := range js.TraceFiles {
		files = append(files, base(f))
	}
	js.TraceFiles = files
	var traces []traceJSON
	for _, tr := range js.Traces {
		traces = append(traces, traceJSON{tr.Iteration, base(tr.Trace), base(tr.ShrunkTrace)})
	}
	js.Traces = traces
	return js
}

// TestMergeEqualsRun: the N shards of a run, merged, give the run's own
// -json summary (but for timings and the directory of the trace files),
// the same trace files, and the same report of the first failure.
func TestMergeEqualsRun(t *testing.T) {
	n := "300"
	if testing.Short() {
		n = "120"
	}
	for _, args := range [][]string{
		{"-bug", foundBug, "-iterations", n, "-keep-going", "-shrink-runs", "150"},
		{"-bug", foundBug, "-iterations", n},
		{"-iterations", "30"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			base := t.TempDir()
			wholeDir := filepath.Join(base, "whole")
			whole := runCmd(t, append([]string{"-json", "-out", wholeDir}, args...)...)
			if whole.code == exitUsage {
				t.Fatalf("the whole run: %s", whole.stderr)
			}
			var files []string
			for k, shard := range []string{"1/3", "2/3", "3/3"} {
				dir := filepath.Join(base, "shard"+strings.Repeat("x", k))
				r := runCmd(t, append([]string{"-json", "-out", dir, "-shard", shard}, args...)...)
				if r.code == exitUsage {
					t.Fatalf("shard %s: %s", shard, r.stderr)
				}
				file := filepath.Join(base, "shard"+shard[:1]+".json")
				if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, file)
			}
			mergedDir := filepath.Join(base, "merged")
			// The shards in another order: merge sorts them.
			m := runCmd(t, "merge", "-json", "-out", mergedDir, files[2], files[0], files[1])
			if m.code != whole.code {
				t.Fatalf("merge: exit code got %d, want the run's %d: %s", m.code, whole.code, m.stderr)
			}
			got, want := normalize(decodeSummary(t, m.stdout)), normalize(decodeSummary(t, whole.stdout))
			if !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(want, "", "  ")
				t.Fatalf("merged summary differs from the run's:\n--- got\n%s\n--- want\n%s", g, w)
			}
			for _, f := range want.TraceFiles {
				if a, b := mustRead(t, filepath.Join(mergedDir, f)), mustRead(t, filepath.Join(wholeDir, f)); !bytes.Equal(a, b) {
					t.Errorf("trace %s: the merge's copy differs from the run's", f)
				}
			}
			if rg, rw := report(m.stderr), report(whole.stderr); rg != rw {
				t.Errorf("the merge's report differs from the run's:\n--- got\n%s\n--- want\n%s", rg, rw)
			}
			if !strings.Contains(m.stderr, "merged from 3 shards\n") {
				t.Errorf("merge output does not say it merged 3 shards:\n%s", m.stderr)
			}
		})
	}
}

func TestMergeBadInput(t *testing.T) {
	base := t.TempDir()
	shard := func(name string, args ...string) string {
		r := runCmd(t, append([]string{"-json", "-iterations", "6", "-out", base}, args...)...)
		if r.code != exitPass {
			t.Fatalf("%v: exit code %d: %s", args, r.code, r.stderr)
		}
		p := filepath.Join(base, name)
		if err := os.WriteFile(p, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s1, s2 := shard("s1.json", "-shard", "1/2"), shard("s2.json", "-shard", "2/2")
	other := shard("other.json", "-shard", "2/2", "-seed", "7")
	fewer := shard("fewer.json", "-shard", "2/2", "-iterations", "2")
	whole := shard("whole.json")
	garbage := filepath.Join(base, "garbage.json")
	os.WriteFile(garbage, []byte("not json"), 0o644)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no files", []string{"merge"}, []string{"merge: no summary files"}},
		{"unknown flag", []string{"merge", "-x"}, []string{"merge:", "-x"}},
		{"missing shard", []string{"merge", s1}, []string{"missing shard 2/2"}},
		{"twice", []string{"merge", s1, s2, s2}, []string{"are both shard 2/2"}},
		{"other run", []string{"merge", s1, other}, []string{"shards of different runs: seed differs (314159 in", "7 in"}},
		{"other iterations", []string{"merge", s1, fewer}, []string{"iterations differs (6 in "}},
		{"whole run", []string{"merge", whole}, []string{"the summary of a whole run"}},
		{"not a summary", []string{"merge", garbage}, []string{garbage, "not a -json summary"}},
		{"no such file", []string{"merge", filepath.Join(base, "nope.json")}, []string{"nope.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			usageError(t, runCmd(t, tt.args...), tt.want...)
		})
	}
	if r := runCmd(t, "merge", "-h"); r.code != exitPass || !strings.Contains(r.stdout, "mtabletest merge combines") {
		t.Errorf("merge -h: exit code %d, output %q", r.code, r.stdout)
	}
}

// TestMergeRefusesOtherWorlds: shards whose runs differ in any setting
// that changes what they explore are refused, exit 2, with the setting
// named: one shard per class of setting (the run's identity, the
// exploration's settings, the world's flags, a world parameter no flag
// sets, the iteration space).
func TestMergeRefusesOtherWorlds(t *testing.T) {
	base := t.TempDir()
	shard := func(name string, args ...string) string {
		if !slices.Contains(args, "-leases=false") {
			args = append(args, "-leases") // the production world, where -faults counts
		}
		r := runCmd(t, append([]string{"-json", "-iterations", "4", "-shrink=false", "-out", base}, args...)...)
		if r.code == exitUsage {
			t.Fatalf("%v: exit code %d: %s", args, r.code, r.stderr)
		}
		p := filepath.Join(base, name)
		if err := os.WriteFile(p, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s1, s2 := shard("s1.json", "-shard", "1/2"), shard("s2.json", "-shard", "2/2")
	if r := runCmd(t, "merge", s1, s2); r.code != exitPass {
		t.Fatalf("merging the two shards of one run: exit code %d: %s", r.code, r.stderr)
	}
	// A world parameter no flag sets: the summary edited.
	var js map[string]any
	if err := json.Unmarshal(mustRead(t, s2), &js); err != nil {
		t.Fatal(err)
	}
	js["world"].(map[string]any)["migrators"] = "3"
	edited, _ := json.Marshal(js)
	migrators := filepath.Join(base, "migrators.json")
	if err := os.WriteFile(migrators, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	// A summary that records no world (written before it did).
	delete(js, "world")
	noWorld, _ := json.Marshal(js)
	old := filepath.Join(base, "old.json")
	if err := os.WriteFile(old, noWorld, 0o644); err != nil {
		t.Fatal(err)
	}
	// Nor its iteration space.
	delete(js, "iterationsTotal")
	noTotalJSON, _ := json.Marshal(js)
	noTotal := filepath.Join(base, "nototal.json")
	if err := os.WriteFile(noTotal, noTotalJSON, 0o644); err != nil {
		t.Fatal(err)
	}
	defFaults := fmt.Sprint(harness.DefaultFaults)
	for _, tt := range []struct {
		name  string
		other string
		want  string
	}{
		{"seed", shard("seed.json", "-shard", "2/2", "-seed", "7"), "seed differs (314159 in "},
		{"strategy", shard("strategy.json", "-shard", "2/2", "-strategy", "random"), "strategy differs (portfolio in "},
		{"bug", shard("bug.json", "-shard", "2/2", "-bug", "8", "-keep-going"), "bug differs (none in "},
		{"depth", shard("depth.json", "-shard", "2/2", "-depth", "5"), "depth differs (0 in "},
		{"max-steps", shard("maxsteps.json", "-shard", "2/2", "-max-steps", "30000"), "max-steps differs (0 in "},
		{"keep-going", shard("keepgoing.json", "-shard", "2/2", "-keep-going"), "keep-going differs (false in "},
		{"shrink", shard("shrink.json", "-shard", "2/2", "-shrink-runs", "7", "-shrink"), "shrink-runs differs (0 in "},
		{"faults", shard("faults.json", "-shard", "2/2", "-faults", "1"), "faults differs (" + defFaults + " in "},
		{"no faults", shard("nofaults.json", "-shard", "2/2", "-faults", "0"), "faults differs (" + defFaults + " in "},
		{"leases", shard("leases.json", "-shard", "2/2", "-leases=false"), "leases differs (true in "},
		{"migrators", migrators, "migrators differs (2 in " + s1 + ", 3 in " + migrators + ")"},
		{"no world", old, "apps differs (4 in " + s1 + ", (none) in " + old + ")"},
		{"no total", noTotal, "iterations differs (4 in " + s1 + ", 0 in " + noTotal + ")"},
		{"iterations", shard("iterations.json", "-shard", "2/2", "-iterations", "2"), "iterations differs (4 in "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			usageError(t, runCmd(t, "merge", s1, tt.other), tt.want)
		})
	}
}

func TestShrinkProgressLine(t *testing.T) {
	var b bytes.Buffer
	clock := time.Unix(1000, 0)
	p := &progress{w: &b, now: func() time.Time { return clock }}
	p.shrinking(harness.ShrinkProgress{Iteration: 26, Original: harness.Shape{Steps: 431}, Runs: 412,
		Smallest: harness.Shape{Steps: 38, Calls: 2, Machines: 4}, Elapsed: 1200 * time.Millisecond})
	if got, want := b.String(), "\r\x1b[Kshrinking iteration 26 (431 steps): 412 runs, now 38 steps / 2 calls / 4 machines / 0 faults, 1.2s"; got != want {
		t.Errorf("shrink progress line: got %q, want %q", got, want)
	}
	b.Reset()
	clock = clock.Add(50 * time.Millisecond)
	p.shrinking(harness.ShrinkProgress{Runs: 413})
	if b.Len() != 0 {
		t.Errorf("50ms later: drew %q, want nothing", b.String())
	}
}

// TestMergeFindsMovedTraces: shards that ran with a relative -out, their
// summaries and traces moved together (as CI artifacts are), merge from
// elsewhere: the traces are found from the summaries' directory.
func TestMergeFindsMovedTraces(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, k := range []string{"1", "2"} {
		r := runCmd(t, "-bug", foundBug, "-iterations", foundIn, "-shrink-runs", "50", "-shard", k+"/2", "-json", "-out", "out/shard-"+k)
		if r.code == exitUsage {
			t.Fatal(r.stderr)
		}
		if err := os.WriteFile("out-shard-"+k+".json", []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir("artifacts", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"out", "out-shard-1.json", "out-shard-2.json"} {
		if err := os.Rename(f, filepath.Join("artifacts", f)); err != nil {
			t.Fatal(err)
		}
	}
	r := runCmd(t, "merge", "-json", "-out", "merged", "artifacts/out-shard-1.json", "artifacts/out-shard-2.json")
	if r.code != exitFailure {
		t.Fatalf("merge: exit code %d, want 1: %s", r.code, r.stderr)
	}
	js := decodeSummary(t, r.stdout)
	if len(js.Traces) == 0 || !strings.HasPrefix(js.TraceFile, "merged/") {
		t.Errorf("merged traces %+v: want them copied to merged/", js.Traces)
	}
}

// TestInterruptedWhileShrinking: SIGINT while the first failure is
// shrunk stops the shrink; the report shows what it reached, and the
// command exits 130.
func TestInterruptedWhileShrinking(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	testHookShrinking = func(p harness.ShrinkProgress) {
		if p.Runs >= 5 {
			cancel()
		}
	}
	defer func() { testHookShrinking = nil }()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"-bug", foundBug, "-iterations", foundIn, "-json", "-out", t.TempDir()}, &out, &errb)
	if code != exitInterrupted {
		t.Fatalf("exit code got %d, want %d: %s", code, exitInterrupted, errb.String())
	}
	js := decodeSummary(t, out.String())
	if js.Shrink == nil || js.Shrink.Stopped != "cancelled" || js.Shrink.Runs < 5 || js.ShrunkTraceFile == "" {
		t.Errorf("shrink %+v, shrunk trace %q: want one stopped by the interrupt, its trace written", js.Shrink, js.ShrunkTraceFile)
	}
	for _, w := range []string{"interrupted: this is what it reached", "interrupted while shrinking the first failure"} {
		if !strings.Contains(errb.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, errb.String())
		}
	}
}

// TestShrinkBudgetDoubled: a shrink that reaches -shrink-runs with a
// report longer than a screen goes on once for as many runs again, and
// the summary and -json say so.
func TestShrinkBudgetDoubled(t *testing.T) {
	_, r := findFailure(t, t.TempDir(), "-json", "-shrink-runs", "5")
	js := decodeSummary(t, r.stdout)
	if js.Shrink == nil || !js.Shrink.Extended || js.Shrink.Runs != 10 || js.Shrink.Stopped != "runs" || js.Shrink.ShownSteps <= harness.ShortRun {
		t.Fatalf("-shrink-runs 5: shrink %+v, want 10 runs, stopped by its budget, extended, with a report of more than %d steps", js.Shrink, harness.ShortRun)
	}
	if !strings.Contains(r.stderr, "in 10 runs (its budget doubled: the report was longer than a screen; stopped by its budget: runs)") {
		t.Errorf("the summary does not say the budget was doubled, then spent:\n%s", r.stderr)
	}
}
