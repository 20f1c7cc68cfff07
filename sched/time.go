package sched

import (
	"strconv"
	"time"
)

// Virtual time.
//
// The root clock is s.now, nanoseconds since cfg.Start; process p's clock
// reads s.now + p.offset. Pending timed events (sleeps, timers, tickers,
// AfterFunc, context deadlines, the ends of stalls) are kept in a heap
// ordered by the root-clock instant they are due and their creation
// order.

type timerKind uint8

const (
	timerSleep timerKind = iota + 1
	timerChan
	timerTick
	timerFunc
	timerCtx
	timerStallEnd
)

type timerEntry struct {
	at    int64 // root clock, ns since the start
	seq   uint64
	idx   int // heap index; -1 when not pending
	kind  timerKind
	owner *process

	m       *machine // timerSleep
	t       *vtimer  // timerChan, timerTick, timerFunc
	ctx     *vctx    // timerCtx
	stalled *process // timerStallEnd
}

type timerHeap []*timerEntry

func (h timerHeap) less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		c := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			c = r
		}
		if !h.less(c, i) {
			return
		}
		h.swap(i, c)
		i = c
	}
}

func (h *timerHeap) push(e *timerEntry) {
	e.idx = len(*h)
	*h = append(*h, e)
	h.up(e.idx)
}

func (h *timerHeap) pop() *timerEntry {
	e := (*h)[0]
	h.remove(e)
	return e
}

// remove takes e out of the heap if it is pending.
func (h *timerHeap) remove(e *timerEntry) {
	i := e.idx
	if i < 0 || i >= len(*h) || (*h)[i] != e {
		return
	}
	last := len(*h) - 1
	if i != last {
		h.swap(i, last)
	}
	(*h)[last] = nil
	*h = (*h)[:last]
	if i != last {
		h.down(i)
		h.up(i)
	}
	e.idx = -1
}

// removeOwned cancels every pending event of process p.
func (h *timerHeap) removeOwned(p *process) {
	for i := 0; i < len(*h); {
		if e := (*h)[i]; e.owner == p {
			h.remove(e)
			continue
		}
		i++
	}
}

// addTimer schedules e at root-clock instant at.
func (s *scheduler) addTimer(at int64, e *timerEntry) *timerEntry {
	s.w()
	s.timerSeq++
	e.at, e.seq = at, s.timerSeq
	s.timers.push(e)
	return e
}

// advanceTo moves the root clock to t (never backwards) and fires every
// event due by then, in order.
func (s *scheduler) advanceTo(t int64) {
	if t > s.now {
		s.now = t
	}
	for s.world != nil && len(s.timers) > 0 && s.timers[0].at <= s.now {
		s.fire(s.timers.pop())
	}
}

// fire runs one due timed event.
func (s *scheduler) fire(e *timerEntry) {
	switch e.kind {
	case timerSleep:
		s.unblock(e.m)
	case timerChan, timerTick:
		t := e.t
		t.e = nil
		t.ch.offerTime(s, s.cfg.Start.Add(time.Duration(e.at+t.proc.offset)), t)
		if e.kind == timerTick {
			next := e.at + t.period*((s.now-e.at)/t.period+1)
			t.e = s.addTimer(next, &timerEntry{kind: timerTick, owner: t.proc, t: t})
		}
	case timerFunc:
		t := e.t
		t.e = nil
		nm := s.newMachine("afterfunc", t.proc, false)
		if s.hb != nil {
			s.hb.acquire(nm, t)
		}
		s.event("AfterFunc timer starts machine %d", nm.id)
		s.spawn(nm, t.f)
	case timerCtx:
		e.ctx.timer = nil
		e.ctx.cancelLocked(s, errDeadline, e.ctx.deadlineCause)
	case timerStallEnd:
		s.endStall(e.stalled)
	}
}

// nextUsefulTimer returns the instant of the earliest pending event that
// can change anything: a ticker whose channel nobody waits on would tick
// forever without enabling a machine, so it does not count.
func (s *scheduler) nextUsefulTimer() (int64, bool) {
	best, ok := int64(0), false
	if s.world == nil {
		return best, ok
	}
	for _, e := range s.timers {
		if e.kind == timerTick && !e.t.ch.hasReceivers() {
			continue
		}
		if !ok || e.at < best {
			best, ok = e.at, true
		}
	}
	return best, ok
}

// procNow is process p's clock.
func (s *scheduler) procNow(p *process) time.Time {
	return s.cfg.Start.Add(time.Duration(s.now + p.offset))
}

// Now returns the current time: under a run, the calling machine's
// process clock (virtual time); outside a run, time.Now().
func Now() time.Time {
	m := current()
	if m == nil {
		return time.Now()
	}
	s := m.s
	s.mu.Lock()
	t := s.procNow(m.proc)
	s.mu.Unlock()
	return t
}

// Since returns Now().Sub(t).
func Since(t time.Time) time.Duration { return Now().Sub(t) }

// Until returns t.Sub(Now()).
func Until(t time.Time) time.Duration { return t.Sub(Now()) }

// Sleep pauses the calling machine for at least d of its clock. Under a
// run it is a scheduling point (also for d <= 0) and, for d > 0, a wait
// on time ("Sleep") that ends when the scheduler moves the clock past
// it; outside a run it is time.Sleep.
func Sleep(d time.Duration) {
	m := current()
	if m == nil {
		time.Sleep(d)
		return
	}
	s := m.enter()
	m.res = nil
	if d <= 0 {
		s.yield(m)
		return
	}
	m.sleep = s.addTimer(s.now+int64(d), &timerEntry{kind: timerSleep, owner: m.proc, m: m})
	s.block(m, "Sleep", resource{}, nil)
}

