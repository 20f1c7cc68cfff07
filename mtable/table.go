package mtable

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/migratingtable/migratingtable/spec"
)

// Table is the virtual table: a spec.Table over an old and a new backend
// table whose behaviour follows the client state the configuration
// service distributes. It is safe for concurrent use. See the package
// documentation for what it guarantees.
type Table struct {
	old, new    spec.Table
	cfg         ConfigService
	bug         Bug
	mon         Monitor
	keysPerRead int // rows named in one read (WithKeysPerRead)
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
	return &Table{old: old, new: new, cfg: cfg, bug: o.bug, mon: o.mon, keysPerRead: o.keysPerRead}
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
	pk, err := validateBatch(ops, t.bug)
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
		for attempt := 1; ; attempt++ {
			t.candidate(ctx, Candidate{Ops: ops, Results: func(r []spec.Result) []spec.Result { return r }})
			res, err := t.old.ExecuteBatch(ctx, ops)
			switch {
			case completed(err):
				t.note(ctx, Annotation{LinearizationPoint: true, BatchResults: res})
				return res, err
			case spec.Classify(err) == spec.NotApplied:
				t.note(ctx, Annotation{})
				if retry(ctx, attempt, err, true) {
					continue
				}
				return nil, internalErr("batch on the old table", err)
			}
			t.note(ctx, Annotation{OutcomeUnknown: true})
			return nil, unknownErr("batch on the old table", err)
		}
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
	// Marking is idempotent: a 409 means the rows are there (perhaps
	// from an earlier try of ours whose outcome was unknown).
	for attempt := 1; ; attempt++ {
		_, err = t.old.ExecuteBatch(ctx, mark)
		t.note(ctx, Annotation{})
		if err == nil || spec.StatusOf(err) == spec.StatusConflict {
			break
		}
		if !retry(ctx, attempt, err, false) {
			return nil, true, internalErr("marking partition "+quoteKey(pk)+" populated", err)
		}
	}

	prefixed := make([]spec.Op, 0, len(ops)+1)
	prefixed = append(prefixed, spec.Op{Kind: spec.Merge, Entity: spec.Entity{
		Key: spec.Key{PartitionKey: pk, RowKey: PopulatedAssertionRowKey}, ETag: spec.AnyETag, Props: spec.Props{}}})
	// A DeleteIfExists is alone in its batch, but the prefix would not
	// leave it alone: it is sent as Delete "*", and a 404 on it (with
	// the assertion holding at that instant) is its success.
	loneDelete := len(ops) == 1 && ops[0].Kind == spec.DeleteIfExists
	if loneDelete {
		prefixed = append(prefixed, spec.Op{Kind: spec.Delete, Entity: spec.Entity{Key: ops[0].Entity.Key, ETag: spec.AnyETag}})
	} else {
		prefixed = append(prefixed, ops...)
	}
	cand := Candidate{Ops: prefixed, Results: func(r []spec.Result) []spec.Result {
		if loneDelete {
			return make([]spec.Result, 1)
		}
		return r[1:]
	}}
	for attempt := 1; ; attempt++ {
		t.candidate(ctx, cand)
		res, err = t.old.ExecuteBatch(ctx, prefixed)
		if err == nil || completed(err) {
			break
		}
		if spec.Classify(err) != spec.NotApplied {
			t.note(ctx, Annotation{OutcomeUnknown: true})
			return nil, true, unknownErr("batch on the old table", err)
		}
		t.note(ctx, Annotation{})
		if !retry(ctx, attempt, err, true) {
			return nil, true, internalErr("batch on the old table", err)
		}
	}
	if err != nil {
		var se *spec.Error
		errors.As(err, &se)
		if se.Index == 0 {
			t.note(ctx, Annotation{})
			if se.Status == spec.StatusNotFound {
				return nil, false, nil // switched meanwhile: take the new-table path
			}
			return nil, true, internalErr("populated assertion on the old table", err)
		}
		if loneDelete && se.Index == 1 && se.Status == spec.StatusNotFound {
			res = make([]spec.Result, 1) // absent at this instant: done
			t.note(ctx, Annotation{LinearizationPoint: true, BatchResults: res})
			return res, true, nil
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
//
// A write that fails transiently (not applied, or with an unknown
// outcome) is followed by reading the meta row again, which shows
// whether it applied; MaxBackendAttempts bounds those failures.
func (t *Table) ensureSwitched(ctx context.Context, pk string) error {
	metaKey := spec.Key{PartitionKey: pk, RowKey: MetaRowKey}
	faults := 0
	for {
		found := false
		var state PartitionState
		if !t.is(BugEnsurePartitionSwitchedFromPopulated) {
			e, ok, err := t.retrieve(ctx, t.old, metaKey)
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
				if faults++; retry(ctx, faults, err, false) {
					continue // re-read: did it apply?
				}
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
			if faults++; retry(ctx, faults, err, false) {
				continue // re-read: did it apply?
			}
			return internalErr("switching populated partition "+quoteKey(pk), err)
		default:
			return nil
		}
	}
}

// keysFilter matches the rows of partition pk with the given RowKeys (at
// most MaxKeysPerRead of them).
func keysFilter(pk string, keys []string) spec.Filter {
	return spec.AndFilters(spec.PartitionFilter(pk), anyRowKey(keys))
}

// anyRowKey is "RowKey eq 'k1' or RowKey eq 'k2' or ..." (nil for no
// keys).
func anyRowKey(keys []string) spec.Filter {
	var rows spec.Filter
	for _, k := range keys {
		c := spec.Comparison{Property: spec.RowKeyProp, Op: spec.Eq, Value: spec.String(k)}
		if rows == nil {
			rows = c
		} else {
			rows = spec.Or{L: rows, R: c}
		}
	}
	return rows
}

// chunk is the operations ops[lo:hi] of a batch, whose rows one read
// fetches.
type chunk struct{ lo, hi int }

// chunks splits a batch of n operations, in order, into runs of size.
func chunks(n, size int) []chunk {
	var out []chunk
	for lo := 0; lo < n; lo += size {
		out = append(out, chunk{lo, min(lo+size, n)})
	}
	return out
}

func rowKeys(ops []spec.Op) []string {
	keys := make([]string, len(ops))
	for i, op := range ops {
		keys[i] = op.Entity.RowKey
	}
	return keys
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
//
// A copy is idempotent: a try that fails transiently is tried again
// (MaxBackendAttempts), and a 409 means the row is there. When an
// earlier try's outcome was unknown, that 409 may be our own copy: the
// row's ETag change is then reported as unknown (ETag "").
func (t *Table) copyRow(ctx context.Context, e spec.Entity) error {
	unknown := false
	for attempt := 1; ; attempt++ {
		res, err := t.new.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: e.Key, Props: userProps(e.Props)}}})
		switch {
		case err == nil:
			t.note(ctx, Annotation{ETagChanges: []ETagChange{{Key: e.Key, ETag: res[0].ETag}}})
			return nil
		case spec.StatusOf(err) == spec.StatusConflict:
			if unknown {
				t.note(ctx, Annotation{ETagChanges: []ETagChange{{Key: e.Key}}})
			} else {
				t.note(ctx, Annotation{})
			}
			return nil
		}
		t.note(ctx, Annotation{})
		unknown = unknown || spec.Classify(err) == spec.Unknown
		if !retry(ctx, attempt, err, false) {
			return internalErr("copying "+e.Key.String()+" to the new table", err)
		}
	}
}

