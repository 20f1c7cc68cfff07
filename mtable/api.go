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