// vtimer is the controlled state of a Timer, Ticker or AfterFunc.
type vtimer struct {
	s      *scheduler
	proc   *process
	kind   timerKind
	e      *timerEntry // pending event, nil if stopped or fired
	ch     *Chan[time.Time]
	f      func()
	period int64
}

// Timer is a single event, like time.Timer: when it fires, the time is
// delivered on C (unless it was made by AfterFunc, which has no C). C
// behaves as a Go 1.23 timer channel: Len and Cap report 0, and after
// Stop or Reset no stale value is received. Under a run the timer runs
// on the creating machine's process clock; use C in Select or C.Recv.
type Timer struct {
	C *Chan[time.Time]

	std *time.Timer
	v   *vtimer
}

// NewTimer returns a Timer that fires after d.
func NewTimer(d time.Duration) *Timer {
	m := current()
	if m == nil {
		t := time.NewTimer(d)
		return &Timer{C: recvOnlyChan(t.C), std: t}
	}
	s := m.enter()
	v := &vtimer{s: s, proc: m.proc, kind: timerChan, ch: newTimerChan(s)}
	v.start(d)
	v.released(m)
	s.mu.Unlock()
	return &Timer{C: v.ch, v: v}
}

// After returns NewTimer(d).C.
func After(d time.Duration) *Chan[time.Time] { return NewTimer(d).C }

// AfterFunc calls f in its own machine (named "afterfunc", in the
// caller's process) after d; outside a run it is time.AfterFunc. The
// returned Timer's C is nil.
func AfterFunc(d time.Duration, f func()) *Timer {
	m := current()
	if m == nil {
		return &Timer{std: time.AfterFunc(d, f)}
	}
	s := m.enter()
	v := &vtimer{s: s, proc: m.proc, kind: timerFunc, f: f}
	v.start(d)
	v.released(m)
	s.mu.Unlock()
	return &Timer{v: v}
}

// released notes, for happens-before, that m set v: what m did so far
// happens before v fires (its function runs, its value is received).
func (v *vtimer) released(m *machine) {
	if v.s.hb != nil {
		v.s.hb.release(m, v)
	}
}

// start schedules v's next event after d (s.mu held).
func (v *vtimer) start(d time.Duration) {
	s := v.s
	v.e = s.addTimer(s.now+max(int64(d), 0), &timerEntry{kind: v.kind, owner: v.proc, t: v})
}

// stop cancels v's pending event and drops an undelivered value (s.mu
// held); it reports whether an event was pending.
func (v *vtimer) stop() bool {
	was := v.e != nil
	if was {
		v.s.timers.remove(v.e)
		v.e = nil
	}
	if v.ch != nil {
		v.ch.drain()
	}
	return was
}

// enterTimer locks the run of v for the calling machine; it returns nil
// (and the caller does nothing) when the run is over.
func enterTimer(v *vtimer, what string) *scheduler {
	m := current()
	if m == nil || m.s != v.s {
		foreign(v.s, what)
		return nil
	}
	return m.enter()
}

// Stop prevents the Timer from firing. It returns true if the call stops
// the timer, false if it had already fired or been stopped. It is not a
// scheduling point.
func (t *Timer) Stop() bool {
	if t.std != nil {
		return t.std.Stop()
	}
	s := enterTimer(t.v, "Timer.Stop")
	if s == nil {
		return false
	}
	was := t.v.stop()
	s.mu.Unlock()
	return was
}

// Reset changes the timer to fire after d. It returns true if the timer
// had been active. It is not a scheduling point.
func (t *Timer) Reset(d time.Duration) bool {
	if t.std != nil {
		return t.std.Reset(d)
	}
	s := enterTimer(t.v, "Timer.Reset")
	if s == nil {
		return false
	}
	was := t.v.stop()
	t.v.start(d)
	t.v.released(s.cur)
	s.mu.Unlock()
	return was
}

// Ticker delivers the time on C every period, like time.Ticker: a tick
// that finds the previous one not yet received is dropped.
type Ticker struct {
	C *Chan[time.Time]

	std *time.Ticker
	v   *vtimer
}

// NewTicker returns a Ticker with period d, which must be positive
// (under a run a non-positive d is a Panic failure; outside one,
// time.NewTicker panics).
func NewTicker(d time.Duration) *Ticker {
	m := current()
	if m == nil {
		t := time.NewTicker(d)
		return &Ticker{C: recvOnlyChan(t.C), std: t}
	}
	s := m.enter()
	if d <= 0 {
		s.fail(m, Panic, "sched: non-positive interval "+strconv.FormatInt(int64(d), 10)+"ns for NewTicker")
	}
	v := &vtimer{s: s, proc: m.proc, kind: timerTick, ch: newTimerChan(s), period: int64(d)}
	v.start(d)
	v.released(m)
	s.mu.Unlock()
	return &Ticker{C: v.ch, v: v}
}

// Stop turns off the ticker. It is not a scheduling point.
func (t *Ticker) Stop() {
	if t.std != nil {
		t.std.Stop()
		return
	}
	if s := enterTimer(t.v, "Ticker.Stop"); s != nil {
		t.v.stop()
		s.mu.Unlock()
	}
}

// Reset stops the ticker and resets its period to d (positive). It is
// not a scheduling point.
func (t *Ticker) Reset(d time.Duration) {
	if t.std != nil {
		t.std.Reset(d)
		return
	}
	s := enterTimer(t.v, "Ticker.Reset")
	if s == nil {
		return
	}
	if d <= 0 {
		s.fail(s.cur, Panic, "sched: non-positive interval "+strconv.FormatInt(int64(d), 10)+"ns for Ticker.Reset")
	}
	t.v.stop()
	t.v.period = int64(d)
	t.v.start(d)
	t.v.released(s.cur)
	s.mu.Unlock()
}
