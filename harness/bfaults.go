package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// Backend faults (Workload.BackendFaults): in the production world a
// request to the old, new or configuration table may fail the way Azure
// Table requests fail. The faults are decisions of the strategy, drawn
// as "pos" draws its fault points: at the start of the run the main
// machine chooses, for each fault of the budget, the number of the
// request it falls on among the first ExpectedRequests requests of the
// run (in the order they reach their last scheduling point), and when
// that request comes, which fault it takes among those its kind of
// request can take. Every choice is a Choose of the stream "fault", so
// the faults are in the trace, replay exactly, and a lenient replay
// without them (the shrinker's move "backend-faults") keeps the other
// streams as recorded.

// BackendFault is the kind of a fault injected into a backend request.
type BackendFault uint8

// The backend faults.
const (
	// FaultNotApplied: the request fails before it is applied (a 503
	// ServerBusy, a connection refused); its error wraps
	// spec.ErrNotApplied.
	FaultNotApplied BackendFault = iota + 1
	// FaultApplied: a batch is applied, and then the request fails (a
	// timeout after the batch applied); its error wraps
	// spec.ErrOutcomeUnknown.
	FaultApplied
	// FaultLate: a batch is sent and lands late, 250ms to
	// lateMost after it was sent (within the service's MaxInFlight),
	// whether or not its caller still waits; a caller whose request
	// deadline passes first gets an error wrapping
	// spec.ErrOutcomeUnknown.
	FaultLate
	// FaultReadFails: an atomic query (a retrieve) fails; its error
	// wraps spec.ErrNotApplied.
	FaultReadFails
	// FaultStreamFails: a streamed query's request, or the request for
	// a stream's next page, fails; its error wraps spec.ErrNotApplied.
	FaultStreamFails
	// FaultOutage: the table is unavailable to the process for a while:
	// this request and the process's next mtable.MaxBackendAttempts-1
	// requests to the table fail before they apply (as FaultNotApplied,
	// FaultReadFails or FaultStreamFails), enough to exhaust the
	// library's retries of one step. Each failed request is listed.
	FaultOutage
)

var backendFaultNames = [...]string{
	FaultNotApplied: "not-applied", FaultApplied: "applied-then-failed", FaultLate: "late",
	FaultReadFails: "read-fails", FaultStreamFails: "stream-fails", FaultOutage: "outage",
}

// String returns the fault's name as the report prints it.
func (f BackendFault) String() string {
	if int(f) < len(backendFaultNames) && f > 0 {
		return backendFaultNames[f]
	}
	return fmt.Sprintf("BackendFault(%d)", int(f))
}

// ExpectedRequests is about the number of backend requests of a run of
// the production world: the backend faults fall among its first ones.
const ExpectedRequests = 300

// DefaultBackendFaults is the default workload's budget of backend
// faults, and MaxBackendFaults the most Validate accepts.
const (
	DefaultBackendFaults = 3
	MaxBackendFaults     = 20
)

// lateStep is the unit of a late landing's delay, and lateMost the
// longest: MaxInFlight - RequestTimeout, so that a request sent at its
// deadline still lands within MaxInFlight of its admission by the fence.
const (
	lateStep = 250 * time.Millisecond
	lateMost = MaxInFlight - RequestTimeout
)

// reqKind is the kind of a backend request, for the faults it can take.
type reqKind uint8

const (
	reqBatch reqKind = iota
	reqRead
	reqStream
)

var reqFaults = [...][]BackendFault{
	reqBatch:  {FaultNotApplied, FaultApplied, FaultLate, FaultOutage},
	reqRead:   {FaultReadFails, FaultOutage},
	reqStream: {FaultStreamFails, FaultOutage},
}

// failNow is the fault a request of kind k takes during an outage.
var failNow = [...]BackendFault{reqBatch: FaultNotApplied, reqRead: FaultReadFails, reqStream: FaultStreamFails}

// outageKey names a process's link to a table, for its outage.
type outageKey struct{ proc, table string }

// backendFault is one fault injected into a backend request.
type backendFault struct {
	kind  BackendFault
	proc  string
	table string
	step  int64
	call  *callRecord // the virtual call the request was made for, if any
	// outage is set for the requests of an outage (FaultOutage), whose
	// kind is the failure each took.
	outage bool
}

// String is the fault as the report's list of faults names it: "step
// N: " and what.
func (f backendFault) String() string {
	return fmt.Sprintf("step %d: %s", f.step, f.what())
}

