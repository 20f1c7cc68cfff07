package goker_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// strategies are the columns of the table, in order. dfs deepens its
// preemption bound up to dfsDepth.
var strategies = []string{"random", "pct", "pos", "dfs"}

const (
	seed     = 314159
	dfsDepth = 2
)

// budget is the number of schedules each strategy may run on each
// variant: the buggy variant until its first failure, the fixed one
// all of them (or until dfs has exhausted its space).
func budget() int {
	if testing.Short() {
		return 100
	}
	return 1000
}

// config is the Config of a kernel's runs under strategy.
func (k *kernel) config(strategy string) sched.Config {
	cfg := sched.Config{
		Strategy:      strategy,
		Seed:          seed,
		ExpectedSteps: 50,
		MaxSteps:      500,
		NoEvents:      true,
	}
	if k.expected > 0 {
		cfg.ExpectedSteps = k.expected
	}
	if strategy == "dfs" {
		cfg.Depth = dfsDepth
	}
	if k.timeStep > 0 {
		cfg.MaxTimeStep = k.timeStep
	}
	return cfg
}

// unfair reports whether f ends a schedule that never ends because a
// busy-waiting machine is never preempted: a step bound reached under
// dfs, which does not schedule fairly, by a kernel that spins.
func (k *kernel) unfair(strategy string, f *sched.Failure) bool {
	return k.spins && strategy == "dfs" && f.Kind == sched.StepBound
}

// outcome is one cell of the table: how one strategy did on one kernel.
type outcome struct {
	// found is the 1-based index of the first schedule on which the
	// buggy variant failed with the expected kind; 0 if none did.
	found   int
	failure *sched.Failure // that failure
	steps   int64          // its length in steps
	trace   *sched.Trace   // its decisions
	bound   int            // dfs: the preemption bound it was found at
	// bugRuns is the number of schedules run on the buggy variant,
	// bugCut how many of them were cut by the step bound (see
	// kernel.spins).
	bugRuns, bugCut int
	// fixRuns is the number of schedules run on the fixed variant, all
	// clean but the fixCut cut by the step bound; fixComplete: dfs ran
	// its whole schedule space.
	fixRuns, fixCut int
	fixComplete     bool
	// fixPerBound: dfs's schedules of the fixed variant per preemption
	// bound.
	fixPerBound []int
	// errs are the reasons the cell fails the test.
	errs []string
}

func (o *outcome) errorf(format string, args ...any) {
	o.errs = append(o.errs, fmt.Sprintf(format, args...))
}

// cell formats o for the table: "#3" (found on the third schedule),
// "#12/b1" (dfs, at preemption bound 1), or "-" (not found).
func (o *outcome) cell() string {
	s := "-"
	switch {
	case o.found != 0 && o.bound >= 0:
		s = fmt.Sprintf("#%d/b%d", o.found, o.bound)
	case o.found != 0:
		s = fmt.Sprintf("#%d", o.found)
	}
	if o.bugCut > 0 {
		s += fmt.Sprintf(" (%d cut)", o.bugCut)
	}
	return s
}

