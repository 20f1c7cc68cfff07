package mtable

import (
	"fmt"
	"slices"
	"strings"

	"github.com/migratingtable/migratingtable/spec"
)

// Metadata naming. These are part of the public contract so that a
// harness (or an operator) can decode the backend tables independently.
const (
	// MetaRowKey is the RowKey of a partition's meta row in the old
	// table. Its PartitionStateProperty says whether the partition is
	// POPULATED or SWITCHED.
	MetaRowKey = "_mtable_partition_meta"

	// PopulatedAssertionRowKey is the RowKey of the row that exists in
	// the old table exactly while the partition is POPULATED. Writers in
	// PREFER_OLD prefix their batch with a Merge of it, so the batch
	// fails once the partition has been switched.
	PopulatedAssertionRowKey = "_mtable_partition_populated_assertion"

	// ProbeRowKey is a RowKey that never exists in the new table. A
	// batch whose rows were read at several instants confirms a semantic
	// error with a probe batch that ends with a Merge of this row under
	// an If-Match no service issues, so that the probe always fails and
	// applies nothing (see the package documentation).
	ProbeRowKey = "_mtable_probe"

	// DeletedProperty is the Edm.Boolean property of new-table rows; true
	// marks a tombstone, which shadows the old table's row with the same
	// key and means "absent". A row without it is live.
	DeletedProperty = "_mtable_deleted"

	// MetadataPrefix begins every RowKey and every property name the
	// library reserves (IsInternalKey, IsMetadataProperty); callers may
	// not use such names.
	MetadataPrefix = "_mtable_"

	// PartitionStateProperty is the Edm.Int32 property of a meta row holding
	// a PartitionState.
	PartitionStateProperty = "_mtable_partition_state"
)

// PartitionState is the value of PartitionStateProperty.
type PartitionState int32

// The partition states stored in meta rows.
const (
	// PartitionPopulated: writers in PREFER_OLD may still write the
	// partition in the old table.
	PartitionPopulated PartitionState = 0
	// PartitionSwitched: every write to the partition goes to the new
	// table; readers overlay the new table on the old.
	PartitionSwitched PartitionState = 1
)

// String returns "POPULATED" or "SWITCHED".
func (s PartitionState) String() string {
	switch s {
	case PartitionPopulated:
		return "POPULATED"
	case PartitionSwitched:
		return "SWITCHED"
	}
	return fmt.Sprintf("PartitionState(%d)", int32(s))
}

// IsInternalKey reports whether k's RowKey is reserved for the library's
// internal rows: whether it begins with MetadataPrefix. MetaRowKey and
// PopulatedAssertionRowKey are such keys; the rest of the prefix is
// reserved for future internal rows (a probe row, for example). Rows with
// such keys are never shown to callers, callers may not write them, and
// the Migrator does not copy them (see "Reserved names" in the package
// documentation).
func IsInternalKey(k spec.Key) bool {
	return strings.HasPrefix(k.RowKey, MetadataPrefix)
}

// IsMetadataProperty reports whether name is a property name the library
// reserves: one that begins with MetadataPrefix (DeletedProperty,
// PartitionStateProperty and any future metadata).
func IsMetadataProperty(name string) bool {
	return strings.HasPrefix(name, MetadataPrefix)
}

// DecodePartitionState returns the state recorded in a meta row, and
// false when e carries no valid state.
func DecodePartitionState(e spec.Entity) (PartitionState, bool) {
	v, ok := e.Props[PartitionStateProperty]
	if !ok || v.Type() != spec.TypeInt32 {
		return 0, false
	}
	s := PartitionState(v.AsInt())
	if s != PartitionPopulated && s != PartitionSwitched {
		return 0, false
	}
	return s, true
}

// IsTombstone reports whether a new-table row is a tombstone.
func IsTombstone(e spec.Entity) bool {
	v, ok := e.Props[DeletedProperty]
	return ok && v.Type() == spec.TypeBool && v.AsBool()
}

// hasMetadata reports whether e carries any reserved property.
func hasMetadata(e spec.Entity) bool {
	for name := range e.Props {
		if IsMetadataProperty(name) {
			return true
		}
	}
	return false
}

// userProps returns p without the reserved properties (a new map, never
// nil).
func userProps(p spec.Props) spec.Props {
	out := make(spec.Props, len(p))
	for name, v := range p {
		if !IsMetadataProperty(name) {
			out[name] = v
		}
	}
	return out
}

// export returns the caller-visible copy of a backend row.
func export(e spec.Entity) spec.Entity {
	e.Props = userProps(e.Props)
	return e
}

func metaRow(pk string, s PartitionState) spec.Entity {
	return spec.Entity{
		Key:   spec.Key{PartitionKey: pk, RowKey: MetaRowKey},
		Props: spec.Props{PartitionStateProperty: spec.Int32(int32(s))},
	}
}

