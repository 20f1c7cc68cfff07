package linearizability

import (
	"math"
	"slices"
	"sync"
)

// The parts of a history are searched as if in lockstep (see the
// package doc): in rounds, each undecided part taking its r-th step in
// round r, in part order. The check ends at the first of: the step that
// proves a part illegal, the budget-th step, the last step. Each part's
// search is deterministic, so the report is a function of each part's
// step count d (the steps it takes to decide, with its verdict), and
// workers are free to run parts in chunks, in any order and in
// parallel, as long as each part is run far enough for the formula to
// be computed: every part must be decided or run up to the round in
// which the check ends. The searchers are never stopped in the middle
// of a step, so chunks do not change what they do.

// minQuantum is the smallest number of steps a part runs at a time.
// After that a part runs as many steps as it has already taken, so the
// parts advance together, within a factor of two of each other, at a
// cost of one scheduling decision per doubling. (A variable for tests.)
var minQuantum int64 = 1024

type lockstepPart[S, I, O any] struct {
	ops   []Operation[I, O]
	s     *searcher[S, I, O] // created on the part's first run
	steps int64              // steps taken
	done  bool               // decided, in steps steps (the best part tells which part is illegal)
	busy  bool               // a worker runs it now
}

// lowerBound is a lower bound of the steps the part takes to decide.
func (p *lockstepPart[S, I, O]) lowerBound() int64 {
	if p.done {
		return p.steps
	}
	return p.steps + 1
}

type lockstep[S, I, O any] struct {
	m      *Model[S, I, O]
	parts  []lockstepPart[S, I, O]
	budget int64 // math.MaxInt64 when unbounded

	mu       sync.Mutex
	wake     sync.Cond // a part was returned by a worker
	busy     int       // parts being run
	reserved int64     // steps the parts being run may take, at most
	lbSum    int64     // sum of the parts' lower bounds
	best     int       // the part proved illegal first in lockstep order, or -1
	round    int64     // no part needs to run past this round (budget), or math.MaxInt64
	panicked any       // a panic raised by a model function in a worker
	failed   bool
}

func newLockstep[S, I, O any](m *Model[S, I, O], parts [][]Operation[I, O], budget int64) *lockstep[S, I, O] {
	r := &lockstep[S, I, O]{m: m, parts: make([]lockstepPart[S, I, O], len(parts)), budget: budget, best: -1, round: math.MaxInt64}
	r.wake.L = &r.mu
	for i, ops := range parts {
		p := &r.parts[i]
		p.ops = ops
		// A part with no completed operation is linearizable with no
		// step: the empty linearization.
		if !slices.ContainsFunc(ops, func(op Operation[I, O]) bool { return !op.IsPending() }) {
			p.done = true
		}
		r.lbSum += p.lowerBound()
	}
	r.updateRound()
	return r
}

// search runs the parts with workers goroutines (in the caller's when
// there is one worker or one part) until no part needs to run further.
// A panic in a model function is raised again here.
func (r *lockstep[S, I, O]) search(workers int) {
	workers = min(workers, len(r.parts))
	if workers <= 1 {
		r.work(false)
		return
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { r.work(true) })
	}
	wg.Wait()
	if r.failed {
		panic(r.panicked)
	}
	// Free the parts the search stopped early.
	for k := range r.parts {
		if p := &r.parts[k]; p.s != nil && !p.done {
			p.s.release()
		}
	}
}

// work runs chunks of parts until no part needs to run further. With
// recovering, a panic in a chunk stops every worker and is kept in
// r.panicked.
func (r *lockstep[S, I, O]) work(recovering bool) {
	// No deferred unlock: a panic that is not recovered leaves run
	// without the lock.
	r.mu.Lock()
	for !r.failed {
		i, limit := r.next()
		if i < 0 {
			if r.busy == 0 {
				break
			}
			r.wake.Wait()
			continue
		}
		p := &r.parts[i]
		p.busy = true
		r.busy++
		r.reserved += limit
		r.mu.Unlock()
		res, done, panicked := r.run(p, limit, recovering)
		r.mu.Lock()
		if panicked != nil {
			if !r.failed {
				r.failed, r.panicked = true, panicked
			}
			break
		}
		p.busy = false
		r.busy--
		r.reserved -= limit
		r.lbSum -= p.lowerBound()
		p.steps = p.s.steps
		if done {
			p.done = true
			p.s.release()
			if res == Illegal && (r.best < 0 || p.steps < r.parts[r.best].steps || p.steps == r.parts[r.best].steps && i < r.best) {
				r.best = i
			}
		}
		r.lbSum += p.lowerBound()
		r.updateRound()
		r.wake.Broadcast()
	}
	r.wake.Broadcast()
	r.mu.Unlock()
}