// explore runs k under strategy: the buggy variant until its first
// failure, which must be of k's kind and replay to the same failure,
// then the fixed variant over the whole budget, which must pass.
func explore(k *kernel, strategy string, n int) *outcome {
	o := &outcome{bound: -1}
	ex, err := sched.NewExplorer(k.config(strategy))
	if err != nil {
		o.errorf("bug: %v", err)
		return o
	}
	for i := 0; i < n; i++ {
		bound := ex.Bound()
		res, err := ex.Next(k.bug)
		if errors.Is(err, sched.ErrExhausted) {
			break
		}
		if err != nil {
			o.errorf("bug: %v", err)
			return o
		}
		o.bugRuns++
		f := res.Failure
		if f == nil {
			continue
		}
		if k.unfair(strategy, f) {
			o.bugCut++
			continue
		}
		if !slices.Contains(k.want, f.Kind) {
			o.errorf("bug: schedule %d: got a %v failure, want %v: %v", i+1, f.Kind, k.want, f)
			return o
		}
		o.found, o.failure, o.steps, o.trace = i+1, f, res.Steps, res.Trace
		if strategy == "dfs" {
			o.bound = bound
		}
		again, err := sched.Run(sched.Config{Strategy: "replay", Replay: res.Trace, NoEvents: true}, k.bug)
		switch {
		case err != nil:
			o.errorf("bug: replay: %v", err)
		case again.Failure == nil || again.Failure.Error() != f.Error():
			o.errorf("bug: replay of schedule %d: got %v, want %v", i+1, again.Failure, f)
		}
		break
	}

	ex, err = sched.NewExplorer(k.config(strategy))
	if err != nil {
		o.errorf("fix: %v", err)
		return o
	}
	for i := 0; i < n; i++ {
		res, err := ex.Next(k.fix)
		if errors.Is(err, sched.ErrExhausted) {
			break
		}
		if err != nil {
			o.errorf("fix: %v", err)
			return o
		}
		o.fixRuns++
		if f := res.Failure; f != nil {
			if k.unfair(strategy, f) {
				o.fixCut++
				continue
			}
			o.errorf("fix: schedule %d: %v", i+1, f)
			return o
		}
	}
	o.fixComplete = ex.Complete()
	o.fixPerBound = ex.SchedulesPerBound()
	return o
}

// TestKernels runs every kernel of the table under every strategy and
// prints the table (go test -v). It fails when a strategy finds a bug
// that the kernel's row says it misses or misses one the row says it
// finds, when a failure is not of the kernel's kinds or does not replay,
// and when a fixed variant fails on any schedule.
func TestKernels(t *testing.T) {
	n := budget()
	results := make([][]*outcome, len(kernels))
	t.Run("kernels", func(t *testing.T) {
		for ki := range kernels {
			k := &kernels[ki]
			t.Run(k.name, func(t *testing.T) {
				t.Parallel()
				row := make([]*outcome, len(strategies))
				for si, strategy := range strategies {
					o := explore(k, strategy, n)
					missed := slices.Contains(k.missedBy, strategy)
					switch {
					case o.found == 0 && !missed:
						o.errorf("bug not found in %d schedules", o.bugRuns)
					case o.found != 0 && missed:
						o.errorf("bug found on schedule %d, but the row says %s misses it: update the row", o.found, strategy)
					}
					for _, e := range o.errs {
						t.Errorf("%s: %s", strategy, e)
					}
					row[si] = o
				}
				results[ki] = row // each subtest writes its own element
			})
		}
	})
	t.Logf("GoKer kernels under sched: budget %d schedules per strategy and variant, seed %d, dfs preemption bound <= %d\n\n%s",
		n, seed, dfsDepth, table(results, n))
}

