package sched

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
)

// Go starts f as a new machine, named "g" followed by its machine ID,
// when the caller is a machine, and as a plain goroutine otherwise. See
// GoNamed.
func Go(f func()) { goNamed("", f, false) }

// GoNamed starts f as a new machine named name when the caller is a
// machine, and as a plain goroutine otherwise. The machine belongs to
// the caller's process. Spawning is a scheduling point; the new machine
// is enabled at once and gets the next machine ID.
func GoNamed(name string, f func()) { goNamed(name, f, false) }

// GoDaemon is GoNamed for a daemon machine: a background loop that need
// not finish. Once main has returned and only daemon machines are left,
// the run ends (and passes, unless a hot condition is held), and the
// daemons are torn down; a daemon still blocked then is not a leak.
// Before main returns a daemon is an ordinary machine. Outside a run
// GoDaemon is the go statement.
func GoDaemon(name string, f func()) { goNamed(name, f, true) }

func goNamed(name string, f func(), daemon bool) {
	m := current()
	if m == nil {
		go f()
		return
	}
	s := m.enter()
	if f == nil {
		shown := name
		if shown == "" {
			shown = "g" + strconv.Itoa(len(s.all))
		}
		s.fail(m, Panic, fmt.Sprintf("sched: Go(%q) with a nil function", shown))
	}
	nm := s.newMachine(name, m.proc, daemon)
	if s.hb != nil {
		s.hb.spawn(m, nm)
	}
	s.logf(m, "spawn machine %d %q", nm.id, nm.name)
	s.spawn(nm, f)
	m.res = nil
	s.yield(m)
}

// Yield is a scheduling point: under a run the strategy may run another
// machine before Yield returns. Outside a run it does nothing.
func Yield() {
	m := current()
	if m == nil {
		return
	}
	s := m.enter()
	m.res = nil
	s.yield(m)
}

// YieldOn is Yield for an operation on the resource key (any comparable
// value, such as a table name or a pointer): the "pos" strategy treats
// operations on equal keys as racing. Outside a run it does nothing.
func YieldOn(key any) {
	m := current()
	if m == nil {
		return
	}
	s := m.enter()
	m.res = key
	s.yield(m)
}

// Choose returns a nondeterministic choice in [0, n), drawn from the
// run's strategy (and recorded in the trace) when the caller is a
// machine, and from math/rand/v2 otherwise. Choose is a decision, not a
// scheduling point: the calling machine keeps running. Choose returns 0
// for n <= 1 without recording anything; n above math.MaxInt32 is a
// Panic failure.
func Choose(n int) int {
	if n <= 1 {
		return 0
	}
	m := current()
	if m == nil {
		return rand.IntN(n)
	}
	s := m.enter()
	if n > math.MaxInt32 {
		s.fail(m, Panic, fmt.Sprintf("sched: Choose(%d): n above %d", n, math.MaxInt32))
	}
	v := s.choose(m, n)
	s.mu.Unlock()
	return v
}

// Bool is Choose(2) == 1.
func Bool() bool { return Choose(2) == 1 }

// Controlled reports whether the caller is a machine of a run in
// progress.
func Controlled() bool { return current() != nil }

// Tracing reports whether Logf records events: the caller is a machine
// of a run whose Config.NoEvents is false. Callers use it to skip
// formatting.
func Tracing() bool {
	m := current()
	return m != nil && !m.s.cfg.NoEvents
}

// Step returns the number of decisions the caller's run has made so far
// (the step the caller runs in), or 0 outside a run.
func Step() int64 {
	m := current()
	if m == nil {
		return 0
	}
	s := m.s
	s.mu.Lock()
	n := s.step
	s.mu.Unlock()
	return n
}

// MachineName returns the calling machine's name, or "" outside a run.
func MachineName() string {
	if m := current(); m != nil {
		return m.name
	}
	return ""
}

// MachineID returns the calling machine's ID (0 for main, then 1, 2, ...
// in spawn order), or -1 outside a run.
func MachineID() int {
	if m := current(); m != nil {
		return m.id
	}
	return -1
}

// Logf appends an event, tagged with the current step and machine, to the
// run's event log (Result.Events). Outside a run, or with
// Config.NoEvents, it does nothing.
func Logf(format string, args ...any) {
	m := current()
	if m == nil || m.s.cfg.NoEvents {
		return
	}
	s := m.s
	s.mu.Lock()
	if !s.finished && !m.dead {
		s.logf(m, format, args...)
	}
	s.mu.Unlock()
}

