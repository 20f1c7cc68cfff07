package sched

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Go starts f as a new machine named name when ctx carries a scheduler,
// and as a plain goroutine otherwise. The ctx passed to f is ctx plus the
// new machine's identity. Spawning is a scheduling point; the new machine
// is enabled at once and gets the next machine ID.
func Go(ctx context.Context, name string, f func(ctx context.Context)) {
	m := machineOf(ctx)
	if m == nil {
		go f(ctx)
		return
	}
	s := m.enter()
	if f == nil {
		s.finish(&Failure{Kind: Panic, Step: s.step, Machine: m.id, MachineName: m.name,
			Message: fmt.Sprintf("sched: Go(%q) with a nil function", name)})
		s.mu.Unlock()
		runtime.Goexit()
	}
	nm := s.newMachine(ctx, name)
	s.logf(m, "spawn machine %d %q", nm.id, name)
	s.goroutines.Add(1)
	go s.start(nm, f)
	m.res = nil
	s.yield(m)
}

// Yield is a scheduling point: under a scheduler the strategy may run
// another machine before Yield returns. Outside a scheduler it does
// nothing.
func Yield(ctx context.Context) {
	m := machineOf(ctx)
	if m == nil {
		return
	}
	s := m.enter()
	m.res = nil
	s.yield(m)
}

// YieldOn is Yield for an operation on the resource key (any comparable
// value, such as a table name or a pointer): the "pos" strategy treats
// operations on equal keys as racing. Outside a scheduler it does
// nothing.
func YieldOn(ctx context.Context, key any) {
	m := machineOf(ctx)
	if m == nil {
		return
	}
	s := m.enter()
	m.res = key
	s.yield(m)
}

// Choose returns a nondeterministic choice in [0, n), drawn from the
// scheduler's strategy (and recorded in the trace) when ctx carries a
// scheduler, and from math/rand/v2 otherwise. Choose is a decision, not a
// scheduling point: the calling machine keeps running. n must be
// positive; Choose returns 0 for n <= 1 without recording anything.
func Choose(ctx context.Context, n int) int {
	if n <= 1 {
		return 0
	}
	m := machineOf(ctx)
	if m == nil {
		return rand.IntN(n)
	}
	s := m.enter()
	v := s.choose(m, n)
	s.mu.Unlock()
	return v
}

// Bool is Choose(ctx, 2) == 1.
func Bool(ctx context.Context) bool { return Choose(ctx, 2) == 1 }

// Controlled reports whether ctx carries a scheduler (a machine's
// identity).
func Controlled(ctx context.Context) bool { return machineOf(ctx) != nil }

// Tracing reports whether Logf records events: ctx carries a scheduler
// whose Config.NoEvents is false. Callers use it to skip formatting.
func Tracing(ctx context.Context) bool {
	m := machineOf(ctx)
	return m != nil && !m.s.cfg.NoEvents
}

// Step returns the number of decisions the current run has made so far
// (the step the caller runs in), or 0 outside a scheduler.
func Step(ctx context.Context) int64 {
	m := machineOf(ctx)
	if m == nil {
		return 0
	}
	s := m.s
	s.mu.Lock()
	n := s.step
	s.mu.Unlock()
	return n
}

// MachineName returns the calling machine's name, or "" outside a
// scheduler.
func MachineName(ctx context.Context) string {
	if m := machineOf(ctx); m != nil {
		return m.name
	}
	return ""
}

// MachineID returns the calling machine's ID (0 for main, then 1, 2, ...
// in spawn order), or -1 outside a scheduler.
func MachineID(ctx context.Context) int {
	if m := machineOf(ctx); m != nil {
		return m.id
	}
	return -1
}

// Logf appends an event, tagged with the current step and machine, to the
// run's event log (Result.Events). Outside a scheduler, or with
// Config.NoEvents, it does nothing.
func Logf(ctx context.Context, format string, args ...any) {
	m := machineOf(ctx)
	if m == nil || m.s.cfg.NoEvents {
		return
	}
	s := m.s
	s.mu.Lock()
	if !s.finished {
		s.logf(m, format, args...)
	}
	s.mu.Unlock()
}

// Fail ends the run with an Assertion failure carrying err and stops the
// calling machine (like testing.T.FailNow, it does not return). Outside
// a scheduler it panics with err, since there is no run to fail.
func Fail(ctx context.Context, err error) {
	m := machineOf(ctx)
	if m == nil {
		panic(err)
	}
	if err == nil {
		err = fmt.Errorf("sched.Fail called with a nil error")
	}
	s := m.enter()
	s.finish(&Failure{Kind: Assertion, Step: s.step, Machine: m.id, MachineName: m.name, Message: err.Error(), Err: err})
	s.mu.Unlock()
	runtime.Goexit()
}

