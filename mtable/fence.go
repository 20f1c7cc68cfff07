package mtable

import "github.com/migratingtable/migratingtable/spec"

// Fencer is implemented by a ConfigService whose validity in this
// process can lapse (a lease that must be renewed): New and NewMigrator
// pass their old and new backend tables through Fence, so that no
// backend request is sent once the lease may have expired. See "Fencing"
// in the package documentation.
type Fencer interface {
	// Fence returns a view of t that sends each request only while the
	// lease is surely valid, and otherwise fails it without sending it,
	// with an error that is not a *spec.Error. Fence(nil) is nil.
	Fence(t spec.Table) spec.Table
}

// fence wraps old and new with cfg's fence, if cfg has one.
func fence(cfg ConfigService, old, new spec.Table) (spec.Table, spec.Table) {
	f, ok := cfg.(Fencer)
	if !ok {
		return old, new
	}
	if old != nil {
		old = f.Fence(old)
	}
	if new != nil {
		new = f.Fence(new)
	}
	return old, new
}