// Fail ends the run with an Assertion failure carrying err and stops the
// calling machine (like testing.T.FailNow, it does not return). Outside
// a run it panics with err, since there is no run to fail.
func Fail(err error) {
	m := current()
	if m == nil {
		panic(err)
	}
	if err == nil {
		err = fmt.Errorf("sched.Fail called with a nil error")
	}
	m.inDurable = false // a durable operation may fail the run
	s := m.enter()
	s.finish(&Failure{Kind: Assertion, Step: s.step, Machine: m.id, MachineName: m.name, Message: err.Error(), Err: err})
	s.mu.Unlock()
	runtime.Goexit()
}

// Assertf calls Fail with the formatted message when cond is false.
func Assertf(cond bool, format string, args ...any) {
	if !cond {
		Fail(fmt.Errorf(format, args...))
	}
}

// SetHot marks the liveness condition name hot (true) or cold (false).
// A condition that stays hot for more than Config.LivenessSteps fair
// steps, or is hot when every machine has finished, ends the run with a
// Liveness failure. Outside a run it does nothing.
func SetHot(name string, hot bool) {
	m := current()
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

// foreign ends run s, to which a controlled primitive is bound, when the
// primitive is called from a goroutine that is not one of the run's
// machines while the run is in progress, and stops that goroutine. It
// returns (and the caller takes the plain path) when s is nil or over.
// It is small enough to inline: the plain path of production code pays a
// nil check.
func foreign(s *scheduler, what string) {
	if s != nil {
		foreignRun(s, what)
	}
}

func foreignRun(s *scheduler, what string) {
	if s.aborted.Load() {
		return
	}
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return
	}
	s.finish(&Failure{Kind: Panic, Step: s.step, Machine: -1,
		Message: "sched: " + what + " called from a goroutine that is not a machine of the run it belongs to (start goroutines with sched.Go, not the go statement)"})
	s.mu.Unlock()
	runtime.Goexit()
}

// waitQ is a list of machines blocked on one primitive, in the order
// they blocked.
type waitQ []*machine

// wait appends m and makes it wait on what (a controlled wait) on the
// resource r; s.mu is held and released when m runs again.
func (q *waitQ) wait(s *scheduler, m *machine, what string, r resource, holder *machine) {
	*q = append(*q, m)
	m.wq = q
	s.block(m, what, r, holder)
}

// wakeAll enables every machine of q and empties it.
func (q *waitQ) wakeAll(s *scheduler) {
	for _, w := range *q {
		s.unblock(w)
	}
	clear(*q)
	*q = (*q)[:0]
}

// wakeFirst enables the machine that has waited longest, if any.
func (q *waitQ) wakeFirst(s *scheduler) {
	if len(*q) > 0 {
		s.unblock((*q)[0])
		*q = append((*q)[:0], (*q)[1:]...)
	}
}

// Mutex is a mutual-exclusion lock. Under a run Lock and Unlock are
// scheduling points and a Lock that must wait is a controlled wait
// ("Mutex.Lock"); outside a run it is a sync.Mutex. The zero Mutex is
// unlocked. It must not be copied after first use, and a Mutex used
// under a run belongs to that run (its controlled state is reset when
// another run first uses it).
type Mutex struct {
	// Name names it in failure reports (see the package documentation,
	// "Reports"); the zero value is unnamed.
	Name string

	mu sync.Mutex

	run     *scheduler
	holder  *machine
	waiters waitQ
}

var _ sync.Locker = (*Mutex)(nil)

func (m *Mutex) bind(s *scheduler) {
	if m.run != s {
		m.run, m.holder, m.waiters = s, nil, nil
	}
}

func (m *Mutex) res() resource   { return resource{name: m.Name, key: m} }
func (m *Mutex) resName() string { return m.Name }

// Lock locks m, blocking (as a controlled wait under a run) while
// another machine holds it.
func (m *Mutex) Lock() {
	me := current()
	if me == nil {
		foreign(m.run, "Mutex.Lock")
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
		me.res = m
		m.waiters.wait(s, me, "Mutex.Lock", m.res(), m.holder)
		s = me.enter()
		m.bind(s)
	}
	m.holder = me
	if s.hb != nil {
		s.hb.acquire(me, m)
	}
	s.mu.Unlock()
}

// Unlock unlocks m. As with sync.Mutex, a locked Mutex is not
// associated with a machine: one machine may lock it and another unlock
// it. Under a run, unlocking an unlocked Mutex is a Panic failure.
func (m *Mutex) Unlock() {
	me := current()
	if me == nil {
		foreign(m.run, "Mutex.Unlock")
		m.mu.Unlock()
		return
	}
	s := me.enter()
	m.bind(s)
	if m.holder == nil {
		s.fail(me, Panic, "sched: Mutex.Unlock of unlocked mutex "+m.res().labelOr())
	}
	m.unlockLocked(s, me)
	me.res = m
	s.yield(me)
}

