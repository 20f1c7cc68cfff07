package mtable

import (
	"context"
	"errors"
	"fmt"

	"github.com/migratingtable/migratingtable/spec"
)

// Table is the virtual table: a spec.Table over an old and a new backend
// table whose behaviour follows the client state the configuration
// service distributes. It is safe for concurrent use. See the package
// documentation for what it guarantees.
type Table struct {
	old, new spec.Table
	cfg      ConfigService
	bug      Bug
	mon      Monitor
}

var _ spec.Table = (*Table)(nil)

// New returns a virtual table over old and new, following the state cfg
// distributes. Every process of a deployment must use the same old and
// new tables and the same configuration service. When cfg is a Fencer,
// old and new are used through cfg.Fence (see Fencing in the package
// documentation).
func New(old, new spec.Table, cfg ConfigService, opts ...Option) *Table {
	o := buildOptions(opts)
	old, new = fence(cfg, old, new) // issue 10: fencing hooks in here only (fence.go)
	return &Table{old: old, new: new, cfg: cfg, bug: o.bug, mon: o.mon}
}

func (t *Table) is(b Bug) bool { return t.bug == b }

// ready reports a Table built without its collaborators.
func (t *Table) ready() error {
	switch {
	case t == nil:
		return errors.New("mtable: method called on a nil *Table")
	case t.old == nil:
		return errors.New("mtable: the Table has no old table (New was given nil)")
	case t.new == nil:
		return errors.New("mtable: the Table has no new table (New was given nil)")
	case t.cfg == nil:
		return errors.New("mtable: the Table has no configuration service (New was given nil)")
	}
	return nil
}

// note reports the backend call just made to the monitor, if any.
func (t *Table) note(ctx context.Context, a Annotation) {
	if t.mon != nil {
		t.mon.AnnotateBackendCall(ctx, a)
	}
}

// completed reports whether a backend error is an outcome of the request
// (an *spec.Error) rather than a failure to obtain one.
func completed(err error) bool { return err == nil || spec.StatusOf(err) != 0 }

// internalErr wraps a backend failure that is not the caller's outcome.
// A backend *spec.Error is flattened so that callers never mistake it
// for the virtual call's own status.
func internalErr(what string, err error) error {
	if spec.StatusOf(err) != 0 {
		return fmt.Errorf("mtable: %s: unexpected backend outcome: %v", what, err)
	}
	return fmt.Errorf("mtable: %s: %w", what, err)
}

// subscribe takes the non-acknowledging subscription every virtual call
// holds for its whole duration.
func (t *Table) subscribe(ctx context.Context) (State, func(), error) {
	s, cancel, err := t.cfg.Subscribe(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("mtable: reading the configuration: %w", err)
	}
	if s > UseNewHideMetadata {
		cancel()
		return 0, nil, fmt.Errorf("mtable: the configuration service returned an invalid state %d", s)
	}
	return s, cancel, nil
}

// ExecuteBatch implements spec.Table (PROTOCOL.md section 3.3).
func (t *Table) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	if err := t.ready(); err != nil {
		return nil, err
	}
	pk, err := validateBatch(ops)
	if err != nil {
		return nil, err
	}
	state, cancel, err := t.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	switch state {
	case UseOldHideMetadata:
		res, err := t.old.ExecuteBatch(ctx, ops)
		t.note(ctx, Annotation{LinearizationPoint: completed(err), BatchResults: res})
		if !completed(err) {
			return nil, internalErr("batch on the old table", err)
		}
		return res, err
	case PreferOld:
		res, done, err := t.batchPreferOld(ctx, pk, ops)
		if done {
			return res, err
		}
	}
	return t.batchNew(ctx, state, pk, ops)
}

