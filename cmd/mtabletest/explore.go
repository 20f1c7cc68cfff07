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
	"github.com/migratingtable/migratingtable/sched"
	"golang.org/x/term"
)

var termIsTerminal = term.IsTerminal

// summaryJSON is the -json summary. Its fields but ElapsedSeconds and
// IterationsPerSecond depend only on the command line (not on -parallel
// or the machine).
type summaryJSON struct {
	Seed       uint64 `json:"seed"`
	Strategy   string `json:"strategy"`
	Bug        string `json:"bug"`
	Shard      string `json:"shard,omitempty"`
	Planned    int    `json:"iterationsPlanned"` // iterations in this shard's slice
	Iterations int    `json:"iterations"`        // iterations run
	Failures   int    `json:"failures"`
	Exhausted  bool   `json:"exhausted,omitempty"`
	// Interrupted: SIGINT stopped the run after Iterations iterations.
	Interrupted bool `json:"interrupted,omitempty"`
	// Skipped says why -bug all did not run this bug (a lease bug).
	Skipped string `json:"skipped,omitempty"`

	// The first failing iteration (null/empty when none).
	FirstFailure *int   `json:"firstFailure"`
	Kind         string `json:"kind,omitempty"`
	Check        string `json:"check,omitempty"`
	TraceFile    string `json:"traceFile,omitempty"`

	ByKind     map[string]int `json:"byKind"`
	ByCheck    map[string]int `json:"byCheck"`
	TraceFiles []string       `json:"traceFiles,omitempty"`
	// FailingIterations lists every failing iteration run, in order.
	FailingIterations []int `json:"failingIterations"`

	ElapsedSeconds      float64 `json:"elapsedSeconds"`
	IterationsPerSecond float64 `json:"iterationsPerSecond"`
}

func (c *config) exploreConfig() harness.ExploreConfig {
	return harness.ExploreConfig{
		Options:    harness.Options{Workload: harness.DefaultWorkload(), Bug: c.bug},
		Strategy:   c.strategy,
		Depth:      c.depth,
		Seed:       c.seed,
		Iterations: c.iterations,
		MaxSteps:   c.maxSteps,
		Parallel:   c.parallel,
		Shard:      c.shard,
		Shards:     c.shards,
		KeepGoing:  c.keepGoing,
	}
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
	maxSteps := c.maxSteps
	if maxSteps == 0 {
		maxSteps = harness.DefaultMaxSteps
	}
	line("max-steps", "%d", maxSteps)
	line("bug", "%s (%s)", bugName(c.bug), c.bug.Description())
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
		traces    []string
		failing   []int // indices of the failing iterations
		writeErr  error
		firstPath string
		flaky     []string
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
		path, err := saveTrace(c.out, traceName(c.bug, it.Index), it)
		if err != nil {
			writeErr = err
			return
		}
		traces = append(traces, path)
		if msg := checkReproduces(path, it); msg != "" {
			flaky = append(flaky, msg)
		}
		if firstPath == "" {
			firstPath = path
		}
	}
	var pr *progress
	if isTerminal(stderr) {
		pr = &progress{w: stderr}
		ec.Progress = pr.update
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

	if sum.First != nil {
		if c.verbose {
			writeEvents(human, sum.First.Sched.Events)
		}
		repro := "go run ./cmd/mtabletest -replay " + firstPath
		harness.WriteReport(human, sum.First, repro)
		fmt.Fprintln(human)
	}
	c.writeSummary(human, sum, traces)
	for _, msg := range flaky {
		fmt.Fprintf(human, "FLAKY: %s\n", msg)
	}

	if c.json {
		js := c.summaryJSON(sum, traces, firstPath, failing)
		b, _ := json.MarshalIndent(js, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	}
	switch {
	case sum.Interrupted:
		return exitInterrupted, nil
	case sum.Failures > 0:
		return exitFailure, nil
	}
	return exitPass, nil
}

func (c *config) writeSummary(w io.Writer, sum harness.Summary, traces []string) {
	fmt.Fprintf(w, "--- summary ---\n")
	fmt.Fprintf(w, "%d iterations in %.2fs (%.0f it/s), %d failing", sum.Iterations, sum.Elapsed.Seconds(), rate(sum), sum.Failures)
	if sum.Exhausted {
		fmt.Fprintf(w, "; dfs explored every schedule")
	}
	fmt.Fprintln(w)
	if sum.Interrupted {
		fmt.Fprintf(w, "interrupted: %d of %d iterations planned were run\n", sum.Iterations, c.planned())
	}
	if sum.Failures == 0 {
		if sum.Interrupted {
			fmt.Fprintf(w, "no failure found in the iterations run\n")
		} else if sum.Iterations < c.planned() && !sum.Exhausted {
			fmt.Fprintf(w, "no failure found (%d of %d iterations planned)\n", sum.Iterations, c.planned())
		} else {
			fmt.Fprintf(w, "no failure found\n")
		}
		return
	}
	fmt.Fprintf(w, "first failure: iteration %d (%s, seed %d): %s\n", sum.First.Index, sum.First.Strategy, sum.First.Seed, sum.First.Failure.Kind)
	fmt.Fprintf(w, "failures by kind:  %s\n", harness.SortedCounts(sum.ByKind))
	fmt.Fprintf(w, "failures by check: %s\n", harness.SortedCounts(sum.ByCheck))
	if !c.keepGoing && !sum.Interrupted {
		fmt.Fprintf(w, "stopped at the first failure (-keep-going runs every iteration)\n")
	}
	for _, p := range traces {
		fmt.Fprintf(w, "trace: %s\n", p)
	}
	if n := sum.Failures - len(traces); n > 0 {
		fmt.Fprintf(w, "(%d more failing iterations; their traces were not written)\n", n)
	}
}

func rate(sum harness.Summary) float64 {
	if s := sum.Elapsed.Seconds(); s > 0 {
		return float64(sum.Iterations) / s
	}
	return 0
}

func (c *config) summaryJSON(sum harness.Summary, traces []string, firstPath string, failing []int) summaryJSON {
	js := summaryJSON{
		Seed: c.seed, Strategy: c.strategy, Bug: bugName(c.bug),
		Planned: c.planned(), Iterations: sum.Iterations, Failures: sum.Failures, Exhausted: sum.Exhausted, Interrupted: sum.Interrupted,
		ByKind: sum.ByKind, ByCheck: sum.ByCheck, TraceFiles: traces, FailingIterations: []int{},
		ElapsedSeconds: sum.Elapsed.Seconds(), IterationsPerSecond: rate(sum),
	}
	js.FailingIterations = append(js.FailingIterations, failing...)
	if c.shards > 0 {
		js.Shard = fmt.Sprintf("%d/%d", c.shard, c.shards)
	}
	if f := sum.First; f != nil {
		idx := f.Index
		js.FirstFailure = &idx
		js.Kind = f.Failure.Kind
		if f.Failure.Check != nil {
			js.Check = f.Failure.Check.Check
		}
		js.TraceFile = firstPath
	}
	if js.ByKind == nil {
		js.ByKind = map[string]int{}
	}
	if js.ByCheck == nil {
		js.ByCheck = map[string]int{}
	}
	return js
}

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