// TryLock tries to lock m and reports whether it did. Under a run it is
// a scheduling point.
func (m *Mutex) TryLock() bool {
	me := current()
	if me == nil {
		foreign(m.run, "Mutex.TryLock")
		return m.mu.TryLock()
	}
	s := me.enter()
	m.bind(s)
	me.res = m
	s.yield(me)
	s = me.enter()
	m.bind(s)
	ok := m.holder == nil
	if ok {
		m.holder = me
		if s.hb != nil {
			s.hb.acquire(me, m)
		}
	}
	s.mu.Unlock()
	return ok
}

// unlockLocked unlocks m for me.
func (m *Mutex) unlockLocked(s *scheduler, me *machine) {
	m.holder = nil
	m.waiters.wakeAll(s)
	if s.hb != nil {
		s.hb.release(me, m)
	}
}

// Cond is a condition variable, like sync.Cond: L is held while
// observing or changing the condition. Under a run, L must be a *Mutex
// or the RLocker of an RWMutex (Wait then releases and re-acquires it
// without extra scheduling points); outside a run any sync.Locker works.
type Cond struct {
	L sync.Locker
	// Name names it in failure reports (see the package documentation,
	// "Reports"); the zero value is unnamed.
	Name string

	init sync.Once
	c    sync.Cond

	run     *scheduler
	waiters waitQ
}

func (c *Cond) resName() string { return c.Name }

// NewCond returns a Cond whose Wait releases and re-acquires l.
func NewCond(l sync.Locker) *Cond { return &Cond{L: l} }

func (c *Cond) bind(s *scheduler) {
	if c.run != s {
		c.run, c.waiters = s, nil
	}
}

// condLocker forwards to c.L, so that the plain sync.Cond follows
// changes of the L field.
type condLocker Cond

func (c *condLocker) Lock()   { c.L.Lock() }
func (c *condLocker) Unlock() { c.L.Unlock() }

func (c *Cond) plain() *sync.Cond {
	c.init.Do(func() { c.c.L = (*condLocker)(c) })
	return &c.c
}

// Wait atomically unlocks c.L, waits for a Broadcast or Signal, and
// locks c.L again before returning. As with sync.Cond, callers loop on
// their condition. Under a run c.L must be locked (by any machine, as
// with sync.Cond: Wait unlocks it, and a c.L that is not locked is a
// Panic failure); the wait is a controlled wait ("Cond.Wait").
func (c *Cond) Wait() {
	me := current()
	if me == nil {
		foreign(c.run, "Cond.Wait")
		c.plain().Wait()
		return
	}
	s := me.enter()
	c.bind(s)
	r := resource{name: c.Name, key: c}
	switch l := c.L.(type) {
	case *Mutex:
		l.bind(s)
		if l.holder == nil {
			s.fail(me, Panic, "sched: Cond.Wait with its Mutex unlocked")
		}
		l.unlockLocked(s, me)
		me.res = c
		c.waiters.wait(s, me, "Cond.Wait", r, nil)
		l.lockLocked(me)
	case *rlocker:
		rw := (*RWMutex)(l)
		rw.bind(s)
		if len(rw.readers) == 0 {
			s.fail(me, Panic, "sched: Cond.Wait with its RWMutex not read-locked")
		}
		rw.runlockLocked(s, me)
		me.res = c
		c.waiters.wait(s, me, "Cond.Wait", r, nil)
		rw.rlockLocked(me)
	default:
		s.fail(me, Panic, fmt.Sprintf("sched: Cond.Wait with L of type %T (under a run L must be a *sched.Mutex or a sched.RWMutex's RLocker)", c.L))
	}
}

// Broadcast wakes every machine waiting on c. Under a run it is a
// scheduling point.
func (c *Cond) Broadcast() {
	me := current()
	if me == nil {
		foreign(c.run, "Cond.Broadcast")
		c.plain().Broadcast()
		return
	}
	s := me.enter()
	c.bind(s)
	c.waiters.wakeAll(s)
	me.res = c
	s.yield(me)
}

// Signal wakes the machine that has waited longest on c, if any. Under a
// run it is a scheduling point.
func (c *Cond) Signal() {
	me := current()
	if me == nil {
		foreign(c.run, "Cond.Signal")
		c.plain().Signal()
		return
	}
	s := me.enter()
	c.bind(s)
	c.waiters.wakeFirst(s)
	me.res = c
	s.yield(me)
}

