package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
)

// allJSON is the -bug all -json summary: the correct library's run, then
// one run per bug, each a plain run's summary.
type allJSON struct {
	Passed bool          `json:"passed"` // library clean, every bug but the benign one found
	Runs   []summaryJSON `json:"runs"`
	// Interrupted: SIGINT stopped the table; Runs holds the runs made,
	// the last one marked interrupted if it was cut short.
	Interrupted bool `json:"interrupted,omitempty"`
}

// runAll runs the correct library for -iterations, then each bug until
// its first failure (at most -iterations), and prints one table line
// each: the time to the first failure is measured with -parallel
// workers. Traces of the failures go to -out.
func (c *config) runAll(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	human := stdout
	if c.json {
		human = stderr
	}
	first := *c
	first.bug = mtable.NoBug
	first.writeBanner(human, first.exploreConfig())
	fmt.Fprintf(human, "%-42s %-10s %9s  %-8s %9s  %-40s %s\n", "bug", "result", "iteration", "strategy", "time", "shrunk: steps, calls, machines (time)", "trace")
	all := allJSON{Passed: true}
	for _, b := range append([]mtable.Bug{mtable.NoBug}, mtable.Bugs()...) {
		bc := *c
		bc.bug, bc.bugAll = b, false
		ec := bc.exploreConfig()
		if err := ec.Validate(); err != nil {
			return exitUsage, usagef("%v", err)
		}
		var tj traceJSON
		var werr error
		var flaky []string
		ec.OnFailure = func(it *harness.Iteration) {
			if tj.Trace == "" && werr == nil {
				tj, flaky, werr = saveTraces(c.out, b, it)
			}
		}
		if ctx.Err() != nil {
			all.Interrupted = true
			break
		}
		if b.Lease() && !c.leases {
			js := bc.summaryJSON(harness.Summary{}, nil, nil)
			js.Planned, js.Skipped = 0, noLeases
			all.Runs = append(all.Runs, js)
			fmt.Fprintf(human, "%-42s %-10s %9s  %-8s %9s  (%s)\n", fmt.Sprintf("%2d %s", int(b), b), "no leases", "-", "-", "-", noLeases)
			continue
		}
		sum, err := harness.ExploreContext(ctx, ec)
		if err != nil {
			return exitUsage, err
		}
		if werr != nil {
			return exitUsage, werr
		}
		var failing []int
		var traces []traceJSON
		if sum.First != nil {
			failing = []int{sum.First.Index}
			traces = []traceJSON{tj}
		}
		all.Runs = append(all.Runs, bc.summaryJSON(sum, traces, failing))

		label := "none (the correct library)"
		if b != mtable.NoBug {
			label = fmt.Sprintf("%2d %s", int(b), b)
		}
		secs := fmt.Sprintf("%.3fs", exploring(sum, false).Seconds()) // to the first failure, without its shrink
		switch {
		case sum.Interrupted && sum.First == nil:
			all.Interrupted = true
			fmt.Fprintf(human, "%-42s %-10s %9s  %-8s %9s\n", label, "interrupted", fmt.Sprintf("(%d its)", sum.Iterations), c.strategy, secs)
		case sum.First != nil:
			result := "found"
			if b == mtable.NoBug {
				result, all.Passed = "FAILED", false
			}
			shrunk, path := "", tj.Trace
			if sr := sum.First.Shrunk; sr != nil {
				o, s := sr.OriginalShape(), sr.ShrunkShape()
				shrunk = fmt.Sprintf("%d->%d, %d->%d, %d->%d (%.1fs)", o.Steps, s.Steps, o.Calls, s.Calls, o.Machines, s.Machines, sr.Elapsed.Seconds())
				if sr.Stopped != "" {
					shrunk += " budget"
				}
				path = tj.ShrunkTrace
			}
			fmt.Fprintf(human, "%-42s %-10s %9d  %-8s %9s  %-40s %s\n", label, result, sum.First.Index, sum.First.Strategy, secs, shrunk, path)
			for _, msg := range flaky {
				fmt.Fprintf(human, "FLAKY: %s\n", msg)
			}
		case b == mtable.NoBug:
			fmt.Fprintf(human, "%-42s %-10s %9s  %-8s %9s\n", label, "clean", fmt.Sprintf("%d its", sum.Iterations), c.strategy, secs)
		default:
			result := "NOT FOUND"
			if believedBenign[b] {
				result = "benign"
			} else {
				all.Passed = false
			}
			fmt.Fprintf(human, "%-42s %-10s %9s  %-8s %9s\n", label, result, fmt.Sprintf("(%d its)", sum.Iterations), c.strategy, secs)
		}
	}
	switch {
	case all.Interrupted:
		all.Passed = false
		fmt.Fprintf(human, "interrupted: the table is incomplete\n")
	case all.Passed:
		fmt.Fprintf(human, "passed: the correct library is clean and every bug but the benign one is found\n")
	default:
		fmt.Fprintf(human, "FAILED: the correct library failed or a bug was not found\n")
	}
	if c.json {
		b, _ := json.MarshalIndent(all, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	}
	switch {
	case all.Interrupted:
		return exitInterrupted, nil
	case !all.Passed:
		return exitFailure, nil
	}
	return exitPass, nil
}