// table formats the results as the kernel table, the lines changed per
// port, and the first failure of each kernel.
func table(results [][]*outcome, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-17s %-22s %-8s %7s  %-7s %-7s %-7s %-14s %s\n", "kernel", "kind", "shows as", "changed", "random", "pct", "pos", "dfs", "fixed variant")
	found := make([]int, len(strategies))
	rows := 0
	for ki, row := range results {
		if row == nil {
			continue // not run (go test -run)
		}
		rows++
		k := &kernels[ki]
		shows := "-"
		for _, o := range row {
			if o.failure != nil {
				shows = o.failure.Kind.String()
				break
			}
		}
		fmt.Fprintf(&b, "%-17s %-22s %-8s %7d ", k.name, k.kind, shows, k.changed.total)
		for si, o := range row {
			w := 7
			if strategies[si] == "dfs" {
				w = 14
			}
			fmt.Fprintf(&b, " %-*s", w, o.cell())
			if o.found != 0 {
				found[si]++
			}
		}
		fmt.Fprintf(&b, " %s\n", fixCell(row, n))
	}
	fmt.Fprintf(&b, "%-17s %-22s %-8s %7s ", "found", "", "", "")
	for si := range strategies {
		fmt.Fprintf(&b, " %-7s", fmt.Sprintf("%d/%d", found[si], rows))
	}
	b.WriteString(`

Kind: GoKer's class (blk blocking, nbk non-blocking). Shows as: the kind
of failure sched reported. Cells: #N = the buggy variant failed first on
schedule N of the strategy's exploration (dfs: /bK = at preemption bound
K); - = not found within the budget; "cut" = schedules that hit the step
bound in a busy-wait loop under dfs, which schedules unfairly (not
counted as failures). Fixed variant: "clean" = every schedule of random,
pct and pos passed; dfs gives its schedules per preemption bound and
whether it ran the whole space (complete), every schedule within bound 2
(exhausted) or stopped at the budget. Changed = lines of the port not in
the original (see TestLinesChanged).

`)
	fmt.Fprintf(&b, "%-17s %7s %7s %4s %5s %9s %7s %5s %7s %4s\n", "lines changed", "changed", "imports", "go", "entry", "qualifier", "channel", "other", "removed", "fix")
	var sum lines
	for ki, row := range results {
		if row == nil {
			continue
		}
		l := kernels[ki].changed
		fmt.Fprintf(&b, "%-17s %7d %7d %4d %5d %9d %7d %5d %7d %4d\n", kernels[ki].name, l.total, l.imports, l.goStmt, l.entry, l.qualifier, l.channel, l.other, l.removed, l.fix)
		sum.total += l.total
		sum.imports += l.imports
		sum.goStmt += l.goStmt
		sum.entry += l.entry
		sum.qualifier += l.qualifier
		sum.channel += l.channel
		sum.other += l.other
		sum.removed += l.removed
		sum.fix += l.fix
	}
	fmt.Fprintf(&b, "%-17s %7d %7d %4d %5d %9d %7d %5d %7d %4d\n", "all", sum.total, sum.imports, sum.goStmt, sum.entry, sum.qualifier, sum.channel, sum.other, sum.removed, sum.fix)

	b.WriteString("\nfirst failure found per kernel, by the first strategy that found it, and its decisions\n(s N: machine N runs; c V/N: choice V of N; t D: the clock moves by D):\n")
	for ki, row := range results {
		for si, o := range row {
			if o.failure != nil {
				fmt.Fprintf(&b, "%-17s %s #%d, %d steps: %v\n", kernels[ki].name, strategies[si], o.found, o.steps, o.failure)
				d := make([]string, len(o.trace.Decisions))
				for i, x := range o.trace.Decisions {
					d[i] = x.String()
				}
				fmt.Fprintf(&b, "%-17s %s\n", "", strings.Join(d, ", "))
				break
			}
		}
	}
	return b.String()
}

// fixCell formats how the fixed variant did.
func fixCell(row []*outcome, n int) string {
	clean := true
	var dfs *outcome
	for si, o := range row {
		if strategies[si] == "dfs" {
			dfs = o
			continue
		}
		clean = clean && len(o.errs) == 0 && o.fixRuns == n && o.fixCut == 0
	}
	s := "FAILED"
	if clean {
		s = "clean"
	}
	if dfs == nil {
		return s
	}
	per := make([]string, len(dfs.fixPerBound))
	for i, c := range dfs.fixPerBound {
		per[i] = fmt.Sprint(c)
	}
	s += "; dfs " + strings.Join(per, "+")
	switch {
	case dfs.fixComplete:
		s += " (complete)"
	case dfs.fixRuns < n:
		s += " (exhausted)"
	default:
		s += " (budget)"
	}
	if dfs.fixCut > 0 {
		s += fmt.Sprintf(", %d cut", dfs.fixCut)
	}
	return s
}
