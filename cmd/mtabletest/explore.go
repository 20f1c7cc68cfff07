package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"golang.org/x/term"
)

var termIsTerminal = term.IsTerminal

// summaryJSON is the -json summary. Its fields but ElapsedSeconds,
// IterationsPerSecond and Shrink.Seconds depend only on the command line
// (not on -parallel or the machine; with -shrink-time, a shrink stopped
// by it does). A shard's summary holds what mtabletest merge needs to
// rebuild the summary of the whole run.
type summaryJSON struct {
	Seed     uint64 `json:"seed"`
	Strategy string `json:"strategy"`
	Bug      string `json:"bug"`
	Shard    string `json:"shard,omitempty"`
	Planned  int    `json:"iterationsPlanned"` // iterations in this shard's slice
	// Total is the run's -iterations: the iteration space 0..Total-1
	// the shards (if any) share.
	Total      int `json:"iterationsTotal"`
	Iterations int `json:"iterations"` // iterations run
	Failures   int `json:"failures"`
	// LinUndecided counts the iterations whose linearizability search
	// (oracle 2) ran out of its budget without a verdict; they pass, so
	// the summary names them (merged shards: over the iterations each
	// shard ran).
	LinUndecided int  `json:"linUndecided,omitempty"`
	Exhausted    bool `json:"exhausted,omitempty"`
	// Interrupted: SIGINT stopped the run after Iterations iterations.
	Interrupted bool `json:"interrupted,omitempty"`
	// Skipped says why -bug all did not run this bug (a lease bug).
	Skipped string `json:"skipped,omitempty"`
	// The settings that decide the outcome besides the seed, strategy
	// and bug (merge checks that the shards agree on them).
	Depth      int    `json:"depth"`
	MaxSteps   int    `json:"maxSteps"`
	KeepGoing  bool   `json:"keepGoing"`
	ShrinkRuns int    `json:"shrinkRuns"` // 0: no shrinking
	ShrinkTime string `json:"shrinkTime,omitempty"`
	// World is the explored world: the workload's parameters as a trace
	// records them (harness.Workload.Params: leases, faults, clock-skew,
	// migrators, fault-burst, the workload's shape), by name.
	World map[string]string `json:"world,omitempty"`

	// The first failing iteration (null/empty when none).
	FirstFailure    *int        `json:"firstFailure"`
	FirstStrategy   string      `json:"firstStrategy,omitempty"`
	FirstSeed       uint64      `json:"firstSeed,omitempty"`
	Kind            string      `json:"kind,omitempty"`
	Check           string      `json:"check,omitempty"`
	TraceFile       string      `json:"traceFile,omitempty"`
	ShrunkTraceFile string      `json:"shrunkTraceFile,omitempty"`
	Shrink          *shrinkJSON `json:"shrink,omitempty"`

	ByKind     map[string]int `json:"byKind"`
	ByCheck    map[string]int `json:"byCheck"`
	TraceFiles []string       `json:"traceFiles,omitempty"`
	// Traces names the trace files of each failing iteration whose
	// traces were written (the first 10), in order.
	Traces []traceJSON `json:"traces"`
	// FailingIterations lists every failing iteration run, in order.
	FailingIterations []int `json:"failingIterations"`
	// Groups classes the failures by signature and shrunk shape.
	Groups []groupJSON `json:"groups"`

	// ElapsedSeconds is the exploration's time: without -keep-going,
	// the first failure's shrink comes after it (Shrink.Seconds); with
	// -keep-going, each failure's shrink is part of its iteration.
	ElapsedSeconds      float64 `json:"elapsedSeconds"`
	IterationsPerSecond float64 `json:"iterationsPerSecond"`
}

// traceJSON names a failing iteration's trace files.
type traceJSON struct {
	Iteration   int    `json:"iteration"`
	Trace       string `json:"trace"`
	ShrunkTrace string `json:"shrunkTrace,omitempty"`
}

// shapeJSON is harness.Shape.
type shapeJSON struct {
	Steps       int64 `json:"steps"`
	Calls       int   `json:"calls"`
	Machines    int   `json:"machines"`
	Faults      int   `json:"faults"`
	Preemptions int   `json:"preemptions"`
}