// Assertf calls Fail with the formatted message when cond is false.
func Assertf(ctx context.Context, cond bool, format string, args ...any) {
	if !cond {
		Fail(ctx, fmt.Errorf(format, args...))
	}
}

// SetHot marks the liveness condition name hot (true) or cold (false).
// A condition that stays hot for more than Config.LivenessSteps fair
// steps, or is hot when every machine has finished, ends the run with a
// Liveness failure. Outside a scheduler it does nothing.
func SetHot(ctx context.Context, name string, hot bool) {
	m := machineOf(ctx)
	if m == nil {
		return
	}
	s := m.enter()
	i := 0
	for i < len(s.hot) && s.hot[i].name != name {
		i++
	}
	switch {
	case hot && i == len(s.hot):
		s.hot = append(s.hot, hotCond{name: name, since: s.step})
	case !hot && i < len(s.hot):
		s.hot = append(s.hot[:i], s.hot[i+1:]...)
	}
	s.mu.Unlock()
}

// Mutex is a mutual-exclusion lock. Under a scheduler Lock and Unlock are
// scheduling points and a Lock that must wait is a controlled wait
// ("Mutex.Lock"); outside one it is a sync.Mutex. The zero Mutex is
// unlocked. It must not be copied after first use, and a Mutex used
// under a scheduler belongs to one run at a time (its controlled state
// is reset when a new run first uses it).
type Mutex struct {
	mu sync.Mutex

	run     *scheduler
	holder  *machine
	waiters []*machine
}

func (m *Mutex) bind(s *scheduler) {
	if m.run != s {
		m.run, m.holder, m.waiters = s, nil, nil
	}
}

// Lock locks m, blocking (as a controlled wait under a scheduler) while
// another machine holds it.
func (m *Mutex) Lock(ctx context.Context) {
	me := machineOf(ctx)
	if me == nil {
		m.mu.Lock()
		return
	}
	s := me.enter()
	m.bind(s)
	me.res = m
	s.yield(me)
	m.lockLocked(me)
}

// lockLocked acquires m for me; called after a scheduling point, without
// s.mu held.
func (m *Mutex) lockLocked(me *machine) {
	s := me.enter()
	m.bind(s)
	for m.holder != nil {
		m.waiters = append(m.waiters, me)
		me.res = m
		s.block(me, "Mutex.Lock", m.holder)
		s = me.enter()
		m.bind(s)
	}
	m.holder = me
	s.mu.Unlock()
}

// Unlock unlocks m. Under a scheduler it is a run-time error (Panic
// failure) to unlock a Mutex the calling machine does not hold.
func (m *Mutex) Unlock(ctx context.Context) {
	me := machineOf(ctx)
	if me == nil {
		m.mu.Unlock()
		return
	}
	s := me.enter()
	m.bind(s)
	if m.holder != me {
		holder := "nobody"
		if m.holder != nil {
			holder = m.holder.String()
		}
		s.finish(&Failure{Kind: Panic, Step: s.step, Machine: me.id, MachineName: me.name,
			Message: "sched: Mutex.Unlock of a mutex held by " + holder})
		s.mu.Unlock()
		runtime.Goexit()
	}
	m.unlockLocked(s)
	me.res = m
	s.yield(me)
}

func (m *Mutex) unlockLocked(s *scheduler) {
	m.holder = nil
	for _, w := range m.waiters {
		s.unblock(w)
	}
	clear(m.waiters)
	m.waiters = m.waiters[:0]
}

// Cond is a condition variable associated with a Mutex, like sync.Cond.
type Cond struct {
	m *Mutex
	c *sync.Cond

	run     *scheduler
	waiters []*machine
}

// NewCond returns a Cond whose Wait releases and re-acquires m.
func NewCond(m *Mutex) *Cond { return &Cond{m: m, c: sync.NewCond(&m.mu)} }

func (c *Cond) bind(s *scheduler) {
	if c.run != s {
		c.run, c.waiters = s, nil
	}
}

// Wait atomically unlocks the Mutex, waits for a Broadcast or Signal, and
// locks it again before returning. As with sync.Cond, callers loop on
// their condition. Under a scheduler the caller must hold the Mutex; the
// wait is a controlled wait ("Cond.Wait").
func (c *Cond) Wait(ctx context.Context) {
	me := machineOf(ctx)
	if me == nil {
		c.c.Wait()
		return
	}
	s := me.enter()
	c.bind(s)
	c.m.bind(s)
	if c.m.holder != me {
		s.finish(&Failure{Kind: Panic, Step: s.step, Machine: me.id, MachineName: me.name,
			Message: "sched: Cond.Wait without holding its Mutex"})
		s.mu.Unlock()
		runtime.Goexit()
	}
	c.m.unlockLocked(s)
	c.waiters = append(c.waiters, me)
	me.res = c
	s.block(me, "Cond.Wait", nil)
	c.m.lockLocked(me)
}

