package harness

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// Oracle names, as printed in failure reports.
const (
	CheckAnnotations     = "linearization-point annotations" // oracle 1
	CheckLinearizability = "linearizability (annotation-free)"
	CheckStream          = "streamed-query validity"
	CheckLiveness        = "liveness"
	CheckFinalState      = "end-of-run state"
	CheckMigrator        = "migrator"
	CheckError           = "unexpected error"
	CheckFencing         = "fencing"
	CheckPlain           = "plain client"
)

// CheckFailure is an oracle's verdict against a run.
type CheckFailure struct {
	Check   string // one of the Check* names
	Machine string
	Step    int64
	Call    string // the call concerned, if any
	Message string
	Diff    string // go-cmp diff, -want +got
}

func (f *CheckFailure) Error() string {
	s := f.Check + ": " + f.Message
	if f.Call != "" {
		s += "\ncall: " + f.Call
	}
	if f.Diff != "" {
		s += "\ndiff (-want +got):\n" + f.Diff
	}
	return s
}

// refMonitor is oracle 1: at each linearization point the library
// reports, it runs the same logical call on the reference table; when the
// call returns, the outcomes must agree.
type refMonitor struct{ w *world }

var _ mtable.Monitor = refMonitor{}

func (m refMonitor) AnnotateBackendCall(ctx context.Context, a mtable.Annotation) {
	w := m.w
	changed := false
	for _, ch := range a.ETagChanges {
		if ch.ETag == "" {
			// Unknown to the library (a copy whose earlier try had an
			// unknown outcome): the harness applied that try, and the
			// backend tables show the ETag it wrote.
			if v := w.view(ch.Key); v.ok {
				ch.ETag = v.e.ETag
			}
		}
		if ch.ETag != "" && w.ref.SetETag(ch.Key, ch.ETag) {
			changed = true
		}
	}
	if a.LinearizationPoint {
		c := callFrom(ctx)
		switch {
		case c == nil:
			w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Message: "linearization point reported outside any virtual call"})
			return
		case c.Call.Kind == CallStream:
			w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Call: c.String(), Message: "linearization point reported for a streamed query"})
			return
		case c.landed && !c.absorbed:
			// The answer of a late candidate that arrived in time: the
			// reference applied the call where the candidate landed.
			c.absorbed = true
			if changed {
				w.revs = append(w.revs, w.ref.Snapshot())
			}
			return
		case c.LPStep != 0:
			w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Call: c.String(),
				Message: fmt.Sprintf("second linearization point (first at step %d)", c.LPStep)})
			return
		}
		c.LPStep = sched.Step()
		var out Outcome
		switch c.Call.Kind {
		case CallBatch:
			if a.BatchResults != nil {
				if len(a.BatchResults) != len(c.Call.Ops) {
					w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Call: c.String(),
						Message: fmt.Sprintf("annotated %d batch results for %d operations", len(a.BatchResults), len(c.Call.Ops))})
					return
				}
				etags := make([]spec.ETag, len(a.BatchResults))
				for i, r := range a.BatchResults {
					etags[i] = r.ETag
				}
				res, err := w.ref.ApplyBatchWithETags(c.Call.Ops, etags)
				out = outcomeOf(res, nil, err)
			} else {
				res, err := w.ref.ExecuteBatch(ctx, c.Call.Ops)
				out = outcomeOf(res, nil, err)
			}
			changed = changed || out.Status == 0
		case CallQuery:
			rows, err := w.ref.QueryAtomic(ctx, c.Call.Filter)
			out = outcomeOf(nil, rows, err)
		case CallRetrieve:
			rows, err := w.ref.QueryAtomic(ctx, spec.KeyFilter(c.Call.Key))
			out = outcomeOf(nil, rows, err)
		}
		c.Ref = &out
		sched.Logf("linearization point of %s call %d; reference: %s", c.Machine, c.Seq, out)
	}
	if changed {
		w.revs = append(w.revs, w.ref.Snapshot())
	}
}

