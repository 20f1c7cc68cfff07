package harness

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/sched"
)

// ExploreConfig configures a run of many iterations.
type ExploreConfig struct {
	Options

	// Strategy is "random", "pct", "pos", "dfs" or "portfolio" (which
	// rotates random, pct and pos over the iterations).
	Strategy string
	Depth    int // PCT depth; 0 means the scheduler's default
	// Seed is the base seed; iteration i runs with
	// sched.IterationSeed(Seed, i).
	Seed uint64
	// Iterations is the size of the iteration space 0..Iterations-1.
	Iterations int
	// MaxSteps bounds each iteration's schedule.
	MaxSteps int
	// Parallel is the number of workers (>= 1). Results do not depend on
	// it. dfs always runs on one worker.
	Parallel int
	// Shard and Shards select the iterations i with i % Shards ==
	// Shard-1. Shards 0 means all iterations.
	Shard, Shards int
	// KeepGoing runs every iteration instead of stopping at the first
	// failure.
	KeepGoing bool
	// LinBudget bounds oracle 2's search per iteration; 0 means
	// DefaultLinBudget.
	LinBudget int64
	// Events records every iteration's event log (slower); failing
	// iterations are replayed with events on anyway.
	Events bool
	// Shrink, when set, shrinks each failing iteration (see Shrink)
	// before OnFailure sees it, and sets its Shrunk: with KeepGoing in
	// the worker that ran it, one run at a time, otherwise (only the
	// first failure) with Shrink.Parallel runs at a time. The outcome
	// does not depend on either. Its Progress is called only without
	// KeepGoing.
	Shrink *ShrinkConfig

	// Progress, if set, is called after each iteration completes, in
	// iteration order, with the running totals.
	Progress func(Progress)
	// OnIteration, if set, is called for every iteration run, failing or
	// not, in iteration order (before OnFailure).
	OnIteration func(*Iteration)
	// OnFailure, if set, is called for each failing iteration, in
	// iteration order (with its event log).
	OnFailure func(*Iteration)
}

// DefaultMaxSteps is the per-iteration step bound: a correct run of the
// default workload takes a few hundred steps.
const DefaultMaxSteps = 5_000

// DefaultLeaseMaxSteps is the step bound of the production world
// (Workload.Leases), whose processes renew leases and poll the
// configuration every PollInterval of virtual time.
const DefaultLeaseMaxSteps = 40_000

// ExpectedSteps is about the length of a run of the default workload
// (a few hundred steps; at most about 800 were seen in 3,000 runs).
const ExpectedSteps = 400

// Limits of Validate. PCT places Depth-1 change points among the first
// ExpectedSteps steps, so a larger depth means nothing (and the
// scheduler allocates one per level); a run's trace holds a decision per
// step, so MaxSteps bounds its memory; more workers than cores only add
// memory (each holds an iteration, and finished ones wait in a window of
// 64 per worker).
const (
	MaxDepth      = ExpectedSteps
	MaxStepsLimit = 1_000_000
	MaxParallel   = 256
)

// Progress is the state of an exploration.
type Progress struct {
	Done, Total, Failures int
	Elapsed               time.Duration
}

// Summary is the outcome of an exploration.
type Summary struct {
	// Iterations is the number of iterations run (up to and including
	// the first failure unless KeepGoing).
	Iterations int
	Failures   int
	// First is the first failing iteration, nil if none.
	First *Iteration
	// ByKind counts failing iterations by IterationFailure.Kind; ByCheck
	// counts, over failing iterations, each oracle that failed.
	ByKind, ByCheck map[string]int
	// LinUnknown counts iterations whose linearizability search ran out
	// of budget (neither proved nor refuted; not counted as failures).
	LinUnknown int
	// Groups classes the failures by signature and, when they were
	// shrunk, shrunk shape (see FailureGroup): the most frequent first.
	Groups []FailureGroup
	// Exhausted is set when a dfs exploration ran every schedule.
	Exhausted bool
	// Interrupted is set when ExploreContext's context was cancelled
	// before the exploration ended: the summary covers the iterations
	// run until then, always a prefix of the shard's slice.
	Interrupted bool
	Elapsed     time.Duration
}