// readChunk reads from the new table the rows of one chunk of the batch,
// annotating nothing (the caller decides whether the read was the
// linearization point). With migrate (section 3.3 step 2, ensure the
// rows are migrated) it first reads them from the old table and copies
// to the new table each one present in old but not in new, then reads
// the new table again; when nothing needed copying the new-table read
// made for the check is the one returned.
//
// Chunks are read at different instants, and that is safe here: the
// decision to copy is made per row, and holds whenever it is made. The
// partition is SWITCHED (ensureSwitched ran), so its old rows no longer
// change; a row present in the new table stays there while any client
// is in PREFER_NEW or earlier (deletes leave tombstones); and the copy
// is an Insert that fails with 409 if the row has appeared meanwhile.
// So once every chunk is read, every row of the batch present in old is
// present in new, and a row absent from new is absent from the virtual
// table, whatever instants the chunks were read at.
func (t *Table) readChunk(ctx context.Context, pk string, keys []string, migrate bool) ([]spec.Entity, error) {
	f := keysFilter(pk, keys)
	if migrate {
		oldRows, err := t.read(ctx, t.old, f)
		t.note(ctx, Annotation{})
		if err != nil {
			return nil, internalErr("reading the batch's rows from the old table", err)
		}
		newRows, err := t.read(ctx, t.new, f)
		if err != nil {
			t.note(ctx, Annotation{})
			return nil, internalErr("reading the batch's rows from the new table", err)
		}
		newBy := byRowKey(newRows)
		var missing []spec.Entity
		for _, e := range oldRows {
			if _, ok := newBy[e.RowKey]; !ok {
				missing = append(missing, e)
			}
		}
		if len(missing) == 0 {
			return newRows, nil
		}
		t.note(ctx, Annotation{})
		for _, e := range missing {
			if err := t.copyRow(ctx, e); err != nil {
				return nil, err
			}
		}
	}
	rows, err := t.read(ctx, t.new, f)
	if err != nil {
		t.note(ctx, Annotation{})
		return nil, internalErr("reading the batch's rows from the new table", err)
	}
	return rows, nil
}

