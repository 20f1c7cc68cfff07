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

// scan streams a backend table, annotating each call.
type scan struct {
	t     *Table
	st    spec.Stream
	which string
}

func (m *Migrator) openScan(ctx context.Context, b spec.Table, which string, f spec.Filter) (*scan, error) {
	st, err := b.QueryStreamed(ctx, f)
	m.t.note(ctx, Annotation{})
	if err != nil {
		return nil, internalErr("migrator scanning the "+which+" table", err)
	}
	return &scan{t: m.t, st: st, which: which}, nil
}

func (s *scan) next(ctx context.Context) (spec.Entity, bool, error) {
	e, ok, err := s.st.Next(ctx)
	s.t.note(ctx, Annotation{})
	if err != nil {
		return spec.Entity{}, false, internalErr("migrator scanning the "+s.which+" table", err)
	}
	return e, ok, nil
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
		_, err = m.t.old.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: e.Key, ETag: spec.AnyETag}}})
		m.t.note(ctx, Annotation{})
		if err != nil && spec.StatusOf(err) != spec.StatusNotFound {
			return internalErr("migrator deleting "+e.Key.String()+" from the old table", err)
		}
	}
}

func (m *Migrator) cleanRow(ctx context.Context, e spec.Entity) error {
	for {
		var op spec.Op
		switch {
		case IsTombstone(e):
			op = spec.Op{Kind: spec.Delete, Entity: spec.Entity{Key: e.Key, ETag: e.ETag}}
		case hasMetadata(e):
			op = spec.Op{Kind: spec.Replace, Entity: spec.Entity{Key: e.Key, ETag: e.ETag, Props: userProps(e.Props)}}
		default:
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
		case spec.StatusOf(err) == spec.StatusPreconditionFailed:
			m.t.note(ctx, Annotation{})
			cur, ok, err := spec.Retrieve(ctx, m.t.new, e.Key)
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