// SchedConfig returns the scheduler configuration of iteration i.
func (c ExploreConfig) SchedConfig(i int) sched.Config {
	scfg := sched.Config{
		Strategy:  c.Strategy,
		Seed:      sched.IterationSeed(c.Seed, i),
		Iteration: i,
		Depth:     c.Depth,
		MaxSteps:  c.maxSteps(),
		// PCT spreads its priority change points, and PCT and POS run
		// before turning fair, over about one run's length.
		ExpectedSteps: ExpectedSteps,
		Params:        Params(c.Options),
		NoEvents:      !c.Events,
		Watchdog:      Watchdog,
	}
	c.Workload.schedWorld(&scfg)
	return scfg
}

// StepBound is the step bound of each iteration: MaxSteps, or the
// default of the workload's world.
func (c ExploreConfig) StepBound() int { return c.maxSteps() }

func (c ExploreConfig) maxSteps() int {
	if c.MaxSteps > 0 {
		return c.MaxSteps
	}
	if c.Workload.Leases {
		return DefaultLeaseMaxSteps
	}
	return DefaultMaxSteps
}

// Validate reports the first unusable setting.
func (c ExploreConfig) Validate() error {
	if err := c.Options.Check(); err != nil {
		return err
	}
	switch c.Strategy {
	case "random", "pct", "pos", "dfs", "portfolio":
	default:
		return fmt.Errorf("unknown strategy %q (want random, pct, pos, dfs or portfolio)", c.Strategy)
	}
	switch {
	case c.Iterations < 0:
		return fmt.Errorf("iterations %d must be >= 0", c.Iterations)
	case c.Parallel < 1 || c.Parallel > MaxParallel:
		return fmt.Errorf("parallel %d out of range 1..%d", c.Parallel, MaxParallel)
	case c.Shards < 0 || (c.Shards > 0 && (c.Shard < 1 || c.Shard > c.Shards)):
		return fmt.Errorf("shard %d/%d: want K/N with 1 <= K <= N", c.Shard, c.Shards)
	case c.Depth < 0 || c.Depth > MaxDepth:
		return fmt.Errorf("depth %d out of range 0..%d", c.Depth, MaxDepth)
	case c.MaxSteps < 0 || c.MaxSteps > MaxStepsLimit:
		return fmt.Errorf("max steps %d out of range 0..%d", c.MaxSteps, MaxStepsLimit)
	}
	return nil
}

// shardIndices is the shard's slice of the iteration space: n indices,
// the k-th of which is first + k*stride.
type shardIndices struct{ first, stride, n int }

func (c ExploreConfig) indices() shardIndices {
	if c.Shards == 0 {
		return shardIndices{0, 1, c.Iterations}
	}
	return shardIndices{c.Shard - 1, c.Shards, ShardSize(c.Iterations, c.Shard, c.Shards)}
}

// ShardSize is the number of iterations i in 0..iterations-1 with
// i % shards == shard-1 (shard 1..shards), without overflow for any
// int iterations and shards.
func ShardSize(iterations, shard, shards int) int {
	first := shard - 1
	if iterations <= first {
		return 0
	}
	return (iterations-first-1)/shards + 1
}

func (s shardIndices) at(k int) int { return s.first + k*s.stride }

// Explore runs the iterations and summarises them. Iteration i's
// schedule depends only on the configuration and i, so the summary (but
// for Elapsed) is the same for any Parallel.
func Explore(c ExploreConfig) (Summary, error) {
	return ExploreContext(context.Background(), c)
}