// conditional reports whether an operation's outcome depends on its row
// (the others, InsertOrReplace, InsertOrMerge and DeleteIfExists, always
// succeed).
func conditional(k spec.OpKind) bool {
	return k == spec.Insert || k == spec.Replace || k == spec.Merge || k == spec.Delete
}

// batchNew is the new-table path (section 3.3 steps 1 to 5).
//
// The rows of a batch of more than t.keysPerRead operations are read in
// chunks (see readChunk), at different instants. A translated batch is
// conditioned on every row read (an ETag, or an Insert for a row read as
// absent), or is unconditional where the caller's operation is, so its
// success linearizes the call however the rows were read. A semantic
// error (404, 409 or 412 at caller operation i) is the caller's outcome
// only if, at one instant, operation i fails and operations 0..i-1
// succeed. When the rows of every conditional operation among 0..i came
// from the same read, that read is the instant. Otherwise the error is
// confirmed by a probe (see probe) before it is returned.
func (t *Table) batchNew(ctx context.Context, state State, pk string, ops []spec.Op) ([]spec.Result, error) {
	// In USE_NEW_HIDE_METADATA every client reads the new table only, and
	// the migrator may be emptying the old table: switching would leave
	// a meta row behind, so it is skipped.
	if state < UseNewHideMetadata {
		if err := t.ensureSwitched(ctx, pk); err != nil {
			return nil, err
		}
	}
	keep := state <= UseNewWithTombstones
	parts := chunks(len(ops), t.keysPerRead)
	keys := rowKeys(ops)
	readIn := make([]int, len(ops)) // the chunk whose read fetched op i's row
	for i := range ops {
		readIn[i] = i / t.keysPerRead
	}
	// Copying a chunk's rows from the old table is needed once: copied
	// rows stay in the new table and old rows no longer change. An
	// attempt may stop before its last chunk (an error to confirm), so
	// each chunk is migrated on the first attempt that reads it.
	migrated := make([]bool, len(parts))
	faults := 0 // transient failures of the translated batch
	for attempt := 1; ; attempt++ {
		existing := make(map[string]spec.Entity, len(ops))
		var serr error
		for ci, c := range parts {
			rows, err := t.readChunk(ctx, pk, keys[c.lo:c.hi], state <= PreferNew && !migrated[ci])
			if err != nil {
				return nil, err
			}
			migrated[ci] = true
			for _, e := range rows {
				existing[e.RowKey] = e
			}
			_, serr = t.translate(ops[:c.hi], existing, keep)
			if serr == nil {
				if len(parts) == 1 {
					tr, _ := t.translate(ops, existing, keep)
					if (len(tr.ops) == 0 && !t.is(BugDeleteIfExistsHideMetadata)) || (len(tr.ops) > 0 && len(tr.guards) == len(tr.ops)) {
						// A lone DeleteIfExists of an absent row (or, with
						// BugDeleteIfExistsGuardTombstone, only guards):
						// this read was the linearization point and
						// nothing needs writing.
						res := make([]spec.Result, len(ops))
						t.note(ctx, Annotation{LinearizationPoint: true, BatchResults: res})
						return res, nil
					}
				}
				t.note(ctx, Annotation{})
				continue
			}
			i := spec.IndexOf(serr)
			single := true
			for k := 0; k <= i; k++ {
				if conditional(ops[k].Kind) && readIn[k] != ci {
					single = false
				}
			}
			if single {
				t.note(ctx, Annotation{LinearizationPoint: true})
				return nil, serr
			}
			t.note(ctx, Annotation{})
			break
		}
		if serr != nil {
			held, err := t.probe(ctx, pk, ops[:spec.IndexOf(serr)+1], existing)
			switch {
			case err != nil:
				return nil, err
			case held:
				return nil, serr
			case attempt >= MaxAttempts:
				return nil, fmt.Errorf("mtable: rows of the batch changed between its reads %d times in a row", attempt)
			}
			continue // a row changed since it was read: read again
		}
		tr, _ := t.translate(ops, existing, keep)
		t.candidate(ctx, Candidate{Ops: tr.ops, Results: func(r []spec.Result) []spec.Result { return t.results(ops, tr, r) }})
		newRes, err := t.new.ExecuteBatch(ctx, tr.ops)
		if err != nil {
			switch spec.Classify(err) {
			case spec.NotApplied:
				t.note(ctx, Annotation{})
				if faults++; retry(ctx, faults, err, true) {
					continue // read and translate again: rows may have changed meanwhile
				}
				return nil, internalErr("translated batch on the new table", err)
			case spec.Unknown:
				t.note(ctx, Annotation{OutcomeUnknown: true})
				return nil, unknownErr("translated batch on the new table", err)
			}
			t.note(ctx, Annotation{})
			switch spec.StatusOf(err) {
			case spec.StatusNotFound, spec.StatusConflict, spec.StatusPreconditionFailed:
				if attempt < MaxAttempts {
					continue // a concurrent writer changed a row: translate again
				}
				return nil, &callError{outcome: spec.NotApplied,
					msg: fmt.Sprintf("mtable: translated batch on the new table failed %d times in a row, last with: %v", attempt, err)}
			}
			return nil, internalErr("translated batch on the new table", err)
		}
		res := t.results(ops, tr, newRes)
		t.note(ctx, Annotation{LinearizationPoint: true, BatchResults: res})
		t.dropGuards(ctx, tr, newRes)
		return res, nil
	}
}