func shapeOf(s harness.Shape) shapeJSON {
	return shapeJSON{Steps: s.Steps, Calls: s.Calls, Machines: s.Machines, Faults: s.Faults, Preemptions: s.Preemptions}
}

// shrinkJSON is the shrink of the first failure.
type shrinkJSON struct {
	Original shapeJSON `json:"original"`
	Shrunk   shapeJSON `json:"shrunk"`
	// ShownSteps is the number of steps its report shows up to the
	// failing check (see harness.ShownSteps).
	ShownSteps int    `json:"shownSteps"`
	Workload   string `json:"workload"`
	Runs       int    `json:"runs"`
	Stopped    string `json:"stopped,omitempty"`
	// Extended: the shrink reached its budget with a report longer than
	// a screen and went on for as many runs again.
	Extended bool    `json:"extended,omitempty"`
	Seconds  float64 `json:"seconds"`
}

// groupJSON is a harness.FailureGroup.
type groupJSON struct {
	Signature      string `json:"signature"`
	Shape          string `json:"shape,omitempty"`
	Count          int    `json:"count"`
	FirstIteration int    `json:"firstIteration"`
}

func (c *config) exploreConfig() harness.ExploreConfig {
	return harness.ExploreConfig{
		Options:    harness.Options{Workload: c.workload(), Bug: c.bug},
		Strategy:   c.strategy,
		Depth:      c.depth,
		Seed:       c.seed,
		Iterations: c.iterations,
		MaxSteps:   c.maxSteps,
		Parallel:   c.parallel,
		Shard:      c.shard,
		Shards:     c.shards,
		KeepGoing:  c.keepGoing,
		Shrink:     c.shrinkConfig(),
	}
}

// workload is the default workload with the world the flags choose.
func (c *config) workload() harness.Workload {
	w := harness.DefaultWorkload()
	w.Leases = c.leases
	w.Plain, w.HotRows = c.plain, c.hotRows
	w.Faults = c.faults
	w.ClockSkew = c.faults > 0
	w.BackendFaults = c.backendFaults
	if !c.leases {
		w.Faults, w.ClockSkew, w.BackendFaults = 0, false, 0
	}
	return w
}

// shrinkConfig is the shrink of the failures, nil without -shrink.
func (c *config) shrinkConfig() *harness.ShrinkConfig {
	if !c.shrink {
		return nil
	}
	return &harness.ShrinkConfig{MaxRuns: c.shrinkRuns, MaxTime: c.shrinkTime, Parallel: c.parallel}
}

// planned is the number of iterations in the shard's slice.
func (c *config) planned() int {
	if c.shards == 0 {
		return c.iterations
	}
	return harness.ShardSize(c.iterations, c.shard, c.shards)
}

// writeBanner prints the run's parameters, one per line.
func (c *config) writeBanner(w io.Writer, ec harness.ExploreConfig) {
	fmt.Fprintf(w, "=== mtabletest ===\n")
	line := func(k, format string, args ...any) { fmt.Fprintf(w, "%-18s %s\n", k, fmt.Sprintf(format, args...)) }
	line("seed", "%d", c.seed)
	strat := c.strategy
	switch c.strategy {
	case "portfolio":
		strat += " (random, pct, pos by iteration)"
	case "pct":
		if c.depth == 0 {
			strat += fmt.Sprintf(" (depth %d)", sched.DefaultDepth)
		} else {
			strat += fmt.Sprintf(" (depth %d)", c.depth)
		}
	case "dfs":
		if c.depth == 0 {
			strat += " (no preemption bound)"
		} else {
			strat += fmt.Sprintf(" (preemption bounds 0..%d, iterative deepening)", c.depth)
		}
	}
	line("strategy", "%s", strat)
	if c.shards > 0 {
		line("iterations", "%d of 0..%d (shard %d/%d: i %% %d == %d)", c.planned(), c.iterations-1, c.shard, c.shards, c.shards, c.shard-1)
	} else if c.iterations == 0 {
		line("iterations", "0")
	} else {
		line("iterations", "%d (0..%d)", c.iterations, c.iterations-1)
	}
	maxSteps := c.exploreConfig().StepBound()
	line("max-steps", "%d", maxSteps)
	line("bug", "%s (%s)", bugName(c.bug), c.bug.Description())
	if c.shrink {
		budget := fmt.Sprintf("up to %d runs (%d for a report longer than %d steps)", c.shrinkRuns, 2*c.shrinkRuns, harness.ShortRun)
		if c.shrinkTime > 0 {
			budget += fmt.Sprintf(" or %v", c.shrinkTime)
		}
		line("shrink", "each failure, %s", budget)
	} else {
		line("shrink", "off")
	}
	for _, kv := range ec.Workload.Params() {
		line(kv[0], "%s", kv[1])
	}
	fmt.Fprintln(w)
}