// ExploreContext is Explore, stopped early when ctx is cancelled: no
// iteration starts after that, the ones running finish (an iteration
// cannot be stopped halfway; each takes milliseconds, at most about
// MaxSteps steps), they are recorded in order as usual, and the summary,
// marked Interrupted, covers the iterations run, a prefix of the slice.
// The error is nil for a cancellation.
func ExploreContext(ctx context.Context, c ExploreConfig) (Summary, error) {
	if err := c.Validate(); err != nil {
		return Summary{}, err
	}
	start := time.Now()
	sum := Summary{ByKind: map[string]int{}, ByCheck: map[string]int{}}
	idx := c.indices()
	done := 0
	groups := map[string]*FailureGroup{}
	record := func(it *Iteration) bool {
		done++
		sum.Iterations++
		if it.Lin == linearizability.Unknown {
			sum.LinUnknown++
		}
		if c.OnIteration != nil {
			c.OnIteration(it)
		}
		if it.Failure != nil {
			if c.Shrink != nil && it.Shrunk == nil && it.ShrinkErr == nil && ctx.Err() == nil {
				c.shrink(ctx, it, *c.Shrink)
			}
			g := groupOf(it)
			if p := groups[g.key()]; p != nil {
				p.Count++
			} else {
				groups[g.key()] = &g
				sum.Groups = append(sum.Groups, g)
			}
			sum.Failures++
			sum.ByKind[it.Failure.Kind]++
			for k, n := range it.Checks {
				if n > 0 {
					sum.ByCheck[k]++
				}
			}
			if sum.First == nil {
				sum.First = it
			}
			if c.OnFailure != nil {
				c.OnFailure(it)
			}
		}
		if c.Progress != nil {
			c.Progress(Progress{Done: done, Total: idx.n, Failures: sum.Failures, Elapsed: time.Since(start)})
		}
		return it.Failure == nil || c.KeepGoing
	}
	var err error
	if c.Strategy == "dfs" {
		err = c.exploreDFS(ctx, idx, record, &sum)
	} else {
		err = c.exploreParallel(ctx, idx, record)
	}
	// Cancelled: the iterations run are a prefix of the slice; it was
	// cut short unless every iteration ran or the run stopped on its own.
	stoppedEarly := sum.First != nil && !c.KeepGoing
	if ctx.Err() != nil && sum.Iterations < idx.n && !stoppedEarly && !sum.Exhausted {
		sum.Interrupted = true
	}
	for i := range sum.Groups {
		sum.Groups[i].Count = groups[sum.Groups[i].key()].Count
	}
	sortGroups(sum.Groups)
	sum.Elapsed = time.Since(start)
	return sum, err
}

// shrink shrinks the failing iteration it and records the result in
// it.Shrunk (left nil if the shrink fails: a bug of the harness, which
// the report then shows as not shrunk).
func (c ExploreConfig) shrink(ctx context.Context, it *Iteration, sc ShrinkConfig) {
	if sc.LinBudget == 0 {
		sc.LinBudget = c.LinBudget
	}
	sr, err := Shrink(ctx, c.Options, it, sc)
	if err != nil {
		it.ShrinkErr = err
		return
	}
	it.Shrunk = sr
}

func (c ExploreConfig) exploreDFS(ctx context.Context, idx shardIndices, record func(*Iteration) bool, sum *Summary) error {
	if c.Shards > 1 {
		return fmt.Errorf("dfs cannot be sharded: its schedules are enumerated in sequence")
	}
	scfg := c.SchedConfig(0)
	ex, err := sched.NewExplorer(scfg)
	if err != nil {
		return err
	}
	for range idx.n {
		if ctx.Err() != nil {
			return nil
		}
		it, err := guard(ex.Iteration(), func() (*Iteration, error) {
			it, err := runWith(c.Options, c.LinBudget, ex.Next)
			if err != nil {
				return nil, err
			}
			it.Index = ex.Iteration() - 1
			if it.Failure != nil {
				c.withEvents(it)
			}
			return it, nil
		})
		if errors.Is(err, sched.ErrExhausted) {
			sum.Exhausted = true
			return nil
		}
		if err != nil {
			return err
		}
		if !record(it) {
			return nil
		}
	}
	sum.Exhausted = ex.Exhausted()
	return nil
}