// what is the fault without its step, as the event log (whose events
// carry their steps) says it: "read-fails (outage) request of migrator
// on the config table".
func (f backendFault) what() string {
	kind := f.kind.String()
	if f.outage {
		kind += " (outage)"
	}
	s := fmt.Sprintf("%s request of %s on the %s table", kind, f.proc, f.table)
	if f.call != nil {
		s += " (" + f.call.String() + ")"
	}
	return s
}

// drawBackendFaults draws the requests the run's backend faults fall
// on: BackendFaults numbers among the first ExpectedRequests, sorted.
func (w *world) drawBackendFaults() {
	for range w.wl.BackendFaults {
		w.faultAt = append(w.faultAt, w.choose(ExpectedRequests, chFault, -1, -1, -1))
	}
	slices.Sort(w.faultAt)
}

// fault is the backend fault decision of a request of kind k, at its
// last scheduling point: whether it takes a fault, and which. It counts
// the request (see drawBackendFaults).
func (b *backend) fault(ctx context.Context, k reqKind) BackendFault {
	w := b.w
	if !b.link || w.wl.BackendFaults == 0 {
		return 0
	}
	n := w.requests
	w.requests++
	// The faults drawn on this request (two drawn on one: the second is
	// lost).
	drawn := false
	for len(w.faultAt) > 0 && w.faultAt[0] == n {
		w.faultAt, drawn = w.faultAt[1:], true
	}
	ok := outageKey{b.proc, b.name}
	if left := w.outage[ok]; left > 0 {
		// The outage goes on: a fault drawn on this request is lost too.
		w.outage[ok] = left - 1
		w.bfaults = append(w.bfaults, &backendFault{kind: failNow[k], outage: true, proc: b.proc, table: b.name, step: sched.Step(), call: callFrom(ctx)})
		sched.Logf("backend fault: %s", w.bfaults[len(w.bfaults)-1].what())
		return failNow[k]
	}
	if !drawn {
		return 0
	}
	c := callFrom(ctx)
	app, call := -1, -1
	if c != nil {
		app, call = c.MID, c.Seq
	}
	kinds := reqFaults[k]
	f := kinds[w.choose(len(kinds), chFault, app, call, -1)]
	rec := &backendFault{kind: f, proc: b.proc, table: b.name, step: sched.Step(), call: c}
	if f == FaultOutage {
		if w.outage == nil {
			w.outage = map[outageKey]int{}
		}
		w.outage[ok] = mtable.MaxBackendAttempts - 1
		rec.kind, rec.outage = failNow[k], true
	}
	w.bfaults = append(w.bfaults, rec)
	sched.Logf("backend fault: %s", rec.what())
	return rec.kind
}

// injectedError is the error of an injected backend fault.
func (b *backend) injectedError(f BackendFault) error {
	switch f {
	case FaultApplied:
		return spec.WrapOutcomeUnknown(fmt.Errorf("harness: %s table: request timed out after the batch applied (injected %s)", b.name, f))
	default:
		return spec.WrapNotApplied(fmt.Errorf("harness: %s table: 503 server busy (injected %s)", b.name, f))
	}
}

// AnnotateCandidate makes refMonitor a mtable.CandidateMonitor: the
// call's candidate is kept until its batch lands.
func (m refMonitor) AnnotateCandidate(ctx context.Context, cand mtable.Candidate) {
	if c := callFrom(ctx); c != nil {
		c.cand = &cand
	}
}

// landCandidate is oracle 1 at a batch that landed without its caller
// hearing of it in the same step (FaultApplied, FaultLate): when it is
// the call's announced candidate and applied, the call took effect
// here, and the reference applies it with the Candidate's results. A
// linearization point the library reports later for it (a late answer
// that arrived in time) is then already applied.
//
// It reports whether the batch was the call's candidate.
func (w *world) landCandidate(ctx context.Context, ops []spec.Op, res []spec.Result) bool {
	c := callFrom(ctx)
	if c == nil || c.cand == nil || !sameOps(c.cand.Ops, ops) {
		return false
	}
	cand := c.cand
	c.cand = nil
	if c.LPStep != 0 {
		w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Call: c.String(),
			Message: fmt.Sprintf("a candidate applied after the call's linearization point (step %d)", c.LPStep)})
		return true
	}
	results := cand.Results(res)
	if len(results) != len(c.Call.Ops) {
		w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Call: c.String(),
			Message: fmt.Sprintf("the candidate maps %d backend results to %d results for %d operations", len(res), len(results), len(c.Call.Ops))})
		return true
	}
	etags := make([]spec.ETag, len(results))
	for i, r := range results {
		etags[i] = r.ETag
	}
	if w.opts.wrongLanding {
		etags = nil // a lenient judgement, for the test that must catch it
	}
	c.LPStep, c.landed = sched.Step(), true
	var out Outcome
	if etags == nil {
		rres, err := w.ref.ExecuteBatch(ctx, c.Call.Ops)
		out = outcomeOf(rres, nil, err)
	} else {
		rres, err := w.ref.ApplyBatchWithETags(c.Call.Ops, etags)
		out = outcomeOf(rres, nil, err)
	}
	c.Ref = &out
	sched.Logf("%s call %d takes effect where its candidate landed; reference: %s", c.Machine, c.Seq, out)
	if out.Status != 0 {
		w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Call: c.String(),
			Message: "the call's candidate applied on the backend, but the reference refuses the call: " + out.String()})
		return true
	}
	w.revs = append(w.revs, w.ref.Snapshot())
	return true
}

