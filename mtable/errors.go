package mtable

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// ErrOutcomeUnknown is wrapped by the error of a virtual ExecuteBatch
// whose linearization-point candidate write (see Backend errors in the
// package documentation) failed with an unknown outcome: the call may
// have taken effect, once, at that write, or not at all. The error also
// wraps spec.ErrOutcomeUnknown and the backend's error, and spec.Classify
// says spec.Unknown for it. Every other error of a call that is not a
// table outcome is definite: the call did not take effect, and
// spec.Classify says spec.NotApplied.
var ErrOutcomeUnknown = errors.New("mtable: outcome unknown")

// MaxBackendAttempts bounds how often the library tries one backend step
// that fails with a not-applied or (where retrying is safe) an
// unknown-outcome error: the first try and up to MaxBackendAttempts-1
// retries, the k-th after waiting RetryBackoff<<(k-1) (sched.Sleep, so
// virtual time under the deterministic scheduler).
const MaxBackendAttempts = 4

// RetryBackoff is the wait before the first retry of a backend step;
// each further retry waits twice as long as the one before.
const RetryBackoff = 5 * time.Millisecond

// callError is the library's error for a backend failure that is not
// the caller's table outcome.
type callError struct {
	outcome spec.Outcome // spec.NotApplied or spec.Unknown
	msg     string
	cause   error // nil when the backend's error was a *spec.Error (flattened into msg)
}

func (e *callError) Error() string { return e.msg }

// Outcome is the call's classification, which spec.Classify reports.
func (e *callError) Outcome() spec.Outcome { return e.outcome }

func (e *callError) Unwrap() []error {
	out := []error{spec.ErrNotApplied}
	if e.outcome == spec.Unknown {
		out = []error{ErrOutcomeUnknown, spec.ErrOutcomeUnknown}
	}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}

// internalErr is the definite error of a call (or a migrator step) that
// did not take effect because of a backend failure. A backend *spec.Error
// is flattened so that callers never mistake it for the virtual call's
// own status; an atomic query too large for a page keeps wrapping
// spec.ErrMultiPage (spec.Classify: Refused, a definite answer).
func internalErr(what string, err error) error {
	switch {
	case spec.StatusOf(err) != 0:
		return &callError{outcome: spec.NotApplied, msg: fmt.Sprintf("mtable: %s: unexpected backend outcome: %v", what, err)}
	case errors.Is(err, spec.ErrMultiPage):
		return fmt.Errorf("mtable: %s: %w", what, err)
	}
	return &callError{outcome: spec.NotApplied, msg: fmt.Sprintf("mtable: %s: %v", what, err), cause: err}
}

// unknownErr is the error of a call whose linearization-point candidate
// write failed with an unknown outcome.
func unknownErr(what string, err error) error {
	return &callError{outcome: spec.Unknown, cause: err,
		msg: fmt.Sprintf("mtable: %s: outcome unknown (the call may have taken effect, once, or not at all): %v", what, err)}
}

// transient reports whether err is a failure the backend classified as
// not applied or of unknown outcome (it wraps spec.ErrNotApplied or
// spec.ErrOutcomeUnknown): the failures the library retries. An error
// the backend did not classify (a fence's refusal, a cancelled context)
// is never retried: it reads as an unknown outcome, but trying again
// would not help.
func transient(err error) bool {
	return errors.Is(err, spec.ErrNotApplied) || errors.Is(err, spec.ErrOutcomeUnknown)
}

// retry reports whether a backend step that failed with err on its
// attempt-th try is tried again: err must be transient (with
// notAppliedOnly, classified spec.NotApplied), attempts must remain and
// ctx must not be done. It waits the backoff first.
func retry(ctx context.Context, attempt int, err error, notAppliedOnly bool) bool {
	if !transient(err) || (notAppliedOnly && spec.Classify(err) != spec.NotApplied) {
		return false
	}
	if attempt >= MaxBackendAttempts || ctx.Err() != nil {
		return false
	}
	sched.Sleep(RetryBackoff << (attempt - 1))
	return true
}

// RetryBackend reports whether a backend step that failed with err on
// its attempt-th try (from 1) is tried again as the library tries its
// own steps (see Backend errors): err wraps spec.ErrNotApplied or
// spec.ErrOutcomeUnknown, fewer than MaxBackendAttempts tries were made
// and ctx is not done. It waits RetryBackoff<<(attempt-1) first. A
// layer that keeps its own state in a table (a configuration service)
// retries its requests with it, so that its failures follow the same
// contract.
func RetryBackend(ctx context.Context, attempt int, err error) bool {
	return retry(ctx, attempt, err, false)
}

// read is a backend QueryAtomic retried on transient failures (a read
// applies nothing). Every try but the last is annotated here; the caller
// annotates the last.
func (t *Table) read(ctx context.Context, b spec.Table, f spec.Filter) ([]spec.Entity, error) {
	for attempt := 1; ; attempt++ {
		rows, err := b.QueryAtomic(ctx, f)
		if err == nil || !transient(err) || attempt >= MaxBackendAttempts || ctx.Err() != nil {
			return rows, err
		}
		t.note(ctx, Annotation{})
		retry(ctx, attempt, err, false)
	}
}

// retrieve is spec.Retrieve through read.
func (t *Table) retrieve(ctx context.Context, b spec.Table, k spec.Key) (spec.Entity, bool, error) {
	rows, err := t.read(ctx, b, spec.KeyFilter(k))
	if err != nil || len(rows) == 0 {
		return spec.Entity{}, false, err
	}
	return rows[0], true, nil
}

// candidate tells the Monitor, if it is a CandidateMonitor, that the next
// backend write is the call's linearization-point candidate.
func (t *Table) candidate(ctx context.Context, c Candidate) {
	if cm, ok := t.mon.(CandidateMonitor); ok {
		cm.AnnotateCandidate(ctx, c)
	}
}
