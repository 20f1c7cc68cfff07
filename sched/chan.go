package sched

import (
	"context"
	"iter"
	"reflect"
	"time"
)

// Chan is a channel of T. Its methods stand for Go's channel syntax, one
// each:
//
//	c <- v              c.Send(v)
//	v := <-c            v := c.Recv()
//	v, ok := <-c        v, ok := c.RecvOK()
//	for v := range c    for v := range c.All()
//	close(c)            c.Close()
//	len(c), cap(c)      c.Len(), c.Cap()
//	make(chan T, n)     NewChan[T](n)
//	select { ... }      Select(c.RecvCase(...), c.SendCase(...), ...)
//
// Under a run its operations are scheduling points and a Send or Recv
// that cannot proceed is a controlled wait ("Chan.Send", "Chan.Recv"),
// with Go's semantics: an unbuffered send
// completes when a receiver takes the value, a buffered one when there
// is room; Close wakes every receiver (with the zero value and ok false)
// and makes every blocked or later sender fail; a send on a closed
// channel and a close of a closed channel are Panic failures naming the
// channel. Outside a run a Chan is a plain Go channel.
//
// Make Chans with NewChan; a nil *Chan behaves as a nil channel (its
// operations block forever; in Select its cases are never ready). A Chan
// made or first used under a run belongs to that run.
type Chan[T any] struct {
	// Name names it in failure reports (see the package documentation,
	// "Reports"); the zero value is unnamed.
	Name string

	c     chan T   // the plain channel (nil for a timer's channel)
	rc    <-chan T // what a plain receive reads: c, or a time.Timer's C
	n     int
	timer bool // a Timer's or Ticker's channel

	run    *scheduler
	buf    []T
	closed bool
	recvq  []*chanWaiter[T]
	sendq  []*chanWaiter[T]
}

// chanWaiter is a machine blocked on one channel operation, alone or as
// one case of a Select (the runtime's sudog).
type chanWaiter[T any] struct {
	m   *machine
	sel *selState
	idx int // case index in the select
	v   T   // the value to send, or the value received
	ok  bool
}

// selState is one blocked channel operation or Select: its machine, the
// registrations to remove when it completes, and the case taken.
type selState struct {
	m      *machine
	cases  []Case   // a Select's cases
	single dequeuer // a single Send or Recv
	chosen int      // -1 while waiting
	closed bool     // a send woken by Close
}

type dequeuer interface {
	dequeue(s *scheduler, sel *selState)
}

func (sel *selState) dequeueAll(s *scheduler) {
	if sel.single != nil {
		sel.single.dequeue(s, sel)
	}
	for _, c := range sel.cases {
		if c != nil {
			c.dequeue(s, sel)
		}
	}
}

// complete ends sel's wait with case idx taken by another machine (or the
// scheduler); it reports false if sel had completed already.
func (s *scheduler) complete(sel *selState, idx int) bool {
	if sel.chosen >= 0 {
		return false
	}
	sel.chosen = idx
	sel.dequeueAll(s)
	s.unblock(sel.m)
	return true
}

// NewChan returns a channel with buffer capacity n (0: unbuffered).
func NewChan[T any](n int) *Chan[T] {
	c := &Chan[T]{c: make(chan T, n), n: n}
	c.rc = c.c
	if m := current(); m != nil {
		c.run = m.s
	}
	return c
}

func recvOnlyChan(rc <-chan time.Time) *Chan[time.Time] {
	return &Chan[time.Time]{rc: rc, timer: true}
}

func newTimerChan(s *scheduler) *Chan[time.Time] {
	return &Chan[time.Time]{n: 1, timer: true, run: s}
}

func (c *Chan[T]) bind(s *scheduler) {
	if c.run != s {
		c.run, c.buf, c.closed, c.recvq, c.sendq = s, nil, false, nil, nil
	}
}

func (c *Chan[T]) res() resource   { return resource{name: c.Name, key: c} }
func (c *Chan[T]) resName() string { return c.Name }

