package harness

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// Shrinking a failing iteration (see the package documentation,
// "Shrinking").

// DefaultShrinkRuns is the run budget of a shrink when
// ShrinkConfig.MaxRuns is zero.
const DefaultShrinkRuns = 3000

// DefaultShrinkSteps is the step budget of a shrink when
// ShrinkConfig.MaxSteps is zero: about 3,000 runs of an ordinary
// iteration, and far fewer of a run that hit the step bound (tens of
// thousands of steps a run), whose shrink would otherwise take the best
// part of an hour.
const DefaultShrinkSteps = 6_000_000

// minShrinkRuns is the fewest runs a step budget leaves a shrink.
const minShrinkRuns = 100

// ShrinkConfig bounds and observes a Shrink.
type ShrinkConfig struct {
	// MaxRuns bounds the runs of the shrink (deterministic); zero means
	// DefaultShrinkRuns. A shrink that reaches it (or MaxSteps) with a
	// smallest run whose report would show more than ShortRun steps goes
	// on, once, for as many runs (and steps) again.
	MaxRuns int
	// MaxSteps bounds the scheduler steps the shrink may spend, each run
	// reckoned at the length up to its failure of the smallest failing
	// run when it ran, the run it is a variant of, or of the failing run
	// if that is shorter (a candidate's run stops at its first failure
	// in a machine; one that fails after the schedule, or by the
	// scheduler, runs to its end), so that it stays deterministic: at
	// first the run budget is at most MaxSteps divided by the failing
	// run's steps, and it grows as the smallest run gets shorter (but it
	// is at least 100 runs, and at most MaxRuns); zero means
	// DefaultShrinkSteps.
	MaxSteps int64
	// MaxTime bounds its wall-clock time; zero means no bound. A shrink
	// stopped by it depends on the machine's speed.
	MaxTime time.Duration
	// Parallel is how many candidates run at a time; zero means 1. The
	// result does not depend on it.
	Parallel int
	// LinBudget is oracle 2's budget per run (0: DefaultLinBudget).
	LinBudget int64
	// Progress, if set, is called as the shrink goes on.
	Progress func(ShrinkProgress)
}

// ShrinkProgress is the state of a Shrink in progress.
type ShrinkProgress struct {
	// Iteration is the index of the iteration being shrunk, Original its
	// shape.
	Iteration      int
	Original       Shape
	Runs, Accepted int
	// Phase is the move being tried ("apps", "calls", ...), "explore"
	// while smaller workloads, or the smallest run's own, are explored
	// afresh, or "schedule/PASS" while the scheduler's passes run.
	Phase    string
	Smallest Shape
	Elapsed  time.Duration
}

// Shape is the size of a run as a report states it.
type Shape struct {
	// Steps are the steps up to the failure, those a report shows: up
	// to the failing check for an oracle's failure (the step it names;
	// the run may have gone on), else the run's (a passing run's, or
	// one the scheduler ended: deadlock, step bound, ...).
	Steps int64
	// Calls (begun), Machines (started), Faults (process faults:
	// crashes, stalls, restarts; and backend faults) and Preemptions
	// are counted up to the failure too on the iterations a Shrink
	// measured (its Original and Shrunk: it runs them stopped at their
	// first failure), else over the whole run.
	Calls       int
	Machines    int
	Faults      int
	Preemptions int
}

// ShapeOf returns the shape of it's run (see Shape).
func ShapeOf(it *Iteration) Shape {
	if it.upTo != nil {
		return *it.upTo
	}
	steps := it.Sched.Steps
	if it.Failure != nil {
		steps = failureStep(it)
	}
	return Shape{Steps: steps, Calls: it.Calls, Machines: it.Sched.Machines,
		Faults: faultCount(it.Sched) + len(it.BackendFaults), Preemptions: it.Sched.Preemptions}
}

// faultCount is the number of process faults of a run as the workload's
// budget counts them: crashes and stalls (a restart follows a crash).
func faultCount(res *sched.Result) int {
	n := 0
	for _, f := range res.Faults {
		if f.Kind != sched.Restart {
			n++
		}
	}
	return n
}

// String formats s as "431 steps / 12 calls / 7 machines / 0 faults".
func (s Shape) String() string {
	return fmt.Sprintf("%s / %s / %s / %s", plural(int(s.Steps), "step"), plural(s.Calls, "call"), plural(s.Machines, "machine"), plural(s.Faults, "fault"))
}

// plural is "1 call", "2 calls".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// Signature is what makes two failures the same for the shrinker: the
// failure kind (IterationFailure.Kind) and, for an oracle's assertion,
// the oracle (its check name). A shrunk run must fail with the
// signature of the run it was shrunk from.
type Signature struct {
	Kind  string // "assertion", "deadlock", "liveness", "step-bound", "panic", "linearizability", ...
	Check string // the oracle of an assertion, else ""
}

// SignatureOf returns the signature of a failing iteration (the zero
// Signature for a passing one).
func SignatureOf(it *Iteration) Signature {
	f := it.Failure
	if f == nil {
		return Signature{}
	}
	s := Signature{Kind: f.Kind}
	if f.Kind == KindAssertion && f.Check != nil {
		s.Check = f.Check.Check
	}
	return s
}

// String formats s as "assertion: streamed-query validity" or "deadlock".
func (s Signature) String() string {
	if s.Check == "" {
		return s.Kind
	}
	return s.Kind + ": " + s.Check
}

// ShrinkResult is the outcome of a Shrink.
type ShrinkResult struct {
	// Original is the iteration shrunk; Shrunk the smallest failing run
	// found, replayed with its event log. Its trace records its
	// workload (Options) and replays it exactly.
	Original, Shrunk *Iteration
	// Options are the shrunk run's options (its Workload has Swarm off).
	Options   Options
	Signature Signature
	// Runs counts the runs made, Accepted the candidates that became the
	// smallest failing run.
	Runs, Accepted int
	// Stopped is "" when no move made the run smaller, else "runs",
	// "time" or "cancelled": the shrink stopped at its budget, and
	// Shrunk is what it reached.
	Stopped string
	// Extended is set when the shrink went on past its budget, once, for
	// as many runs again, because the smallest run's report would have
	// shown more than ShortRun steps (see ShrinkConfig.MaxRuns).
	Extended bool
	Elapsed  time.Duration
}

// OriginalShape and ShrunkShape are the shapes of the two runs.
func (r *ShrinkResult) OriginalShape() Shape { return ShapeOf(r.Original) }

// ShrunkShape is the shape of the shrunk run.
func (r *ShrinkResult) ShrunkShape() Shape { return ShapeOf(r.Shrunk) }

// Summary is one line: "shrunk from 431 steps / 12 calls / 7 machines /
// 0 faults to 38 steps / 2 calls / 4 machines / 0 faults (preemptions 9
// to 1) in 812 runs, 1.2s", with what stopped it when it was a budget.
func (r *ShrinkResult) Summary() string {
	o, s := r.OriginalShape(), r.ShrunkShape()
	line := fmt.Sprintf("shrunk from %v to %v (preemptions %d to %d) in %d runs, %.1fs",
		o, s, o.Preemptions, s.Preemptions, r.Runs, r.Elapsed.Seconds())
	if r.Extended {
		line += " (its run budget doubled: the report was longer than a screen)"
	}
	switch r.Stopped {
	case "runs":
		line += "; stopped at its run budget: this is what it reached"
	case "time":
		line += "; stopped at its time budget: this is what it reached"
	case "cancelled":
		line += "; interrupted: this is what it reached"
	}
	return line
}

// ShapeKey is the shrunk run's shape as the triage groups failures:
// the kinds of the calls it makes, each once, in the order Batch,
// QueryAtomic, Retrieve, QueryStreamed, the kind of the call the failing
// check names marked with "*", and the number of faults when there are
// any: "calls Batch, QueryAtomic*", "calls Batch*; 1 fault". A shrunk
// run keeps only the calls its failure needs, so failures of one cause
// shrink to one shape, whatever else their iterations did.
func (r *ShrinkResult) ShapeKey() string {
	var used [len(callKindNames)]bool
	for _, c := range r.Shrunk.world.calls {
		used[c.Call.Kind] = true
	}
	failing := -1
	if cf := r.Shrunk.Failure.Check; cf != nil && cf.Call != "" {
		for _, c := range r.Shrunk.world.calls {
			if c.String() == cf.Call {
				failing = int(c.Call.Kind)
			}
		}
	}
	var parts []string
	for k, u := range used {
		if u {
			p := callKindNames[k]
			if k == failing {
				p += "*"
			}
			parts = append(parts, p)
		}
	}
	key := "no calls"
	if len(parts) > 0 {
		key = "calls " + strings.Join(parts, ", ")
	}
	if n := faultCount(r.Shrunk.Sched); n > 0 {
		key += "; " + plural(n, "fault")
	}
	return key
}