// results maps the backend results of a translated batch to the
// caller's.
func (t *Table) results(ops []spec.Op, tr translation, newRes []spec.Result) []spec.Result {
	res := make([]spec.Result, len(ops))
	for i, op := range ops {
		j := tr.index[i]
		var withETag bool
		if t.is(BugTombstoneOutputETag) {
			withETag = j >= 0
		} else {
			withETag = !op.Kind.IsDelete()
		}
		if withETag && j >= 0 && j < len(newRes) {
			res[i] = spec.Result{ETag: newRes[j].ETag}
		}
	}
	return res
}

// probeETag is an If-Match value no service issues: Azure's ETags name
// the time of the write, and no write happens at the FILETIME epoch.
const probeETag spec.ETag = `W/"datetime'1601-01-01T00%3A00%3A00.0000000Z'"`

// probe confirms a semantic error at the last of ops (the caller's
// operations 0..i) found from rows read at different instants. It sends
// the new table one batch: for each conditional operation among ops, an
// operation that succeeds exactly when the row is as it was read (a
// Merge with no properties If-Match the row's ETag, or for a row read
// as absent the Insert of a tombstone), then a Merge of the reserved row
// ProbeRowKey If-Match probeETag, which always fails (404, or 412 should
// the row exist). Nothing is applied. When the batch fails at its last
// operation, every row was as read at that instant, so operations
// 0..i-1 succeed and operation i fails there: held is true, and that
// backend call is the linearization point. A failure before the last
// operation means a row changed: held is false and the caller reads
// again.
func (t *Table) probe(ctx context.Context, pk string, ops []spec.Op, existing map[string]spec.Entity) (held bool, err error) {
	var p []spec.Op
	for _, op := range ops {
		if !conditional(op.Kind) {
			continue
		}
		if ex, ok := existing[op.Entity.RowKey]; ok {
			p = append(p, spec.Op{Kind: spec.Merge, Entity: spec.Entity{Key: op.Entity.Key, ETag: ex.ETag, Props: spec.Props{}}})
		} else {
			p = append(p, spec.Op{Kind: spec.Insert, Entity: tombstone(op.Entity.Key, "")})
		}
	}
	last := len(p)
	p = append(p, spec.Op{Kind: spec.Merge, Entity: spec.Entity{Key: spec.Key{PartitionKey: pk, RowKey: ProbeRowKey}, ETag: probeETag, Props: spec.Props{}}})
	// The probe never applies (its last operation always fails), so any
	// transient failure is tried again.
	for attempt := 1; ; attempt++ {
		_, err = t.new.ExecuteBatch(ctx, p)
		if completed(err) || !transient(err) || attempt >= MaxBackendAttempts || ctx.Err() != nil {
			break
		}
		t.note(ctx, Annotation{})
		retry(ctx, attempt, err, false)
	}
	st := spec.StatusOf(err)
	switch {
	case err == nil:
		t.note(ctx, Annotation{})
		return false, fmt.Errorf("mtable: the probe batch on the new table succeeded, but its last operation (If-Match %s) can never hold", probeETag)
	case spec.IndexOf(err) == last && (st == spec.StatusNotFound || st == spec.StatusPreconditionFailed):
		t.note(ctx, Annotation{LinearizationPoint: true})
		return true, nil
	case spec.IndexOf(err) < last && (st == spec.StatusNotFound || st == spec.StatusConflict || st == spec.StatusPreconditionFailed):
		t.note(ctx, Annotation{})
		return false, nil
	}
	t.note(ctx, Annotation{})
	return false, internalErr("probe batch on the new table", err)
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
	// assert a row's absence (DeleteIfExists in USE_NEW_HIDE_METADATA,
	// only with BugDeleteIfExistsGuardTombstone); they are deleted again
	// after the batch.
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
			case t.is(BugDeleteIfExistsGuardTombstone):
				// The mistake: assert the row is still absent when the
				// batch runs by inserting a tombstone (409, and a
				// retry, if a row appeared) that is deleted again
				// afterwards; a plain client of the new table sees it
				// meanwhile.
				emit(i, spec.Op{Kind: spec.Insert, Entity: tombstone(delKey, "")})
				tr.guards = append(tr.guards, tr.index[i])
			default:
				// Absent: nothing to send. DeleteIfExists is alone in
				// its batch (validateBatch), so the read is the
				// linearization point (see batchNew); with
				// BugDeleteIfExistsHideMetadata the empty batch is
				// sent anyway, the original's defect.
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
		rows, err = t.read(ctx, b, filter)
		t.note(ctx, Annotation{LinearizationPoint: err == nil})
		if err != nil {
			return nil, internalErr("query on the "+which+" table", err)
		}
	default:
		if rows, err = t.queryOverlay(ctx, state, pk, filter); err != nil {
			return nil, err
		}
	}
	return finish(rows, filter), nil
}