// exploreParallel runs the indices on c.Parallel workers and records the
// results in index order, stopping after the first failure unless
// KeepGoing: workers skip indices past a known failure, but finish the
// ones before it, so the first failure reported is the lowest failing
// index whatever the number of workers. When ctx is cancelled no index
// starts any more; the ones started are finished and recorded.
func (c ExploreConfig) exploreParallel(ctx context.Context, idx shardIndices, record func(*Iteration) bool) error {
	type slot struct {
		it  *Iteration
		err error
	}
	var (
		mu       sync.Mutex
		cond     = sync.NewCond(&mu)
		results  = map[int]*slot{} // finished, not yet recorded
		recorded int               // slots before this one are recorded
		window   = 64 * c.Parallel
		next     int
		stopAt   = idx.n // no index at or past stopAt needs running
		firstErr error
	)
	stopCancel := context.AfterFunc(ctx, func() {
		mu.Lock()
		stopAt = min(stopAt, next)
		cond.Broadcast()
		mu.Unlock()
	})
	defer stopCancel()
	worker := func() {
		for {
			mu.Lock()
			// Stay within a window of the collector, so memory is bounded
			// however slow one iteration is.
			for next < stopAt && next >= recorded+window {
				cond.Wait()
			}
			if next >= stopAt || ctx.Err() != nil {
				mu.Unlock()
				return
			}
			k := next
			next++
			mu.Unlock()

			i := idx.at(k)
			it, err := guard(i, func() (*Iteration, error) {
				it, err := RunOnce(c.Options, c.SchedConfig(i), c.LinBudget)
				if it != nil {
					it.Index = i
					if it.Failure != nil {
						c.withEvents(it)
						if c.Shrink != nil && c.KeepGoing {
							sc := *c.Shrink
							sc.Parallel, sc.Progress = 1, nil
							c.shrink(ctx, it, sc)
						}
					}
				}
				return it, err
			})
			mu.Lock()
			results[k] = &slot{it, err}
			if (err != nil || (it.Failure != nil && !c.KeepGoing)) && k+1 < stopAt {
				stopAt = k + 1
			}
			cond.Broadcast()
			mu.Unlock()
		}
	}
	workers := c.Parallel
	if workers > idx.n {
		workers = idx.n
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() { defer wg.Done(); worker() }()
	}
	// Record in index order as results arrive.
	for k := 0; k < idx.n; k++ {
		mu.Lock()
		for results[k] == nil && k < stopAt {
			cond.Wait()
		}
		r := results[k]
		delete(results, k)
		recorded = k + 1
		cond.Broadcast()
		mu.Unlock()
		if r == nil {
			break
		}
		if r.err != nil {
			firstErr = r.err
			break
		}
		if !record(r.it) {
			break
		}
	}
	mu.Lock()
	stopAt = 0
	cond.Broadcast()
	mu.Unlock()
	wg.Wait()
	return firstErr
}

// withEvents replays a failing iteration with the event log on when it
// ran without one (runs are deterministic, so the replay is the same
// run) and keeps the replay's result.
func (c ExploreConfig) withEvents(it *Iteration) {
	if len(it.Sched.Events) > 0 {
		return
	}
	again, err := Replay(c.Options, it.Sched.Trace, c.LinBudget)
	if err != nil || again.Failure == nil {
		return // keep the original; Replay's own checks report flakiness
	}
	again.Index = it.Index
	*it = *again
}

// Replay runs the iteration recorded in tr, with the event log on.
func Replay(opts Options, tr *sched.Trace, linBudget int64) (*Iteration, error) {
	scfg := sched.Config{
		Strategy:      "replay",
		Replay:        tr,
		Seed:          tr.Seed,
		Depth:         tr.Depth,
		ExpectedSteps: tr.ExpectedSteps,
		MaxSteps:      tr.MaxSteps,
		LivenessSteps: tr.LivenessSteps,
		Params:        Params(opts),
	}
	return RunOnce(opts, scfg, linBudget)
}

// guard runs iteration i's run, on a worker goroutine where a panic
// would end the process before anyone could report it: as a last line
// of defence, a panic outside the machines (the scheduler reports a
// machine's panic as a Panic failure itself) becomes an error naming
// the iteration and the place. It is a bug of the harness, never a
// finding about the library.
func guard(i int, run func() (*Iteration, error)) (it *Iteration, err error) {
	defer func() {
		if r := recover(); r != nil {
			it, err = nil, fmt.Errorf("internal error in iteration %d (a bug of the harness): panic: %v%s", i, r, panicSite())
		}
	}()
	return run()
}

// panicSite returns " at file:line" of the function that panicked,
// called from a deferred function during the panic.
func panicSite() string {
	pc := make([]uintptr, 32)
	frames := runtime.CallersFrames(pc[:runtime.Callers(3, pc)])
	for {
		f, more := frames.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf(" at %s:%d", f.File, f.Line)
		}
		if !more {
			return ""
		}
	}
}
