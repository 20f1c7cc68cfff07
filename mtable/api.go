package mtable

import (
	"context"

	"github.com/migratingtable/migratingtable/spec"
)

// State is a client state of the migration. States advance one step at
// a time, in declaration order.
type State uint8

// The five client states, in migration order.
const (
	UseOldHideMetadata   State = iota // old table only; internal rows hidden
	PreferOld                         // overlaid reads; writes to old unless the partition is switched
	PreferNew                         // overlaid reads; writes switch the partition and go to new
	UseNewWithTombstones              // new table only; deletes still leave tombstones
	UseNewHideMetadata                // new table only; tombstones hidden, none created
)

var stateNames = [...]string{"USE_OLD_HIDE_METADATA", "PREFER_OLD", "PREFER_NEW", "USE_NEW_WITH_TOMBSTONES", "USE_NEW_HIDE_METADATA"}

// String returns the state's protocol name, e.g. "PREFER_OLD".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(?)"
}

// Subscriber receives configuration pushes. Apply is called with each
// newly pushed state; its return is the acknowledgement.
type Subscriber interface {
	Apply(ctx context.Context, s State) error
}

// ConfigService distributes the client state to every client.
type ConfigService interface {
	// Subscribe registers sub and returns the current state. A nil sub
	// is a subscription that never acknowledges: a push waits until it
	// is cancelled. Cancel unsubscribes; it is safe to call twice.
	Subscribe(ctx context.Context, sub Subscriber) (current State, cancel func(), err error)

	// Push makes s the current state (so later Subscribe calls see it),
	// delivers it to every existing subscriber and returns when every one
	// has acknowledged or unsubscribed.
	Push(ctx context.Context, s State) error
}

// Annotation is what MigratingTable and Migrator report to a Monitor
// after each backend call.
type Annotation struct {
	// LinearizationPoint is true when the backend call just made was the
	// linearization point of the current virtual-table call.
	LinearizationPoint bool
	// BatchResults holds, when the linearization point was a successful
	// batch, the results the virtual table will return to its caller.
	BatchResults []spec.Result
	// ETagChanges lists rows whose virtual content did not change but
	// whose ETag did (migrator copies and clean-up writes).
	ETagChanges []ETagChange
	// OutcomeUnknown is true when the backend call just made was the
	// call's linearization-point candidate (announced by
	// CandidateMonitor.AnnotateCandidate) and failed with an unknown
	// outcome: the virtual call returns an error wrapping
	// ErrOutcomeUnknown, and it took effect at that backend call, with
	// the results the Candidate's Results gives, exactly when that
	// write applied. LinearizationPoint is false then.
	OutcomeUnknown bool
}

// Candidate describes a backend write that is a virtual call's
// linearization-point candidate: if it applies, the virtual call takes
// effect there.
type Candidate struct {
	// Ops is the backend batch about to be sent.
	Ops []spec.Op
	// Results maps the backend results of Ops, had the batch applied,
	// to the results the virtual call would return.
	Results func(backend []spec.Result) []spec.Result
}

// CandidateMonitor is a Monitor that also hears of linearization-point
// candidates. Before each send of a backend write that is the call's
// linearization-point candidate (the USE_OLD_HIDE_METADATA batch, the
// PREFER_OLD batch behind the populated assertion, the translated batch
// of the new-table path; again before each retry of it) the library
// calls AnnotateCandidate with the ctx of the call; after the write,
// AnnotateBackendCall reports what happened as for any backend call: a
// linearization point (applied, or a table outcome), nothing (not
// applied: the call goes on, or returns a definite error), or
// OutcomeUnknown.
type CandidateMonitor interface {
	Monitor
	AnnotateCandidate(ctx context.Context, c Candidate)
}

// ETagChange records that the virtual row Key now has ETag (content
// unchanged). ETag "" means the row's virtual ETag is unknown and
// checkers must accept any.
type ETagChange struct {
	Key  spec.Key
	ETag spec.ETag
}

// Monitor observes the library's backend calls. The call is identified
// by ctx, which carries whatever the caller put there.
type Monitor interface {
	AnnotateBackendCall(ctx context.Context, a Annotation)
}
