package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// Failure kinds beyond the scheduler's: an oracle's check name is used as
// the kind of an assertion it raised.
const (
	KindAssertion       = "assertion"
	KindLinearizability = "linearizability"
)

// Iteration is the outcome of one schedule.
type Iteration struct {
	Index    int    // iteration index within the exploration
	Seed     uint64 // the seed the strategy ran with
	Strategy string // the concrete strategy (never "portfolio")

	Sched *sched.Result // the scheduler's result: trace, events, failure

	// Failure is nil when every oracle passed.
	Failure *IterationFailure

	// Lin is oracle 2's verdict (run on every iteration, also after
	// another oracle failed, so the oracles can be compared; Ok when it
	// is switched off).
	Lin        linearizability.Result
	LinExplain string

	// Flagged is the set of oracles that failed the run.
	Flagged Oracles

	// Calls is the number of virtual-table calls made.
	Calls int
	// BackendFaults lists the backend faults injected (see
	// Workload.BackendFaults), one line each.
	BackendFaults []string
	// Workload is the iteration's workload: with Swarm, the shape it drew.
	Workload Workload

	// Checks counts the failures of each oracle (by check name) in this
	// iteration; CheckLinearizability counts oracle 2.
	Checks map[string]int

	// Shrunk is the shrink of a failing iteration of an exploration with
	// ExploreConfig.Shrink; ShrinkErr says why it could not be shrunk.
	Shrunk    *ShrinkResult
	ShrinkErr error
	// ShrunkFrom is set on a shrunk run (ShrinkResult.Shrunk): the
	// iteration it was shrunk from.
	ShrunkFrom *Iteration

	world *world
	// upTo is the shape of the run up to its failure, when a run that
	// stopped there measured it (Shrink sets it on the iterations it
	// shrinks and returns; see ShapeOf).
	upTo *Shape
}

// IterationFailure says which check failed and how.
type IterationFailure struct {
	// Kind is a short class for exit codes and summaries: "assertion"
	// (an oracle), "deadlock", "liveness", "step-bound", "panic",
	// "uncontrolled-blocking", "divergence" or "linearizability".
	Kind string
	// Check is the oracle's failure, when an oracle failed.
	Check *CheckFailure
	// Sched is the scheduler's failure, when the scheduler ended the run.
	Sched *sched.Failure
	// Text is the one-paragraph description.
	Text string
}

// RunOnce runs one iteration of the harness under scfg (whose Params
// should be Params(opts), so the trace records them).
func RunOnce(opts Options, scfg sched.Config, linBudget int64) (*Iteration, error) {
	if scfg.Watchdog == 0 {
		scfg.Watchdog = Watchdog
	}
	return runWith(opts, linBudget, func(main func()) (*sched.Result, error) {
		return sched.Run(scfg, main)
	})
}

// Watchdog is the scheduler's watchdog for the harness's runs (RunOnce
// with no Watchdog of its own, and explorations): the library and the
// harness make scheduling points every few microseconds of work and
// never block outside the scheduler, so only a real hang, or a machine
// so loaded that it swaps, goes this long without one; sched's 5-second
// default flagged a correct run as uncontrolled blocking once while the
// machine swapped under another process's memory.
const Watchdog = 60 * time.Second

// Check reports whether opts can run.
func (opts Options) Check() error {
	if err := opts.Workload.Validate(); err != nil {
		return err
	}
	if opts.Bug != mtable.NoBug && !opts.Bug.Valid() {
		return fmt.Errorf("unknown bug %d", int(opts.Bug))
	}
	if opts.lateBy < 0 || opts.lateBy > maxLateBy || (opts.lateBy > 0 && !opts.Workload.Leases) {
		return fmt.Errorf("late-by %v: want 0..%v, with leases", opts.lateBy, maxLateBy)
	}
	return nil
}

func runWith(opts Options, linBudget int64, run func(main func()) (*sched.Result, error)) (*Iteration, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	w := newWorld(opts)
	res, err := run(func() { w.main(context.Background()) })
	if err != nil {
		return nil, err
	}
	if f := res.Failure; f != nil && f.Kind == sched.Assertion && errors.Is(f.Err, errStopAtFailure) {
		// The run ended at its first failure: the failure is decided, and
		// the scheduler's failure is only the stop (see stopAtFailure).
		w.stopped, res.Failure = true, nil
	}
	it := &Iteration{Seed: res.Trace.Seed, Strategy: res.Trace.Strategy, Sched: res, Calls: len(w.calls), Workload: w.wl, world: w}
	for _, f := range w.bfaults {
		it.BackendFaults = append(it.BackendFaults, f.String())
	}
	if linBudget == 0 {
		linBudget = DefaultLinBudget
	}
	it.Lin, it.Checks = linearizability.Ok, w.checks
	var linFailure *CheckFailure
	if opts.enabled(OracleLinearizability) && !w.stopped {
		var rep linearizability.RecordReport
		rep, linFailure = w.checkLinearizable(w.record(), linBudget, int64(res.Steps))
		it.Lin, it.LinExplain = rep.Result, rep.Explanation
		if it.Lin == linearizability.Illegal {
			it.Checks[CheckLinearizability]++
		}
	}
	schedFailure := res.Failure
	if schedFailure != nil && livenessKind(schedFailure.Kind) {
		if opts.enabled(OracleLiveness) {
			it.Checks[CheckLiveness]++
		} else {
			schedFailure = nil // switched off: it always says ok
		}
	}
	for name, n := range it.Checks {
		if n > 0 {
			it.Flagged |= oracleOf(name)
		}
	}
	// The first oracle failure is the most specific account of what went
	// wrong; a scheduler failure (deadlock, liveness, step bound, panic)
	// comes next; oracle 2 runs after the schedule, so it comes last.
	switch {
	case w.failure != nil:
		it.Failure = &IterationFailure{Kind: KindAssertion, Check: w.failure, Sched: schedFailure, Text: w.failure.Error()}
	case schedFailure != nil:
		it.Failure = &IterationFailure{Kind: schedFailure.Kind.String(), Sched: schedFailure, Text: schedFailure.Error()}
	case linFailure != nil:
		it.Failure = &IterationFailure{Kind: KindLinearizability, Check: linFailure, Text: linFailure.Error()}
	}
	if it.Failure != nil {
		res.Trace.Comment = strings.Split(strings.TrimRight(it.Failure.Text, "\n"), "\n")
	}
	return it, nil
}

// Params lists the options as trace parameters: the workload and the bug.
func Params(opts Options) []sched.Param {
	var ps []sched.Param
	bug := "none"
	if opts.Bug != mtable.NoBug {
		bug = strconv.Itoa(int(opts.Bug)) + ":" + opts.Bug.String()
	}
	ps = append(ps, sched.Param{Key: "bug", Value: bug})
	for _, kv := range opts.Workload.Params() {
		ps = append(ps, sched.Param{Key: kv[0], Value: kv[1]})
	}
	if opts.lateBy > 0 {
		// A test's world forced past the service's MaxInFlight: the
		// trace says so, and replays in it.
		ps = append(ps, sched.Param{Key: "late-by", Value: opts.lateBy.String()})
	}
	return ps
}
