package linearizability

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
)

// Result is the verdict of a check.
type Result uint8

// The three verdicts. The zero Result is Unknown.
const (
	// Unknown: the budget ran out before the search decided.
	Unknown Result = iota
	// Ok: the history is linearizable.
	Ok
	// Illegal: the history is not linearizable.
	Illegal
)

// String returns "unknown", "ok" or "illegal".
func (r Result) String() string {
	switch r {
	case Unknown:
		return "unknown"
	case Ok:
		return "ok"
	case Illegal:
		return "illegal"
	}
	return fmt.Sprintf("Result(%d)", uint8(r))
}

// Options tune a check.
type Options struct {
	// MaxSteps bounds the number of search steps, summed over all parts
	// of the history, counted in lockstep order (see the package doc):
	// the check stops at the MaxSteps-th step of that order, so every
	// part gets at least MaxSteps/Parts steps, and the steps a part that
	// finished early did not need go to the others. Zero or negative
	// means no bound.
	MaxSteps int64

	// Workers is how many goroutines search parts at once; zero means
	// runtime.GOMAXPROCS(0). The report does not depend on it.
	Workers int
}

// Linearized is one operation of a linearization, with the model state
// right after it.
type Linearized[S, I, O any] struct {
	Op    Operation[I, O]
	After S
}

// Report is the outcome of Check.
//
// When Result is Illegal, the report describes the shortest violating
// prefix (see the package doc) of the part proved illegal first in
// lockstep order: the one proved illegal in the fewest search steps,
// the lowest part index among equals.
type Report[S, I, O any] struct {
	Result Result
	// Steps counts search steps in lockstep order up to the end of the
	// check: up to the step that proved the failing part illegal
	// (Illegal), every step of every part (Ok), MaxSteps (Unknown).
	Steps int64
	Parts int // number of parts the history was split into
	// Undecided lists the parts, by index in Partition's order, that
	// the budget stopped before they were decided (set only when Result
	// is Unknown).
	Undecided []int

	// Part, Failed, Prefix, Initial and Explanation are set only when
	// Result is Illegal (see Report).

	// Part is the index of the failing part, in Partition's order.
	Part int
	// Failed is the operation that cannot be linearized: its return is
	// the first event at which the part's prefix (see the package doc)
	// is not linearizable.
	Failed Operation[I, O]
	// Prefix is one linearization of the part's prefix just before
	// Failed's return, in order, each operation with the state after
	// it. No linearization of that prefix can be followed by Failed.
	Prefix []Linearized[S, I, O]
	// Initial is the model's initial state.
	Initial S
	// Explanation renders the above as text, using the model's
	// DescribeOperation and DescribeState.
	Explanation string
}

// String returns the verdict and, for Illegal, the explanation.
func (r *Report[S, I, O]) String() string {
	if r.Result == Unknown {
		return fmt.Sprintf("unknown: the budget ran out after %d search steps with %d of %d parts undecided", r.Steps, len(r.Undecided), r.Parts)
	}
	if r.Result != Illegal {
		return fmt.Sprintf("%s (%d parts, %d search steps)", r.Result, r.Parts, r.Steps)
	}
	return r.Explanation
}

// Check decides whether history is linearizable with respect to m.
//
// It returns an error, and no verdict, when the model lacks Init, Step
// or Key, when opts.Workers is negative, when an operation returns
// before it is called (or is called at Pending), or when m.Partition
// loses or invents operations. The history is not modified. The report
// depends only on m, history, and opts.MaxSteps. A panic in a model
// function is raised again in the caller's goroutine.
func Check[S, I, O any](m Model[S, I, O], history []Operation[I, O], opts Options) (Report[S, I, O], error) {
	var rep Report[S, I, O]
	switch {
	case m.Init == nil:
		return rep, fmt.Errorf("linearizability: model has no Init function")
	case m.Step == nil:
		return rep, fmt.Errorf("linearizability: model has no Step function")
	case m.Key == nil:
		return rep, fmt.Errorf("linearizability: model has no Key function")
	case opts.Workers < 0:
		return rep, fmt.Errorf("linearizability: Options.Workers is %d, want 0 (GOMAXPROCS) or more", opts.Workers)
	}
	for i, op := range history {
		if err := validate(op); err != nil {
			return rep, fmt.Errorf("linearizability: operation %d: %w", i, err)
		}
	}
	parts := [][]Operation[I, O]{history}
	if m.Partition != nil {
		parts = m.Partition(history)
		total := 0
		for _, p := range parts {
			total += len(p)
		}
		if total != len(history) {
			return rep, fmt.Errorf("linearizability: Partition returned %d operations in %d parts, want the %d of the history", total, len(parts), len(history))
		}
	}
	rep.Parts = len(parts)

	budget := opts.MaxSteps
	if budget <= 0 {
		budget = math.MaxInt64
	}
	workers := opts.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	r := newLockstep(&m, parts, budget)
	r.search(workers)

	out := r.outcome()
	rep.Result, rep.Steps, rep.Undecided = out.result, out.steps, out.undecided
	if out.result == Illegal {
		f := r.parts[out.part].s.failure()
		rep.Part = out.part
		rep.Failed = f.failed
		rep.Prefix = f.prefix
		rep.Initial = m.Init()
		rep.Explanation = explain(&m, &rep)
	}
	return rep, nil
}