// Broadcast wakes every machine waiting on c. Under a scheduler it is a
// scheduling point.
func (c *Cond) Broadcast(ctx context.Context) {
	me := machineOf(ctx)
	if me == nil {
		c.c.Broadcast()
		return
	}
	s := me.enter()
	c.bind(s)
	for _, w := range c.waiters {
		s.unblock(w)
	}
	clear(c.waiters)
	c.waiters = c.waiters[:0]
	me.res = c
	s.yield(me)
}

// Signal wakes the machine that has waited longest on c, if any. Under a
// scheduler it is a scheduling point.
func (c *Cond) Signal(ctx context.Context) {
	me := machineOf(ctx)
	if me == nil {
		c.c.Signal()
		return
	}
	s := me.enter()
	c.bind(s)
	if len(c.waiters) > 0 {
		s.unblock(c.waiters[0])
		c.waiters = append(c.waiters[:0], c.waiters[1:]...)
	}
	me.res = c
	s.yield(me)
}

// Future is a value that one machine resolves and others wait for.
type Future[T any] struct {
	once sync.Once
	done chan struct{}
	v    T

	run     *scheduler
	waiters []*machine
}

// NewFuture returns an unresolved Future.
func NewFuture[T any]() *Future[T] { return &Future[T]{done: make(chan struct{})} }

func (f *Future[T]) resolved() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// Resolve sets the value and wakes every waiter. Only the first call has
// an effect. Under a scheduler it is a scheduling point.
func (f *Future[T]) Resolve(ctx context.Context, v T) {
	me := machineOf(ctx)
	if me == nil {
		f.once.Do(func() { f.v = v; close(f.done) })
		return
	}
	s := me.enter()
	if f.run != s {
		f.run, f.waiters = s, nil
	}
	f.once.Do(func() { f.v = v; close(f.done) })
	for _, w := range f.waiters {
		s.unblock(w)
	}
	f.waiters = nil
	me.res = f
	s.yield(me)
}

// Wait blocks until the Future is resolved and returns its value. Under
// a scheduler it is a scheduling point and, while unresolved, a
// controlled wait ("Future.Wait").
func (f *Future[T]) Wait(ctx context.Context) T {
	me := machineOf(ctx)
	if me == nil {
		<-f.done
		return f.v
	}
	s := me.enter()
	me.res = f
	s.yield(me)
	for {
		s = me.enter()
		if f.run != s {
			f.run, f.waiters = s, nil
		}
		if f.resolved() {
			s.mu.Unlock()
			return f.v
		}
		f.waiters = append(f.waiters, me)
		me.res = f
		s.block(me, "Future.Wait", nil)
	}
}

// Done reports whether f has been resolved. It is not a scheduling point.
func (f *Future[T]) Done() bool { return f.resolved() }

// WaitGroup waits for a collection of machines to finish, like
// sync.WaitGroup. Under a scheduler Wait is a scheduling point and a
// controlled wait ("WaitGroup.Wait") while the counter is positive.
type WaitGroup struct {
	wg sync.WaitGroup

	run     *scheduler
	n       int
	waiters []*machine
}

func (g *WaitGroup) bind(s *scheduler) {
	if g.run != s {
		g.run, g.n, g.waiters = s, 0, nil
	}
}

// Add adds delta to the counter. A negative counter is a Panic failure
// under a scheduler (and panics outside one, as sync.WaitGroup does).
func (g *WaitGroup) Add(ctx context.Context, delta int) {
	me := machineOf(ctx)
	if me == nil {
		g.wg.Add(delta)
		return
	}
	s := me.enter()
	g.bind(s)
	g.n += delta
	if g.n < 0 {
		s.finish(&Failure{Kind: Panic, Step: s.step, Machine: me.id, MachineName: me.name,
			Message: "sched: negative WaitGroup counter"})
		s.mu.Unlock()
		runtime.Goexit()
	}
	if g.n == 0 {
		for _, w := range g.waiters {
			s.unblock(w)
		}
		g.waiters = nil
	}
	s.mu.Unlock()
}

// Done decrements the counter by one.
func (g *WaitGroup) Done(ctx context.Context) { g.Add(ctx, -1) }

// Wait blocks until the counter is zero.
func (g *WaitGroup) Wait(ctx context.Context) {
	me := machineOf(ctx)
	if me == nil {
		g.wg.Wait()
		return
	}
	s := me.enter()
	me.res = g
	s.yield(me)
	for {
		s = me.enter()
		g.bind(s)
		if g.n == 0 {
			s.mu.Unlock()
			return
		}
		g.waiters = append(g.waiters, me)
		me.res = g
		s.block(me, "WaitGroup.Wait", nil)
	}
}