// appCalls is the number of calls of each application machine.
func (w Workload) appCalls() []int {
	out := make([]int, w.Apps)
	for i := range out {
		out[i] = w.callsOf(i)
	}
	return out
}

// size is the workload's size for the shrinker: each move makes it
// smaller.
func (w Workload) size() int {
	n := w.Apps + w.totalCalls() + w.Partitions + w.RowKeys + w.MaxBatch + w.Latency + w.BackendFaults +
		(w.Partitions-w.EmptyPartitions+1)*len(w.InitialRows)
	for _, r := range w.InitialRows {
		n += r // lower row keys are smaller (see proposeCompactRows)
	}
	if w.WidePartition {
		n += 3 * WideFillers(w.RowKeys) // its fillers weigh more than as many initial rows
	}
	for _, b := range []bool{w.SlowApp, w.MigratorDelay, w.FollowMigration, w.WidePartition, w.NarrowReads, w.Plain, w.HotRows} {
		if b {
			n++
		}
	}
	// The production world: each fault of the budget, each migrator
	// process, clock skew and the world itself.
	n += w.Faults + w.Migrators
	for _, b := range []bool{w.Leases, w.ClockSkew} {
		if b {
			n++
		}
	}
	if w.Swarm {
		// Larger than any shape it draws: fixing the drawn shape (which
		// every other move needs) is always smaller.
		n += swarmSize
	}
	return n
}

// toOriginalWorld makes w the original world's: no leases, faults,
// backend faults or clock skew, one migrator, and no fault plan.
func (w *Workload) toOriginalWorld() {
	w.Leases, w.Faults, w.BackendFaults, w.ClockSkew, w.Migrators = false, 0, 0, false, 1
	w.FaultBurst, w.StallsOnly, w.FaultTargets = false, false, ""
}

// swarmSize is what Swarm adds to a workload's size.
const swarmSize = 1 << 20

// shrinkRun is a failing run of the shrink: its options and iteration.
type shrinkRun struct {
	opts Options
	it   *Iteration
	size sched.ShrinkSize
}

// smaller reports whether a is smaller than b: a smaller workload, or
// the same workload and a smaller run in the scheduler's order.
func smaller(a, b shrinkRun) bool {
	if sa, sb := a.opts.Workload.size(), b.opts.Workload.size(); sa != sb {
		return sa < sb
	}
	return a.size.Less(b.size)
}

// candidate is a proposal of a move: a workload and the decisions to run
// it with, leniently, with the choice stream of each.
type candidate struct {
	opts      Options
	decisions []sched.Decision
	streams   []string
	// machines names the machines the decisions name (Trace.Machines).
	machines []sched.TraceMachine
	// seed is the lenient run's sched.Config.LenientSeed: 0 takes the
	// scheduler's default where a decision does not apply, another
	// draws it (see shrinker.propose).
	seed uint64
}

type shrinker struct {
	ctx      context.Context
	cfg      ShrinkConfig
	sig      Signature
	start    time.Time
	runs     int
	accepted int
	stopped  string
	phase    string
	best     shrinkRun
	orig     *Iteration
	header   sched.Trace // the trace's header, for lenient runs
	// reseeded holds, for each move that changes the world, the
	// workload (its Params) whose seeded candidates it last proposed.
	reseeded map[string]string
	// explored is set once the smallest run's workload has been
	// explored afresh (see reexplore).
	explored bool
	// The step budget (see left): the steps reckoned for the runs
	// before run costFrom, and what each run since costs (the smallest
	// run's steps, at most maxCost).
	spent    int64
	costFrom int
	cost     int64
	maxCost  int64 // the failing run's steps
	// exploredAgain holds the workloads (their Params) exploreAgain
	// found nothing for, againCalls counts its calls.
	exploredAgain map[string]bool
	againCalls    int
}

// Shrink looks for a smaller run that fails like it, a failing
// iteration of opts (with its choice log: an iteration run by RunOnce,
// Replay or an exploration). See the package documentation,
// "Shrinking".
func Shrink(ctx context.Context, opts Options, it *Iteration, cfg ShrinkConfig) (*ShrinkResult, error) {
	if it == nil || it.Failure == nil || it.world == nil {
		return nil, fmt.Errorf("shrink: the iteration did not fail")
	}
	if cfg.MaxRuns < 0 || cfg.MaxSteps < 0 || cfg.MaxTime < 0 || cfg.Parallel < 0 || cfg.Parallel > MaxParallel {
		return nil, fmt.Errorf("shrink: runs, steps and time must not be negative, parallel must be in 0..%d", MaxParallel)
	}
	if cfg.MaxRuns == 0 {
		cfg.MaxRuns = DefaultShrinkRuns
	}
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = DefaultShrinkSteps
	}
	if cfg.Parallel == 0 {
		cfg.Parallel = 1
	}
	if ctx == nil {
		ctx = context.Background()
	}
	sh := &shrinker{ctx: ctx, cfg: cfg, sig: SignatureOf(it), start: time.Now(), header: *it.Sched.Trace, orig: it}
	sh.header.Decisions, sh.header.Comment = nil, nil
	// The run again, leniently: the same run, with the streams of its
	// choices named (a lenient run records them), which the moves edit.
	// It stops at its first failure (as every candidate does), so it is
	// a prefix of the run, and its length is what a candidate of it
	// costs: the step budget reckons each run at the length of the
	// smallest run it is a variant of.
	sh.best = shrinkRun{opts: opts, it: it, size: sched.SizeOf(it.Sched)}
	steps := it.Sched.Steps
	if sh.budget() {
		tr := *it.Sched.Trace
		first, same := sh.runConfig(opts, sched.Config{Strategy: "lenient", Replay: &tr})
		sh.runs = 1
		if !same || !isPrefix(first.Sched.Trace.Decisions, tr.Decisions) {
			return nil, fmt.Errorf("shrink: internal error: the iteration's trace, replayed leniently, does not fail the same way")
		}
		sh.best.it, sh.best.size = first, sched.SizeOf(first.Sched)
		steps = first.Sched.Steps
		// The original's shape up to its failure, as the shrunk run's
		// is measured (a fact of the run: the same at every Shrink).
		if it.upTo == nil {
			shape := ShapeOf(first)
			it.upTo = &shape
		}
	}
	sh.cost = max(steps, 1)
	sh.maxCost = sh.cost
	sh.loop()
	shrunk, err := sh.finish()
	extended := err == nil && sh.stopped == "runs" && ShownSteps(shrunk) > ShortRun
	if extended {
		// Its report would not fit on a screen: once, as many runs
		// again.
		sh.cfg.MaxRuns *= 2
		sh.cfg.MaxSteps *= 2
		sh.stopped = ""
		sh.loop()
		shrunk, err = sh.finish()
	}
	if err != nil {
		return nil, err
	}
	return &ShrinkResult{Original: it, Shrunk: shrunk, Options: sh.best.opts, Signature: sh.sig,
		Runs: sh.runs, Accepted: sh.accepted, Stopped: sh.stopped, Extended: extended, Elapsed: time.Since(sh.start)}, nil
}

// loop runs the moves, the fresh explorations and the scheduler's
// passes in rounds until a round finds nothing smaller or the budget
// runs out.
func (sh *shrinker) loop() {
	scheduled := false // the scheduler's passes ran in the round before
	for sh.stopped == "" {
		progress := false
		for _, m := range moves {
			sh.phase = m.name
			for sh.budget() && sh.tryMove(m) {
				progress = true
			}
		}
		if !sh.budget() {
			break
		}
		if scheduled && !progress {
			// The moves found nothing after the scheduler's passes: the
			// smallest run's own workload is explored afresh for a
			// shorter run.
			sh.phase = "explore"
			if sh.exploreAgain() {
				continue // the moves again, on the run it found
			}
			if !sh.budget() {
				break
			}
		}
		if !sh.explored {
			sh.explored = true
			sh.phase = "explore"
			if sh.reexplore() {
				continue // the moves again, on the run it found
			}
			if !sh.budget() {
				break
			}
		}
		sh.phase = "schedule"
		scheduled = true
		if sh.schedulePasses() {
			progress = true
		}
		if !progress {
			break
		}
	}
}

