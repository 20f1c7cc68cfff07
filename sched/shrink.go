package sched

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// DefaultShrinkRuns is the run budget of Shrink when ShrinkOptions.MaxRuns
// is zero.
const DefaultShrinkRuns = 2000

// ErrNotFailing is returned by Shrink when the run of the trace it was
// given does not pass the test: there is no failure to shrink.
var ErrNotFailing = errors.New("sched: shrink: the trace's run does not fail the test")

// ShrinkTest runs one candidate of Shrink: it runs the program under cfg
// (Run(cfg, main), or the caller's own wrapper of Run; it may set
// cfg.Params and cfg.NoEvents and must leave the rest as given) and
// reports whether the run failed the same way as the run being shrunk.
// What "the same way" means is the caller's to define: the same Failure
// Kind, the same failed assertion, the same oracle of a harness. Shrink
// may call it from several goroutines at once (ShrinkOptions.Parallel).
type ShrinkTest func(cfg Config) (res *Result, same bool)

// ShrinkOptions bound and observe a Shrink.
type ShrinkOptions struct {
	// MaxRuns bounds the runs of the program, the first one (the given
	// trace, replayed) included. Zero means DefaultShrinkRuns.
	MaxRuns int
	// MaxTime bounds the shrink's wall-clock time; zero means no bound.
	// The run budget is deterministic, this one is not: a shrink stopped
	// by MaxTime depends on the machine's speed and load.
	MaxTime time.Duration
	// Parallel is how many candidates run at a time (at most 256); zero
	// means 1. The result does not depend on it (see Shrink).
	Parallel int
	// Bound is the step bound the failure was first found at, when the
	// trace given to Shrink is itself the result of a shrink that lowered
	// its bound (the bound pass): a run that fails at a lowered bound must
	// fail at this one too. Zero means the trace's own bound; a Bound
	// below it is an error.
	Bound int
	// Progress, if set, is called after each batch of candidates with the
	// state of the shrink.
	Progress func(ShrinkProgress)
}

// ShrinkProgress is the state of a Shrink in progress.
type ShrinkProgress struct {
	Runs     int    // runs made so far
	Accepted int    // candidates that became the smallest failing run
	Pass     string // the pass in progress: "bound", "faults", "delete", "preemptions", "choices", "durations"
	Smallest ShrinkSize
	Elapsed  time.Duration
}

// ShrinkSize is the size of a run, as Shrink compares runs.
type ShrinkSize struct {
	Steps       int64 // decisions (Result.Steps)
	Preemptions int   // Result.Preemptions
	Faults      int   // fault decisions: crashes, stalls and restarts
	Advances    int   // time-advance decisions
	ChoiceSum   int64 // the sum of the Choose values
	Duration    time.Duration
	Machines    int // Result.Machines (reported, not compared)
}

