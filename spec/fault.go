package spec

import (
	"errors"
	"strings"
)

// ErrNotApplied is the sentinel of a failure whose request certainly did
// not take effect: a "try again" answer of the service (503 ServerBusy),
// a connection refused before anything was sent, a request a send check
// refused (see WithSendCheck). Retrying it is safe. Build such an error
// with WrapNotApplied; recognise it with errors.Is or Classify.
var ErrNotApplied = errors.New("not applied")

// ErrOutcomeUnknown is the sentinel of a failure whose request may or
// may not have taken effect: no response within a timeout after the
// request was sent, a connection dropped after sending, a 500
// InternalError or a server-side timeout. A write that failed so must
// not be blindly retried: it may have applied, and sending it again
// could apply it twice or fail spuriously (a 409 or 412 caused by
// itself). Build such an error with WrapOutcomeUnknown; recognise it with
// errors.Is or Classify.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// faultError is a backend failure classified as not applied or outcome
// unknown: it wraps both the sentinel and its cause.
type faultError struct {
	sentinel error
	cause    error
}

func (e *faultError) Error() string {
	var b strings.Builder
	if e.cause != nil {
		b.WriteString(e.cause.Error())
		b.WriteString(" ")
	}
	if e.sentinel == ErrNotApplied {
		b.WriteString("(not applied: safe to retry)")
	} else {
		b.WriteString("(outcome unknown: the request may have been applied)")
	}
	return b.String()
}

// Outcome is the error's own classification (see Classify).
func (e *faultError) Outcome() Outcome {
	if e.sentinel == ErrNotApplied {
		return NotApplied
	}
	return Unknown
}

func (e *faultError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

// WrapNotApplied returns an error that wraps both ErrNotApplied and cause (so
// errors.Is and errors.As find either), for a request that certainly did
// not take effect. Its message is cause's followed by "(not applied:
// safe to retry)". cause must not be (or wrap) an *Error: a table
// outcome is not a failure to obtain one, and Classify would misread it.
func WrapNotApplied(cause error) error { return &faultError{sentinel: ErrNotApplied, cause: cause} }

// WrapOutcomeUnknown returns an error that wraps both ErrOutcomeUnknown and
// cause, for a request that may or may not have taken effect. Its
// message is cause's followed by "(outcome unknown: the request may have
// been applied)". cause must not be (or wrap) an *Error (see WrapNotApplied).
func WrapOutcomeUnknown(cause error) error {
	return &faultError{sentinel: ErrOutcomeUnknown, cause: cause}
}

// Outcome is what a Table's error says about its request (Classify).
type Outcome uint8

// The four outcomes of a request, by what a failure says.
const (
	// Succeeded: err is nil; the request took effect (for a batch, every
	// operation applied).
	Succeeded Outcome = iota
	// Refused: the table judged the request and it did not take effect,
	// a table outcome: an *Error (400, 404, 409, 412, ...), or for a
	// query ErrMultiPage. Sending the same request again is judged
	// again; retrying does not help unless something changed.
	Refused
	// NotApplied: the request certainly did not take effect (the error
	// wraps ErrNotApplied). Retrying is safe.
	NotApplied
	// Unknown: the request may or may not have taken effect (the error
	// wraps ErrOutcomeUnknown, or is any other failure: an error a Table
	// did not classify is taken as unknown, the only safe reading).
	Unknown
)

var outcomeNames = [...]string{"succeeded", "refused", "not applied", "outcome unknown"}

// String returns "succeeded", "refused", "not applied" or "outcome
// unknown".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(?)"
}

// Classify says what err, returned by a Table call, tells about the
// request, checking in this order: nil is Succeeded; an error that
// states its own classification (a method Outcome() Outcome, as the
// errors of WrapNotApplied and WrapOutcomeUnknown have) is what the
// outermost such error states; an error wrapping ErrOutcomeUnknown is
// Unknown; one wrapping ErrNotApplied is NotApplied; an *Error or an
// error wrapping ErrMultiPage is Refused; anything else (a cancelled
// context, an unclassified transport error, a malformed response) is
// Unknown. The outermost classification wins so that a Table built on
// other tables (MigratingTable) can say "not applied" about a call
// whose failed backend request had an unknown outcome but did not
// decide the call's outcome; errors.Is with ErrOutcomeUnknown may still
// find the backend's. For a read (QueryAtomic, QueryStreamed,
// Stream.Next) NotApplied and Unknown mean the same: the read failed and
// may be tried again.
func Classify(err error) Outcome {
	var c interface{ Outcome() Outcome }
	switch {
	case err == nil:
		return Succeeded
	case errors.As(err, &c):
		return c.Outcome()
	case errors.Is(err, ErrOutcomeUnknown):
		return Unknown
	case errors.Is(err, ErrNotApplied):
		return NotApplied
	case errors.Is(err, ErrMultiPage):
		return Refused
	}
	var e *Error
	if errors.As(err, &e) {
		return Refused
	}
	return Unknown
}

// Transient reports whether err is a failure to obtain an outcome,
// NotApplied or Unknown (Classify), which the same request may not meet
// again: the failures a caller retries (a read at once; a write only
// when it is NotApplied, or when the caller can tell whether it applied).
func Transient(err error) bool {
	o := Classify(err)
	return o == NotApplied || o == Unknown
}