// finish returns the shrunk run: the smallest run, run to its end and
// replayed with its events.
func (sh *shrinker) finish() (*Iteration, error) {
	// The smallest run stopped at its failure; the shrunk trace is that
	// run to its end, as an ordinary replay runs it: its decisions again,
	// leniently, without the stop (past their end, the lenient
	// defaults), recorded exactly. Its first failure is the same.
	tr := *sh.best.it.Sched.Trace
	full, err := RunOnce(sh.best.opts, sched.Config{Strategy: "lenient", Replay: &tr, Params: Params(sh.best.opts), NoEvents: true}, sh.cfg.LinBudget)
	if err != nil {
		return nil, fmt.Errorf("shrink: running the shrunk run to its end: %v", err)
	}
	if SignatureOf(full) != sh.sig || !isPrefix(tr.Decisions, full.Sched.Trace.Decisions) {
		return nil, fmt.Errorf("shrink: internal error: the shrunk run, run to its end, does not fail the same way (%s, want %s)", SignatureOf(full), sh.sig)
	}
	// The report's run: the shrunk trace replayed exactly, with events.
	shrunk, err := Replay(sh.best.opts, full.Sched.Trace, sh.cfg.LinBudget)
	if err != nil {
		return nil, fmt.Errorf("shrink: replaying the shrunk run: %v", err)
	}
	if SignatureOf(shrunk) != sh.sig || !slices.Equal(shrunk.Sched.Trace.Decisions, full.Sched.Trace.Decisions) {
		return nil, fmt.Errorf("shrink: internal error: the shrunk run does not replay the same (%s, want %s)", SignatureOf(shrunk), sh.sig)
	}
	shrunk.Index, shrunk.ShrunkFrom = sh.orig.Index, sh.orig
	if b := sh.best.it; b.world != nil && b.world.stopped {
		upTo := ShapeOf(b)
		shrunk.upTo = &upTo
	}
	return shrunk, nil
}

// isPrefix reports whether a is a prefix of b.
func isPrefix(a, b []sched.Decision) bool {
	return len(a) <= len(b) && slices.Equal(a, b[:len(a)])
}

// left is how many more runs the budget allows: within MaxRuns, and
// within MaxSteps, each run reckoned at the steps of the smallest run it
// was a variant of (the runs since it became the smallest at its steps,
// those before as they were reckoned then: spent), but at least
// minShrinkRuns in all (unless MaxRuns is fewer).
func (sh *shrinker) left() int {
	n := sh.cfg.MaxRuns - sh.runs
	if sh.cost > 0 && sh.cfg.MaxRuns > minShrinkRuns {
		steps := sh.cfg.MaxSteps - sh.spent - int64(sh.runs-sh.costFrom)*sh.cost
		if byStep := max(steps/sh.cost, int64(minShrinkRuns-sh.runs)); byStep < int64(n) {
			n = int(byStep)
		}
	}
	return max(n, 0)
}

// setBest makes r the smallest run: the runs from now on are reckoned
// at its steps, or at the failing run's if it has more (a smaller
// workload may take more steps to fail: the budget is never less than
// the failing run's length gives).
func (sh *shrinker) setBest(r shrinkRun) {
	sh.spent += int64(sh.runs-sh.costFrom) * sh.cost
	sh.costFrom, sh.cost = sh.runs, min(max(r.it.Sched.Steps, 1), sh.maxCost)
	sh.best = r
}

// accept makes r, a candidate that failed the same way and is smaller,
// the smallest run, and reports the progress.
func (sh *shrinker) accept(r shrinkRun) {
	sh.setBest(r)
	sh.accepted++
	sh.report()
}

// budget reports whether another run may start, setting stopped if not.
func (sh *shrinker) budget() bool {
	switch {
	case sh.stopped != "":
	case sh.ctx.Err() != nil:
		sh.stopped = "cancelled"
	case sh.left() <= 0:
		sh.stopped = "runs"
	case sh.cfg.MaxTime > 0 && time.Since(sh.start) >= sh.cfg.MaxTime:
		sh.stopped = "time"
	}
	return sh.stopped == ""
}

func (sh *shrinker) report() {
	if sh.cfg.Progress != nil {
		sh.cfg.Progress(ShrinkProgress{Iteration: sh.orig.Index, Original: ShapeOf(sh.orig), Runs: sh.runs, Accepted: sh.accepted, Phase: sh.phase,
			Smallest: ShapeOf(sh.best.it), Elapsed: time.Since(sh.start)})
	}
}

// runConfig runs opts under the lenient scheduler configuration scfg and
// reports whether it fails with the signature.
func (sh *shrinker) runConfig(opts Options, scfg sched.Config) (*Iteration, bool) {
	scfg.Params = Params(opts)
	scfg.NoEvents = true
	opts.track, opts.stopAtFailure = true, true
	it, err := RunOnce(opts, scfg, sh.cfg.LinBudget)
	if err != nil {
		return nil, false
	}

	return it, it.Failure != nil && SignatureOf(it) == sh.sig
}

// tryMove runs the candidates of move m, Parallel at a time, and takes
// the first, in their order, that fails the same way and is smaller.
// Runs are counted as if they ran one at a time.
func (sh *shrinker) tryMove(m move) bool {
	cands := sh.propose(m)
	for len(cands) > 0 {
		if !sh.budget() {
			return false
		}
		n := min(sh.cfg.Parallel, sh.left(), len(cands))
		batch := cands[:n]
		cands = cands[n:]
		type outcome struct {
			it   *Iteration
			same bool
		}
		out := make([]outcome, n)
		var wg sync.WaitGroup
		for i, c := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if c.opts.Check() != nil {
					return
				}
				tr := sh.header
				tr.Decisions, tr.Streams, tr.Machines = c.decisions, c.streams, c.machines
				// The world of the candidate's workload (a lenient run
				// takes it from the trace).
				var wc sched.Config
				c.opts.Workload.schedWorld(&wc)
				tr.MaxTimeStep, tr.MaxClockSkew, tr.Faults, tr.MaxStall = wc.MaxTimeStep, wc.MaxClockSkew, wc.Faults, wc.MaxStall
				out[i].it, out[i].same = sh.runConfig(c.opts, sched.Config{Strategy: "lenient", Replay: &tr, LenientSeed: c.seed})
			}()
		}
		wg.Wait()
		for i, o := range out {
			sh.runs++
			if o.same {
				r := shrinkRun{opts: batch[i].opts, it: o.it, size: sched.SizeOf(o.it.Sched)}
				if smaller(r, sh.best) {
					sh.accept(r)
					return true
				}
			}
		}
		sh.report()
	}
	return false
}

// schedulePasses runs the scheduler's shrinker over the smallest run's
// decisions, its workload fixed.
func (sh *shrinker) schedulePasses() bool {
	opts := sh.best.opts
	var mu sync.Mutex
	its := map[*sched.Result]*Iteration{}
	test := func(scfg sched.Config) (*sched.Result, bool) {
		it, same := sh.runConfig(opts, scfg)
		if it == nil {
			return nil, false
		}
		mu.Lock()
		its[it.Sched] = it
		mu.Unlock()
		return it.Sched, same
	}
	base := sh.runs
	// Bound: a bound lowered by an earlier round is checked against the
	// one the failure was found at.
	so := sched.ShrinkOptions{MaxRuns: sh.left(), Parallel: sh.cfg.Parallel, Bound: sh.orig.Sched.Trace.MaxSteps}
	if sh.cfg.MaxTime > 0 {
		so.MaxTime = max(sh.cfg.MaxTime-time.Since(sh.start), time.Nanosecond)
	}
	if sh.cfg.Progress != nil {
		so.Progress = func(p sched.ShrinkProgress) {
			sh.cfg.Progress(ShrinkProgress{Iteration: sh.orig.Index, Original: ShapeOf(sh.orig), Runs: base + p.Runs, Accepted: sh.accepted + p.Accepted, Phase: "schedule/" + p.Pass,
				Smallest: Shape{Steps: p.Smallest.Steps, Calls: sh.best.it.Calls, Machines: p.Smallest.Machines,
					Faults: p.Smallest.Faults, Preemptions: p.Smallest.Preemptions},
				Elapsed: time.Since(sh.start)})
		}
	}
	// Back to the workload's moves after a few accepted candidates: a
	// simpler schedule often lets a call or a machine go.
	ctx, cancel := context.WithCancel(sh.ctx)
	defer cancel()
	prog := so.Progress
	so.Progress = func(p sched.ShrinkProgress) {
		if prog != nil {
			prog(p)
		}
		if p.Accepted >= scheduleChunk {
			cancel()
		}
	}
	tr := *sh.best.it.Sched.Trace
	sr, err := sched.Shrink(ctx, &tr, test, so)
	if err != nil {
		// The smallest run, replayed leniently, must fail as before; if
		// it does not, the scheduler's passes cannot start from it.
		sh.runs++
		return false
	}
	sh.runs += sr.Runs
	if sr.Stopped != "" && !(sr.Stopped == "cancelled" && sh.ctx.Err() == nil) {
		sh.stopped = sr.Stopped
	}
	if sr.Accepted == 0 {
		return false
	}
	it := its[sr.Result]
	sh.setBest(shrinkRun{opts: opts, it: it, size: sched.SizeOf(it.Sched)})
	sh.accepted += sr.Accepted
	return true
}

