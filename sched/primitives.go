package sched

import (
	"context"
	"math/rand/v2"
	"sync"
)

// NOTE: interim implementation: every primitive behaves as the plain Go
// primitive it stands for (the "no scheduler in ctx" path). The
// scheduler-controlled path is being written; the signatures here are
// the contract production code (mtable) and the harness rely on.

// Go starts f as a new machine named name when ctx carries a scheduler,
// and as a plain goroutine otherwise. The ctx passed to f carries the new
// machine's identity. Spawning is a scheduling point.
func Go(ctx context.Context, name string, f func(ctx context.Context)) {
	go f(ctx)
}

// Yield is a scheduling point: under a scheduler the strategy may run
// another machine before Yield returns. Outside a scheduler it does
// nothing.
func Yield(ctx context.Context) {}

// Choose returns a nondeterministic choice in [0, n), drawn from the
// scheduler's strategy (and recorded in the trace) when ctx carries a
// scheduler, and from math/rand/v2 otherwise. n must be positive.
func Choose(ctx context.Context, n int) int { return rand.IntN(n) }

// Bool is Choose(ctx, 2) == 1.
func Bool(ctx context.Context) bool { return Choose(ctx, 2) == 1 }

// Mutex is a mutual-exclusion lock whose Lock is a scheduling point
// under a scheduler. The zero Mutex is unlocked. It must not be copied
// after first use.
type Mutex struct {
	mu sync.Mutex
}

// Lock locks m, blocking (as a controlled wait under a scheduler) while
// another machine holds it.
func (m *Mutex) Lock(ctx context.Context) { m.mu.Lock() }

// Unlock unlocks m.
func (m *Mutex) Unlock(ctx context.Context) { m.mu.Unlock() }

// Cond is a condition variable associated with a Mutex, like sync.Cond.
type Cond struct {
	m *Mutex
	c *sync.Cond
}

// NewCond returns a Cond whose Wait releases and re-acquires m.
func NewCond(m *Mutex) *Cond { return &Cond{m: m, c: sync.NewCond(&m.mu)} }

// Wait atomically unlocks the Mutex, waits for a Broadcast, and locks it
// again before returning. As with sync.Cond, callers loop on their
// condition.
func (c *Cond) Wait(ctx context.Context) { c.c.Wait() }

// Broadcast wakes every machine waiting on c.
func (c *Cond) Broadcast(ctx context.Context) { c.c.Broadcast() }

// Future is a value that one machine resolves and others wait for.
type Future[T any] struct {
	once sync.Once
	done chan struct{}
	v    T
}

// NewFuture returns an unresolved Future.
func NewFuture[T any]() *Future[T] { return &Future[T]{done: make(chan struct{})} }

// Resolve sets the value and wakes every waiter. Only the first call has
// an effect.
func (f *Future[T]) Resolve(ctx context.Context, v T) {
	f.once.Do(func() { f.v = v; close(f.done) })
}

// Wait blocks until the Future is resolved and returns its value.
func (f *Future[T]) Wait(ctx context.Context) T {
	<-f.done
	return f.v
}