func (c *Chan[T]) label() string { return c.res().labelOr() }

// Send sends v on c.
func (c *Chan[T]) Send(v T) {
	if c == nil {
		blockForever("Chan.Send (nil channel)")
		return
	}
	m := current()
	if m == nil {
		foreign(c.run, "Chan.Send")
		if c.c == nil {
			panic("sched: send on a timer's channel")
		}
		c.c <- v
		return
	}
	s := m.enter()
	c.bind(s)
	m.res = c
	s.yield(m)
	s = m.enter()
	c.bind(s)
	c.checkSend(s, m)
	if c.trySend(s, v, m, nil) {
		s.mu.Unlock()
		return
	}
	sel := &selState{m: m, single: c, chosen: -1}
	c.sendq = append(c.sendq, &chanWaiter[T]{m: m, sel: sel, v: v})
	m.sel = sel
	s.block(m, "Chan.Send", c.res(), nil)
	if sel.closed {
		s = m.enter()
		s.fail(m, Panic, "sched: send on closed channel "+c.label())
	}
}

func (c *Chan[T]) checkSend(s *scheduler, m *machine) {
	if c.timer {
		s.fail(m, Panic, "sched: send on a timer's channel")
	}
	if c.closed {
		s.fail(m, Panic, "sched: send on closed channel "+c.label())
	}
}

// Recv receives a value from c, as <-c: the zero value once c is closed
// and empty.
func (c *Chan[T]) Recv() T {
	v, _ := c.RecvOK()
	return v
}

// RecvOK receives a value from c, as v, ok := <-c: ok is false when c is
// closed and empty.
func (c *Chan[T]) RecvOK() (v T, ok bool) {
	if c == nil {
		blockForever("Chan.Recv (nil channel)")
		return v, false
	}
	m := current()
	if m == nil {
		foreign(c.run, "Chan.Recv")
		v, ok = <-c.rc
		return v, ok
	}
	s := m.enter()
	c.bind(s)
	m.res = c
	s.yield(m)
	s = m.enter()
	c.bind(s)
	if v, ok, ready := c.tryRecv(s, m); ready {
		s.mu.Unlock()
		return v, ok
	}
	sel := &selState{m: m, single: c, chosen: -1}
	w := &chanWaiter[T]{m: m, sel: sel}
	c.recvq = append(c.recvq, w)
	m.sel = sel
	s.block(m, "Chan.Recv", c.res(), nil)
	return w.v, w.ok
}

// All returns an iterator over the values received from c until it is
// closed and empty: for v := range c.All() is Go's for v := range c. Each
// receive is a RecvOK.
func (c *Chan[T]) All() iter.Seq[T] {
	return func(yield func(T) bool) {
		for {
			v, ok := c.RecvOK()
			if !ok || !yield(v) {
				return
			}
		}
	}
}

// Close closes c.
func (c *Chan[T]) Close() {
	m := current()
	if c == nil {
		if m != nil {
			s := m.enter()
			s.fail(m, Panic, "sched: close of nil channel")
		}
		close((chan T)(nil))
	}
	if m == nil {
		foreign(c.run, "Chan.Close")
		if c.c == nil {
			panic("sched: close of a timer's channel")
		}
		close(c.c)
		return
	}
	s := m.enter()
	c.bind(s)
	m.res = c
	s.yield(m)
	s = m.enter()
	c.bind(s)
	if c.timer {
		s.fail(m, Panic, "sched: close of a timer's channel")
	}
	if c.closed {
		s.fail(m, Panic, "sched: close of closed channel "+c.label())
	}
	c.closed = true
	rq, sq := c.recvq, c.sendq
	c.recvq, c.sendq = nil, nil
	var closed vclock
	if h := s.hb; h != nil {
		cc := c.clocks(h)
		cc.closed = h.message(m, nil)
		closed = cc.closed
	}
	for _, w := range rq {
		var zero T
		w.v, w.ok = zero, false
		if s.hb != nil {
			join(&s.hb.vcs[w.m.id], closed)
		}
		s.complete(w.sel, w.idx)
	}
	for _, w := range sq {
		if w.sel.chosen < 0 {
			w.sel.closed = true
			s.complete(w.sel, w.idx)
		}
	}
	s.mu.Unlock()
}