// Future is a value that one machine resolves and others wait for.
type Future[T any] struct {
	// Name names it in failure reports (see the package documentation,
	// "Reports"); the zero value is unnamed.
	Name string

	once sync.Once
	done chan struct{}
	v    T

	run     *scheduler
	waiters waitQ
}

func (f *Future[T]) resName() string { return f.Name }

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

func (f *Future[T]) bind(s *scheduler) {
	if f.run != s {
		f.run, f.waiters = s, nil
	}
}

// Resolve sets the value and wakes every waiter. Only the first call has
// an effect. Under a run it is a scheduling point.
func (f *Future[T]) Resolve(v T) {
	me := current()
	if me == nil {
		foreign(f.run, "Future.Resolve")
		f.once.Do(func() { f.v = v; close(f.done) })
		return
	}
	s := me.enter()
	f.bind(s)
	f.once.Do(func() { f.v = v; close(f.done) })
	f.waiters.wakeAll(s)
	if s.hb != nil {
		s.hb.release(me, f)
	}
	me.res = f
	s.yield(me)
}

// Wait blocks until the Future is resolved and returns its value. Under
// a run it is a scheduling point and, while unresolved, a controlled
// wait ("Future.Wait").
func (f *Future[T]) Wait() T {
	me := current()
	if me == nil {
		foreign(f.run, "Future.Wait")
		<-f.done
		return f.v
	}
	s := me.enter()
	f.bind(s)
	me.res = f
	s.yield(me)
	for {
		s = me.enter()
		f.bind(s)
		if f.resolved() {
			if s.hb != nil {
				s.hb.acquire(me, f)
			}
			s.mu.Unlock()
			return f.v
		}
		me.res = f
		f.waiters.wait(s, me, "Future.Wait", resource{name: f.Name, key: f}, nil)
	}
}

// Done reports whether f has been resolved. It is not a scheduling point.
func (f *Future[T]) Done() bool {
	if me := current(); me != nil && me.s.hb != nil && f.run == me.s {
		s := me.enter()
		done := f.resolved()
		if done {
			s.hb.acquire(me, f)
		}
		s.mu.Unlock()
		return done
	}
	return f.resolved()
}

// WaitGroup waits for a collection of machines to finish, like
// sync.WaitGroup. Under a run Wait is a scheduling point and a
// controlled wait ("WaitGroup.Wait") while the counter is positive.
type WaitGroup struct {
	// Name names it in failure reports (see the package documentation,
	// "Reports"); the zero value is unnamed.
	Name string

	wg sync.WaitGroup

	run     *scheduler
	n       int
	waiters waitQ
}

func (g *WaitGroup) bind(s *scheduler) {
	if g.run != s {
		g.run, g.n, g.waiters = s, 0, nil
	}
}

func (g *WaitGroup) res() resource   { return resource{name: g.Name, key: g} }
func (g *WaitGroup) resName() string { return g.Name }

// Add adds delta to the counter. A negative counter is a Panic failure
// under a run (and panics outside one, as sync.WaitGroup does).
func (g *WaitGroup) Add(delta int) {
	me := current()
	if me == nil {
		foreign(g.run, "WaitGroup.Add")
		g.wg.Add(delta)
		return
	}
	s := me.enter()
	g.bind(s)
	g.n += delta
	if g.n < 0 {
		s.fail(me, Panic, "sched: negative WaitGroup counter "+g.res().labelOr())
	}
	if delta < 0 && s.hb != nil {
		s.hb.release(me, g)
	}
	if g.n == 0 {
		g.waiters.wakeAll(s)
	}
	s.mu.Unlock()
}

// Done decrements the counter by one.
func (g *WaitGroup) Done() { g.Add(-1) }

// Go calls f in a new machine (a goroutine outside a run) and adds it to
// the group: Add(1) before it starts, Done when f returns, as
// sync.WaitGroup.Go.
func (g *WaitGroup) Go(f func()) {
	g.Add(1)
	Go(func() {
		defer g.Done()
		f()
	})
}

// Wait blocks until the counter is zero.
func (g *WaitGroup) Wait() {
	me := current()
	if me == nil {
		foreign(g.run, "WaitGroup.Wait")
		g.wg.Wait()
		return
	}
	s := me.enter()
	g.bind(s)
	me.res = g
	s.yield(me)
	for {
		s = me.enter()
		g.bind(s)
		if g.n == 0 {
			if s.hb != nil {
				s.hb.acquire(me, g)
			}
			s.mu.Unlock()
			return
		}
		me.res = g
		g.waiters.wait(s, me, "WaitGroup.Wait", g.res(), nil)
	}
}
