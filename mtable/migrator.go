package mtable

import (
	"context"
	"errors"
	"fmt"

	"github.com/migratingtable/migratingtable/spec"
)

// Migrator moves a table's data from the old backend to the new one
// while clients keep using Tables over the same backends and
// configuration service (PROTOCOL.md section 3.6).
type Migrator struct {
	t *Table
	// last is the state this Migrator last pushed successfully (valid
	// when pushed is true). Only BugMigratorResumeFromMemory reads it.
	last   State
	pushed bool
}

// NewMigrator returns a migrator for the given backends and
// configuration service (the same ones every client's Table uses). When
// cfg is a Fencer, every backend request of the migrator goes through
// cfg.Fence, as New does: give it a cfg whose fence is the migration
// lock's, so that a migrator that may have lost its lock sends nothing.
// WithBug selects a migrator-side bug (9, 10, 11, 16) or one of the
// shared code paths' bugs (ensure-switched, copy); WithMonitor receives
// its annotations.
func NewMigrator(old, new spec.Table, cfg ConfigService, opts ...Option) *Migrator {
	return &Migrator{t: New(old, new, cfg, opts...)}
}

// Run migrates: push PREFER_OLD, push PREFER_NEW, copy, push
// USE_NEW_WITH_TOMBSTONES, push USE_NEW_HIDE_METADATA, clean up. It
// starts from the configuration service's current state, so a Run
// started again after an earlier one failed or died at any point
// continues and finishes the migration; every step is idempotent. When
// that state is not the initial one, Run first pushes it again, in case
// the earlier migrator died before every client had acknowledged it. Run
// never trusts what an earlier Run of the same Migrator did: another
// migrator may have moved the migration on meanwhile. Only one migrator
// may run at a time. Run returns nil when the migration is complete (the
// new table holds the data without metadata and the old table is
// empty).
//
// Every backend step is retried on not-applied and unknown-outcome
// failures, at most MaxBackendAttempts tries in a row (see Backend
// errors in the package documentation): a scan restarts after its last
// row, switching and copying as for a virtual call, a clean-up rewrite or
// delete of the new table is decided again from a fresh read of the row,
// and a delete from the old table is Delete "*" (a 404 is done). When a
// step still fails, Run returns a definite error (spec.Classify:
// NotApplied; never ErrOutcomeUnknown): whatever the failed step did or
// did not apply, a later Run finishes the migration.
func (m *Migrator) Run(ctx context.Context) error {
	if m == nil {
		return errors.New("mtable: Run called on a nil *Migrator")
	}
	if err := m.t.ready(); err != nil {
		return err
	}
	if m.t.is(BugMigratorResumeFromMemory) && m.pushed {
		// The mistake: a Migrator run again goes on from the state it
		// pushed itself, as if no one else could have pushed since.
		return m.run(ctx, m.last)
	}
	state, cancel, err := m.t.cfg.Subscribe(ctx, nil)
	if err != nil {
		return fmt.Errorf("mtable: migrator reading the configuration: %w", err)
	}
	cancel() // a held subscription would make our own pushes wait for us
	if state > UseOldHideMetadata && state <= UseNewHideMetadata {
		// Resuming: an earlier migrator may have died in the middle of
		// pushing this state, with clients of the previous state still
		// running. Pushing it again waits until every client has it.
		if err := m.push(ctx, state); err != nil {
			return err
		}
	}
	return m.run(ctx, state)
}

// run goes on with the migration from state.
func (m *Migrator) run(ctx context.Context, state State) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch state {
		case UseOldHideMetadata:
			if !m.t.is(BugMigrateSkipPreferOld) {
				if err := m.push(ctx, PreferOld); err != nil {
					return err
				}
			}
			state = PreferOld
		case PreferOld:
			if m.t.is(BugInsertBehindMigrator) {
				state = PreferNew // copy while clients still write the old table
				continue
			}
			if err := m.push(ctx, PreferNew); err != nil {
				return err
			}
			state = PreferNew
		case PreferNew:
			if err := m.copy(ctx); err != nil {
				return err
			}
			if !m.t.is(BugMigrateSkipUseNewWithTombstones) {
				if err := m.push(ctx, UseNewWithTombstones); err != nil {
					return err
				}
			}
			state = UseNewWithTombstones
		case UseNewWithTombstones:
			if err := m.push(ctx, UseNewHideMetadata); err != nil {
				return err
			}
			state = UseNewHideMetadata
		case UseNewHideMetadata:
			return m.cleanup(ctx)
		default:
			return fmt.Errorf("mtable: migrator: the configuration service holds an invalid state %d", state)
		}
	}
}

func (m *Migrator) push(ctx context.Context, s State) error {
	if err := m.t.cfg.Push(ctx, s); err != nil {
		return fmt.Errorf("mtable: migrator pushing %s: %w", s, err)
	}
	m.last, m.pushed = s, true
	return nil
}

// scan streams a backend table, annotating each call. A failed open or
// page (not applied or unknown: a read applies nothing) restarts the
// query after the last row returned, at most MaxBackendAttempts tries in
// a row.
type scan struct {
	t      *Table
	b      spec.Table
	which  string
	f      spec.Filter
	st     spec.Stream
	last   *spec.Key
	faults int // failures since the last row
}

func (m *Migrator) openScan(ctx context.Context, b spec.Table, which string, f spec.Filter) (*scan, error) {
	sc := &scan{t: m.t, b: b, which: which, f: f}
	if err := sc.open(ctx); err != nil {
		return nil, err
	}
	return sc, nil
}