// Len returns the number of values in c's buffer (0 for a timer's
// channel). It is not a scheduling point.
func (c *Chan[T]) Len() int {
	if c == nil || c.timer {
		return 0
	}
	if m := current(); m != nil && c.run == m.s {
		s := m.s
		s.mu.Lock()
		n := len(c.buf)
		s.mu.Unlock()
		return n
	}
	return len(c.rc)
}

// Cap returns c's buffer capacity (0 for a timer's channel).
func (c *Chan[T]) Cap() int {
	if c == nil || c.timer {
		return 0
	}
	return c.n
}

// trySend sends v, from machine from (nil: from timer src), if a
// receiver waits or the buffer has room.
func (c *Chan[T]) trySend(s *scheduler, v T, from *machine, src any) bool {
	if len(c.recvq) > 0 {
		w := c.recvq[0]
		c.recvq = c.recvq[1:]
		w.v, w.ok = v, true
		if h := s.hb; h != nil {
			cc := c.clocks(h)
			h.received(cc, w.m, h.message(from, src))
			h.sendDone(cc, c.n, from)
		}
		s.complete(w.sel, w.idx)
		return true
	}
	if len(c.buf) < c.n {
		if h := s.hb; h != nil {
			cc := c.clocks(h) // before the value is buffered
			cc.msgs = append(cc.msgs, h.message(from, src))
			h.sendDone(cc, c.n, from)
		}
		c.buf = append(c.buf, v)
		return true
	}
	return false
}

// clocks returns c's happens-before clocks (made, when c has none yet,
// with a nil clock for each value it buffers).
func (c *Chan[T]) clocks(h *hbState) *chanClocks { return h.chanOf(c, len(c.buf), c.timer) }

// tryRecv receives, for machine to, if a sender waits, the buffer holds a
// value, or c is closed.
func (c *Chan[T]) tryRecv(s *scheduler, to *machine) (v T, ok, ready bool) {
	if len(c.sendq) > 0 {
		w := c.sendq[0]
		c.sendq = c.sendq[1:]
		h := s.hb
		var cc *chanClocks
		if h != nil {
			cc = c.clocks(h)
		}
		if c.n == 0 {
			v = w.v
			if h != nil {
				h.received(cc, to, h.message(w.m, nil))
			}
		} else {
			v = c.pop()
			c.buf = append(c.buf, w.v)
			if h != nil {
				h.received(cc, to, cc.popMsg())
				cc.msgs = append(cc.msgs, h.message(w.m, nil))
			}
		}
		if h != nil {
			h.sendDone(cc, c.n, w.m)
		}
		s.complete(w.sel, w.idx)
		return v, true, true
	}
	if len(c.buf) > 0 {
		if h := s.hb; h != nil {
			cc := c.clocks(h)
			h.received(cc, to, cc.popMsg())
		}
		return c.pop(), true, true
	}
	if c.closed {
		if h := s.hb; h != nil {
			join(&h.vcs[to.id], c.clocks(h).closed)
		}
		return v, false, true
	}
	return v, false, false
}

func (c *Chan[T]) pop() T {
	v := c.buf[0]
	var zero T
	copy(c.buf, c.buf[1:])
	c.buf[len(c.buf)-1] = zero
	c.buf = c.buf[:len(c.buf)-1]
	return v
}

func (c *Chan[T]) recvReady() bool { return len(c.sendq) > 0 || len(c.buf) > 0 || c.closed }

func (c *Chan[T]) dequeue(_ *scheduler, sel *selState) {
	c.recvq = dropSel(c.recvq, sel)
	c.sendq = dropSel(c.sendq, sel)
}

