package linearizability

import (
	"fmt"
	"math"
)

// Pending is the return time of an operation that never returned. A
// pending operation may or may not have taken effect: a linearization
// may place it anywhere after its call or leave it out.
const Pending int64 = math.MaxInt64

// Operation is one call of a history: who made it, when it was called
// and when it returned (in the recorder's time unit, such as the
// scheduler's step numbers), what it was given and what it answered.
//
// Call and Return may be equal: the operation is then an instantaneous
// event. Return is Pending when the call never returned; Output is then
// whatever the recorder chose to put there, and the model must treat it
// as unknown.
type Operation[I, O any] struct {
	Client int   // the calling client (machine, process, goroutine)
	Call   int64 // when the call was made
	Return int64 // when it returned, or Pending
	Input  I     // what the call was given
	Output O     // what it returned (meaningless when pending)
}

// IsPending reports whether the operation never returned.
func (op Operation[I, O]) IsPending() bool { return op.Return == Pending }

// Model is the sequential specification a history is checked against.
//
// Init, Step and Key are required; the other functions are optional.
// All of them must be pure and deterministic: the checker calls them
// many times, in an order that depends on the search, and relies on the
// same arguments giving the same answers. They must also be safe to call
// from several goroutines at once: the parts of a history are searched
// in parallel (see Options.Workers).
type Model[S, I, O any] struct {
	// Init returns the initial state.
	Init func() S

	// Step reports whether an operation with input in may return out
	// when applied to state s, and if so the state after it. Step must
	// not modify s (states are shared between branches of the search).
	// For a pending operation (when StepPending is nil) out is the
	// recorded Output, and Step must treat it as unknown.
	Step func(s S, in I, out O) (ok bool, next S)

	// StepPending optionally replaces Step for pending operations, whose
	// output is unknown: it reports whether the operation may take
	// effect in state s, and the state after it. Leaving a pending
	// operation out of a linearization is always allowed, so StepPending
	// may answer false for an operation that would have no effect. Nil
	// means Step with the recorded Output.
	StepPending func(s S, in I) (ok bool, next S)

	// Key returns the memoization key of a state: two states reached in
	// one search (from Init, by steps of the operations of one part) with
	// equal keys must behave identically under every sequence of steps.
	// A canonical encoding of the state is always a correct key; a key
	// may leave out what no operation of a part can change.
	Key func(s S) string

	// Partition optionally splits a history into independent
	// sub-histories (P-compositionality): the history is linearizable
	// if and only if every part is, each checked from Init. Every
	// operation must appear in exactly one part. Nil means one part.
	Partition func(history []Operation[I, O]) [][]Operation[I, O]

	// DescribeOperation optionally renders an operation for reports.
	DescribeOperation func(in I, out O) string

	// DescribeState optionally renders a state for reports.
	DescribeState func(s S) string
}

func (m *Model[S, I, O]) describeOp(op Operation[I, O]) string {
	var what string
	if m.DescribeOperation != nil {
		what = m.DescribeOperation(op.Input, op.Output)
	} else {
		what = fmt.Sprintf("%v -> %v", op.Input, op.Output)
	}
	ret := "pending"
	if !op.IsPending() {
		ret = fmt.Sprint(op.Return)
	}
	return fmt.Sprintf("client %d [%d, %s]: %s", op.Client, op.Call, ret, what)
}

func (m *Model[S, I, O]) describeState(s S) string {
	if m.DescribeState != nil {
		return m.DescribeState(s)
	}
	return fmt.Sprintf("%v", s)
}