// scheduleChunk is how many candidates of the scheduler's passes are
// accepted before the workload's moves are tried again.
const scheduleChunk = 8

// reexplore looks for a failure of the same signature in smaller
// workloads afresh, with schedules drawn as an exploration draws them
// rather than replayed from the smallest run: once, after the first
// round of moves. A move that changes the world (an application or a
// migrator fewer) replays the recorded decisions leniently, and in a
// world whose machines wait on virtual time (leases, polls, renewals)
// those decisions rarely lead to the failure again, while fresh
// schedules of the smaller workload find it about as often as the
// exploration did (bug 18 from seed 1, 1,000 runs of each: 0.6% as
// found, 0.4% without applications, 0.8% with one application of one
// call). Each workload of exploreWorkloads, smallest first, gets up to
// exploreRuns runs, numbered as an exploration's iterations; the first
// that fails the same way (in iteration order, at any Parallel) is run
// again leniently, which names its choices' streams for the moves, and
// becomes the smallest run.
func (sh *shrinker) reexplore() bool {
	for k, o := range exploreWorkloads(sh.best.opts) {
		if sh.exploreFresh(o, sched.IterationSeed(sh.orig.Seed, k), exploreRuns, 0) {
			return true
		}
		if !sh.budget() {
			return false
		}
	}
	return false
}

// exploreAgain explores the smallest run's own workload afresh, for a
// run that fails the same way in fewer steps, each run drawn as an
// exploration draws it and bounded by the smallest run's steps, so that
// a run is cut (and cheap) where it would no longer be shorter. The
// scheduler's passes shorten a run a few decisions at a time, and in the
// production world, whose machines wait on virtual time, most of their
// candidates no longer fail; a fresh schedule of the same workload is
// often far shorter (bug 18 from seed 9, its shrunk workload's failing
// runs in 1,500 fresh ones: 445 to 720 steps, where the shrink had
// reached 766). It gets as many runs as the exploration took to find
// the failure, at least exploreRuns, at most a quarter of the budget
// and half of what is left (the run it finds needs the rest for its
// moves). Every other run is one of the workload's neighbours in turn
// (see neighbours): a move whose replay no longer fails, in a world of
// virtual time, may well fail under a fresh schedule (bug 16 from base
// seed 2, without its initial row and latency: about one run in 200).
// It runs for an assertion's failure only (the step it failed at is
// where its run stops: another kind's run may need its whole length, or
// fail at the bound itself), and for a workload it found nothing for,
// only its neighbours, with new seeds: a lower bound would find less.
func (sh *shrinker) exploreAgain() bool {
	if sh.sig.Kind != KindAssertion {
		return false
	}
	key := fmt.Sprint(Params(sh.best.opts))
	near := sh.neighbours()
	again := sh.exploredAgain[key]
	if again && len(near) == 0 {
		return false
	}
	runs := min(max(exploreRuns, sh.orig.Index+1), sh.cfg.MaxRuns/4, sh.left()/2)
	// Its seeds are apart from those of reexplore's workloads, and new
	// at each call.
	seed := sched.IterationSeed(sh.orig.Seed, exploreAgainSeeds+sh.againCalls)
	sh.againCalls++
	steps := sh.best.it.Sched.Steps
	own := sh.best.opts
	pick := func(i int) Options {
		if again {
			return near[i%len(near)]
		}
		if i%2 == 0 || len(near) == 0 {
			return own
		}
		return near[(i/2)%len(near)]
	}
	found := sh.exploreFreshOf(pick, seed, runs, int(steps))
	if !found {
		if sh.exploredAgain == nil {
			sh.exploredAgain = map[string]bool{}
		}
		sh.exploredAgain[key] = true
	}
	return found
}

// neighbours returns the smaller workloads the moves propose for the
// smallest run, each once, smallest first.
func (sh *shrinker) neighbours() []Options {
	seen := map[string]bool{fmt.Sprint(Params(sh.best.opts)): true}
	var out []Options
	for _, m := range moves {
		for _, c := range m.propose(sh.best) {
			key := fmt.Sprint(Params(c.opts))
			if seen[key] || c.opts.Workload.size() >= sh.best.opts.Workload.size() || c.opts.Check() != nil {
				continue
			}
			seen[key] = true
			out = append(out, c.opts)
		}
	}
	slices.SortStableFunc(out, func(a, b Options) int { return a.Workload.size() - b.Workload.size() })
	return out
}

// exploreAgainSeeds is the first iteration index of exploreAgain's seeds
// (reexplore's are its workloads' indices).
const exploreAgainSeeds = 1 << 16

// exploreFresh runs up to runs fresh schedules of o, drawn as an
// exploration with base seed seed draws them (portfolio), with step
// bound bound (0: the original run's), numbered as the exploration's
// iterations. The first that fails the same way (in iteration order, at
// any Parallel) and is smaller than the smallest run is run again
// leniently at the original run's bound, which names its choices'
// streams for the moves, and becomes the smallest run.
func (sh *shrinker) exploreFresh(o Options, seed uint64, runs, bound int) bool {
	return sh.exploreFreshOf(func(int) Options { return o }, seed, runs, bound)
}

// exploreFreshOf is exploreFresh with run i's workload pick(i).
func (sh *shrinker) exploreFreshOf(pick func(i int) Options, seed uint64, runs, bound int) bool {
	maxSteps := sh.orig.Sched.Trace.MaxSteps
	if bound > 0 {
		maxSteps = bound
	}
	for i := 0; i < runs; {
		// A run it finds is run once more (leniently): one run of the
		// budget is kept for that.
		if !sh.budget() || sh.left() < 2 {
			return false
		}
		n := min(sh.cfg.Parallel, sh.left()-1, runs-i)
		found := make([]*Iteration, n)
		var wg sync.WaitGroup
		for j := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o := pick(i + j)
				ec := ExploreConfig{Options: o, Strategy: "portfolio", Seed: seed, MaxSteps: maxSteps}
				if it, same := sh.runConfig(o, ec.SchedConfig(i+j)); same {
					found[j] = it
				}
			}()
		}
		wg.Wait()
		// Counted as if they ran one at a time: up to the first found;
		// after it, if it did not replay (never seen) or is not
		// smaller, the next batch starts with the run after it.
		start := i
		i += n
		for j, it := range found {
			sh.runs++
			if it == nil {
				continue
			}
			tr := *it.Sched.Trace
			tr.MaxSteps = sh.orig.Sched.Trace.MaxSteps
			o := pick(start + j)
			again, same := sh.runConfig(o, sched.Config{Strategy: "lenient", Replay: &tr})
			sh.runs++
			r := shrinkRun{opts: o, it: again}
			if same {
				r.size = sched.SizeOf(again.Sched)
			}
			if !same || !isPrefix(again.Sched.Trace.Decisions, tr.Decisions) || !smaller(r, sh.best) {
				i = start + j + 1
				break
			}
			sh.accept(r)
			return true
		}
		sh.report()
	}
	return false
}

// exploreRuns is how many fresh runs reexplore gives each workload.
const exploreRuns = 200