func dropSel[T any](q []*chanWaiter[T], sel *selState) []*chanWaiter[T] {
	j := 0
	for _, w := range q {
		if w.sel != sel {
			q[j] = w
			j++
		}
	}
	clear(q[j:])
	return q[:j]
}

// offerTime delivers a tick of timer src: to a waiting receiver, else
// into the buffer if it is empty; else the tick is dropped.
func (c *Chan[T]) offerTime(s *scheduler, v T, src any) {
	if len(c.recvq) > 0 {
		c.trySend(s, v, nil, src)
		return
	}
	if len(c.buf) == 0 {
		if h := s.hb; h != nil {
			cc := c.clocks(h) // before the value is buffered
			cc.msgs = append(cc.msgs, h.message(nil, src))
		}
		c.buf = append(c.buf, v)
	}
}

func (c *Chan[T]) hasReceivers() bool { return len(c.recvq) > 0 }

// drain drops an undelivered tick (Timer.Stop and Reset).
func (c *Chan[T]) drain() {
	clear(c.buf)
	c.buf = c.buf[:0]
	if h := c.run.hb; h != nil {
		if cc := h.chans[c]; cc != nil {
			cc.msgs = cc.msgs[:0]
		}
	}
}

// blockForever blocks the calling machine for good (a nil channel), or
// the calling goroutine outside a run.
func blockForever(what string) {
	m := current()
	if m == nil {
		select {}
	}
	s := m.enter()
	m.res = nil
	s.yield(m)
	s = m.enter()
	s.block(m, what, resource{}, nil)
}

// Case is one case of a Select, made by Chan.RecvCase, Chan.SendCase,
// DoneCase or Default.
type Case interface {
	owner() *scheduler
	bind(s *scheduler)
	ready(s *scheduler) bool
	// commit takes the ready case for m.
	commit(s *scheduler, m *machine)
	enqueue(s *scheduler, sel *selState, idx int)
	dequeue(s *scheduler, sel *selState)
	// woken copies the result left by the machine that completed the
	// case.
	woken()
	call()
	plain() reflect.SelectCase
	setPlain(v reflect.Value, ok bool)
	resource() any
}

// RecvCase is a Select case that receives from c and then calls f with
// the value and ok (false when c is closed and empty). f may be nil.
func (c *Chan[T]) RecvCase(f func(v T, ok bool)) Case { return &recvCase[T]{c: c, f: f} }

// SendCase is a Select case that sends v on c and then calls f (which
// may be nil).
func (c *Chan[T]) SendCase(v T, f func()) Case { return &sendCase[T]{c: c, v: v, f: f} }

type recvCase[T any] struct {
	c  *Chan[T]
	f  func(T, bool)
	w  *chanWaiter[T]
	v  T
	ok bool
}

func (r *recvCase[T]) owner() *scheduler {
	if r.c == nil {
		return nil
	}
	return r.c.run
}
func (r *recvCase[T]) bind(s *scheduler) {
	if r.c != nil {
		r.c.bind(s)
	}
}
func (r *recvCase[T]) ready(*scheduler) bool { return r.c != nil && r.c.recvReady() }
func (r *recvCase[T]) commit(s *scheduler, m *machine) {
	r.v, r.ok, _ = r.c.tryRecv(s, m)
}
func (r *recvCase[T]) enqueue(_ *scheduler, sel *selState, idx int) {
	if r.c != nil {
		r.w = &chanWaiter[T]{m: sel.m, sel: sel, idx: idx}
		r.c.recvq = append(r.c.recvq, r.w)
	}
}
func (r *recvCase[T]) dequeue(s *scheduler, sel *selState) {
	if r.c != nil {
		r.c.dequeue(s, sel)
	}
}
func (r *recvCase[T]) woken() { r.v, r.ok = r.w.v, r.w.ok }
func (r *recvCase[T]) call() {
	if r.f != nil {
		r.f(r.v, r.ok)
	}
}
func (r *recvCase[T]) plain() reflect.SelectCase {
	var ch <-chan T
	if r.c != nil {
		ch = r.c.rc
	}
	return reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)}
}
func (r *recvCase[T]) setPlain(v reflect.Value, ok bool) {
	r.ok = ok
	if ok {
		r.v = v.Interface().(T)
	}
}
func (r *recvCase[T]) resource() any {
	if r.c == nil {
		return nil
	}
	return r.c
}