// queryOverlay is an atomic query in PREFER_OLD or PREFER_NEW (section
// 3.4), reading what the caller's filter needs rather than the
// partition.
//
// The filter is "PartitionKey eq pk" and g. The old table is read with
// "PartitionKey eq pk and (RowKey eq MetaRowKey or g)": the rows that
// match, and the meta row. If the partition is not SWITCHED, that read
// is the linearization point. If it is, the old rows read no longer
// change, and the virtual answer at any later instant is: the new rows
// that match, and the old rows read (the candidates) whose key has no
// new row. The new table is then read with the caller's filter. A
// candidate whose key that read returns has a new twin, which shadows
// it; so does one whose key g names (g would have returned the twin).
// When that settles every candidate, which is the rule once the
// partition has been copied, that read is the linearization point and
// the call costs what the caller's filter costs on each table.
//
// Otherwise the keys k1, ... of the unsettled candidates (a twin that
// fails the filter, a tombstone, a row not copied yet) are named in a
// second read of the new table, the linearization point: "PartitionKey
// eq pk and (g or RowKey eq k1 or ...)". The keys the first read
// returned need no naming: a key present in the new table stays present
// (deletes leave tombstones in every state that reads the old table),
// so their candidates stay shadowed. When the unsettled keys do not fit
// in Azure's comparison budget, they are first looked up in the new
// table in chunks (shadowCheck), and if even the absent ones are too
// many, their old rows are copied to the new table, as a writer would.
func (t *Table) queryOverlay(ctx context.Context, state State, pk string, filter spec.Filter) ([]spec.Entity, error) {
	g, _ := withoutPartition(filter)
	if state == PreferNew {
		if rows, done, err := t.queryNamedNew(ctx, pk, g, filter); done || err != nil {
			return rows, err
		}
	}
	part := spec.PartitionFilter(pk)
	metaKey := spec.Key{PartitionKey: pk, RowKey: MetaRowKey}
	metaEq := spec.Comparison{Property: spec.RowKeyProp, Op: spec.Eq, Value: spec.String(MetaRowKey)}
	switched := false
	var oldF spec.Filter
	switch {
	case g == nil:
		oldF = part // the caller asked for the whole partition
	case spec.CountComparisons(g)+2 <= spec.MaxComparisons:
		oldF = spec.And{L: part, R: spec.Or{L: metaEq, R: g}}
	default:
		// A filter at Azure's limit leaves no room for the meta row:
		// read it first. Once SWITCHED, the old rows no longer change,
		// so the filter alone can read them later; before that, only a
		// read of the whole partition sees the rows and the partition's
		// state at one instant.
		e, ok, err := t.retrieve(ctx, t.old, metaKey)
		t.note(ctx, Annotation{})
		if err != nil {
			return nil, internalErr("reading the meta row of partition "+quoteKey(pk), err)
		}
		if s, valid := DecodePartitionState(e); ok && valid && s == PartitionSwitched {
			switched, oldF = true, filter
		} else {
			oldF = part
		}
	}
	oldRows, err := t.read(ctx, t.old, oldF)
	if err != nil {
		t.note(ctx, Annotation{})
		return nil, internalErr("query on the old table", err)
	}
	for _, e := range oldRows {
		if e.RowKey == MetaRowKey {
			s, _ := DecodePartitionState(e)
			switched = s == PartitionSwitched
		}
	}
	if !switched {
		t.note(ctx, Annotation{LinearizationPoint: true})
		return oldRows, nil
	}
	t.note(ctx, Annotation{})

	// The new table is read with the caller's filter. Every old row it
	// may show (a candidate) whose key comes back has a new twin at that
	// instant, which shadows it; a candidate whose key g names would
	// come back if it had one. When every other candidate's key comes
	// back too, this read is the linearization point.
	newRows, err := t.read(ctx, t.new, filter)
	if err != nil {
		t.note(ctx, Annotation{})
		return nil, internalErr("query on the new table", err)
	}
	var keys []string // candidates' keys the read did not settle
	if g != nil && !t.is(BugQueryAtomicFilterShadowing) {
		named, got := rowKeysNamedBy(g), byRowKey(newRows)
		for _, e := range oldRows {
			if _, ok := got[e.RowKey]; !ok && !named[e.RowKey] && !IsInternalKey(e.Key) && spec.Matches(filter, export(e)) {
				keys = append(keys, e.RowKey)
			}
		}
	}
	if len(keys) == 0 {
		t.note(ctx, Annotation{LinearizationPoint: true})
		return overlay(oldRows, newRows), nil
	}
	t.note(ctx, Annotation{})

	// Some candidates' keys did not come back: their new twins, if any,
	// fail the filter, and must be read by key. The keys that came back
	// stay in the new table (deletes leave tombstones in every state
	// that reads the old table), so their old rows stay shadowed.
	shadowed := map[string]bool{}
	for _, e := range newRows {
		shadowed[e.RowKey] = true
	}
	if budget := min(spec.MaxComparisons-1-spec.CountComparisons(g), t.keysPerRead); len(keys) > budget {
		unsettled := make(map[string]bool, len(keys))
		for _, k := range keys {
			unsettled[k] = true
		}
		var cands []spec.Entity
		for _, e := range oldRows {
			if unsettled[e.RowKey] {
				cands = append(cands, e)
			}
		}
		if keys, err = t.shadowCheck(ctx, pk, cands, keys, budget, shadowed); err != nil {
			return nil, err
		}
	}
	newF := filter
	if len(keys) > 0 {
		newF = spec.And{L: part, R: spec.Or{L: g, R: anyRowKey(keys)}}
	}
	newRows, err = t.read(ctx, t.new, newF)
	t.note(ctx, Annotation{LinearizationPoint: err == nil})
	if err != nil {
		return nil, internalErr("query on the new table", err)
	}
	var visible []spec.Entity
	for _, e := range oldRows {
		if !shadowed[e.RowKey] {
			visible = append(visible, e)
		}
	}
	return overlay(visible, newRows), nil
}