func validate[I, O any](op Operation[I, O]) error {
	if op.Call == Pending {
		return fmt.Errorf("call time is Pending")
	}
	if op.Return < op.Call {
		return fmt.Errorf("return time %d is before call time %d", op.Return, op.Call)
	}
	return nil
}

// explainOps is how many operations of the prefix an explanation shows
// (the last ones, which lead to the failure).
const explainOps = 20

func explain[S, I, O any](m *Model[S, I, O], rep *Report[S, I, O]) string {
	var b strings.Builder
	fmt.Fprintf(&b, "illegal: not linearizable (part %d of %d, %d search steps)\n", rep.Part, rep.Parts, rep.Steps)
	fmt.Fprintf(&b, "cannot linearize: %s\n", m.describeOp(rep.Failed))
	fmt.Fprintf(&b, "after the longest linearizable prefix (the part's history before time %d), which has %d operations in this linearization:\n",
		rep.Failed.Return, len(rep.Prefix))
	shown := rep.Prefix
	if skip := len(shown) - explainOps; skip > 0 {
		shown = shown[skip:]
		fmt.Fprintf(&b, "  (%d earlier operations omitted; Report.Prefix holds them all)\n", skip)
		fmt.Fprintf(&b, "  state: %s\n", m.describeState(rep.Prefix[skip-1].After))
	} else {
		fmt.Fprintf(&b, "  initial state: %s\n", m.describeState(rep.Initial))
	}
	first := len(rep.Prefix) - len(shown)
	for i, l := range shown {
		fmt.Fprintf(&b, "  %d. %s\n", first+i+1, m.describeOp(l.Op))
		fmt.Fprintf(&b, "     state: %s\n", m.describeState(l.After))
	}
	b.WriteString("no linearization of that prefix can be followed by the failing operation")
	return b.String()
}

// node is an entry of the search's doubly linked event list: a call or
// a return of one operation.
type node struct {
	op         int   // index in the part
	call       bool  // call event (else return event)
	event      int   // position in time order
	match      *node // a call's return (nil when pending)
	prev, next *node
}

// lift removes a call and its return from the list.
func lift(n *node) {
	n.prev.next = n.next
	if n.next != nil {
		n.next.prev = n.prev
	}
	if r := n.match; r != nil {
		r.prev.next = r.next
		if r.next != nil {
			r.next.prev = r.prev
		}
	}
}

// unlift undoes lift(n); lifts and unlifts must nest.
func unlift(n *node) {
	if r := n.match; r != nil {
		r.prev.next = r
		if r.next != nil {
			r.next.prev = r
		}
	}
	n.prev.next = n
	if n.next != nil {
		n.next.prev = n
	}
}

type frame[S any] struct {
	n    *node
	prev S // the state before n's operation
}

type partFailure[S, I, O any] struct {
	failed Operation[I, O]
	prefix []Linearized[S, I, O]
}

// searcher runs the Wing & Gong / Lowe search on one part. It can be
// stopped after any number of steps and resumed.
type searcher[S, I, O any] struct {
	m     *Model[S, I, O]
	ops   []Operation[I, O]
	steps int64

	head       *node
	entry      *node // the next event to visit
	state      S
	stack      []frame[S]
	linearized []uint64 // bitset of linearized operations
	remaining  int      // returned operations not yet linearized
	seen       map[string]struct{}
	keyBuf     []byte

	// The deepest frontier reached: the event position of the first
	// unlinearized return, with the linearization that reached it.
	best       int
	bestFailed int
	bestOps    []int
	bestStates []S
}