// checkReturn compares a returned call with its reference outcome.
func (m refMonitor) checkReturn(ctx context.Context, c *callRecord) {
	w := m.w
	if c.Call.Kind == CallStream || c.Outcome.Status == StatusNotTable {
		return // streams are oracle 3's; unexpected errors are CheckError's
	}
	if c.Ref == nil {
		if verr := callerError(c.Call); verr != nil {
			// Refused before any backend call, as the library's doc
			// says: no linearization point, the reference's 400.
			if c.Outcome.Status == spec.StatusOf(verr) && c.Outcome.Index == spec.IndexOf(verr) {
				return
			}
		}
		w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Call: c.String(),
			Message: "call returned without reporting a linearization point (got " + c.Outcome.String() + ")"})
		return
	}
	if c.Call.Kind == CallBatch && c.Outcome.Status == 0 {
		for i, r := range c.Outcome.Results {
			if op := c.Call.Ops[i]; op.Kind.IsDelete() != (r.ETag == "") {
				w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Call: c.String(),
					Message: fmt.Sprintf("result %d of %s has ETag %q: deletes return none, other operations the new ETag", i, op.Kind, r.ETag)})
				return
			}
		}
	}
	if sameOutcome(*c.Ref, c.Outcome) {
		return
	}
	want, got := canonical(*c.Ref), canonical(c.Outcome)
	if want.equal(got) {
		return
	}
	if d := diff(want, got); d != "" {
		w.fail(ctx, &CheckFailure{Check: CheckAnnotations, Call: c.String(),
			Message: fmt.Sprintf("outcome differs from the reference table's at the linearization point (step %d)", c.LPStep),
			Diff:    d})
	}
}

// comparableOutcome is the part of an Outcome the contract fixes:
// timestamps and error texts are free.
type comparableOutcome struct {
	Status, Index int
	Results       []spec.Result
	Rows          []comparableRow
}

type comparableRow struct {
	Key   spec.Key
	ETag  spec.ETag
	Props string
}

// equal is cmp.Equal for comparableOutcome, without reflection (it runs
// on every call; cmp.Diff runs only to explain a difference).
func (a comparableOutcome) equal(b comparableOutcome) bool {
	return a.Status == b.Status && a.Index == b.Index &&
		slices.Equal(a.Results, b.Results) && (a.Results == nil) == (b.Results == nil) &&
		slices.Equal(a.Rows, b.Rows) && (a.Rows == nil) == (b.Rows == nil)
}

// sameOutcome reports whether a and b are equal as comparableOutcomes,
// without formatting anything (it runs on every call).
func sameOutcome(a, b Outcome) bool {
	return a.Status == b.Status && a.Index == b.Index &&
		slices.Equal(a.Results, b.Results) && (a.Results == nil) == (b.Results == nil) &&
		sameRowList(a.Rows, b.Rows) && (a.Rows == nil) == (b.Rows == nil)
}

// sameRowList reports whether a and b hold the same rows: keys, ETags
// and properties (canonicalRow's fields), in order.
func sameRowList(a, b []spec.Entity) bool {
	return slices.EqualFunc(a, b, func(x, y spec.Entity) bool {
		return x.Key == y.Key && x.ETag == y.ETag && propsIdentical(x.Props, y.Props)
	})
}

// propsIdentical reports whether a and b have the same names, each with
// a value of the same type and literal (so 0.0 and -0.0 differ, as
// formatProps has them).
func propsIdentical(a, b spec.Props) bool {
	if len(a) != len(b) {
		return false
	}
	for n, v := range a {
		w, ok := b[n]
		if !ok || v != w || v.Type() == spec.TypeDouble && math.Signbit(v.AsDouble()) != math.Signbit(w.AsDouble()) {
			return false
		}
	}
	return true
}

func canonical(o Outcome) comparableOutcome {
	c := comparableOutcome{Status: o.Status, Index: o.Index, Results: o.Results}
	for _, e := range o.Rows {
		c.Rows = append(c.Rows, canonicalRow(e))
	}
	return c
}

// diff is cmp.Diff made deterministic: go-cmp deliberately varies its
// output between processes (it sometimes writes non-breaking spaces) to
// discourage depending on it, but reports and trace files must be the
// same byte for byte on every run.
func diff(want, got any) string {
	return strings.ReplaceAll(cmp.Diff(want, got), "\u00a0", " ")
}

// callerError is the 400 the table contract gives a call's batch before
// looking at any row (spec.ValidateBatch: here, a DeleteIfExists with
// other operations), or nil.
func callerError(c Call) error {
	if c.Kind != CallBatch {
		return nil
	}
	return spec.ValidateBatch(c.Ops)
}