// batchPreferOld tries the batch on the old table behind the populated
// assertion. done is false when the partition turned out to be switched
// and the batch must take the new-table path.
func (t *Table) batchPreferOld(ctx context.Context, pk string, ops []spec.Op) (res []spec.Result, done bool, err error) {
	mark := []spec.Op{
		{Kind: spec.Insert, Entity: metaRow(pk, PartitionPopulated)},
		{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: pk, RowKey: PopulatedAssertionRowKey}, Props: spec.Props{}}},
	}
	_, err = t.old.ExecuteBatch(ctx, mark)
	t.note(ctx, Annotation{})
	if err != nil && spec.StatusOf(err) != spec.StatusConflict {
		return nil, true, internalErr("marking partition "+quoteKey(pk)+" populated", err)
	}

	prefixed := make([]spec.Op, 0, len(ops)+1)
	prefixed = append(prefixed, spec.Op{Kind: spec.Merge, Entity: spec.Entity{
		Key: spec.Key{PartitionKey: pk, RowKey: PopulatedAssertionRowKey}, ETag: spec.AnyETag, Props: spec.Props{}}})
	prefixed = append(prefixed, ops...)
	res, err = t.old.ExecuteBatch(ctx, prefixed)
	if err != nil {
		var se *spec.Error
		if !errors.As(err, &se) {
			t.note(ctx, Annotation{})
			return nil, true, internalErr("batch on the old table", err)
		}
		if se.Index == 0 {
			t.note(ctx, Annotation{})
			if se.Status == spec.StatusNotFound {
				return nil, false, nil // switched meanwhile: take the new-table path
			}
			return nil, true, internalErr("populated assertion on the old table", err)
		}
		t.note(ctx, Annotation{LinearizationPoint: true})
		out := *se
		if out.Index > 0 {
			out.Index--
		}
		return nil, true, &out
	}
	res = res[1:]
	t.note(ctx, Annotation{LinearizationPoint: true, BatchResults: res})
	return res, true, nil
}

// ensureSwitched makes the partition SWITCHED (section 3.3 step 1).
func (t *Table) ensureSwitched(ctx context.Context, pk string) error {
	metaKey := spec.Key{PartitionKey: pk, RowKey: MetaRowKey}
	for {
		found := false
		var state PartitionState
		if !t.is(BugEnsurePartitionSwitchedFromPopulated) {
			e, ok, err := spec.Retrieve(ctx, t.old, metaKey)
			t.note(ctx, Annotation{})
			if err != nil {
				return internalErr("reading the meta row of partition "+quoteKey(pk), err)
			}
			if ok {
				if state, ok = DecodePartitionState(e); !ok {
					return fmt.Errorf("mtable: the meta row of partition %s holds no valid %s", quoteKey(pk), PartitionStateProperty)
				}
				found = true
			}
		}
		switch {
		case !found:
			_, err := t.old.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: metaRow(pk, PartitionSwitched)}})
			t.note(ctx, Annotation{})
			switch {
			case err == nil:
				return nil
			case spec.StatusOf(err) == spec.StatusConflict:
				if t.is(BugEnsurePartitionSwitchedFromPopulated) {
					return nil
				}
				continue // POPULATED or SWITCHED by someone else: re-read
			default:
				return internalErr("switching partition "+quoteKey(pk), err)
			}
		case state == PartitionPopulated:
			sw := metaRow(pk, PartitionSwitched)
			sw.ETag = spec.AnyETag
			_, err := t.old.ExecuteBatch(ctx, []spec.Op{
				{Kind: spec.Replace, Entity: sw},
				{Kind: spec.Delete, Entity: spec.Entity{Key: spec.Key{PartitionKey: pk, RowKey: PopulatedAssertionRowKey}, ETag: spec.AnyETag}},
			})
			t.note(ctx, Annotation{})
			if err == nil || (spec.StatusOf(err) == spec.StatusNotFound && spec.IndexOf(err) == 1) {
				return nil // a 404 on the assertion: someone else switched it first
			}
			return internalErr("switching populated partition "+quoteKey(pk), err)
		default:
			return nil
		}
	}
}

// affectedFilter matches the rows a batch targets: its partition and
// one RowKey comparison per operation, or, when that would exceed
// spec.MaxComparisons, the whole partition (callers look the batch's
// rows up by key).
func affectedFilter(pk string, ops []spec.Op) spec.Filter {
	if 1+len(ops) > spec.MaxComparisons {
		return spec.PartitionFilter(pk)
	}
	var rows spec.Filter
	for _, op := range ops {
		c := spec.Comparison{Property: spec.RowKeyProp, Op: spec.Eq, Value: spec.String(op.Entity.RowKey)}
		if rows == nil {
			rows = c
		} else {
			rows = spec.Or{L: rows, R: c}
		}
	}
	return spec.And{L: spec.PartitionFilter(pk), R: rows}
}

func byRowKey(rows []spec.Entity) map[string]spec.Entity {
	m := make(map[string]spec.Entity, len(rows))
	for _, e := range rows {
		m[e.RowKey] = e
	}
	return m
}