func tombstone(k spec.Key, ifMatch spec.ETag) spec.Entity {
	return spec.Entity{Key: k, ETag: ifMatch, Props: spec.Props{DeletedProperty: spec.Bool(true)}}
}

// withProps returns a copy of the caller's entity with If-Match ifMatch
// and its properties plus extra (nil for none).
func withProps(e spec.Entity, ifMatch spec.ETag, extra spec.Props) spec.Entity {
	out := spec.Entity{Key: e.Key, ETag: ifMatch, Props: make(spec.Props, len(e.Props)+len(extra))}
	for name, v := range e.Props {
		out.Props[name] = v
	}
	for name, v := range extra {
		out.Props[name] = v
	}
	return out
}

// maxVirtualBatch is the largest batch MigratingTable accepts: one less
// than spec.MaxBatch, because a PREFER_OLD writer prefixes the caller's
// batch with the populated assertion.
const maxVirtualBatch = spec.MaxBatch - 1

// validateBatch checks a caller's batch: spec.ValidateBatch, plus the
// library's own limits (no internal rows, no reserved properties, at
// most maxVirtualBatch operations). It returns the partition key.
func validateBatch(ops []spec.Op, bug Bug) (string, error) {
	if len(ops) > maxVirtualBatch {
		return "", &spec.Error{Status: spec.StatusBadRequest, Index: -1, Code: "InvalidInput",
			Message: fmt.Sprintf("batch of %d operations: a MigratingTable batch may hold at most %d (one slot is reserved for the migration protocol)", len(ops), maxVirtualBatch)}
	}
	checked := ops
	if bug == BugDeleteIfExistsGuardTombstone && len(ops) > 1 {
		// The mistake: a DeleteIfExists among other operations is
		// accepted (validated as the Delete it would be sent as).
		checked = slices.Clone(ops)
		for i := range checked {
			if checked[i].Kind == spec.DeleteIfExists {
				checked[i].Kind, checked[i].Entity.ETag = spec.Delete, spec.AnyETag
			}
		}
	}
	if err := spec.ValidateBatch(checked); err != nil {
		return "", err
	}
	for i, op := range ops {
		if IsInternalKey(op.Entity.Key) {
			return "", &spec.Error{Status: spec.StatusBadRequest, Index: i, Code: "InvalidInput",
				Message: fmt.Sprintf("%s of %s: RowKey %q is reserved for MigratingTable's internal rows", op.Kind, op.Entity.Key, op.Entity.RowKey)}
		}
		if op.Kind.IsDelete() {
			continue
		}
		for _, name := range op.Entity.Props.Names() {
			if IsMetadataProperty(name) {
				return "", &spec.Error{Status: spec.StatusBadRequest, Index: i, Code: "InvalidInput",
					Message: fmt.Sprintf("%s of %s: property name %s is reserved for MigratingTable's metadata", op.Kind, op.Entity.Key, name)}
			}
		}
	}
	return ops[0].Entity.PartitionKey, nil
}

// validateFilter rejects filters that mention a reserved property (the
// backend would evaluate them against metadata callers cannot see) and,
// as Azure does, filters of more than spec.MaxComparisons comparisons.
func validateFilter(f spec.Filter) error {
	if n := spec.CountComparisons(f); n > spec.MaxComparisons {
		return &spec.Error{Status: spec.StatusBadRequest, Index: -1, Code: "InvalidInput",
			Message: fmt.Sprintf("filter %q has %d comparisons: at most %d are allowed", spec.FilterString(f), n, spec.MaxComparisons)}
	}
	var bad string
	var walk func(spec.Filter)
	walk = func(f spec.Filter) {
		switch f := f.(type) {
		case spec.Comparison:
			if IsMetadataProperty(f.Property) && bad == "" {
				bad = f.Property
			}
		case spec.And:
			walk(f.L)
			walk(f.R)
		case spec.Or:
			walk(f.L)
			walk(f.R)
		case spec.Not:
			walk(f.X)
		}
	}
	walk(f)
	if bad != "" {
		return &spec.Error{Status: spec.StatusBadRequest, Index: -1, Code: "InvalidInput",
			Message: fmt.Sprintf("filter %q mentions property %s, which is reserved for MigratingTable's metadata", spec.FilterString(f), bad)}
	}
	return nil
}

// finish turns merged backend rows into the caller's result: internal
// rows and tombstones dropped, metadata stripped, the caller's filter
// applied to what the caller sees, key order.
func finish(rows []spec.Entity, filter spec.Filter) []spec.Entity {
	out := []spec.Entity{}
	for _, e := range rows {
		if IsInternalKey(e.Key) || IsTombstone(e) {
			continue
		}
		x := e
		if hasMetadata(e) {
			x = export(e)
		}
		if spec.Matches(filter, x) {
			out = append(out, x)
		}
	}
	spec.SortEntities(out)
	return out
}