// exploreWorkloads returns the workloads reexplore tries for a run of
// opts, smallest first: at most two applications of one call each (none,
// one, two; with none, also without initial rows); in the production
// world, each in the original world too (unless the bug is a lease bug,
// which changes nothing there: mtable.Bug.Lease), and with one migrator
// process as well as with as many as opts has; those smaller than opts's
// workload only.
func exploreWorkloads(opts Options) []Options {
	w := opts.Workload
	if w.Swarm {
		return nil
	}
	worlds := []func(w *Workload){func(*Workload) {}}
	if w.Leases && !opts.Bug.Lease() { // a lease bug changes nothing in the original world
		worlds = append(worlds, (*Workload).toOriginalWorld)
	}
	if w.Leases && w.Migrators > 1 {
		worlds = append(worlds, func(w *Workload) { w.Migrators = 1 })
	}
	// Without applications the rows are only the migrator's to copy:
	// none, in one partition, as well as the run's.
	noRows := func(w *Workload) {
		w.Partitions, w.EmptyPartitions, w.InitialRows, w.RowKeys, w.MaxBatch = 1, 1, nil, 1, 1
		w.WidePartition, w.HotRows = false, false
	}
	var out []Options
	for apps := 0; apps <= min(2, w.Apps); apps++ {
		data := []func(w *Workload){func(*Workload) {}}
		if apps == 0 {
			data = append(data, noRows)
		}
		for _, d := range data {
			for _, world := range worlds {
				o := opts
				o.Workload.Apps, o.Workload.AppCalls = apps, slices.Repeat([]int{1}, apps)
				world(&o.Workload)
				d(&o.Workload)
				if o.Workload.size() < w.size() && o.Check() == nil {
					out = append(out, o)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Options) int { return a.Workload.size() - b.Workload.size() })
	return out
}

// move is one kind of simplification of a failing run: propose returns
// candidates, smaller variants of it to try in order, each a workload
// and the decisions to replay leniently with it. A new workload
// parameter needs one more move.
type move struct {
	name    string
	propose func(r shrinkRun) []candidate
}

// changesWorld reports whether move m changes the world the schedule was
// recorded in (an application fewer, the original world, a migrator
// fewer), where the recorded decisions, and the scheduler's default
// where they do not apply, may no longer reach the failure: after its
// candidates it proposes each again with seeds 1 to reseeds (see
// shrinker.propose).
func (m move) changesWorld() bool {
	switch m.name {
	case "apps", "leases", "migrators":
		return true
	}
	return false
}

// reseeds is how many seeded copies of each candidate a move that
// changes the world proposes. (Measured on the production world's data-path bugs
// 0, 1, 2, 3, 7, 10 and 11 from base seeds 1 to 3: with 4, 4 of the 21
// shrinks reach a smaller world than without seeds; with 8 one more
// reaches a smaller run, for 40 to 90 more runs a shrink; 16 finds
// nothing more.)
const reseeds = 8

// propose returns the candidates of move m for the smallest run: those
// of m.propose and, for a move that changes the world, each again with
// seeds 1 to reseeds (seed by seed, each seed's in m's order), unless
// the move proposed its seeded candidates for this workload before:
// they failed then, and a schedule shrunk since rarely makes a drawn
// schedule succeed where it did not, so they would be run round after
// round for nothing.
func (sh *shrinker) propose(m move) []candidate {
	cands := m.propose(sh.best)
	if !m.changesWorld() || len(cands) == 0 {
		return cands
	}
	key := fmt.Sprint(Params(sh.best.opts))
	if sh.reseeded[m.name] == key {
		return cands
	}
	if sh.reseeded == nil {
		sh.reseeded = map[string]string{}
	}
	sh.reseeded[m.name] = key
	out := slices.Clip(cands)
	for seed := uint64(1); seed <= reseeds; seed++ {
		for _, c := range cands {
			c.seed = seed
			out = append(out, c)
		}
	}
	return out
}

var moves = []move{
	{"swarm", proposeFixedShape},
	{"apps", proposeFewerApps},
	{"calls", proposeFewerCalls},
	{"migrator-delay", proposeNoMigratorDelay},
	{"slow-app", proposeNoSlowApp},
	{"wide-partition", proposeNoWidePartition},
	{"wide-rows", proposeWideAsRows},
	{"narrow-reads", proposeNoNarrowReads},
	{"plain", proposeNoPlain},
	{"hot-rows", proposeNoHotRows},
	{"latency", proposeNoLatency},
	{"partitions", proposeFewerPartitions},
	{"empty-partitions", proposeMoreEmptyPartitions},
	{"initial-rows", proposeFewerInitialRows},
	{"compact-rows", proposeCompactRows},
	{"row-keys", proposeFewerRowKeys},
	{"batch", proposeSmallerBatch},
	{"max-batch", proposeSmallerMaxBatch},
	{"follow-migration", proposeNoFollowMigration},
	{"backend-faults", proposeFewerBackendFaults},
	{"leases", proposeNoLeases},
	{"migrators", proposeFewerMigrators},
	{"faults", proposeFewerFaults},
	{"clock-skew", proposeNoClockSkew},
}

// The moves use the run's choice log to edit its decisions with its
// workload.

// withWorkload returns r's options with the workload changed by f.
func withWorkload(r shrinkRun, f func(w *Workload)) Options {
	o := r.opts
	w := o.Workload
	w.InitialRows = slices.Clone(w.InitialRows)
	w.AppCalls = slices.Clone(w.AppCalls)
	f(&w)
	if w.Faults == 0 {
		// The fault plan's shape means nothing without a budget (and
		// Validate refuses it): a move that takes the last fault takes it.
		w.FaultBurst, w.StallsOnly, w.FaultTargets = false, false, ""
	}
	o.Workload = w
	return o
}

// inserted is a decision a move inserts, with its choice stream.
type inserted struct {
	d      sched.Decision
	stream string
}

// edit returns a candidate of opts with r's decisions (and their
// streams) without those at the indices drop reports, with those set
// changes, and with decisions inserted before the indices insert names.
func edit(r shrinkRun, opts Options, drop func(i int) bool, set map[int]sched.Decision, insert map[int][]inserted) candidate {
	tr := r.it.Sched.Trace
	c := candidate{opts: opts, decisions: make([]sched.Decision, 0, len(tr.Decisions)), machines: tr.Machines}
	labelled := len(tr.Streams) == len(tr.Decisions)
	for i, d := range tr.Decisions {
		for _, in := range insert[i] {
			c.decisions = append(c.decisions, in.d)
			c.streams = append(c.streams, in.stream)
		}
		if drop != nil && drop(i) {
			continue
		}
		if nd, ok := set[i]; ok {
			d = nd
		}
		c.decisions = append(c.decisions, d)
		st := ""
		if labelled {
			st = tr.Streams[i]
		}
		c.streams = append(c.streams, st)
	}
	return c
}

// same is a candidate of opts with r's decisions as they are.
func same(r shrinkRun, opts Options) candidate {
	return edit(r, opts, nil, nil, nil)
}

// choiceSet returns the indices of the decisions of the run's choices
// that match f.
func choiceSet(r shrinkRun, f func(c choiceRec) bool) map[int]bool {
	set := map[int]bool{}
	for _, c := range r.it.world.choices {
		if f(c) {
			set[c.at] = true
		}
	}
	return set
}

func dropChoices(r shrinkRun, opts Options, f func(c choiceRec) bool) candidate {
	set := choiceSet(r, f)
	return edit(r, opts, func(i int) bool { return set[i] }, nil, nil)
}

// proposeFixedShape: a swarm iteration becomes its drawn shape, without
// the draw's choices.
func proposeFixedShape(r shrinkRun) []candidate {
	if !r.opts.Workload.Swarm {
		return nil
	}
	o := r.opts
	o.Workload = r.it.Workload
	o.Workload.Swarm = false
	return []candidate{dropChoices(r, o, func(c choiceRec) bool { return c.kind == chDraw })}
}

// proposeFewerApps: without application j (each in turn, the last
// first): the decisions of its machines go (its machine, or every
// machine of its process), and the applications after it move down,
// their machines renamed to match.
func proposeFewerApps(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm {
		return nil
	}
	var out []candidate
	for j := w.Apps - 1; j >= 0; j-- {
		o := withWorkload(r, func(w *Workload) {
			w.AppCalls = slices.Delete(w.appCalls(), j, j+1)
			w.Apps--
		})
		c := same(r, o)
		if j < len(r.it.world.appMachine) {
			tr := r.it.Sched.Trace
			gone := appName(j)
			byHand := false // the faults and clock offset of its process
			if w.Leases {
				tr, byHand = traceWithoutProcess(tr, gone)
			}
			for m := len(tr.Machines) - 1; m >= 0; m-- {
				if tr.Machines[m].Name == gone { // the original world's application machine
					tr = tr.WithoutMachine(m)
				}
			}
			if tr.Machines == nil { // not named: the application's machine
				tr = tr.WithoutMachine(r.it.world.appMachine[j])
			}
			c.decisions, c.streams = tr.Decisions, tr.Streams
			c.machines = renameApps(tr.Machines, j)
			if byHand {
				c = withoutProcess(c, w.Migrators+1+j)
			}
		}
		out = append(out, c)
	}
	return out
}

// appName is the name of application j's machine (and, in the
// production world, process).
func appName(j int) string { return "app" + strconv.Itoa(j) }

// renameApps returns names with the applications after j renamed one
// down (app3 becomes app2), machines and processes.
func renameApps(names []sched.TraceMachine, j int) []sched.TraceMachine {
	out := slices.Clone(names)
	down := func(s string) string {
		if n, err := strconv.Atoi(strings.TrimPrefix(s, "app")); err == nil && strings.HasPrefix(s, "app") && n > j {
			return appName(n - 1)
		}
		return s
	}
	for i, n := range out {
		out[i] = sched.TraceMachine{Process: down(n.Process), Name: down(n.Name)}
	}
	return out
}

// proposeFewerCalls: without call k of application machine j (each, the
// last first): without the machine's decisions while it made the call
// (its choices, and its schedule decisions), else without its choices
// only.
func proposeFewerCalls(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm {
		return nil
	}
	var out []candidate
	own := r.it.Sched.Trace.Owners()
	for j := w.Apps - 1; j >= 0; j-- {
		for k := w.callsOf(j) - 1; k >= 0; k-- {
			o := withWorkload(r, func(w *Workload) {
				w.AppCalls = w.appCalls()
				w.AppCalls[j]--
			})
			if steps := r.it.world.callSteps[j]; k+1 < len(steps) && j < len(r.it.world.appMachine) {
				from, to, m := steps[k], steps[k+1], r.it.world.appMachine[j]
				// (The machine's last schedule decision in the call stays:
				// the choices after it, of the next call, are the
				// machine's because they follow it.)
				keep := -1
				for i := from; i < to; i++ {
					if own[i] == m && r.it.Sched.Trace.Decisions[i].Kind == sched.Schedule {
						keep = i
					}
				}
				out = append(out, edit(r, o, func(i int) bool { return i >= from && i < to && own[i] == m && i != keep }, nil, nil))
			}
			out = append(out, dropChoices(r, o, func(c choiceRec) bool { return c.app == j && c.call == k }))
		}
	}
	return out
}

// proposeNoMigratorDelay: the migrator starts at once. Each
// application's first call then waits for a state first: it gets the
// choice of the first state (no wait).
func proposeNoMigratorDelay(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.MigratorDelay {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.MigratorDelay = false })
	insert := map[int][]inserted{}
	if w.FollowMigration {
		first := map[int]int{} // app -> index of its first choice in call 0
		for _, c := range r.it.world.choices {
			if c.app >= 0 && c.call == 0 {
				if _, ok := first[c.app]; !ok {
					first[c.app] = c.at
				}
			}
		}
		for _, at := range first {
			insert[at] = []inserted{{sched.Decision{Kind: sched.Choice, Value: 0, Bound: int32(mtable.UseNewHideMetadata) + 1}, streamNames[chState]}}
		}
	}
	set := choiceSet(r, func(c choiceRec) bool { return c.kind == chDelay })
	return []candidate{edit(r, o, func(i int) bool { return set[i] }, nil, insert)}
}

// proposeNoSlowApp: application machine 0 is not slow.
func proposeNoSlowApp(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.SlowApp {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.SlowApp = false })
	if w.Latency > 0 {
		return []candidate{same(r, o)} // its choices stay, within range or 0
	}
	return []candidate{dropChoices(r, o, func(c choiceRec) bool { return c.kind == chLatency && c.app == 0 })}
}