// copyRow inserts an old-table row into the new table (409 ignored) and
// reports the ETag change to the monitor.
func (t *Table) copyRow(ctx context.Context, e spec.Entity) error {
	res, err := t.new.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: e.Key, Props: userProps(e.Props)}}})
	if err != nil {
		t.note(ctx, Annotation{})
		if spec.StatusOf(err) == spec.StatusConflict {
			return nil
		}
		return internalErr("copying "+e.Key.String()+" to the new table", err)
	}
	t.note(ctx, Annotation{ETagChanges: []ETagChange{{Key: e.Key, ETag: res[0].ETag}}})
	return nil
}

// ensureMigrated copies the batch's rows that exist only in the old
// table (section 3.3 step 2).
func (t *Table) ensureMigrated(ctx context.Context, pk string, ops []spec.Op) error {
	f := affectedFilter(pk, ops)
	oldRows, err := t.old.QueryAtomic(ctx, f)
	t.note(ctx, Annotation{})
	if err != nil {
		return internalErr("reading the batch's rows from the old table", err)
	}
	newRows, err := t.new.QueryAtomic(ctx, f)
	t.note(ctx, Annotation{})
	if err != nil {
		return internalErr("reading the batch's rows from the new table", err)
	}
	oldBy, newBy := byRowKey(oldRows), byRowKey(newRows)
	for _, op := range ops {
		oe, inOld := oldBy[op.Entity.RowKey]
		if _, inNew := newBy[op.Entity.RowKey]; inOld && !inNew {
			if err := t.copyRow(ctx, oe); err != nil {
				return err
			}
		}
	}
	return nil
}

// batchNew is the new-table path (section 3.3 steps 1 to 5).
func (t *Table) batchNew(ctx context.Context, state State, pk string, ops []spec.Op) ([]spec.Result, error) {
	// In USE_NEW_HIDE_METADATA every client reads the new table only, and
	// the migrator may be emptying the old table: switching would leave
	// a meta row behind, so it is skipped.
	if state < UseNewHideMetadata {
		if err := t.ensureSwitched(ctx, pk); err != nil {
			return nil, err
		}
	}
	if state <= PreferNew {
		if err := t.ensureMigrated(ctx, pk, ops); err != nil {
			return nil, err
		}
	}
	f := affectedFilter(pk, ops)
	keep := state <= UseNewWithTombstones
	for attempt := 1; ; attempt++ {
		rows, err := t.new.QueryAtomic(ctx, f)
		if err != nil {
			t.note(ctx, Annotation{})
			return nil, internalErr("reading the batch's rows from the new table", err)
		}
		tr, serr := t.translate(ops, byRowKey(rows), keep)
		if serr != nil {
			t.note(ctx, Annotation{LinearizationPoint: true})
			return nil, serr
		}
		if len(tr.ops) > 0 && len(tr.guards) == len(tr.ops) {
			// Only DeleteIfExists of absent rows: the read was the
			// linearization point and nothing needs writing.
			res := make([]spec.Result, len(ops))
			t.note(ctx, Annotation{LinearizationPoint: true, BatchResults: res})
			return res, nil
		}
		t.note(ctx, Annotation{})
		newRes, err := t.new.ExecuteBatch(ctx, tr.ops)
		if err != nil {
			t.note(ctx, Annotation{})
			switch spec.StatusOf(err) {
			case spec.StatusNotFound, spec.StatusConflict, spec.StatusPreconditionFailed:
				if attempt < MaxAttempts {
					continue // a concurrent writer changed a row: translate again
				}
				return nil, fmt.Errorf("mtable: translated batch on the new table failed %d times in a row, last with: %v", attempt, err)
			}
			return nil, internalErr("translated batch on the new table", err)
		}
		res := make([]spec.Result, len(ops))
		for i, op := range ops {
			j := tr.index[i]
			var withETag bool
			if t.is(BugTombstoneOutputETag) {
				withETag = j >= 0
			} else {
				withETag = !op.Kind.IsDelete()
			}
			if withETag && j >= 0 {
				res[i] = spec.Result{ETag: newRes[j].ETag}
			}
		}
		t.note(ctx, Annotation{LinearizationPoint: true, BatchResults: res})
		t.dropGuards(ctx, tr, newRes)
		return res, nil
	}
}

// MaxAttempts bounds the write path's retry loop (section 3.3 step 4):
// a translated batch that fails this many times in a row, each time
// because a row changed since it was read, makes ExecuteBatch give up
// with an error rather than spin. Contention that heavy is not expected;
// a backend that rejects a translated batch for another reason would
// otherwise loop forever.
const MaxAttempts = 100