// progress redraws one status line on a terminal, at most every 100ms.
type progress struct {
	w    io.Writer
	now  func() time.Time // the clock; nil means time.Now
	last time.Time
	on   bool
}

func (p *progress) update(pr harness.Progress) {
	clock := p.now
	if clock == nil {
		clock = time.Now
	}
	now := clock()
	if pr.Done < pr.Total && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Done) / s
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(pr.Total-pr.Done) / rate * float64(time.Second))).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\x1b[K%d/%d iterations  %.0f it/s  %d failures  ETA %s", pr.Done, pr.Total, rate, pr.Failures, eta)
	p.on = true
}

// shrinking redraws the status line of a shrink, at most every 100ms.
func (p *progress) shrinking(sp harness.ShrinkProgress) {
	clock := p.now
	if clock == nil {
		clock = time.Now
	}
	now := clock()
	if now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\r\x1b[Kshrinking iteration %d (%d steps): %d runs, now %v, %.1fs",
		sp.Iteration, sp.Original.Steps, sp.Runs, sp.Smallest, sp.Elapsed.Seconds())
	p.on = true
}

// clear erases the status line.
func (p *progress) clear() {
	if p.on {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.on = false
	}
}

func (c *config) runExplore(ctx context.Context, stdout, stderr io.Writer) (code int, err error) {
	ec := c.exploreConfig()
	if err := ec.Validate(); err != nil {
		return exitUsage, usagef("%v", err)
	}
	human := stdout
	if c.json {
		human = stderr
	}
	c.writeBanner(human, ec)

	var (
		traces   []traceJSON // of the failures whose traces were written
		failing  []int       // indices of the failing iterations
		writeErr error
		flaky    []string
	)
	var sum harness.Summary
	if c.historyOut != "" {
		hw, err := openHistories(c.historyOut, c.histLimit, c.overwrite, stderr)
		if err != nil {
			return exitUsage, err
		}
		ec.OnIteration = hw.add
		defer func() {
			if cerr := hw.close(sum.Interrupted); cerr != nil && err == nil {
				code, err = exitUsage, cerr
			}
		}()
	}
	ec.OnFailure = func(it *harness.Iteration) {
		failing = append(failing, it.Index)
		if len(traces) >= maxTraceFiles || writeErr != nil {
			return
		}
		tj, msgs, err := saveTraces(c.out, c.bug, it)
		if err != nil {
			writeErr = err
			return
		}
		traces = append(traces, tj)
		flaky = append(flaky, msgs...)
	}
	var pr *progress
	if isTerminal(stderr) {
		pr = &progress{w: stderr}
		ec.Progress = pr.update
	}
	if ec.Shrink != nil && !c.keepGoing {
		ec.Shrink.Progress = func(p harness.ShrinkProgress) {
			if pr != nil {
				pr.shrinking(p)
			}
			if testHookShrinking != nil {
				testHookShrinking(p)
			}
		}
	}
	sum, err = harness.ExploreContext(ctx, ec)
	if pr != nil {
		pr.clear()
	}
	if err != nil {
		return exitUsage, err
	}
	if writeErr != nil {
		return exitUsage, writeErr
	}

	js := c.summaryJSON(sum, traces, failing)
	if sum.First != nil {
		c.writeFirstReport(human, sum.First, traces[0])
		fmt.Fprintln(human)
	}
	writeSummary(human, js)
	for _, msg := range flaky {
		fmt.Fprintf(human, "FLAKY: %s\n", msg)
	}
	// SIGINT while the first failure was shrunk (the exploration itself
	// had ended): the report is of what the shrink reached.
	shrinkCut := !c.keepGoing && js.Shrink != nil && js.Shrink.Stopped == "cancelled"
	if shrinkCut {
		fmt.Fprintf(human, "interrupted while shrinking the first failure: the report shows the smallest run it had reached\n")
	}

	if c.json {
		b, _ := json.MarshalIndent(js, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	}
	switch {
	case sum.Interrupted, shrinkCut:
		return exitInterrupted, nil
	case sum.Failures > 0:
		return exitFailure, nil
	}
	return exitPass, nil
}

// saveTraces writes the trace of the failing iteration it, and of its
// shrunk run if it was shrunk ("…-itN-shrunk.trace"), to dir, and checks
// that each replays the same; it returns the files and what did not.
func saveTraces(dir string, b mtable.Bug, it *harness.Iteration) (traceJSON, []string, error) {
	tj := traceJSON{Iteration: it.Index}
	var flaky []string
	path, err := saveTrace(dir, traceName(b, it.Index), it)
	if err != nil {
		return tj, nil, err
	}
	tj.Trace = path
	if msg := checkReproduces(path, it); msg != "" {
		flaky = append(flaky, msg)
	}
	if sr := it.Shrunk; sr != nil {
		path, err := saveTrace(dir, traceName(b, it.Index)+"-shrunk", sr.Shrunk)
		if err != nil {
			return tj, nil, err
		}
		tj.ShrunkTrace = path
		if msg := checkReproduces(path, sr.Shrunk); msg != "" {
			flaky = append(flaky, msg)
		}
	}
	return tj, flaky, nil
}

// writeFirstReport writes the report of the first failure: of its shrunk
// run when it was shrunk, with the commands that replay both runs.
func (c *config) writeFirstReport(w io.Writer, it *harness.Iteration, tj traceJSON) {
	sr := it.Shrunk
	if sr == nil {
		if c.verbose {
			writeEvents(w, it.Sched.Events)
		}
		harness.WriteReport(w, it, "go run ./cmd/mtabletest -replay "+tj.Trace)
		if it.ShrinkErr != nil {
			fmt.Fprintf(w, "(not shrunk: %v)\n", it.ShrinkErr)
		}
		return
	}
	if c.verbose {
		writeEvents(w, sr.Shrunk.Sched.Events)
	}
	harness.WriteShrunkReport(w, sr, fmt.Sprintf("go run ./cmd/mtabletest -replay %s    # the shrunk run\n"+
		"go run ./cmd/mtabletest -replay %s    # the run as found", tj.ShrunkTrace, tj.Trace))
}

// writeSummary prints the summary of a run (or of merged shards).
func writeSummary(w io.Writer, js summaryJSON) {
	fmt.Fprintf(w, "--- summary ---\n")
	fmt.Fprintf(w, "%d iterations in %.2fs (%.0f it/s), %d failing", js.Iterations, js.ElapsedSeconds, js.IterationsPerSecond, js.Failures)
	if js.Exhausted {
		fmt.Fprintf(w, "; dfs explored every schedule")
	}
	if js.Shrink != nil && !js.KeepGoing {
		fmt.Fprintf(w, "; shrinking it took %.2fs more", js.Shrink.Seconds)
	}
	fmt.Fprintln(w)
	if js.LinUndecided > 0 {
		fmt.Fprintf(w, "linearizability undecided (search budget spent) in %d iterations: they count as passing\n", js.LinUndecided)
	}
	if js.Interrupted {
		fmt.Fprintf(w, "interrupted: %d of %d iterations planned were run\n", js.Iterations, js.Planned)
	}
	if js.Failures == 0 {
		if js.Interrupted {
			fmt.Fprintf(w, "no failure found in the iterations run\n")
		} else if js.Iterations < js.Planned && !js.Exhausted {
			fmt.Fprintf(w, "no failure found (%d of %d iterations planned)\n", js.Iterations, js.Planned)
		} else {
			fmt.Fprintf(w, "no failure found\n")
		}
		return
	}
	fmt.Fprintf(w, "first failure: iteration %d (%s, seed %d): %s\n", *js.FirstFailure, js.FirstStrategy, js.FirstSeed, js.Kind)
	if sj := js.Shrink; sj != nil {
		fmt.Fprintf(w, "shrunk from %s to %s in %d runs", shapeString(sj.Original), shapeString(sj.Shrunk), sj.Runs)
		var notes []string
		if sj.Extended {
			notes = append(notes, "its budget doubled: the report was longer than a screen")
		}
		if sj.Stopped != "" {
			notes = append(notes, "stopped by its budget: "+sj.Stopped)
		}
		if len(notes) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(notes, "; "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "failures by kind:  %s\n", harness.SortedCounts(js.ByKind))
	fmt.Fprintf(w, "failures by check: %s\n", harness.SortedCounts(js.ByCheck))
	if js.KeepGoing {
		what := "signature"
		if js.ShrinkRuns > 0 {
			what = "signature and shrunk shape"
		}
		fmt.Fprintf(w, "failures by %s (%d %s):\n", what, len(js.Groups), pluralWord(len(js.Groups), "group"))
		for _, g := range js.Groups {
			fmt.Fprintf(w, "  %6d  %s", g.Count, g.Signature)
			if g.Shape != "" {
				fmt.Fprintf(w, "; %s", g.Shape)
			}
			fmt.Fprintf(w, " (first: iteration %d)\n", g.FirstIteration)
		}
	}
	if !js.KeepGoing && !js.Interrupted {
		fmt.Fprintf(w, "stopped at the first failure (-keep-going runs every iteration)\n")
	}
	for _, t := range js.Traces {
		fmt.Fprintf(w, "trace: %s\n", t.Trace)
		if t.ShrunkTrace != "" {
			fmt.Fprintf(w, "trace: %s (shrunk)\n", t.ShrunkTrace)
		}
	}
	if n := js.Failures - len(js.Traces); n > 0 {
		fmt.Fprintf(w, "(%d more failing iterations; their traces were not written)\n", n)
	}
}

func pluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

func shapeString(s shapeJSON) string {
	return harness.Shape{Steps: s.Steps, Calls: s.Calls, Machines: s.Machines, Faults: s.Faults}.String()
}

// exploring is the time a run took to explore: without the shrink of
// its first failure, which comes after (with -keep-going, each failure's
// shrink is part of its iteration).
func exploring(sum harness.Summary, keepGoing bool) time.Duration {
	if f := sum.First; f != nil && f.Shrunk != nil && !keepGoing {
		return max(sum.Elapsed-f.Shrunk.Elapsed, 0)
	}
	return sum.Elapsed
}

func rate(sum harness.Summary, keepGoing bool) float64 {
	if s := exploring(sum, keepGoing).Seconds(); s > 0 {
		return float64(sum.Iterations) / s
	}
	return 0
}

// worldOf is a summary's World: w's parameters by name.
func worldOf(w harness.Workload) map[string]string {
	m := map[string]string{}
	for _, kv := range w.Params() {
		m[kv[0]] = kv[1]
	}
	return m
}

func (c *config) summaryJSON(sum harness.Summary, traces []traceJSON, failing []int) summaryJSON {
	js := summaryJSON{
		Seed: c.seed, Strategy: c.strategy, Bug: bugName(c.bug),
		Planned: c.planned(), Total: c.iterations, Iterations: sum.Iterations, Failures: sum.Failures, LinUndecided: sum.LinUnknown, Exhausted: sum.Exhausted, Interrupted: sum.Interrupted,
		Depth: c.depth, MaxSteps: c.maxSteps, KeepGoing: c.keepGoing, World: worldOf(c.workload()),
		ByKind: sum.ByKind, ByCheck: sum.ByCheck, Traces: []traceJSON{}, FailingIterations: []int{}, Groups: []groupJSON{},
		ElapsedSeconds: exploring(sum, c.keepGoing).Seconds(), IterationsPerSecond: rate(sum, c.keepGoing),
	}
	if c.shrink {
		js.ShrinkRuns = c.shrinkRuns
		if c.shrinkTime > 0 {
			js.ShrinkTime = c.shrinkTime.String()
		}
	}
	js.FailingIterations = append(js.FailingIterations, failing...)
	js.Traces = append(js.Traces, traces...)
	for _, t := range traces {
		js.TraceFiles = append(js.TraceFiles, t.Trace)
		if t.ShrunkTrace != "" {
			js.TraceFiles = append(js.TraceFiles, t.ShrunkTrace)
		}
	}
	if c.shards > 0 {
		js.Shard = fmt.Sprintf("%d/%d", c.shard, c.shards)
	}
	if f := sum.First; f != nil {
		idx := f.Index
		js.FirstFailure = &idx
		js.FirstStrategy, js.FirstSeed = f.Strategy, f.Seed
		js.Kind = f.Failure.Kind
		if f.Failure.Check != nil {
			js.Check = f.Failure.Check.Check
		}
		if len(traces) > 0 {
			js.TraceFile, js.ShrunkTraceFile = traces[0].Trace, traces[0].ShrunkTrace
		}
		if sr := f.Shrunk; sr != nil {
			js.Shrink = &shrinkJSON{Original: shapeOf(sr.OriginalShape()), Shrunk: shapeOf(sr.ShrunkShape()),
				ShownSteps: harness.ShownSteps(sr.Shrunk), Workload: sr.ShapeKey(), Runs: sr.Runs, Stopped: sr.Stopped,
				Extended: sr.Extended, Seconds: sr.Elapsed.Seconds()}
		}
	}
	for _, g := range sum.Groups {
		js.Groups = append(js.Groups, groupJSON{Signature: g.Signature.String(), Shape: g.Shape, Count: g.Count, FirstIteration: g.First.Index})
	}
	if js.ByKind == nil {
		js.ByKind = map[string]int{}
	}
	if js.ByCheck == nil {
		js.ByCheck = map[string]int{}
	}
	return js
}

// testHookShrinking, set by tests, sees the progress of the first
// failure's shrink.
var testHookShrinking func(harness.ShrinkProgress)

// checkReproduces replays the trace file just written for it and returns
// "" if the replay fails the same way, decision for decision, else what
// differs: the run is then not deterministic (a bug in the harness or the
// scheduler, worth reporting), as rapid reports a flaky failure.
func checkReproduces(path string, it *harness.Iteration) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("%s: cannot read it back: %v", path, err)
	}
	_, again, err := replayFile(data)
	switch {
	case err != nil:
		return fmt.Sprintf("%s: does not replay: %v", path, err)
	case again.Failure == nil:
		return fmt.Sprintf("%s: the replay passed, the run failed with %s", path, it.Failure.Kind)
	case again.Failure.Kind != it.Failure.Kind:
		return fmt.Sprintf("%s: the replay failed with %s, the run with %s", path, again.Failure.Kind, it.Failure.Kind)
	case !reflect.DeepEqual(again.Sched.Trace.Decisions, it.Sched.Trace.Decisions):
		return fmt.Sprintf("%s: the replay made other decisions than the run", path)
	}
	return ""
}