// queryNamedNew answers, in PREFER_NEW, a query whose filter g is a
// list of keys ("RowKey eq 'k1' or ..."; a point query) from the new
// table alone when it holds a row (or tombstone) for every key named.
// A partition's rows reach the new table only once it is SWITCHED
// (writers and the Migrator switch it first, it never goes back while
// any client reads the old table, and the new table starts empty), so at the instant of that read
// each named key's virtual row is its new row: the read is the
// linearization point, and done is true. Otherwise (done false, nothing
// annotated as the linearization point) the caller goes on with the
// overlay. Once the Migrator has copied a partition, which is most of
// PREFER_NEW, a point query thus costs one read, as on a plain table.
func (t *Table) queryNamedNew(ctx context.Context, pk string, g, filter spec.Filter) (rows []spec.Entity, done bool, err error) {
	if g == nil || t.is(BugQueryAtomicFilterShadowing) {
		return nil, false, nil
	}
	named := rowKeysNamedBy(g)
	if len(named) == 0 {
		return nil, false, nil
	}
	for k := range named {
		if IsInternalKey(spec.Key{PartitionKey: pk, RowKey: k}) {
			return nil, false, nil
		}
	}
	rows, err = t.read(ctx, t.new, filter)
	if err != nil {
		t.note(ctx, Annotation{})
		return nil, false, internalErr("query on the new table", err)
	}
	found := 0
	for _, e := range rows {
		if named[e.RowKey] {
			found++
		}
	}
	if found < len(named) {
		t.note(ctx, Annotation{})
		return nil, false, nil
	}
	t.note(ctx, Annotation{LinearizationPoint: true})
	return rows, true, nil
}