// run runs part p for at most limit steps (without r.mu).
func (r *lockstep[S, I, O]) run(p *lockstepPart[S, I, O], limit int64, recovering bool) (res Result, done bool, panicked any) {
	if recovering {
		defer func() {
			if v := recover(); v != nil {
				panicked = v
			}
		}()
	}
	if p.s == nil {
		p.s = newSearcher(r.m, p.ops)
	}
	res, done = p.s.resume(limit)
	return res, done, nil
}

// need returns how many steps part i must have taken, if undecided, for
// the outcome to be computed: up to the round that proved the best
// illegal part so far (but for that round's step if i comes after that
// part), and up to the round in which the budget certainly runs out.
func (r *lockstep[S, I, O]) need(i int) int64 {
	n := r.round
	if r.best >= 0 {
		d := r.parts[r.best].steps
		if i > r.best {
			d--
		}
		n = min(n, d)
	}
	return n
}

// next picks the part to run next, the least advanced one that still
// needs to run (the lowest index among equals), and how many steps to
// run it for; i is -1 when no part is idle and in need.
func (r *lockstep[S, I, O]) next() (i int, limit int64) {
	i = -1
	for j := range r.parts {
		p := &r.parts[j]
		if p.done || p.busy || p.steps >= r.need(j) {
			continue
		}
		if i < 0 || p.steps < r.parts[i].steps {
			i = j
		}
	}
	if i < 0 {
		return -1, 0
	}
	p := &r.parts[i]
	limit = max(minQuantum, p.steps)
	limit = min(limit, r.need(i)-p.steps)
	// While the round in which the budget runs out is not known, run no
	// more steps than are left of it: any step may count.
	if r.budget < math.MaxInt64 && r.round == math.MaxInt64 {
		left := r.budget - r.lbSum - r.reserved
		if left <= 0 {
			return -1, 0 // wait for the running parts
		}
		limit = min(limit, left)
	}
	return i, limit
}

// updateRound bounds the round in which the budget-th step falls: the
// first round r in which the parts' steps up to round r (at least
// min(lowerBound, r) for each part) reach the budget.
func (r *lockstep[S, I, O]) updateRound() {
	if r.lbSum < r.budget {
		return // the sum of the lower bounds does not reach it yet
	}
	lbs := make([]int64, len(r.parts))
	for i := range r.parts {
		lbs[i] = r.parts[i].lowerBound()
	}
	r.round = firstRound(lbs, r.budget)
}

// firstRound returns the smallest r such that the sum over ds of
// min(d, r) is at least total, or math.MaxInt64 if there is none.
func firstRound(ds []int64, total int64) int64 {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	var below int64 // sum of the ds below the current segment
	for k, d := range ds {
		// For r in (previous d, d]: sum = below + r*(len(ds)-k).
		left := int64(len(ds) - k)
		if r := ceilDiv(total-below, left); below+d*left >= total {
			var prev int64
			if k > 0 {
				prev = ds[k-1]
			}
			return max(r, prev+1, 1)
		}
		below += d
	}
	return math.MaxInt64
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// lockstepOutcome is the report's verdict part.
type lockstepOutcome struct {
	result    Result
	steps     int64
	part      int // the failing part, when Illegal
	undecided []int
}

// taken returns how many of its first r steps part k takes: min(d, r),
// where d is its step count to decide (a part not done has run at
// least as far as the computation needs).
func (r *lockstep[S, I, O]) taken(k int, rounds int64) int64 {
	return min(r.parts[k].steps, rounds)
}

// position returns the place in lockstep order of round n's step of
// part i (1 for the first step of the first part).
func (r *lockstep[S, I, O]) position(n int64, i int) int64 {
	pos := int64(1)
	for k := range r.parts {
		pos += r.taken(k, n-1)
		if k < i && (!r.parts[k].done || r.parts[k].steps >= n) {
			pos++ // part k takes a step in round n, before part i's
		}
	}
	return pos
}

// outcome computes the report from the parts' step counts.
func (r *lockstep[S, I, O]) outcome() lockstepOutcome {
	// A part that stopped undecided ran at least as far as each position
	// computed here needs, or else to a round whose steps already reach
	// the budget: a position computed from it is exact, or past the
	// budget like the exact one.
	if r.best >= 0 {
		if pos := r.position(r.parts[r.best].steps, r.best); pos <= r.budget {
			return lockstepOutcome{result: Illegal, steps: pos, part: r.best}
		}
	}
	out := lockstepOutcome{result: Ok}
	for k := range r.parts {
		p := &r.parts[k]
		if p.done && (p.steps == 0 || r.position(p.steps, k) <= r.budget) {
			if out.steps <= math.MaxInt64-p.steps {
				out.steps += p.steps
			}
			continue
		}
		out.result = Unknown
		out.undecided = append(out.undecided, k)
	}
	if out.result == Unknown {
		out.steps = r.budget
	}
	return out
}
