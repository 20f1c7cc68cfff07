package sched

import (
	"context"
	"sync"
	"time"
)

var errDeadline = context.DeadlineExceeded

// WithTimeout is WithDeadline(parent, Now().Add(d)).
func WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if current() == nil {
		return context.WithTimeout(parent, d)
	}
	return WithDeadline(parent, Now().Add(d))
}

// WithTimeoutCause is WithDeadlineCause(parent, Now().Add(d), cause).
func WithTimeoutCause(parent context.Context, d time.Duration, cause error) (context.Context, context.CancelFunc) {
	if current() == nil {
		return context.WithTimeoutCause(parent, d, cause)
	}
	return WithDeadlineCause(parent, Now().Add(d), cause)
}

// WithDeadlineCause is WithDeadline, but when the deadline passes,
// context.Cause of the returned context is cause (Err is still
// context.DeadlineExceeded); outside a run it is
// context.WithDeadlineCause.
func WithDeadlineCause(parent context.Context, d time.Time, cause error) (context.Context, context.CancelFunc) {
	if current() == nil {
		return context.WithDeadlineCause(parent, d, cause)
	}
	return withDeadline(parent, d, cause)
}

// WithDeadline returns a copy of parent that is done when the calling
// machine's process clock reaches d, when the returned cancel function
// is called, or when parent is done, whichever happens first; outside a
// run it is context.WithDeadline.
//
// Under a run the context is virtual: the scheduler cancels it when it
// moves the clock past d (Err then returns context.DeadlineExceeded, as
// does context.Cause). It behaves as a standard context: Deadline,
// Value and context.Cause work, and contexts derived from it with the
// context package are cancelled synchronously with it (it implements the
// AfterFunc method the context package looks for), never by a background
// goroutine. Wait for it in a Select with DoneCase: a plain receive from
// Done blocks outside the scheduler's control.
//
// A parent made by WithTimeout or WithDeadline cancels the child at once
// when it is cancelled. A parent of the standard context package that
// can be cancelled is checked when Done or Err is called and at every
// scheduling point, so a context derived from the child with the
// context package learns of the parent's cancellation at the next
// scheduling point. The deadline of a standard parent is on the real
// clock and is ignored.
func WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	if current() == nil {
		return context.WithDeadline(parent, d)
	}
	return withDeadline(parent, d, nil)
}

// withDeadline makes a virtual context for the calling machine; cause,
// when not nil, is its cause once the deadline passes.
func withDeadline(parent context.Context, d time.Time, cause error) (context.Context, context.CancelFunc) {
	m := current()
	if m == nil {
		return context.WithDeadlineCause(parent, d, cause) // the run ended meanwhile
	}
	if parent == nil {
		panic("cannot create context from nil parent")
	}
	// The standard part first: it may call parent's methods, which may
	// lock the scheduler.
	v := &vctx{parent: parent, done: make(chan struct{}), deadlineCause: cause}
	v.causeCC, v.causeCancel = context.WithCancelCause(parent)
	vp := vctxOf(parent)
	s := m.enter()
	v.s = s
	v.deadline = d
	if s.hb != nil {
		s.hb.release(m, v) // creating it happens before its deadline passes
	}
	if vp != nil && vp.s == s && vp.deadline.Before(d) {
		v.deadline = vp.deadline
	}
	at := d.Sub(s.cfg.Start).Nanoseconds() - m.proc.offset
	switch {
	case vp != nil && vp.s == s && parent.Done() == vp.done:
		vp.mu.Lock()
		if vp.err == nil {
			vp.children = append(vp.children, v)
		}
		perr := vp.err
		vp.mu.Unlock()
		if perr != nil {
			v.cancelLocked(s, perr, context.Cause(vp))
		}
	case parent.Done() != nil:
		if err := parent.Err(); err != nil {
			v.cancelLocked(s, err, context.Cause(parent))
		} else {
			s.w().watched = append(s.w().watched, v)
		}
	}
	if v.err == nil {
		if at <= s.now {
			v.cancelLocked(s, errDeadline, v.deadlineCause)
		} else if !v.deadline.Before(d) {
			v.timer = s.addTimer(at, &timerEntry{kind: timerCtx, owner: m.proc, ctx: v})
		}
	}
	s.mu.Unlock()
	return v, v.cancel
}

// WithValue is context.WithValue, except that when parent is done when
// a virtual context (see WithDeadline) is, the result also has the
// AfterFunc method of that context, so that the contexts the context
// package derives from it (WithCancel, WithTimeout, ...) are cancelled
// synchronously with it. Those that it derives from a plain
// context.WithValue of a virtual context are cancelled by a goroutine of
// the context package, outside the scheduler's control: a Select waiting
// on one may see the cancellation late, or never, and report a
// deadlock.
func WithValue(parent context.Context, key, val any) context.Context {
	c := context.WithValue(parent, key, val)
	if v := vctxOf(parent); v != nil {
		return &valueCtx{Context: c, v: v}
	}
	return c
}

// valueCtx is a context.WithValue of a virtual context, with the
// virtual context's AfterFunc.
type valueCtx struct {
	context.Context
	v *vctx
}

func (c *valueCtx) AfterFunc(f func()) (stop func() bool) { return c.v.AfterFunc(f) }