// String formats s as "12 steps, 1 preemption, 3 machines, 0 faults".
func (s ShrinkSize) String() string {
	return fmt.Sprintf("%d steps, %s, %d machines, %s", s.Steps, plural(s.Preemptions, "preemption"), s.Machines, plural(s.Faults, "fault"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// SizeOf returns the size of the run res.
func SizeOf(res *Result) ShrinkSize {
	sz := ShrinkSize{Steps: res.Steps, Preemptions: res.Preemptions, Machines: res.Machines}
	for _, d := range res.Trace.Decisions {
		switch d.Kind {
		case Choice:
			sz.ChoiceSum += int64(d.Value)
		case FaultInjection:
			sz.Faults++
			sz.Duration += d.Duration
		case TimeAdvance:
			sz.Advances++
			sz.Duration += d.Duration
		}
	}
	return sz
}

// Less orders sizes as Shrink does: by steps, then preemptions, faults,
// time advances, the sum of the Choose values, and the total time advanced
// and stalled.
func (s ShrinkSize) Less(t ShrinkSize) bool {
	switch {
	case s.Steps != t.Steps:
		return s.Steps < t.Steps
	case s.Preemptions != t.Preemptions:
		return s.Preemptions < t.Preemptions
	case s.Faults != t.Faults:
		return s.Faults < t.Faults
	case s.Advances != t.Advances:
		return s.Advances < t.Advances
	case s.ChoiceSum != t.ChoiceSum:
		return s.ChoiceSum < t.ChoiceSum
	}
	return s.Duration < t.Duration
}

// ShrinkResult is the outcome of a Shrink.
type ShrinkResult struct {
	// Result is the smallest failing run found, run leniently and
	// recorded exactly: Result.Trace replays it with the "replay"
	// strategy. Its events are not recorded (the candidates run with
	// NoEvents unless the test cleared it): replay the trace to see them.
	Result *Result
	// Original and Shrunk are the sizes of the given run and of Result.
	Original, Shrunk ShrinkSize
	// Runs is the number of runs made; Accepted how many candidates
	// became the smallest failing run.
	Runs, Accepted int
	// Stopped is "" when no pass could make the run smaller (a local
	// minimum), otherwise why the shrink stopped early: "runs" (MaxRuns),
	// "time" (MaxTime) or "cancelled" (the context).
	Stopped string
	Elapsed time.Duration
}

// item is one decision of a candidate with the machine that takes it
// (-1 for a time advance or fault) and, for a choice, its stream.
type item struct {
	d      Decision
	owner  int
	stream string
}

// itemsOf returns the decisions of tr as items.
func itemsOf(tr *Trace) []item {
	own := tr.Owners()
	items := make([]item, len(tr.Decisions))
	labelled := len(tr.Streams) == len(tr.Decisions)
	for i, d := range tr.Decisions {
		items[i] = item{d: d, owner: own[i]}
		if labelled {
			items[i].stream = tr.Streams[i]
		}
	}
	return items
}

type shrinkRun struct {
	items []item
	res   *Result
	size  ShrinkSize
}

type shrinker struct {
	ctx    context.Context
	header Trace // the original trace without decisions, at the current step bound
	// bound is the original trace's step bound; header.MaxSteps is lower
	// once the bound pass has lowered it.
	bound    int
	test     ShrinkTest
	opts     ShrinkOptions
	best     shrinkRun
	runs     int
	accepted int
	start    time.Time
	stopped  string
	pass     string
}

// Shrink looks for a smaller run that fails the same way as the run
// recorded in tr, and returns the smallest found.
//
// Every candidate is a variant of the smallest failing run found so far,
// run with the "lenient" strategy, and becomes the smallest when test
// reports the same failure and its size is smaller (ShrinkSize.Less).
// The passes bound, faults, preemptions, choices and durations run until
// none makes progress; then delete, the costly one; and again, until no
// pass makes progress or the budget is spent:
//
//   - bound: for a run that failed at its step bound (StepBound, a
//     livelock), halve the step bound, down to MinShrinkBound steps: a
//     candidate is its decisions at the lower bound. A candidate that
//     fails at a lowered bound is accepted only if its decisions, run
//     again leniently at the original bound (one more run), fail the same
//     way too: without it, a correct run that is merely longer than the
//     lowered bound would be taken for a livelock. This holds for the
//     candidates of every pass once the bound is lowered, and the
//     shrunk trace records the bound it fails at (Trace.MaxSteps);
//   - faults: drop each time advance and fault, last first;
//   - preemptions: at a preemption, machine A switched away from for
//     machine B, let A go on while it can, then the recorded schedule
//     resumes: at all the preemptions at once, then at each half, each
//     quarter, ..., each pair of them, the last first; then at each one,
//     the last first, also without A's next run of decisions, or with A's
//     next run of decisions moved up to the preemption, or B's run moved
//     before A's;
//   - choices: lower each Choose value to 0, else to half, else by one;
//     when a lower value starts fewer machines, also without the
//     decisions of each machine in turn, the machines above it renumbered;
//   - durations: halve each time advance and stall, else round it down
//     (to a second, 100 ms, ..., 1 µs);
//   - delete: drop blocks of decisions, of half the run's length, then a
//     quarter, ..., then one at a time, from the end (delta debugging).
//
// Shrink is deterministic: candidates are tried in a fixed order, and
// with Parallel P it runs the next P at once but takes the first (in
// that order) that is accepted and counts runs as if one ran at a time,
// so the result and Runs do not depend on P (unless MaxTime stops it).
// The shrunk run is a local minimum: no single candidate of the passes
// is smaller and fails the same way. It returns ErrNotFailing if tr's
// own run does not fail the test, and an error for a bad trace.
func Shrink(ctx context.Context, tr *Trace, test ShrinkTest, opts ShrinkOptions) (*ShrinkResult, error) {
	if tr == nil || test == nil {
		return nil, fmt.Errorf("%w: Shrink needs a trace and a test", ErrBadConfig)
	}
	if opts.MaxRuns < 0 || opts.MaxTime < 0 || opts.Parallel < 0 || opts.Parallel > 256 {
		return nil, fmt.Errorf("%w: ShrinkOptions: MaxRuns and MaxTime must not be negative, Parallel must be in 0..256", ErrBadConfig)
	}
	if opts.MaxRuns == 0 {
		opts.MaxRuns = DefaultShrinkRuns
	}
	if opts.Parallel == 0 {
		opts.Parallel = 1
	}
	if ctx == nil {
		ctx = context.Background()
	}
	sh := &shrinker{ctx: ctx, header: *tr, test: test, opts: opts, start: time.Now()}
	sh.header.Decisions, sh.header.Comment, sh.header.Streams = nil, nil, nil
	cfg, err := (Config{Strategy: "lenient", Replay: tr}).withDefaults()
	if err != nil {
		return nil, err
	}
	sh.bound, sh.header.MaxSteps = cfg.MaxSteps, cfg.MaxSteps
	if opts.Bound != 0 {
		if opts.Bound < cfg.MaxSteps {
			return nil, fmt.Errorf("%w: ShrinkOptions.Bound %d is below the trace's step bound %d", ErrBadConfig, opts.Bound, cfg.MaxSteps)
		}
		sh.bound = opts.Bound
	}
	res, same := sh.run(itemsOf(tr), tr.Machines)
	sh.runs = 1
	if res == nil || !same {
		return nil, ErrNotFailing
	}
	sh.best = sh.runOf(res)
	orig := sh.best.size
	// The cheap passes run to a fixpoint; then delete, the costly one
	// (about two runs per decision); after it makes progress, the cheap
	// ones again.
	cheap := []struct {
		name string
		f    func() bool
	}{
		{"bound", sh.passBound},
		{"faults", sh.passFaults},
		{"preemptions", sh.passPreemptionSets},
		{"preemptions", sh.passPreemptions},
		{"choices", sh.passChoices},
		{"durations", sh.passDurations},
	}
	for sh.stopped == "" {
		progress := false
		for _, p := range cheap {
			if sh.stopped != "" {
				break
			}
			sh.pass = p.name
			if p.f() {
				progress = true
			}
		}
		if progress {
			continue
		}
		sh.pass = "delete"
		if !sh.passDelete() {
			break
		}
	}
	return &ShrinkResult{Result: sh.best.res, Original: orig, Shrunk: sh.best.size,
		Runs: sh.runs, Accepted: sh.accepted, Stopped: sh.stopped, Elapsed: time.Since(sh.start)}, nil
}

func (sh *shrinker) runOf(res *Result) shrinkRun {
	return shrinkRun{items: itemsOf(res.Trace), res: res, size: SizeOf(res)}
}

// config is the lenient configuration that runs items, whose machines
// are named by machines (nil: none named).
func (sh *shrinker) config(items []item, machines []TraceMachine) Config {
	tr := sh.header
	ds := make([]Decision, len(items))
	own := make([]int, len(items))
	streams := make([]string, len(items))
	for i, it := range items {
		ds[i], own[i], streams[i] = it.d, it.owner, it.stream
	}
	tr.Decisions, tr.Streams = ds, streams
	tr.Machines = machines
	return Config{Strategy: "lenient", Replay: &tr, plan: planFrom(ds, own, streams, machines), NoEvents: true}
}

func (sh *shrinker) run(items []item, machines []TraceMachine) (*Result, bool) {
	return sh.test(sh.config(items, machines))
}

// budget reports whether another run may start, setting stopped if not.
func (sh *shrinker) budget() bool {
	switch {
	case sh.stopped != "":
	case sh.ctx.Err() != nil:
		sh.stopped = "cancelled"
	case sh.runs >= sh.opts.MaxRuns:
		sh.stopped = "runs"
	case sh.opts.MaxTime > 0 && time.Since(sh.start) >= sh.opts.MaxTime:
		sh.stopped = "time"
	}
	return sh.stopped == ""
}

// proposal is a candidate and its position in the pass.
type proposal struct {
	items []item
	// machines names the machines of items when they are not the
	// smallest run's (nil: they are).
	machines []TraceMachine
	pos      int
	// followUp marks a follow-up (see first), which gets none of its own.
	followUp bool
}

// machinesOf returns the names of the machines of p's items.
func (sh *shrinker) machinesOf(p proposal) []TraceMachine {
	if p.machines != nil {
		return p.machines
	}
	return sh.best.res.Trace.Machines
}

// first runs the proposals of gen in order, Parallel at a time, and
// returns the position of the first one accepted (which becomes the
// smallest failing run), or false when gen is exhausted or the budget
// spent. Runs are counted as if they ran one at a time: the proposals
// after an accepted one in its batch do not count. If then, for a
// rejected proposal, returns follow-ups, they are tried next, before the
// rest of its batch (which is run again after them): the order of the
// proposals, and so the result, never depends on Parallel.
func (sh *shrinker) first(gen func() (proposal, bool), then func(p proposal, res *Result) []proposal) (int, bool) {
	var queue []proposal
	for {
		if !sh.budget() {
			return 0, false
		}
		n := min(sh.opts.Parallel, sh.opts.MaxRuns-sh.runs)
		var batch []proposal
		for len(batch) < n {
			if len(queue) > 0 {
				batch, queue = append(batch, queue[0]), queue[1:]
				continue
			}
			p, ok := gen()
			if !ok {
				break
			}
			batch = append(batch, p)
		}
		if len(batch) == 0 {
			return 0, false
		}
		type outcome struct {
			res  *Result
			same bool
		}
		out := make([]outcome, len(batch))
		if len(batch) == 1 {
			out[0].res, out[0].same = sh.run(batch[0].items, sh.machinesOf(batch[0]))
		} else {
			var wg sync.WaitGroup
			for i := range batch {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out[i].res, out[i].same = sh.run(batch[i].items, sh.machinesOf(batch[i]))
				}()
			}
			wg.Wait()
		}
		for i, o := range out {
			sh.runs++
			if o.res != nil && o.same {
				if r := sh.runOf(o.res); r.size.Less(sh.best.size) && sh.failsAtBound(o.res) {
					sh.best = r
					sh.accepted++
					sh.report()
					return batch[i].pos, true
				}
			}
			if then != nil && o.res != nil && !batch[i].followUp {
				if more := then(batch[i], o.res); len(more) > 0 {
					queue = append(append(more, batch[i+1:]...), queue...)
					break
				}
			}
		}
		sh.report()
	}
}

// MinShrinkBound is the lowest step bound to which Shrink lowers the
// bound of a run that failed at it (see Shrink, the bound pass).
const MinShrinkBound = 200

// passBound halves the step bound of a run that failed at it, down to
// MinShrinkBound, while the run at the lower bound fails the same way
// (and at the original bound too, see failsAtBound).
func (sh *shrinker) passBound() bool {
	improved := false
	for sh.header.MaxSteps > MinShrinkBound {
		if f := sh.best.res.Failure; f == nil || f.Kind != StepBound || sh.best.res.Steps != int64(sh.header.MaxSteps) {
			return improved
		}
		cur := sh.header.MaxSteps
		sh.header.MaxSteps = max(cur/2, MinShrinkBound)
		done := false
		gen := func() (proposal, bool) {
			if done {
				return proposal{}, false
			}
			done = true
			return proposal{items: sh.best.items}, true
		}
		if _, ok := sh.first(gen, nil); !ok {
			sh.header.MaxSteps = cur
			return improved
		}
		improved = true
	}
	return improved
}

// failsAtBound reports whether the run res of a candidate, which failed
// the same way, still does when its step bound is the original: with
// the bound lowered, a run that ends at it is run again, leniently, with
// its decisions at the original bound (one more run, counted; with no
// run left in the budget, the candidate is refused).
func (sh *shrinker) failsAtBound(res *Result) bool {
	if sh.header.MaxSteps >= sh.bound || res.Failure == nil || res.Failure.Kind != StepBound {
		return true
	}
	if !sh.budget() {
		return false // no run left to tell
	}
	cfg := sh.config(itemsOf(res.Trace), res.Trace.Machines)
	cfg.Replay.MaxSteps = sh.bound
	sh.runs++
	full, same := sh.test(cfg)
	return full != nil && same
}

func (sh *shrinker) report() {
	if sh.opts.Progress != nil {
		sh.opts.Progress(ShrinkProgress{Runs: sh.runs, Accepted: sh.accepted, Pass: sh.pass,
			Smallest: sh.best.size, Elapsed: time.Since(sh.start)})
	}
}

// without returns items without items[i:j].
func without(items []item, i, j int) []item {
	out := make([]item, 0, len(items)-(j-i))
	out = append(out, items[:i]...)
	return append(out, items[j:]...)
}

// passFaults drops each time advance and fault, the last first.
func (sh *shrinker) passFaults() bool {
	improved := false
	i := len(sh.best.items) - 1
	for {
		gen := func() (proposal, bool) {
			for ; i >= 0; i-- {
				if k := sh.best.items[i].d.Kind; k == TimeAdvance || k == FaultInjection {
					p := proposal{items: without(sh.best.items, i, i+1), pos: i}
					i--
					return p, true
				}
			}
			return proposal{}, false
		}
		pos, ok := sh.first(gen, nil)
		if !ok {
			return improved
		}
		improved = true
		// The decisions before pos are those of the new smallest run.
		i = min(pos, len(sh.best.items)) - 1
	}
}

// passDelete drops blocks of decisions, halving the block size from half
// the run down to one decision; at each size it tries the blocks from
// the end to the start.
func (sh *shrinker) passDelete() bool {
	improved := false
	for size := max(len(sh.best.items)/2, 1); ; size /= 2 {
		end := len(sh.best.items) // blocks [i, i+size) with i+size <= end
		for {
			tried := false // a block was tried on the current smallest run
			gen := func() (proposal, bool) {
				items := sh.best.items
				for {
					n := len(items)
					end = min(end, n)
					if end <= 0 || size > n {
						return proposal{}, false
					}
					i := max(end-size, 0)
					// Dropping a block equal to the one after it, just
					// tried, gives the same decisions.
					dup := tried && end+(end-i) <= n && slices.Equal(items[i:end], items[end:end+(end-i)])
					j := end
					end = i
					if !dup {
						tried = true
						return proposal{items: without(items, i, j), pos: i}, true
					}
				}
			}
			pos, ok := sh.first(gen, nil)
			if !ok {
				break
			}
			improved = true
			end = pos // the decisions before pos are unchanged
		}
		if size == 1 || sh.stopped != "" {
			return improved
		}
	}
}

// passPreemptionSets lets the preempted machines go on at many
// preemptions at once: all of them, then each half, each quarter, ...,
// each pair, the last first (delta debugging over the preemptions; most
// of a random schedule's are beside the point).
func (sh *shrinker) passPreemptionSets() bool {
	improved := false
	for size := len(sh.best.res.preemptAt); size >= 2; size /= 2 {
		end := len(sh.best.res.preemptAt)
		for {
			gen := func() (proposal, bool) {
				at := sh.best.res.preemptAt
				end = min(end, len(at))
				if end <= 0 || size > len(at) {
					return proposal{}, false
				}
				i := max(end-size, 0)
				set := at[i:end]
				end = i
				return proposal{items: goOnAt(sh.best.items, set), pos: i}, true
			}
			pos, ok := sh.first(gen, nil)
			if !ok {
				break
			}
			improved = true
			// The preemptions before the set are the same in the new
			// run (its decisions up to the first are the same).
			end = pos
		}
		if sh.stopped != "" {
			break
		}
	}
	return improved
}

// goOnAt returns items with the machine preempted at each of the
// (increasing) indices at going on while it can.
func goOnAt(items []item, at []int32) []item {
	out := make([]item, 0, len(items)+len(at))
	next := 0
	for i, it := range items {
		if next < len(at) && int(at[next]) == i {
			if a := prevSchedule(items, i); a >= 0 {
				out = append(out, item{d: goOn, owner: a})
			}
			next++
		}
		out = append(out, it)
	}
	return out
}

// passPreemptions lets the preempted machine go on at each preemption,
// the last first (see continuations).
func (sh *shrinker) passPreemptions() bool {
	improved := false
	k := len(sh.best.res.preemptAt) - 1
	limit := len(sh.best.items)
	var pending [][]item
	pos := 0
	for {
		gen := func() (proposal, bool) {
			for len(pending) == 0 {
				if k < 0 {
					return proposal{}, false
				}
				pos = int(sh.best.res.preemptAt[k])
				k--
				if pos < limit {
					pending = continuations(sh.best.items, pos)
				}
			}
			p := proposal{items: pending[0], pos: pos}
			pending = pending[1:]
			return p, true
		}
		at, ok := sh.first(gen, nil)
		if !ok {
			return improved
		}
		improved = true
		// The new run's preemptions before at are the old ones.
		limit, pending = at, nil
		k = len(sh.best.res.preemptAt) - 1
	}
}

// continuations returns the candidates in which machine A, preempted at
// items[i] by machine B, is not: A goes on as long as it is enabled and
// then the recorded schedule resumes; the same without A's next run of
// decisions (which it may have just done); A's next run of decisions
// moved up to i; and B's run of decisions from i moved before A's run
// that B preempted.
func continuations(items []item, i int) [][]item {
	a := -1
	for j := i - 1; j >= 0; j-- {
		if items[j].d.Kind == Schedule {
			a = int(items[j].d.Value)
			break
		}
	}
	if a < 0 || items[i].d.Kind != Schedule || int(items[i].d.Value) == a {
		return nil
	}
	cat := func(parts ...[]item) []item {
		n := 0
		for _, p := range parts {
			n += len(p)
		}
		out := make([]item, 0, n)
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	// runEnd returns the end of the run of decisions of the machine
	// scheduled at items[from].
	runEnd := func(from int) int {
		m, k := items[from].d.Value, from+1
		for k < len(items) && !(items[k].d.Kind == Schedule && items[k].d.Value != m) {
			k++
		}
		return k
	}
	on := []item{{d: goOn, owner: a}}
	cs := [][]item{cat(items[:i], on, items[i:])}
	j := i + 1 // A's next run of decisions is items[j:k]
	for j < len(items) && !(items[j].d.Kind == Schedule && int(items[j].d.Value) == a) {
		j++
	}
	if j < len(items) {
		k := runEnd(j)
		cs = append(cs, cat(items[:i], on, items[i:j], items[k:]), cat(items[:i], items[j:k], items[i:j], items[k:]))
	}
	p := i - 1 // A's run that B preempted is items[p:i]
	for p > 0 && !(items[p].d.Kind == Schedule && (p == 0 || prevSchedule(items, p) != a)) {
		p--
	}
	if k := runEnd(i); p >= 0 {
		cs = append(cs, cat(items[:p], items[i:k], items[p:i], items[k:]))
	}
	return cs
}

// prevSchedule returns the machine of the latest Schedule decision
// before items[p], or -1.
func prevSchedule(items []item, p int) int {
	for j := p - 1; j >= 0; j-- {
		if items[j].d.Kind == Schedule {
			return int(items[j].d.Value)
		}
	}
	return -1
}

// passChoices lowers each Choose value: to 0, else to half, else by one.
func (sh *shrinker) passChoices() bool {
	improved := false
	i, variant := 0, 0
	for {
		gen := func() (proposal, bool) {
			for ; i < len(sh.best.items); i, variant = i+1, 0 {
				it := sh.best.items[i]
				if it.d.Kind != Choice || it.d.Value == 0 {
					continue
				}
				v := it.d.Value
				for variant < 3 {
					var nv int32
					switch variant {
					case 0:
						nv = 0
					case 1:
						nv = v / 2
					case 2:
						nv = v - 1
					}
					variant++
					if (variant > 1 && nv == 0) || (variant == 3 && nv == v/2) {
						continue
					}
					c := append([]item(nil), sh.best.items...)
					c[i].d.Value = nv
					return proposal{items: c, pos: i}, true
				}
			}
			return proposal{}, false
		}
		pos, ok := sh.first(gen, sh.dropVanished)
		if !ok {
			return improved
		}
		improved = true
		i, variant = pos, 0 // the value may go lower still
	}
}

// dropVanished follows up a candidate whose run had fewer machines than
// the smallest run (a Choose value decided how many machines to start):
// the same candidate without the decisions of one machine, each machine
// in turn from the highest ID, the machines above it renumbered down by
// one, for the schedule to fit the machines that are left. When the
// machines are named, the others keep their names (a lenient run finds
// them by name), and, as a second proposal, the machines above it take
// the names of the machines before them (the program started fewer
// machines, named as its first ones were).
func (sh *shrinker) dropVanished(p proposal, res *Result) []proposal {
	if res.Machines >= sh.best.res.Machines || p.items == nil {
		return nil
	}
	names := sh.machinesOf(p)
	var out []proposal
	for m := sh.best.res.Machines - 1; m >= 1; m-- {
		items := dropMachine(p.items, m)
		if m >= len(names) {
			out = append(out, proposal{items: items, machines: names, pos: p.pos, followUp: true})
			continue
		}
		kept := slices.Delete(slices.Clone(names), m, m+1)
		out = append(out, proposal{items: items, machines: kept, pos: p.pos, followUp: true})
		if shifted := names[:len(names)-1]; !slices.Equal(kept, shifted) {
			out = append(out, proposal{items: items, machines: shifted, pos: p.pos, followUp: true})
		}
	}
	return out
}

// dropMachine returns items without machine m's decisions (its schedule
// decisions and the choices it took), with the machines above m
// renumbered down by one.
func dropMachine(items []item, m int) []item {
	out := make([]item, 0, len(items))
	for _, it := range items {
		if it.owner == m {
			continue
		}
		if it.owner > m {
			it.owner--
		}
		if it.d.Kind == Schedule && int(it.d.Value) > m {
			it.d.Value--
		}
		out = append(out, it)
	}
	return out
}

// passDurations shortens each time advance and stall: to half, else to
// a round value (the duration truncated to a second, 100 ms, 10 ms, ...,
// 1 µs), as long as the run still fails.
func (sh *shrinker) passDurations() bool {
	improved := false
	i, variant := 0, 0
	for {
		gen := func() (proposal, bool) {
			for ; i < len(sh.best.items); i, variant = i+1, 0 {
				d := sh.best.items[i].d
				if !(d.Kind == TimeAdvance || (d.Kind == FaultInjection && d.Fault == Stall)) {
					continue
				}
				for variant < len(roundings)+1 {
					nd := d.Duration / 2
					if variant > 0 {
						nd = d.Duration.Truncate(roundings[variant-1])
					}
					variant++
					if nd <= 0 || nd >= d.Duration || (variant > 1 && nd <= d.Duration/2) {
						continue
					}
					c := append([]item(nil), sh.best.items...)
					c[i].d.Duration = nd
					return proposal{items: c, pos: i}, true
				}
			}
			return proposal{}, false
		}
		pos, ok := sh.first(gen, nil)
		if !ok {
			return improved
		}
		improved = true
		i, variant = pos, 0
	}
}

// roundings are the units passDurations rounds to, the largest first.
var roundings = []time.Duration{time.Hour, time.Minute, 10 * time.Second, time.Second,
	100 * time.Millisecond, 10 * time.Millisecond, time.Millisecond, 100 * time.Microsecond, 10 * time.Microsecond, time.Microsecond}