// translation is a caller batch translated for the new table.
type translation struct {
	ops   []spec.Op
	index []int // caller op i -> index in ops, or -1 when nothing was sent
	// guards lists translated ops that inserted a tombstone only to
	// assert a row's absence (DeleteIfExists in USE_NEW_HIDE_METADATA);
	// they are deleted again after the batch.
	guards []int
}

// translate maps each caller operation onto the new table given the
// rows it currently holds (section 3.3 step 3). A semantic error is
// returned as the caller's *spec.Error.
func (t *Table) translate(ops []spec.Op, existing map[string]spec.Entity, keep bool) (translation, error) {
	tr := translation{index: make([]int, len(ops))}
	emit := func(i int, op spec.Op) {
		tr.index[i] = len(tr.ops)
		tr.ops = append(tr.ops, op)
	}
	for i, op := range ops {
		tr.index[i] = -1
		ex, found := existing[op.Entity.RowKey]
		live := found && !IsTombstone(ex)
		check := func() error {
			if !live {
				return &spec.Error{Status: spec.StatusNotFound, Index: i, Code: "ResourceNotFound",
					Message: op.Kind.String() + ": the entity " + op.Entity.Key.String() + " does not exist"}
			}
			if op.Entity.ETag != spec.AnyETag && op.Entity.ETag != ex.ETag {
				return &spec.Error{Status: spec.StatusPreconditionFailed, Index: i, Code: "UpdateConditionNotSatisfied",
					Message: fmt.Sprintf("%s: If-Match %q does not match the current ETag %q of %s", op.Kind, op.Entity.ETag, ex.ETag, op.Entity.Key)}
			}
			return nil
		}
		delKey := op.Entity.Key
		if t.is(BugDeletePrimaryKey) {
			delKey = spec.Key{}
		}
		switch op.Kind {
		case spec.Insert:
			switch {
			case !found:
				emit(i, spec.Op{Kind: spec.Insert, Entity: withProps(op.Entity, "", nil)})
			case !live:
				emit(i, spec.Op{Kind: spec.Replace, Entity: withProps(op.Entity, ex.ETag, nil)})
			default:
				return tr, &spec.Error{Status: spec.StatusConflict, Index: i, Code: "EntityAlreadyExists",
					Message: "Insert: the entity " + op.Entity.Key.String() + " already exists"}
			}
		case spec.Replace, spec.Merge:
			if err := check(); err != nil {
				return tr, err
			}
			emit(i, spec.Op{Kind: op.Kind, Entity: withProps(op.Entity, ex.ETag, nil)})
		case spec.Delete:
			if err := check(); err != nil {
				return tr, err
			}
			if keep {
				emit(i, spec.Op{Kind: spec.Replace, Entity: tombstone(delKey, ex.ETag)})
			} else {
				etag := ex.ETag
				if t.is(BugDeleteNoLeaveTombstonesETag) {
					etag = ""
				}
				emit(i, spec.Op{Kind: spec.Delete, Entity: spec.Entity{Key: delKey, ETag: etag}})
			}
		case spec.DeleteIfExists:
			switch {
			case keep:
				emit(i, spec.Op{Kind: spec.InsertOrReplace, Entity: tombstone(delKey, "")})
			case found:
				// Live or tombstone: delete whatever is there when the
				// batch runs; a 404 then means someone else deleted it,
				// and the batch is retried.
				etag := spec.AnyETag
				if t.is(BugDeleteNoLeaveTombstonesETag) {
					etag = ""
				}
				emit(i, spec.Op{Kind: spec.Delete, Entity: spec.Entity{Key: delKey, ETag: etag}})
			case t.is(BugDeleteIfExistsHideMetadata):
				// The original's defect: nothing is sent, so the row's
				// absence is not asserted when the batch runs.
			default:
				// Assert the row is still absent when the batch runs:
				// insert a tombstone (409, and a retry, if a row
				// appeared) and delete it again afterwards.
				emit(i, spec.Op{Kind: spec.Insert, Entity: tombstone(delKey, "")})
				tr.guards = append(tr.guards, tr.index[i])
			}
		case spec.InsertOrReplace:
			emit(i, spec.Op{Kind: spec.InsertOrReplace, Entity: withProps(op.Entity, "", nil)})
		case spec.InsertOrMerge:
			switch {
			case keep:
				// deleted=false revives a tombstone the merge lands on.
				emit(i, spec.Op{Kind: spec.InsertOrMerge, Entity: withProps(op.Entity, "", spec.Props{DeletedProperty: spec.Bool(false)})})
			case !found:
				emit(i, spec.Op{Kind: spec.Insert, Entity: withProps(op.Entity, "", nil)})
			case !live:
				emit(i, spec.Op{Kind: spec.Replace, Entity: withProps(op.Entity, ex.ETag, nil)})
			default:
				emit(i, spec.Op{Kind: spec.Merge, Entity: withProps(op.Entity, ex.ETag, nil)})
			}
		default:
			return tr, &spec.Error{Status: spec.StatusBadRequest, Index: i, Code: "InvalidInput",
				Message: fmt.Sprintf("unknown operation kind %d", op.Kind)}
		}
	}
	return tr, nil
}

