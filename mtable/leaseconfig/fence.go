package leaseconfig

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// ErrFenced is wrapped by the error of a request that a lease's fence
// refused or cut off (see "Fencing" in the package documentation): the
// lease may have expired. A refused request was not sent (its error
// also wraps spec.ErrNotApplied); a request cut off while in flight has
// an unknown outcome (its error wraps spec.ErrOutcomeUnknown); the
// message says which.
var ErrFenced = errors.New("the lease may have expired")

// fenceError is a request refused or cut off by a fence. It is
// classified for spec.Classify: a refused request was not sent
// (spec.ErrNotApplied), one cut off in flight has an unknown outcome
// (spec.ErrOutcomeUnknown).
type fenceError struct {
	msg     string
	unknown bool // cut off in flight
}

func (e *fenceError) Error() string { return e.msg }
func (e *fenceError) Unwrap() []error {
	if e.unknown {
		return []error{ErrFenced, spec.ErrOutcomeUnknown}
	}
	return []error{ErrFenced, spec.ErrNotApplied}
}

// The small shared records below are guarded by plain mutexes: their
// critical sections never block and hold no scheduling point, so under
// the scheduler they are never contended (one machine runs at a time,
// and a machine is only switched out at a scheduling point), and the
// transport may call a fence's check from a goroutine of its own.

// validity is how long a lease is valid, as its holder measures it: on
// the holder's clock, from the start of its last successful renewal.
type validity struct {
	mu    sync.Mutex
	until time.Time
	lost  bool
}

// extend makes the lease valid until t, if that is later.
func (v *validity) extend(t time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if t.After(v.until) {
		v.until = t
	}
}

// lose marks the lease lost for good.
func (v *validity) lose() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.lost = true
}

func (v *validity) get() (until time.Time, lost bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.until, v.lost
}

// drain is the latest instant at which a write of this process whose
// outcome is unknown (it timed out, was cut off or failed in transport)
// may still take effect: its send plus MaxInFlight. The process does not
// acknowledge a state before it (see "Fencing").
type drain struct {
	mu    sync.Mutex
	until time.Time
}

func (d *drain) extend(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t.After(d.until) {
		d.until = t
	}
}

func (d *drain) get() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.until
}

// flight counts a fence's requests in flight (admitted, not yet ended)
// and when the latest of them was sent.
type flight struct {
	mu   sync.Mutex
	n    int
	last time.Time
}

func (fl *flight) start(now time.Time) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.n++
	if now.After(fl.last) {
		fl.last = now
	}
}

func (fl *flight) end() {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.n--
}

// fenceOpen is the fence's rule, all on the holder's clock: a request
// sent at now may take effect until now+maxInFlight, and the holder's
// clock may run slow against another process's by up to skew over a
// lease, so the request surely takes effect before any other process can
// consider the lease expired when now + maxInFlight + skew < validUntil.
func fenceOpen(now, validUntil time.Time, maxInFlight, skew time.Duration) bool {
	return now.Add(maxInFlight + skew).Before(validUntil)
}

// fence admits requests while a lease is surely valid. Everything it
// decides goes through fenceOpen and sched.Now.
type fence struct {
	what        string // "the configuration lease of …", "the migration lock of …"
	v           *validity
	maxInFlight time.Duration
	skew        time.Duration
	timeout     time.Duration // RequestTimeout: every request's deadline; a table that waits longer is refused
	drain       *drain        // the process's, shared by its fences
	flight      flight
}

// quietAt returns the instant after which no request this fence let
// through can take effect any more, once it admits no more: MaxInFlight
// after the latest send while requests are in flight, and the process's
// drain.
func (f *fence) quietAt() time.Time {
	t := f.drain.get()
	f.flight.mu.Lock()
	defer f.flight.mu.Unlock()
	if f.flight.n > 0 {
		if end := f.flight.last.Add(f.maxInFlight); end.After(t) {
			t = end
		}
	}
	return t
}

// waitQuiet waits until quietAt, for a fence closed for good (its lease
// given up): then its lease can be deleted without a request it let
// through landing after the deletion.
func (f *fence) waitQuiet() {
	for {
		d := sched.Until(f.quietAt())
		if d <= 0 {
			return
		}
		sched.Sleep(d)
	}
}

// ticket is the state of one request through a fence: whether the
// transport refused to send it.
type ticket struct {
	f       *fence
	refused atomic.Pointer[fenceError]
}

// check is the request's send check (spec.WithSendCheck): it checks the
// fence again and records a refusal.
func (t *ticket) check() error {
	if _, ferr := t.f.check(); ferr != nil {
		t.refused.CompareAndSwap(nil, ferr)
		return ferr
	}
	return nil
}