// followUnseen is oracle 1 at a batch other than a candidate that landed
// unseen by its caller (a migrator's copy or clean-up rewrite that
// applied, then failed or landed late): the library cannot report the
// ETag it gave a row (it reports "" when it learns of it, if ever), so
// the reference takes each ETag-only change of the view from the
// backend tables, which the harness changed.
func (w *world) followUnseen(keys []spec.Key, before []viewRow) {
	changed := false
	for i, k := range keys {
		b, a := before[i], w.view(k)
		if !b.ok || !a.ok || b.e.ETag == a.e.ETag || !propsEqual(b.e.Props, a.e.Props) {
			continue
		}
		if r, ok := w.ref.Snapshot().Get(k); ok && propsEqual(r.Props, a.e.Props) && w.ref.SetETag(k, a.e.ETag) {
			changed = true
		}
	}
	if changed {
		w.revs = append(w.revs, w.ref.Snapshot())
	}
}

func sameOps(a, b []spec.Op) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0] || slices.EqualFunc(a, b, func(x, y spec.Op) bool {
		return x.Kind == y.Kind && x.Entity.Key == y.Entity.Key && x.Entity.ETag == y.Entity.ETag
	}))
}

// explainedByBackend reports whether the backend faults explain err,
// returned by a call (c set) or a migrator's Run (c nil) of process
// proc between steps from and to: an error wrapping leaseconfig.ErrFenced
// or ErrLeaseLost by a fault of a request of the process to the
// configuration table at any time before (a renewal that failed); an error wrapping
// mtable.ErrOutcomeUnknown by a batch of the call that applied then
// failed or was late; any other (definite) error by a late batch (its
// caller's deadline passed), a failed stream request of the process (for a streamed query), or
// MaxBackendAttempts faults of the process meanwhile, requests its fence
// refused counted with them (the library tries each step that often); a plain client's call by a fault of its one
// request.
func (w *world) explainedByBackend(c *callRecord, proc string, from, to int64, err error) bool {
	if errors.Is(err, leaseconfig.ErrFenced) || errors.Is(err, leaseconfig.ErrLeaseLost) {
		// A renewal that failed leaves the lease valid for less time, as
		// a stall does.
		for _, f := range w.bfaults {
			if f.proc == proc && f.table == "config" && f.step <= to {
				return true
			}
		}
	}
	if c != nil && c.Plain != viaLibrary {
		// A plain client's call is one request, which it does not retry:
		// a fault of that request is its error.
		for _, f := range w.bfaults {
			if f.call == c {
				return true
			}
		}
		return false
	}
	if errors.Is(err, mtable.ErrOutcomeUnknown) {
		for _, f := range w.bfaults {
			if f.call == c && c != nil && (f.kind == FaultApplied || f.kind == FaultLate) {
				return true
			}
		}
		return false
	}
	n := 0
	for _, f := range w.bfaults {
		if f.proc != proc || f.step < from || f.step > to {
			continue
		}
		// A streamed query's new-table stream may be opened by the
		// machine that delivers a push to the process, outside the call.
		if f.kind == FaultLate || f.kind == FaultStreamFails && (c == nil || c.Call.Kind == CallStream) {
			return true
		}
		n++
	}
	// The fence's refusals are tries too: a step may fail its first
	// tries unsent (its lease shortened by a stall or a failed renewal)
	// and its last on faults.
	for _, r := range w.refused {
		if r.proc == proc && from <= r.step && r.step <= to {
			n++
		}
	}
	return n >= mtable.MaxBackendAttempts
}

// backendFaultIn reports whether a backend fault hit a request of
// process proc between steps from and to.
func (w *world) backendFaultIn(proc string, from, to int64) bool {
	for _, f := range w.bfaults {
		if f.proc == proc && from <= f.step && f.step <= to {
			return true
		}
	}
	return false
}