func (s *scan) open(ctx context.Context) error {
	for {
		f := s.f
		if s.last != nil {
			f = spec.AndFilters(f, spec.FromKeyFilter(s.last.Successor()))
		}
		st, err := s.b.QueryStreamed(ctx, f)
		s.t.note(ctx, Annotation{})
		if err == nil {
			s.st = st
			return nil
		}
		if s.faults++; !retry(ctx, s.faults, err, false) {
			return internalErr("migrator scanning the "+s.which+" table", err)
		}
	}
}

func (s *scan) next(ctx context.Context) (spec.Entity, bool, error) {
	for {
		e, ok, err := s.st.Next(ctx)
		s.t.note(ctx, Annotation{})
		if err == nil {
			s.faults = 0
			if ok {
				k := e.Key
				s.last = &k
			}
			return e, ok, nil
		}
		if s.faults++; !retry(ctx, s.faults, err, false) {
			return spec.Entity{}, false, internalErr("migrator scanning the "+s.which+" table", err)
		}
		s.st.Close()
		if err := s.open(ctx); err != nil {
			return spec.Entity{}, false, err
		}
	}
}

func (s *scan) close() { s.st.Close() }

// copy switches every partition of the old table and copies its rows
// into the new table (Insert; 409 means already there).
func (m *Migrator) copy(ctx context.Context) error {
	sc, err := m.openScan(ctx, m.t.old, "old", nil)
	if err != nil {
		return err
	}
	defer func() { sc.close() }()
	prev, havePrev := "", false
	for {
		e, ok, err := sc.next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if IsInternalKey(e.Key) {
			continue
		}
		if !havePrev || e.PartitionKey != prev {
			prev, havePrev = e.PartitionKey, true
			if err := m.t.ensureSwitched(ctx, e.PartitionKey); err != nil {
				return err
			}
			if m.t.is(BugInsertBehindMigrator) {
				// Clients may still write this partition's old rows:
				// rescan it now that it is switched.
				f := spec.Comparison{Property: spec.PartitionKeyProp, Op: spec.Ge, Value: spec.String(e.PartitionKey)}
				again, err := m.openScan(ctx, m.t.old, "old", f)
				if err != nil {
					return err
				}
				sc.close()
				sc = again
				continue
			}
		}
		if err := m.t.copyRow(ctx, e); err != nil {
			return err
		}
	}
}

// cleanup removes the metadata from the new table (tombstones deleted,
// live rows rewritten without metadata, each conditioned on the ETag
// read) and then empties the old table.
func (m *Migrator) cleanup(ctx context.Context) error {
	sc, err := m.openScan(ctx, m.t.new, "new", nil)
	if err != nil {
		return err
	}
	for {
		e, ok, err := sc.next(ctx)
		if err != nil {
			sc.close()
			return err
		}
		if !ok {
			break
		}
		if err := m.cleanRow(ctx, e); err != nil {
			sc.close()
			return err
		}
	}
	sc.close()

	sc, err = m.openScan(ctx, m.t.old, "old", nil)
	if err != nil {
		return err
	}
	defer sc.close()
	for {
		e, ok, err := sc.next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		// Delete "*" is idempotent: a 404 after a try of ours whose
		// outcome was unknown means it applied.
		for attempt := 1; ; attempt++ {
			_, err = m.t.old.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: e.Key, ETag: spec.AnyETag}}})
			m.t.note(ctx, Annotation{})
			if err == nil || spec.StatusOf(err) == spec.StatusNotFound {
				break
			}
			if !retry(ctx, attempt, err, false) {
				return internalErr("migrator deleting "+e.Key.String()+" from the old table", err)
			}
		}
	}
}

// A write that fails transiently is followed by reading the row again,
// as after a 412: it shows whether the write applied (the row is gone,
// or has no metadata left) and the write is decided again from it, at
// most MaxBackendAttempts failures. A rewrite whose outcome was unknown
// reports the row's ETag change as unknown (ETag "").
func (m *Migrator) cleanRow(ctx context.Context, e spec.Entity) error {
	faults, unknown := 0, false
	for {
		var op spec.Op
		switch {
		case IsTombstone(e):
			op = spec.Op{Kind: spec.Delete, Entity: spec.Entity{Key: e.Key, ETag: e.ETag}}
		case hasMetadata(e):
			op = spec.Op{Kind: spec.Replace, Entity: spec.Entity{Key: e.Key, ETag: e.ETag, Props: userProps(e.Props)}}
		default:
			if unknown {
				m.t.note(ctx, Annotation{ETagChanges: []ETagChange{{Key: e.Key}}})
			}
			return nil
		}
		res, err := m.t.new.ExecuteBatch(ctx, []spec.Op{op})
		switch {
		case err == nil:
			if op.Kind == spec.Replace {
				m.t.note(ctx, Annotation{ETagChanges: []ETagChange{{Key: e.Key, ETag: res[0].ETag}}})
			} else {
				m.t.note(ctx, Annotation{})
			}
			return nil
		case spec.StatusOf(err) == spec.StatusNotFound:
			m.t.note(ctx, Annotation{})
			return nil // deleted concurrently
		case spec.StatusOf(err) == spec.StatusPreconditionFailed || transient(err):
			m.t.note(ctx, Annotation{})
			if transient(err) {
				if faults++; !retry(ctx, faults, err, false) {
					return internalErr("migrator cleaning "+e.Key.String(), err)
				}
				unknown = unknown || (spec.Classify(err) == spec.Unknown && op.Kind == spec.Replace)
			}
			cur, ok, err := m.t.retrieve(ctx, m.t.new, e.Key)
			m.t.note(ctx, Annotation{})
			if err != nil {
				return internalErr("migrator re-reading "+e.Key.String(), err)
			}
			if !ok {
				return nil
			}
			e = cur
		default:
			m.t.note(ctx, Annotation{})
			return internalErr("migrator cleaning "+e.Key.String(), err)
		}
	}
}