// vctx is a virtual context (see WithDeadline).
type vctx struct {
	s      *scheduler
	parent context.Context
	// causeCC is context.WithCancelCause(parent): Value delegates to it,
	// so context.Cause finds the cause there, and a standard parent's
	// cancellation reaches it synchronously.
	causeCC     context.Context
	causeCancel context.CancelCauseFunc
	deadline    time.Time
	timer       *timerEntry
	// deadlineCause is the cause given to WithDeadlineCause, or nil.
	deadlineCause error

	mu       sync.Mutex
	done     chan struct{}
	err      error
	children []*vctx
	funcs    []*afterFunc
	waiters  []selRef
}

type afterFunc struct {
	f    func()
	done bool
}

type selRef struct {
	sel *selState
	idx int
}

func dropRef(l []selRef, sel *selState) []selRef {
	j := 0
	for _, r := range l {
		if r.sel != sel {
			l[j] = r
			j++
		}
	}
	clear(l[j:])
	return l[:j]
}

type vctxKey struct{}

// vctxOf returns the virtual context whose Done channel is ctx's, or
// nil.
func vctxOf(ctx context.Context) *vctx {
	if ctx == nil {
		return nil
	}
	if v, ok := ctx.(*vctx); ok {
		return v
	}
	v, _ := ctx.Value(vctxKey{}).(*vctx)
	if v != nil && ctx.Done() != v.done {
		return nil
	}
	return v
}

func (v *vctx) Deadline() (time.Time, bool) { return v.deadline, true }

func (v *vctx) Done() <-chan struct{} {
	v.poll()
	return v.done
}

func (v *vctx) Err() error {
	v.poll()
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err
}

func (v *vctx) Value(key any) any {
	if key == (vctxKey{}) {
		return v
	}
	return v.causeCC.Value(key)
}

func (v *vctx) String() string {
	return "sched.WithDeadline(" + v.deadline.String() + ")"
}

// AfterFunc arranges for f to be called, synchronously, when v is done;
// stop cancels that and reports whether it did. The context package
// calls it to propagate v's cancellation to the contexts it derives
// from v.
func (v *vctx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	v.mu.Lock()
	if v.err != nil {
		v.mu.Unlock()
		a.done = true
		f()
		return func() bool { return false }
	}
	v.funcs = append(v.funcs, a)
	v.mu.Unlock()
	return func() bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		if a.done {
			return false
		}
		a.done = true
		for i, x := range v.funcs {
			if x == a {
				v.funcs = append(v.funcs[:i], v.funcs[i+1:]...)
				break
			}
		}
		return true
	}
}

func (v *vctx) isDone() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err != nil
}

// poll cancels v if a standard parent has been cancelled (s.mu not
// held).
func (v *vctx) poll() {
	if v.isDone() || v.causeCC.Err() == nil {
		return
	}
	s := v.s
	s.mu.Lock()
	v.pollLocked(s)
	s.mu.Unlock()
}

// pollLocked is poll with s.mu held.
func (v *vctx) pollLocked(s *scheduler) {
	if v.isDone() {
		return
	}
	if err := v.causeCC.Err(); err != nil {
		if s.hb != nil {
			// Who cancelled the standard parent is not known.
			s.hb.everythingInto(v)
		}
		v.cancelLocked(s, err, context.Cause(v.causeCC))
	}
}

// cancel is the CancelFunc of WithDeadline.
func (v *vctx) cancel() {
	s := v.s
	m := current()
	switch {
	case m == nil:
		foreign(s, "the cancel function of a sched.WithDeadline context")
		s.mu.Lock()
	case m.s == s:
		s = m.enter()
		if s.hb != nil {
			s.hb.release(m, v)
		}
	default:
		s.mu.Lock()
	}
	v.cancelLocked(s, context.Canceled, nil)
	s.mu.Unlock()
}

// cancelLocked cancels v with err and cause (err when nil), with s.mu
// held: it closes Done, cancels v's virtual children, calls the functions
// registered by AfterFunc, and completes the Selects waiting on v.
func (v *vctx) cancelLocked(s *scheduler, err, cause error) {
	v.mu.Lock()
	if v.err != nil {
		v.mu.Unlock()
		return
	}
	v.err = err
	close(v.done)
	funcs, children, waiters := v.funcs, v.children, v.waiters
	v.funcs, v.children, v.waiters = nil, nil, nil
	for _, a := range funcs {
		a.done = true
	}
	v.mu.Unlock()
	if cause == nil {
		cause = err
	}
	v.causeCancel(cause)
	if v.timer != nil {
		s.timers.remove(v.timer)
		v.timer = nil
	}
	if !s.finished {
		for _, w := range waiters {
			if s.hb != nil {
				s.hb.acquire(w.sel.m, v)
			}
			s.complete(w.sel, w.idx)
		}
	}
	for _, c := range children {
		if s.hb != nil {
			clk := s.hb.sync[c]
			join(&clk, s.hb.sync[v])
			s.hb.sync[c] = clk
		}
		c.cancelLocked(s, err, cause)
	}
	for _, a := range funcs {
		a.f()
	}
}

// poll checks, at a decision, the virtual contexts with a standard parent
// and the Select cases waiting on a standard context.
func (s *scheduler) poll() {
	j := 0
	for _, v := range s.watched {
		v.pollLocked(s)
		if !v.isDone() {
			s.watched[j] = v
			j++
		}
	}
	clear(s.watched[j:])
	s.watched = s.watched[:j]
	for i := 0; i < len(s.polled); {
		p := s.polled[i]
		if p.sel.chosen < 0 && p.ctx.Err() != nil {
			if s.hb != nil {
				// Who cancelled a standard context is not known.
				s.hb.everything(p.sel.m)
			}
			s.complete(p.sel, p.idx)
			i = 0 // complete removed the select's entries
			continue
		}
		i++
	}
}