type sendCase[T any] struct {
	c *Chan[T]
	v T
	f func()
}

func (c *sendCase[T]) owner() *scheduler {
	if c.c == nil {
		return nil
	}
	return c.c.run
}
func (c *sendCase[T]) bind(s *scheduler) {
	if c.c != nil {
		c.c.bind(s)
	}
}
func (c *sendCase[T]) ready(*scheduler) bool {
	ch := c.c
	return ch != nil && (ch.timer || ch.closed || len(ch.recvq) > 0 || len(ch.buf) < ch.n)
}
func (c *sendCase[T]) commit(s *scheduler, m *machine) {
	c.c.checkSend(s, m)
	c.c.trySend(s, c.v, m, nil)
}
func (c *sendCase[T]) enqueue(_ *scheduler, sel *selState, idx int) {
	if c.c != nil {
		c.c.sendq = append(c.c.sendq, &chanWaiter[T]{m: sel.m, sel: sel, idx: idx, v: c.v})
	}
}
func (c *sendCase[T]) dequeue(s *scheduler, sel *selState) {
	if c.c != nil {
		c.c.dequeue(s, sel)
	}
}
func (c *sendCase[T]) woken()        {}
func (c *sendCase[T]) label() string { return c.c.label() }
func (c *sendCase[T]) call() {
	if c.f != nil {
		c.f()
	}
}
func (c *sendCase[T]) plain() reflect.SelectCase {
	var ch chan T
	if c.c != nil {
		ch = c.c.c
	}
	return reflect.SelectCase{Dir: reflect.SelectSend, Chan: reflect.ValueOf(ch), Send: reflect.ValueOf(&c.v).Elem()}
}
func (c *sendCase[T]) setPlain(reflect.Value, bool) {}
func (c *sendCase[T]) resource() any {
	if c.c == nil {
		return nil
	}
	return c.c
}

// DoneCase is a Select case that is ready when ctx is done, and then
// calls f (which may be nil). Under a run, a context made by WithTimeout
// or WithDeadline (or derived from one by WithValue) is done when the
// scheduler cancels it; any other context is checked (ctx.Err) at every
// scheduling point.
func DoneCase(ctx context.Context, f func()) Case { return &doneCase{ctx: ctx, f: f} }

type doneCase struct {
	ctx context.Context
	f   func()
	v   *vctx
}

func (d *doneCase) owner() *scheduler {
	if v := vctxOf(d.ctx); v != nil {
		return v.s
	}
	return nil
}
func (d *doneCase) bind(s *scheduler) {
	if v := vctxOf(d.ctx); v != nil && v.s == s {
		d.v = v
	}
}
func (d *doneCase) ready(s *scheduler) bool {
	if d.v != nil {
		d.v.pollLocked(s)
		return d.v.isDone()
	}
	return d.ctx.Done() != nil && d.ctx.Err() != nil
}
func (d *doneCase) commit(s *scheduler, m *machine) {
	switch {
	case s.hb == nil:
	case d.v != nil:
		s.hb.acquire(m, d.v)
	default:
		// A standard context: who cancelled it is not known.
		s.hb.everything(m)
	}
}
func (d *doneCase) enqueue(s *scheduler, sel *selState, idx int) {
	if d.v != nil {
		d.v.waiters = append(d.v.waiters, selRef{sel, idx})
	} else if d.ctx.Done() != nil {
		w := s.w()
		w.polled = append(w.polled, polledCase{sel: sel, idx: idx, ctx: d.ctx})
	}
}
func (d *doneCase) dequeue(s *scheduler, sel *selState) {
	if d.v != nil {
		d.v.waiters = dropRef(d.v.waiters, sel)
		return
	}
	if s.world == nil {
		return
	}
	j := 0
	for _, p := range s.polled {
		if p.sel != sel {
			s.polled[j] = p
			j++
		}
	}
	clear(s.polled[j:])
	s.polled = s.polled[:j]
}
func (d *doneCase) woken() {}
func (d *doneCase) call() {
	if d.f != nil {
		d.f()
	}
}
func (d *doneCase) plain() reflect.SelectCase {
	return reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(d.ctx.Done())}
}
func (d *doneCase) setPlain(reflect.Value, bool) {}
func (d *doneCase) resource() any                { return nil }