// shadowCheck handles old candidate rows whose keys do not fit in the
// final new-table read (more than budget). It looks the keys up in the
// new table, t.keysPerRead at a time, and marks in shadowed those present
// there: such a row stays in the new table, and whether it matches the
// filter then decides. If the absent keys still exceed the budget, their
// old rows are copied to the new table (the partition is SWITCHED, so a
// copy leaves the virtual table unchanged) and marked too. It returns
// the keys the final read must still name.
func (t *Table) shadowCheck(ctx context.Context, pk string, cands []spec.Entity, keys []string, budget int, shadowed map[string]bool) ([]string, error) {
	var absent []string
	for lo := 0; lo < len(keys); lo += t.keysPerRead {
		part := keys[lo:min(lo+t.keysPerRead, len(keys))]
		rows, err := t.read(ctx, t.new, keysFilter(pk, part))
		t.note(ctx, Annotation{})
		if err != nil {
			return nil, internalErr("query on the new table", err)
		}
		found := byRowKey(rows)
		for _, k := range part {
			if _, ok := found[k]; ok {
				shadowed[k] = true
			} else {
				absent = append(absent, k)
			}
		}
	}
	if len(absent) <= budget {
		return absent, nil
	}
	byKey := byRowKey(cands)
	for _, k := range absent {
		if err := t.copyRow(ctx, byKey[k]); err != nil {
			return nil, err
		}
		shadowed[k] = true
	}
	return nil, nil
}