func newSearcher[S, I, O any](m *Model[S, I, O], ops []Operation[I, O]) *searcher[S, I, O] {
	n := len(ops)
	nodes := make([]node, 0, 2*n)
	for i, op := range ops {
		nodes = append(nodes, node{op: i, call: true})
		if !op.IsPending() {
			nodes = append(nodes, node{op: i})
		}
	}
	time := func(x *node) int64 {
		if x.call {
			return ops[x.op].Call
		}
		return ops[x.op].Return
	}
	// Time order; at equal times calls come first, so that operations
	// touching at one instant overlap.
	slices.SortFunc(nodes, func(a, b node) int {
		ta, tb := time(&a), time(&b)
		if c := cmp.Compare(ta, tb); c != 0 {
			return c
		}
		if a.call != b.call {
			if a.call {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.op, b.op)
	})
	callOf := make([]*node, n)
	head := &node{}
	prev := head
	for i := range nodes {
		x := &nodes[i]
		x.event = i
		x.prev = prev
		prev.next = x
		prev = x
		if x.call {
			callOf[x.op] = x
		} else {
			callOf[x.op].match = x
		}
	}
	s := &searcher[S, I, O]{
		m:          m,
		ops:        ops,
		head:       head,
		entry:      head.next,
		state:      m.Init(),
		linearized: make([]uint64, (n+63)/64),
		seen:       make(map[string]struct{}),
		best:       -1,
	}
	for _, op := range ops {
		if !op.IsPending() {
			s.remaining++
		}
	}
	return s
}

// resume continues the search for at most limit steps. done is false
// when it stopped for the limit.
func (s *searcher[S, I, O]) resume(limit int64) (res Result, done bool) {
	ops := s.ops
	for taken := int64(0); s.remaining > 0; taken++ {
		if taken >= limit {
			return Unknown, false
		}
		s.steps++
		entry := s.entry
		if entry == nil {
			// Only pending calls were left to try: backtrack.
			if len(s.stack) == 0 {
				return Illegal, true
			}
			s.pop()
			continue
		}
		if entry.call {
			op := &ops[entry.op]
			if ok, next := s.step(s.state, op); ok {
				s.linearized[entry.op/64] |= 1 << (entry.op % 64)
				s.keyBuf = s.keyBuf[:0]
				for _, w := range s.linearized {
					s.keyBuf = binary.LittleEndian.AppendUint64(s.keyBuf, w)
				}
				s.keyBuf = append(s.keyBuf, s.m.Key(next)...)
				if _, dup := s.seen[string(s.keyBuf)]; !dup {
					s.seen[string(s.keyBuf)] = struct{}{}
					s.stack = append(s.stack, frame[S]{n: entry, prev: s.state})
					s.state = next
					if !op.IsPending() {
						s.remaining--
					}
					lift(entry)
					s.entry = s.head.next
					continue
				}
				s.linearized[entry.op/64] &^= 1 << (entry.op % 64)
			}
			s.entry = entry.next
			continue
		}
		// The return of an operation not yet linearized: nothing before
		// it fits, so this branch is dead.
		if entry.event > s.best {
			s.record(entry)
		}
		if len(s.stack) == 0 {
			return Illegal, true
		}
		s.pop()
	}
	return Ok, true
}

func (s *searcher[S, I, O]) step(state S, op *Operation[I, O]) (bool, S) {
	if op.IsPending() && s.m.StepPending != nil {
		return s.m.StepPending(state, op.Input)
	}
	return s.m.Step(state, op.Input, op.Output)
}

// release drops what only the search needs, keeping the failure.
func (s *searcher[S, I, O]) release() {
	s.seen, s.stack, s.keyBuf, s.head, s.entry = nil, nil, nil, nil, nil
}

// pop undoes the last linearized operation and moves to the entry to
// try after it.
func (s *searcher[S, I, O]) pop() {
	f := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	s.state = f.prev
	s.linearized[f.n.op/64] &^= 1 << (f.n.op % 64)
	if !s.ops[f.n.op].IsPending() {
		s.remaining++
	}
	unlift(f.n)
	s.entry = f.n.next
}

func (s *searcher[S, I, O]) record(entry *node) {
	s.best = entry.event
	s.bestFailed = entry.op
	s.bestOps = s.bestOps[:0]
	s.bestStates = s.bestStates[:0]
	for i, f := range s.stack {
		s.bestOps = append(s.bestOps, f.n.op)
		if i+1 < len(s.stack) {
			s.bestStates = append(s.bestStates, s.stack[i+1].prev)
		} else {
			s.bestStates = append(s.bestStates, s.state)
		}
	}
}

func (s *searcher[S, I, O]) failure() *partFailure[S, I, O] {
	f := &partFailure[S, I, O]{failed: s.ops[s.bestFailed]}
	for i, op := range s.bestOps {
		f.prefix = append(f.prefix, Linearized[S, I, O]{Op: s.ops[op], After: s.bestStates[i]})
	}
	return f
}