// proposeNoWidePartition: no partition wider than the backends' page:
// without the decisions the machines spent on filler rows, so that the
// others stay where they were; else with the decisions as they are
// (lenient replay absorbs those that no longer fit).
func proposeNoWidePartition(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.WidePartition {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.WidePartition = false })
	return withoutWork(r, o, func(k spec.Key) bool { return fillerOf(r, k) >= 0 })
}

// proposeWideAsRows: a wide partition that holds nothing but its
// fillers (every partition starts empty) becomes a partition of
// ordinary initial rows, one per row key: rows that the moves on rows
// can take away one by one, where the fillers only go with a row key
// each. Without the decisions of the work on the fillers beyond the
// rows' number, then with the decisions as they are.
func proposeWideAsRows(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.WidePartition || w.EmptyPartitions != w.Partitions || len(w.InitialRows) > 0 {
		return nil
	}
	o := withWorkload(r, func(w *Workload) {
		w.WidePartition = false
		w.EmptyPartitions--
		w.InitialRows = make([]int, w.RowKeys)
		for i := range w.InitialRows {
			w.InitialRows[i] = i
		}
	})
	gone := func(k spec.Key) bool { return fillerOf(r, k) >= w.RowKeys }
	out := withoutWork(r, o, gone)
	// An application's stream that read the fillers reads fewer rows:
	// without its decisions for the first ones it read (each row's read
	// and what the stream did until the next), so that it stops where
	// it stopped, as many rows before the end; and without the
	// migrator's work on the fillers that go.
	if drop := streamPrefixes(r, WideFillers(w.RowKeys)-w.RowKeys, func(k spec.Key) bool { return fillerOf(r, k) >= 0 }); len(drop) > 0 {
		migr := workDecisions(r, func(k spec.Key) bool { return gone(k) }, true)
		out = append([]candidate{edit(r, o, func(i int) bool { return drop[i] || migr[i] }, nil, nil)}, out...)
	}
	return out
}

// streamPrefixes returns the indices of the decisions of each
// application machine from its first stream read of a row rows reports
// to its n+1-th (or to the end of its last): its decisions for the first
// n rows its streams read.
func streamPrefixes(r shrinkRun, n int, rows func(k spec.Key) bool) map[int]bool {
	own := r.it.Sched.Trace.Owners()
	reads := map[int][]workSpan{} // by machine
	for _, s := range r.it.world.spans {
		if s.app >= 0 && s.kind == spanStream && len(s.keys) == 1 && rows(s.keys[0]) {
			reads[s.machine] = append(reads[s.machine], s)
		}
	}
	drop := map[int]bool{}
	for m, ss := range reads {
		from, to := ss[0].from, ss[len(ss)-1].to
		if n < len(ss) {
			to = ss[n].from
		}
		for i := from; i < to && i < len(own); i++ {
			if own[i] == m {
				drop[i] = true
			}
		}
	}
	return drop
}

// withoutWork returns the candidates of opts without the decisions of
// r's backend calls on rows the move takes away (gone reports them),
// if there are any, then with r's decisions as they are.
func withoutWork(r shrinkRun, opts Options, gone func(k spec.Key) bool) []candidate {
	return editWithoutWork(r, opts, nil, nil, gone)
}

// editWithoutWork is withoutWork with r's decisions edited as edit
// does (drop, set) in both candidates.
func editWithoutWork(r shrinkRun, opts Options, drop func(i int) bool, set map[int]sched.Decision, gone func(k spec.Key) bool) []candidate {
	plain := edit(r, opts, drop, set, nil)
	work := workDecisions(r, gone)
	if len(work) == 0 {
		return []candidate{plain}
	}
	return []candidate{edit(r, opts, func(i int) bool { return work[i] || (drop != nil && drop(i)) }, set, nil), plain}
}

// workDecisions returns the indices of the decisions of r's backend
// calls whose rows are all gone (and not written by an application
// before the call): the migrator's reads and writes of those rows and
// the streams' reads of them. (An application's own reads and writes
// stay: its call still makes them.)
func workDecisions(r shrinkRun, gone func(k spec.Key) bool, migratorOnly ...bool) map[int]bool {
	own := r.it.Sched.Trace.Owners()
	drop := map[int]bool{}
	written := map[spec.Key]bool{}
	for _, s := range r.it.world.spans {
		if s.app >= 0 && (s.kind != spanStream || len(migratorOnly) > 0 && migratorOnly[0]) {
			if s.kind == spanBatch {
				for _, k := range s.keys {
					written[k] = true
				}
			}
			continue
		}
		if !allGone(s.keys, gone, written) {
			continue
		}
		for i := s.from; i < s.to && i < len(own); i++ {
			if own[i] == s.machine {
				drop[i] = true
			}
		}
	}
	return drop
}

func allGone(keys []spec.Key, gone func(k spec.Key) bool, written map[spec.Key]bool) bool {
	for _, k := range keys {
		if !gone(k) || written[k] {
			return false
		}
	}
	return true
}

// fillerOf returns the number of r's filler row k, or -1 if k is not one.
func fillerOf(r shrinkRun, k spec.Key) int {
	if n, ok := r.it.world.fillerNumber(k); ok {
		return n
	}
	return -1
}

// partitionNumber is the number of a workload partition, -1 for another.
func partitionNumber(pk string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(pk, "p"))
	if err != nil || !strings.HasPrefix(pk, "p") {
		return -1
	}
	return n
}

// rowNumber is the number of a workload row's key, -1 for another row.
func rowNumber(k spec.Key) int {
	n, err := strconv.Atoi(k.RowKey)
	if err != nil {
		return -1
	}
	return n
}

// proposeNoNarrowReads: the library reads as many rows at a time as it
// likes.
func proposeNoNarrowReads(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.NarrowReads {
		return nil
	}
	return []candidate{same(r, withWorkload(r, func(w *Workload) { w.NarrowReads = false }))}
}

// proposeNoLatency: backend calls take no extra steps (but the slow
// application's).
func proposeNoLatency(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || w.Latency == 0 {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.Latency = 0 })
	return []candidate{dropChoices(r, o, func(c choiceRec) bool {
		return c.kind == chLatency && !(w.SlowApp && c.app == 0)
	})}
}