// Default is the default case of a Select: taken when no other case is
// ready; then f (which may be nil) is called.
func Default(f func()) Case { return &defaultCase{f: f} }

type defaultCase struct{ f func() }

func (*defaultCase) owner() *scheduler                  { return nil }
func (*defaultCase) bind(*scheduler)                    {}
func (*defaultCase) ready(*scheduler) bool              { return false }
func (*defaultCase) commit(*scheduler, *machine)        {}
func (*defaultCase) enqueue(*scheduler, *selState, int) {}
func (*defaultCase) dequeue(*scheduler, *selState)      {}
func (*defaultCase) woken()                             {}
func (*defaultCase) setPlain(reflect.Value, bool)       {}
func (*defaultCase) resource() any                      { return nil }
func (d *defaultCase) plain() reflect.SelectCase {
	return reflect.SelectCase{Dir: reflect.SelectDefault}
}
func (d *defaultCase) call() {
	if d.f != nil {
		d.f()
	}
}

// polledCase is a Select case waiting on a context that the scheduler
// cannot observe being cancelled: checked at every decision.
type polledCase struct {
	sel *selState
	idx int
	ctx context.Context
}

// Select waits until one of its cases can proceed, takes it, calls its
// function and returns its index, like Go's select statement. With a
// Default case it does not wait. Under a run Select is a scheduling
// point; when several cases are ready, which one is taken is a decision
// (recorded as a choice among the ready cases, in case order); when none
// is and there is no Default, it is a controlled wait ("Select") until
// another machine or the clock makes a case ready. Select() with no
// cases blocks forever. Outside a run it is reflect.Select.
func Select(cases ...Case) int {
	m := current()
	if m == nil {
		for _, c := range cases {
			foreign(c.owner(), "Select")
		}
		return plainSelect(cases)
	}
	s := m.enter()
	m.res = nil
	for _, c := range cases {
		if r := c.resource(); r != nil {
			m.res = r
			break
		}
	}
	s.yield(m)
	s = m.enter()
	def := -1
	var ready []int
	for i, c := range cases {
		if _, ok := c.(*defaultCase); ok {
			def = i
			continue
		}
		c.bind(s)
		if c.ready(s) {
			ready = append(ready, i)
		}
	}
	if len(ready) > 0 {
		k := ready[0]
		if len(ready) > 1 {
			k = ready[s.choose(m, len(ready))]
		}
		cases[k].commit(s, m)
		s.mu.Unlock()
		cases[k].call()
		return k
	}
	if def >= 0 {
		s.mu.Unlock()
		cases[def].call()
		return def
	}
	sel := &selState{m: m, cases: cases, chosen: -1}
	for i, c := range cases {
		c.enqueue(s, sel, i)
	}
	m.sel = sel
	s.block(m, "Select", resource{}, nil)
	k := sel.chosen
	if sel.closed {
		s = m.enter()
		what := ""
		if l, ok := cases[k].(interface{ label() string }); ok {
			what = " " + l.label()
		}
		s.fail(m, Panic, "sched: send on closed channel"+what)
	}
	cases[k].woken()
	cases[k].call()
	return k
}

func plainSelect(cases []Case) int {
	rc := make([]reflect.SelectCase, len(cases))
	for i, c := range cases {
		rc[i] = c.plain()
	}
	k, v, ok := reflect.Select(rc)
	cases[k].setPlain(v, ok)
	cases[k].call()
	return k
}