// dropGuards deletes the absence-asserting tombstones of a successful
// translated batch. A 404 or 412 means another writer already replaced
// or removed it, which is fine.
func (t *Table) dropGuards(ctx context.Context, tr translation, res []spec.Result) {
	for _, j := range tr.guards {
		e := spec.Entity{Key: tr.ops[j].Entity.Key, ETag: res[j].ETag}
		_, _ = t.new.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: e}})
		t.note(ctx, Annotation{})
	}
}

// QueryAtomic implements spec.Table (PROTOCOL.md section 3.4).
func (t *Table) QueryAtomic(ctx context.Context, filter spec.Filter) ([]spec.Entity, error) {
	if err := t.ready(); err != nil {
		return nil, err
	}
	pk, ok := spec.SinglePartition(filter)
	if !ok {
		return nil, &spec.Error{Status: spec.StatusBadRequest, Index: -1, Code: "InvalidInput",
			Message: fmt.Sprintf("atomic query filter %q does not target a single partition: it must be PartitionKey eq '…' or an and with such an operand", spec.FilterString(filter))}
	}
	if err := validateFilter(filter); err != nil {
		return nil, err
	}
	state, cancel, err := t.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	var rows []spec.Entity
	switch state {
	case UseOldHideMetadata, UseNewWithTombstones, UseNewHideMetadata:
		b, which := t.old, "old"
		if state != UseOldHideMetadata {
			b, which = t.new, "new"
		}
		rows, err = b.QueryAtomic(ctx, filter)
		t.note(ctx, Annotation{LinearizationPoint: err == nil})
		if err != nil {
			return nil, internalErr("query on the "+which+" table", err)
		}
	default:
		// Widen the filter to the meta row; if that would exceed Azure's
		// comparison limit, read the whole partition (finish filters).
		widened := spec.Filter(spec.And{L: spec.PartitionFilter(pk), R: spec.Or{
			L: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Eq, Value: spec.String(MetaRowKey)},
			R: filter,
		}})
		if spec.CountComparisons(filter)+2 > spec.MaxComparisons {
			widened = spec.PartitionFilter(pk)
		}
		oldRows, err := t.old.QueryAtomic(ctx, widened)
		if err != nil {
			t.note(ctx, Annotation{})
			return nil, internalErr("query on the old table", err)
		}
		switched := false
		for _, e := range oldRows {
			if e.RowKey == MetaRowKey {
				s, _ := DecodePartitionState(e)
				switched = s == PartitionSwitched
			}
		}
		if !switched {
			t.note(ctx, Annotation{LinearizationPoint: true})
			rows = oldRows
			break
		}
		t.note(ctx, Annotation{})
		nf := spec.PartitionFilter(pk)
		if t.is(BugQueryAtomicFilterShadowing) {
			nf = filter
		}
		newRows, err := t.new.QueryAtomic(ctx, nf)
		t.note(ctx, Annotation{LinearizationPoint: err == nil})
		if err != nil {
			return nil, internalErr("query on the new table", err)
		}
		rows = overlay(oldRows, newRows)
	}
	return finish(rows, filter), nil
}

// overlay merges two row sets by key, new over old.
func overlay(oldRows, newRows []spec.Entity) []spec.Entity {
	m := make(map[spec.Key]spec.Entity, len(oldRows)+len(newRows))
	for _, e := range oldRows {
		m[e.Key] = e
	}
	for _, e := range newRows {
		m[e.Key] = e
	}
	out := make([]spec.Entity, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	spec.SortEntities(out) // map order must not leak
	return out
}

func quoteKey(pk string) string { return fmt.Sprintf("%q", pk) }