// proposeFewerBackendFaults: no backend faults, without the choices of
// the fault stream; else a budget one lower, the decisions as they are
// (the lenient replay draws one fault point fewer).
func proposeFewerBackendFaults(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || w.BackendFaults == 0 {
		return nil
	}
	none := withWorkload(r, func(w *Workload) { w.BackendFaults = 0 })
	out := []candidate{dropChoices(r, none, func(c choiceRec) bool { return c.kind == chFault })}
	if w.BackendFaults > 1 {
		out = append(out, same(r, withWorkload(r, func(w *Workload) { w.BackendFaults-- })))
	}
	return out
}

// proposeFewerPartitions: without partition k (each, the last first);
// the calls on a later partition move down to the one before.
func proposeFewerPartitions(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || w.Partitions < 2 {
		return nil
	}
	var out []candidate
	for k := w.Partitions - 1; k >= 0; k-- {
		o := withWorkload(r, func(w *Workload) {
			w.Partitions--
			if k < w.EmptyPartitions || w.EmptyPartitions > w.Partitions {
				w.EmptyPartitions--
			}
		})
		set := map[int]sched.Decision{}
		drop := map[int]bool{}
		ds := r.it.Sched.Trace.Decisions
		for _, c := range r.it.world.choices {
			if c.kind != chPartition {
				continue
			}
			if w.Partitions == 2 {
				drop[c.at] = true // Choose(1) takes no decision
				continue
			}
			d := ds[c.at]
			if int(d.Value) > k || int(d.Value) == w.Partitions-1 {
				d.Value--
			}
			d.Bound--
			set[c.at] = d
		}
		// Without the migrator's work on the partition's rows, else
		// with its decisions.
		out = append(out, editWithoutWork(r, o, func(i int) bool { return drop[i] }, set, func(key spec.Key) bool {
			return key.PartitionKey == partitionName(k) && fillerOf(r, key) < 0
		})...)
	}
	return out
}

// proposeMoreEmptyPartitions: one more partition starts empty.
func proposeMoreEmptyPartitions(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || w.EmptyPartitions >= w.Partitions || len(w.InitialRows) == 0 {
		return nil
	}
	empty := partitionName(w.EmptyPartitions)
	return withoutWork(r, withWorkload(r, func(w *Workload) { w.EmptyPartitions++ }), func(k spec.Key) bool {
		return k.PartitionKey == empty && (k.RowKey == "" || mtable.IsInternalKey(k) || slices.Contains(w.InitialRows, rowNumber(k)))
	})
}

// proposeFewerInitialRows: without initial row r (each, the last first).
func proposeFewerInitialRows(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm {
		return nil
	}
	var out []candidate
	for i := len(w.InitialRows) - 1; i >= 0; i-- {
		o := withWorkload(r, func(w *Workload) { w.InitialRows = slices.Delete(w.InitialRows, i, i+1) })
		x := w.InitialRows[i]
		out = append(out, withoutWork(r, o, func(k spec.Key) bool {
			return rowNumber(k) == x && partitionNumber(k.PartitionKey) >= w.EmptyPartitions
		})...)
	}
	return out
}

// proposeCompactRows: the rows the run uses (initial rows, rows of
// operations and retrieves) renumbered 0, 1, ... in their order, so
// that row keys can go.
func proposeCompactRows(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm {
		return nil
	}
	used := slices.Clone(w.InitialRows)
	rowOf := map[int]int{} // choice index -> the row it took
	for _, c := range r.it.world.calls {
		switch c.Call.Kind {
		case CallBatch:
			for _, op := range c.Call.Ops {
				n, _ := strconv.Atoi(op.Entity.RowKey)
				used = append(used, n)
			}
		case CallRetrieve:
			n, _ := strconv.Atoi(c.Call.Key.RowKey)
			used = append(used, n)
		}
	}
	for _, ch := range r.it.world.choices {
		if ch.kind != chRow && ch.kind != chKey {
			continue
		}
		for _, c := range r.it.world.calls {
			if c.MID != ch.app || c.Seq != ch.call {
				continue
			}
			var key string
			if ch.kind == chKey {
				key = c.Call.Key.RowKey
			} else if ch.op < len(c.Call.Ops) {
				key = c.Call.Ops[ch.op].Entity.RowKey
			}
			rowOf[ch.at], _ = strconv.Atoi(key)
		}
	}
	slices.Sort(used)
	used = slices.Compact(used)
	rank := map[int]int{}
	identity := true
	for i, u := range used {
		rank[u] = i
		identity = identity && i == u
	}
	if identity {
		return nil
	}
	o := withWorkload(r, func(w *Workload) {
		for i, x := range w.InitialRows {
			w.InitialRows[i] = rank[x]
		}
	})
	set := map[int]sched.Decision{}
	for at, row := range rowOf {
		d := r.it.Sched.Trace.Decisions[at]
		d.Value = int32(rank[row])
		set[at] = d
	}
	return []candidate{edit(r, o, nil, set, nil)}
}

// proposeFewerRowKeys: one row key fewer (and no initial row beyond;
// a wide partition has one filler row fewer, and its decisions go).
func proposeFewerRowKeys(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || w.RowKeys <= max(w.MaxBatch, 1) {
		return nil
	}
	o := withWorkload(r, func(w *Workload) {
		w.RowKeys--
		w.InitialRows = slices.DeleteFunc(w.InitialRows, func(x int) bool { return x >= w.RowKeys })
	})
	if w.RowKeys == 2 {
		return []candidate{dropChoices(r, o, func(c choiceRec) bool { return c.kind == chRow || c.kind == chKey })}
	}
	if w.WidePartition {
		fillers := WideFillers(w.RowKeys - 1)
		gone := func(k spec.Key) bool { return fillerOf(r, k) >= fillers }
		out := withoutWork(r, o, gone)
		if drop := streamPrefixes(r, 1, func(k spec.Key) bool { return fillerOf(r, k) >= 0 }); len(drop) > 0 {
			migr := workDecisions(r, gone, true)
			out = append(out, edit(r, o, func(i int) bool { return drop[i] || migr[i] }, nil, nil))
		}
		return out
	}
	return []candidate{same(r, o)}
}

// batchCall is a batch call of a run: its application, call, size and
// the index of its size choice.
type batchCall struct{ app, call, size, at int }

// batchCalls returns, for each batch call of the run with more than one
// operation, its application, call, size and the index of its size
// choice.
func batchCalls(r shrinkRun) []batchCall {
	var out []batchCall
	for _, c := range r.it.world.choices {
		if c.kind == chBatchSize {
			if size := int(r.it.Sched.Trace.Decisions[c.at].Value) + 1; size > 1 {
				out = append(out, batchCall{c.app, c.call, size, c.at})
			}
		}
	}
	return out
}

// opRows returns the row each operation of application app's call took
// (after the collision rule: a row already used moves to the next).
func opRows(r shrinkRun, app, call int) []int {
	for _, c := range r.it.world.calls {
		if c.MID == app && c.Seq == call {
			rows := make([]int, len(c.Call.Ops))
			for i, op := range c.Call.Ops {
				rows[i], _ = strconv.Atoi(op.Entity.RowKey)
			}
			return rows
		}
	}
	return nil
}

// cutOps records in drop and set the edits that cut batch b of r to its
// operations but op (op >= 0) or to its first keep operations (op < 0);
// each operation kept chooses the row it took (a row already used moves
// to the next, so a row's choice depends on the operations before it),
// or with takeRow, the first one kept takes the row of op.
func cutOps(r shrinkRun, b batchCall, keep, op int, takeRow bool, drop map[int]bool, set map[int]sched.Decision) {
	rows := slices.Clone(opRows(r, b.app, b.call))
	if takeRow && op >= 0 && op < len(rows) {
		for o := range rows {
			if o != op {
				rows[o] = rows[op]
				break
			}
		}
	}
	kept := 0
	for o := 0; o < b.size; o++ {
		gone := o == op || (op < 0 && o >= keep)
		for _, c := range r.it.world.choices {
			if c.app != b.app || c.call != b.call || c.op != o {
				continue
			}
			switch {
			case gone:
				drop[c.at] = true
			case c.kind == chRow && o < len(rows):
				d := r.it.Sched.Trace.Decisions[c.at]
				d.Value = int32(rows[o])
				set[c.at] = d
			}
		}
		if !gone {
			kept++
		}
	}
	d := r.it.Sched.Trace.Decisions[b.at]
	d.Value = int32(kept - 1)
	set[b.at] = d
}