func writeEvents(w io.Writer, events []sched.Event) {
	fmt.Fprintf(w, "--- full step trace (%d events) ---\n", len(events))
	for _, e := range events {
		fmt.Fprintln(w, e)
	}
	fmt.Fprintln(w)
}

// failureComment is the comment block of a saved trace: the failure kind
// on a line of its own (the seed test reads it back), then the text.
func failureComment(it *harness.Iteration) []string {
	cm := []string{
		"mtabletest failure kind: " + it.Failure.Kind,
		fmt.Sprintf("iteration %d, strategy %s, seed %d", it.Index, it.Strategy, it.Seed),
	}
	if it.ShrunkFrom != nil {
		cm = append(cm, fmt.Sprintf("shrunk from %v to %v", harness.ShapeOf(it.ShrunkFrom), harness.ShapeOf(it)))
	}
	// (The harness makes go-cmp's diffs deterministic, so the file is
	// the same from run to run.)
	return append(cm, strings.Split(strings.TrimRight(it.Failure.Text, "\n"), "\n")...)
}

// recordedKind returns the failure kind a saved trace's comment records.
func recordedKind(tr *sched.Trace) (string, bool) {
	for _, l := range tr.Comment {
		if k, ok := strings.CutPrefix(l, "mtabletest failure kind: "); ok {
			return strings.TrimSpace(k), true
		}
	}
	return "", false
}