// check returns how long the fence stays open, or the error of a
// request refused now.
func (f *fence) check() (time.Duration, *fenceError) {
	until, lost := f.v.get()
	if lost {
		return 0, &fenceError{msg: fmt.Sprintf("leaseconfig: request not sent: %s was lost: %v", f.what, ErrFenced)}
	}
	now := sched.Now()
	if !fenceOpen(now, until, f.maxInFlight, f.skew) {
		return 0, &fenceError{msg: fmt.Sprintf("leaseconfig: request not sent: %s may have expired: it is valid for %v more, less than MaxInFlight %v + ClockSkew %v (%v)",
			f.what, max(until.Sub(now), 0).Round(time.Millisecond), f.maxInFlight, f.skew, ErrFenced)}
	}
	return until.Sub(now) - f.maxInFlight - f.skew, nil
}

// request is one request admitted by a fence.
type request struct {
	ctx    context.Context // the caller's
	ctx2   context.Context // the one it is sent with
	cancel context.CancelFunc
	tk     *ticket
	sent   time.Time
	cut    bool // the fence's closing, not RequestTimeout, is its deadline
}

// admit checks the fence before a request on t and returns the request
// to send: its context carries the fence as a send check (a transport
// checks it again as the request goes out) and a deadline, on the
// caller's clock, of RequestTimeout or the fence's closing, whichever
// comes first.
func (f *fence) admit(ctx context.Context, t spec.Table) (*request, error) {
	if rt, ok := t.(spec.RequestTimeouter); ok && rt.RequestTimeout() > f.timeout {
		return nil, fmt.Errorf("leaseconfig: request not sent: the table's requests time out after %v, longer than the RequestTimeout of %v that %s's fence assumes; use the same RequestTimeout for the tables and the configuration service",
			rt.RequestTimeout(), f.timeout, f.what)
	}
	left, ferr := f.check()
	if ferr != nil {
		return nil, ferr
	}
	r := &request{ctx: ctx, tk: &ticket{f: f}, sent: sched.Now(), cut: left < f.timeout}
	r.ctx2, r.cancel = sched.WithTimeout(spec.WithSendCheck(ctx, r.tk.check), min(left, f.timeout))
	f.flight.start(r.sent)
	return r, nil
}

// done ends the request: it turns its error into a fence error when the
// transport refused to send it, or when the fence's closing cut it off
// in flight, and it records a write whose outcome is unknown (drain).
func (f *fence) done(r *request, write bool, err error) error {
	r.cancel()
	f.flight.end()
	if err == nil {
		return nil
	}
	if ferr := r.tk.refused.Load(); ferr != nil {
		return ferr // not sent whole: the service cannot have applied it
	}
	if write && spec.StatusOf(err) == 0 {
		// Neither applied nor refused by the service, as far as we know:
		// it may still take effect, until MaxInFlight after it was sent.
		f.drain.extend(r.sent.Add(f.maxInFlight))
	}
	if errors.Is(err, ErrFenced) || r.ctx.Err() != nil || !r.cut || !errors.Is(r.ctx2.Err(), context.DeadlineExceeded) {
		return err
	}
	return &fenceError{msg: fmt.Sprintf("leaseconfig: request cut off in flight, its outcome unknown: %s may have expired (%v): %v", f.what, ErrFenced, err), unknown: true}
}

// wrap returns t seen through the fence.
func (f *fence) wrap(t spec.Table) spec.Table {
	if t == nil {
		return nil
	}
	return &fencedTable{t: t, f: f}
}

// fencedTable sends each request of t only while its fence is open.
type fencedTable struct {
	t spec.Table
	f *fence
}

func (ft *fencedTable) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	r, err := ft.f.admit(ctx, ft.t)
	if err != nil {
		return nil, err
	}
	res, err := ft.t.ExecuteBatch(r.ctx2, ops)
	return res, ft.f.done(r, true, err)
}

func (ft *fencedTable) QueryAtomic(ctx context.Context, filter spec.Filter) ([]spec.Entity, error) {
	r, err := ft.f.admit(ctx, ft.t)
	if err != nil {
		return nil, err
	}
	rows, err := ft.t.QueryAtomic(r.ctx2, filter)
	return rows, ft.f.done(r, false, err)
}

func (ft *fencedTable) QueryStreamed(ctx context.Context, filter spec.Filter) (spec.Stream, error) {
	r, err := ft.f.admit(ctx, ft.t)
	if err != nil {
		return nil, err
	}
	s, err := ft.t.QueryStreamed(r.ctx2, filter)
	if err != nil {
		return nil, ft.f.done(r, false, err)
	}
	ft.f.done(r, false, nil)
	return &fencedStream{s: s, ft: ft}, nil
}

// fencedStream admits each Next through the fence.
type fencedStream struct {
	s  spec.Stream
	ft *fencedTable
}

func (fs *fencedStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	r, err := fs.ft.f.admit(ctx, fs.ft.t)
	if err != nil {
		return spec.Entity{}, false, err
	}
	e, ok, err := fs.s.Next(r.ctx2)
	return e, ok, fs.ft.f.done(r, false, err)
}

func (fs *fencedStream) Continuation() (spec.Key, bool) { return fs.s.Continuation() }
func (fs *fencedStream) Close() error                   { return fs.s.Close() }