// proposeSmallerBatch: a batch without operation o (each, the last
// first).
func proposeSmallerBatch(r shrinkRun) []candidate {
	if r.opts.Workload.Swarm {
		return nil
	}
	var out []candidate
	bs := batchCalls(r)
	for i := len(bs) - 1; i >= 0; i-- {
		for o := bs[i].size - 1; o >= 0; o-- {
			// Without operation o; else also on o's row (what o did to
			// its row may be what the failure needs).
			for _, takeRow := range []bool{false, true} {
				drop, set := map[int]bool{}, map[int]sched.Decision{}
				cutOps(r, bs[i], bs[i].size-1, o, takeRow, drop, set)
				out = append(out, edit(r, r.opts, func(i int) bool { return drop[i] }, set, nil))
			}
		}
	}
	return out
}

// proposeSmallerMaxBatch: batches of one operation fewer at most.
func proposeSmallerMaxBatch(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || w.MaxBatch < 2 {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.MaxBatch-- })
	newMax := w.MaxBatch - 1
	if newMax == 1 {
		// Choose(1) takes no decision: every batch size choice goes.
		drop := choiceSet(r, func(c choiceRec) bool { return c.kind == chBatchSize || c.op >= 1 })
		return []candidate{edit(r, o, func(i int) bool { return drop[i] }, nil, nil)}
	}
	drop, set := map[int]bool{}, map[int]sched.Decision{}
	for _, b := range batchCalls(r) {
		if b.size > newMax {
			cutOps(r, b, newMax, -1, false, drop, set)
		}
	}
	return []candidate{edit(r, o, func(i int) bool { return drop[i] }, set, nil)}
}

// proposeNoFollowMigration: applications do not wait for states.
func proposeNoFollowMigration(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.FollowMigration {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.FollowMigration = false })
	return []candidate{dropChoices(r, o, func(c choiceRec) bool { return c.kind == chState })}
}

// The production world's moves. Its processes are numbered in the order
// the world starts them: the migrators (1 to Migrators), then the
// applications.

// traceWithoutProcess returns tr without the process named gone: all of
// it (sched.Trace.WithoutProcess) when tr names its processes, else
// only its machines, with byHand true: the caller then drops the
// process's faults and clock offset with withoutProcess.
func traceWithoutProcess(tr *sched.Trace, gone string) (out *sched.Trace, byHand bool) {
	if without, err := tr.WithoutProcess(gone); err == nil {
		return without, false
	}
	for m := len(tr.Machines) - 1; m >= 0; m-- {
		if tr.Machines[m].Process == gone {
			tr = tr.WithoutMachine(m)
		}
	}
	return tr, true
}

// withoutProcess returns c without the decisions about process p (its
// faults and its clock offset), the processes after it renumbered down
// by one, for a workload without p: for a trace that does not name its
// processes (sched.Trace.WithoutProcess edits one that does).
func withoutProcess(c candidate, p int) candidate {
	out := c
	out.decisions, out.streams = nil, nil
	if len(c.streams) != len(c.decisions) {
		// A trace without choice streams (every stream unnamed), or a
		// candidate made from the trace as it is.
		c.streams = make([]string, len(c.decisions))
	}
	for i, d := range c.decisions {
		if d.Kind == sched.FaultInjection || d.Kind == sched.ClockOffset {
			if int(d.Value) == p {
				continue
			}
			if int(d.Value) > p {
				d.Value--
			}
		}
		out.decisions = append(out.decisions, d)
		out.streams = append(out.streams, c.streams[i])
	}
	return out
}

// proposeNoLeases: the original world (machines of one process sharing
// an in-memory configuration), for a failure that does not need the
// production world: without faults and clock offsets, each process's
// first machine taken for the machine of its name. Not for a lease bug
// (mtable.Bug.Lease), which changes nothing in the original world.
func proposeNoLeases(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.Leases || r.opts.Bug.Lease() { // a lease bug changes nothing there
		return nil
	}
	o := withWorkload(r, (*Workload).toOriginalWorld)
	tr := r.it.Sched.Trace
	own := tr.Owners()
	// The machines the original world has too: main, each process's
	// first machine (its body: the migrator, an application) and the
	// pushes of states to subscriptions.
	both := func(m int) bool {
		if m < 0 || m >= len(tr.Machines) {
			return false
		}
		n := tr.Machines[m]
		return m == 0 || n.Process == n.Name || strings.HasPrefix(n.Name, "config-push-")
	}
	world := func(i int) bool {
		k := tr.Decisions[i].Kind
		return k == sched.FaultInjection || k == sched.ClockOffset || k == sched.TimeAdvance
	}
	var out []candidate
	for _, drop := range []func(i int) bool{
		func(i int) bool { return world(i) || !both(own[i]) }, // only the machines of both worlds
		world,
	} {
		c := edit(r, o, drop, nil, nil)
		c.machines = slices.Clone(c.machines)
		for i, n := range c.machines {
			if n.Process == n.Name || strings.HasPrefix(n.Name, "config-push-") {
				c.machines[i].Process = "root"
			}
		}
		out = append(out, c)
	}
	return out
}

// proposeFewerMigrators: without the last migrator process (its
// machines' decisions, its faults and clock offset).
func proposeFewerMigrators(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.Leases || w.Migrators < 2 {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.Migrators-- })
	gone := "migrator" + strconv.Itoa(w.Migrators)
	tr, byHand := traceWithoutProcess(r.it.Sched.Trace, gone)
	c := candidate{opts: o, decisions: tr.Decisions, streams: tr.Streams, machines: tr.Machines}
	if w.Migrators == 2 && c.machines != nil {
		// A lone migrator process is "migrator", not "migrator1": its
		// machines keep their decisions only under the names they get.
		c.machines = slices.Clone(c.machines)
		for i, n := range c.machines {
			if n.Process == "migrator1" {
				c.machines[i].Process = "migrator"
				if rest, ok := strings.CutPrefix(n.Name, "migrator1"); ok {
					c.machines[i].Name = "migrator" + rest
				}
			}
		}
	}
	if byHand {
		c = withoutProcess(c, w.Migrators)
	}
	return []candidate{c}
}

// proposeFewerFaults: a fault budget of the faults the run took, if it
// took fewer; else without one of its crashes (and the restart after it)
// or stalls, each, the last first, with a budget of one fewer.
func proposeFewerFaults(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.Leases || w.Faults == 0 {
		return nil
	}
	ds := r.it.Sched.Trace.Decisions
	var faults []int // indices of the crashes and stalls
	for i, d := range ds {
		if d.Kind == sched.FaultInjection && d.Fault != sched.Restart {
			faults = append(faults, i)
		}
	}
	if len(faults) < w.Faults {
		return []candidate{same(r, withWorkload(r, func(w *Workload) { w.Faults = len(faults) }))}
	}
	o := withWorkload(r, func(w *Workload) { w.Faults-- })
	var out []candidate
	for k := len(faults) - 1; k >= 0; k-- {
		at := faults[k]
		restart := -1
		if ds[at].Fault == sched.Crash {
			for i := at + 1; i < len(ds); i++ {
				if d := ds[i]; d.Kind == sched.FaultInjection && d.Fault == sched.Restart && d.Value == ds[at].Value {
					restart = i
					break
				}
			}
		}
		out = append(out, edit(r, o, func(i int) bool { return i == at || i == restart }, nil, nil))
	}
	return out
}

// proposeNoClockSkew: the processes' clocks agree.
func proposeNoClockSkew(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.Leases || !w.ClockSkew {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.ClockSkew = false })
	return []candidate{edit(r, o, func(i int) bool { return r.it.Sched.Trace.Decisions[i].Kind == sched.ClockOffset }, nil, nil)}
}

// describeShape is the workload's line in a shrunk report.
func describeShape(w Workload) string {
	var b strings.Builder
	for i, kv := range w.Params() {
		if kv[0] == "weights" || kv[0] == "swarm" || (kv[0] == "calls-per-app" && w.AppCalls != nil) {
			continue
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[0] + "=" + kv[1])
	}
	return b.String()
}

// FailureGroup is a class of the failures of an exploration: those with
// the same signature and, when they were shrunk, the same shrunk shape
// (ShrinkResult.ShapeKey; a shrink stopped by its budget counts with
// what it reached).
type FailureGroup struct {
	Signature Signature
	// Shape is the shrunk shape, "" for failures not shrunk.
	Shape string
	Count int
	// First is the group's first failing iteration.
	First *Iteration
}

func (g FailureGroup) key() string { return g.Signature.String() + "\x00" + g.Shape }

func groupOf(it *Iteration) FailureGroup {
	g := FailureGroup{Signature: SignatureOf(it), Count: 1, First: it}
	if it.Shrunk != nil {
		g.Shape = it.Shrunk.ShapeKey()
	}
	return g
}

// sortGroups puts the most frequent groups first, then the earliest.
func sortGroups(gs []FailureGroup) {
	slices.SortStableFunc(gs, func(a, b FailureGroup) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return a.First.Index - b.First.Index
	})
}
