package aztable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/migratingtable/migratingtable/spec"
)

// ErrFenced is wrapped by the error of a request that a lease's fence
// refused or cut off (see ConfigService, "Fencing"): the lease may have
// expired. A refused request was not sent; a request cut off while in
// flight has an unknown outcome; the message says which.
var ErrFenced = errors.New("the lease may have expired")

// fenceError is a request refused or cut off by a fence.
type fenceError struct{ msg string }

func (e *fenceError) Error() string { return e.msg }
func (e *fenceError) Unwrap() error { return ErrFenced }

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

// fenceOpen is the fence's rule, all on the holder's clock: a request
// sent at now may take effect until now+maxInFlight, and the holder's
// clock may run slow against another process's by up to skew over a
// lease, so the request surely takes effect before any other process can
// consider the lease expired when now + maxInFlight + skew < validUntil.
func fenceOpen(now, validUntil time.Time, maxInFlight, skew time.Duration) bool {
	return now.Add(maxInFlight + skew).Before(validUntil)
}

// fence admits requests while a lease is surely valid. It is the
// production half of the lease's safety argument (ConfigService doc);
// everything it decides goes through fenceOpen and the now clock.
type fence struct {
	what        string // "the configuration lease of …", "the migration lock of …"
	v           *validity
	maxInFlight time.Duration
	skew        time.Duration
	maxTimeout  time.Duration // a table whose requests time out later is refused
	now         func() time.Time
}

type fenceKey struct{}

// ticket is what a request's context carries: its fence, and whether
// the transport refused to send it.
type ticket struct {
	f       *fence
	refused atomic.Pointer[fenceError]
}

// ticketFrom returns the ticket a request's context carries, or nil.
func ticketFrom(ctx context.Context) *ticket {
	t, _ := ctx.Value(fenceKey{}).(*ticket)
	return t
}

// check checks the ticket's fence and records a refusal.
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
		return 0, &fenceError{msg: fmt.Sprintf("aztable: request not sent: %s was lost: %v", f.what, ErrFenced)}
	}
	now := f.now()
	if !fenceOpen(now, until, f.maxInFlight, f.skew) {
		return 0, &fenceError{msg: fmt.Sprintf("aztable: request not sent: %s may have expired: it is valid for %v more, less than MaxInFlight %v + ClockSkew %v (%v)",
			f.what, max(until.Sub(now), 0).Round(time.Millisecond), f.maxInFlight, f.skew, ErrFenced)}
	}
	return until.Sub(now) - f.maxInFlight - f.skew, nil
}

// admit checks the fence before a request on t and returns the context
// to send it with: it carries the fence (the Account's transport checks
// it again as the request goes out) and a deadline when the fence
// closes.
func (f *fence) admit(ctx context.Context, t spec.Table) (context.Context, context.CancelFunc, error) {
	if rt, ok := t.(interface{ RequestTimeout() time.Duration }); ok && rt.RequestTimeout() > f.maxTimeout {
		return nil, nil, fmt.Errorf("aztable: request not sent: the table's requests time out after %v, longer than the RequestTimeout of %v that %s's fence assumes; use the same RequestTimeout for the accounts and the configuration service",
			rt.RequestTimeout(), f.maxTimeout, f.what)
	}
	left, ferr := f.check()
	if ferr != nil {
		return nil, nil, ferr
	}
	ctx2, cancel := context.WithTimeout(context.WithValue(ctx, fenceKey{}, &ticket{f: f}), left)
	return ctx2, cancel, nil
}

// done turns the error of a request sent with ctx2 (from admit on ctx)
// into a fence error when the transport refused to send it, or when the
// fence's deadline cut it off in flight.
func (f *fence) done(ctx, ctx2 context.Context, err error) error {
	if err == nil {
		return nil
	}
	if t := ticketFrom(ctx2); t != nil {
		if ferr := t.refused.Load(); ferr != nil {
			return ferr // not sent whole: the service cannot have applied it
		}
	}
	if errors.Is(err, ErrFenced) || ctx.Err() != nil || !errors.Is(ctx2.Err(), context.DeadlineExceeded) {
		return err
	}
	return &fenceError{msg: fmt.Sprintf("aztable: request cut off in flight, its outcome unknown: %s may have expired (%v): %v", f.what, ErrFenced, err)}
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
	ctx2, cancel, err := ft.f.admit(ctx, ft.t)
	if err != nil {
		return nil, err
	}
	defer cancel()
	res, err := ft.t.ExecuteBatch(ctx2, ops)
	return res, ft.f.done(ctx, ctx2, err)
}

func (ft *fencedTable) QueryAtomic(ctx context.Context, filter spec.Filter) ([]spec.Entity, error) {
	ctx2, cancel, err := ft.f.admit(ctx, ft.t)
	if err != nil {
		return nil, err
	}
	defer cancel()
	rows, err := ft.t.QueryAtomic(ctx2, filter)
	return rows, ft.f.done(ctx, ctx2, err)
}

func (ft *fencedTable) QueryStreamed(ctx context.Context, filter spec.Filter) (spec.Stream, error) {
	ctx2, cancel, err := ft.f.admit(ctx, ft.t)
	if err != nil {
		return nil, err
	}
	defer cancel()
	s, err := ft.t.QueryStreamed(ctx2, filter)
	if err != nil {
		return nil, ft.f.done(ctx, ctx2, err)
	}
	return &fencedStream{s: s, ft: ft}, nil
}

type fencedStream struct {
	s  spec.Stream
	ft *fencedTable
}

func (fs *fencedStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	ctx2, cancel, err := fs.ft.f.admit(ctx, fs.ft.t)
	if err != nil {
		return spec.Entity{}, false, err
	}
	defer cancel()
	e, ok, err := fs.s.Next(ctx2)
	return e, ok, fs.ft.f.done(ctx, ctx2, err)
}

func (fs *fencedStream) Continuation() (spec.Key, bool) { return fs.s.Continuation() }
func (fs *fencedStream) Close() error                   { return fs.s.Close() }

// fencingTransport checks the fence a request's context carries once
// more as the request goes out, and again each time the HTTP transport
// reads the request body: so a process stopped between the fence check
// and the send does not send a request once the fence has closed. (The
// check cannot be atomic with the write to the socket: a process stopped
// in the few instructions between the last body read and that write can
// still send late. See ConfigService, "Fencing".)
type fencingTransport struct{ next http.RoundTripper }

func (t fencingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tk := ticketFrom(req.Context())
	if tk == nil {
		return t.next.RoundTrip(req)
	}
	if err := tk.check(); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	if req.Body != nil && req.Body != http.NoBody {
		r2 := req.Clone(req.Context())
		r2.Body = &fencedBody{rc: req.Body, tk: tk}
		req = r2
	}
	return t.next.RoundTrip(req)
}

// fencedBody checks the fence before each read: a request whose body is
// cut short is never applied by the service.
type fencedBody struct {
	rc io.ReadCloser
	tk *ticket
}

func (b *fencedBody) Read(p []byte) (int, error) {
	if err := b.tk.check(); err != nil {
		return 0, err
	}
	return b.rc.Read(p)
}

func (b *fencedBody) Close() error { return b.rc.Close() }