// withoutPartition splits a filter that targets one partition into the
// comparison "PartitionKey eq 'p'" that SinglePartition finds and the
// rest g, so that the filter is equivalent to that comparison and g (g
// nil when there is no rest).
func withoutPartition(f spec.Filter) (g spec.Filter, ok bool) {
	switch f := f.(type) {
	case spec.Comparison:
		if f.Property == spec.PartitionKeyProp && f.Op == spec.Eq && f.Value.Type() == spec.TypeString {
			return nil, true
		}
	case spec.And:
		if l, ok := withoutPartition(f.L); ok {
			return spec.AndFilters(l, f.R), true
		}
		if r, ok := withoutPartition(f.R); ok {
			return spec.AndFilters(f.L, r), true
		}
	}
	return f, false
}

// rowKeysNamedBy returns the RowKeys k for which g is a disjunction
// that includes "RowKey eq k" (a point query or a list of keys): a new
// row with such a key is read by g itself.
func rowKeysNamedBy(g spec.Filter) map[string]bool {
	out := map[string]bool{}
	var walk func(spec.Filter) bool
	walk = func(f spec.Filter) bool {
		switch f := f.(type) {
		case spec.Comparison:
			if f.Property == spec.RowKeyProp && f.Op == spec.Eq && f.Value.Type() == spec.TypeString {
				out[f.Value.Str()] = true
				return true
			}
		case spec.Or:
			return walk(f.L) && walk(f.R)
		}
		return false
	}
	if !walk(g) {
		return map[string]bool{}
	}
	return out
}

// overlay merges two row sets by key, new over old, in key order.
func overlay(oldRows, newRows []spec.Entity) []spec.Entity {
	byKey := func(a, b spec.Entity) int { return a.Key.Compare(b.Key) }
	for _, rows := range [][]spec.Entity{oldRows, newRows} {
		if !slices.IsSortedFunc(rows, byKey) { // backends answer in key order
			spec.SortEntities(rows)
		}
	}
	out := make([]spec.Entity, 0, len(oldRows)+len(newRows))
	i, j := 0, 0
	for i < len(oldRows) || j < len(newRows) {
		switch {
		case j == len(newRows):
			out = append(out, oldRows[i])
			i++
		case i == len(oldRows):
			out = append(out, newRows[j])
			j++
		default:
			c := byKey(oldRows[i], newRows[j])
			if c < 0 {
				out = append(out, oldRows[i])
				i++
			} else {
				out = append(out, newRows[j])
				j++
				if c == 0 {
					i++ // shadowed
				}
			}
		}
	}
	return out
}

func quoteKey(pk string) string { return fmt.Sprintf("%q", pk) }
