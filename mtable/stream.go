package mtable

import (
	"context"
	"errors"
	"fmt"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// ErrStreamClosed is returned by Next on a virtual stream after Close.
var ErrStreamClosed = errors.New("mtable: Next on a closed stream")

// QueryStreamed implements spec.Table (PROTOCOL.md section 3.5, except
// that the old-table stream is dropped on USE_NEW_WITH_TOMBSTONES; see
// the package documentation). The stream holds a live subscription until Close, so the caller must close
// it: an unclosed stream that is never read still acknowledges pushes,
// but keeps its subscription.
//
// Continuation and Close take no context; their locking is controlled,
// so under the scheduler they must be called from a machine of the run.
func (t *Table) QueryStreamed(ctx context.Context, filter spec.Filter) (spec.Stream, error) {
	if err := t.ready(); err != nil {
		return nil, err
	}
	if err := validateFilter(filter); err != nil {
		return nil, err
	}
	s := &stream{t: t, ctx: ctx, filter: filter}
	if err := s.start(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// stream merges a key-ordered old-table stream (caller's filter) with a
// key-ordered new-table stream (no filter: a new row that fails the
// filter must still shadow its old twin), applying the filter after the
// merge. Reads and configuration changes share mu.
type stream struct {
	t      *Table
	ctx    context.Context
	filter spec.Filter

	mu     sched.Mutex
	cancel func()
	state  State
	closed bool
	err    error // sticky failure of a backend stream
	// errCont and errMore are the continuation when err happened: a
	// failed stream still tells the caller where to restart.
	errCont spec.Key
	errMore bool

	oldS, newS       spec.Stream
	oldNext, newNext *spec.Entity // the next row of each side; nil: none (now)
}

type streamSub struct{ s *stream }

func (x streamSub) Apply(ctx context.Context, st State) error { return x.s.apply(ctx, st) }

func (s *stream) lock(ctx context.Context) {
	if !s.t.is(BugQueryStreamedLock) {
		s.mu.Lock()
	}
}

func (s *stream) unlock(ctx context.Context) {
	if !s.t.is(BugQueryStreamedLock) {
		s.mu.Unlock()
	}
}

// open starts a backend stream and reads its first row.
func (s *stream) open(ctx context.Context, b spec.Table, which string, f spec.Filter) (spec.Stream, *spec.Entity, error) {
	st, err := b.QueryStreamed(ctx, f)
	s.t.note(ctx, Annotation{})
	if err != nil {
		return nil, nil, internalErr("streamed query on the "+which+" table", err)
	}
	first, err := s.read(ctx, st, which)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, first, nil
}

func (s *stream) read(ctx context.Context, st spec.Stream, which string) (*spec.Entity, error) {
	e, ok, err := st.Next(ctx)
	s.t.note(ctx, Annotation{})
	if err != nil {
		return nil, internalErr("reading the "+which+" table's stream", err)
	}
	if !ok {
		return nil, nil
	}
	return &e, nil
}

// newFilter is the new-table stream's filter: every row (from the
// continuation key, when given), since a new row that fails the
// caller's filter must still shadow its old twin; but only the caller's
// partition when the caller's filter targets one, as shadowing pairs
// share their key. When the stream reads the new table alone (from
// USE_NEW_WITH_TOMBSTONES on: no old row is left to shadow) the
// caller's filter is added, if Azure's comparison limit allows, so that
// the backend skips the rows the caller does not want.
func (s *stream) newFilter(from *spec.Key, alone bool) spec.Filter {
	var f spec.Filter
	if pk, ok := spec.SinglePartition(s.filter); ok {
		f = spec.PartitionFilter(pk)
	}
	if from != nil {
		f = spec.AndFilters(f, spec.FromKeyFilter(*from))
	}
	if s.t.is(BugQueryStreamedFilterShadowing) ||
		(alone && spec.CountComparisons(f)+spec.CountComparisons(s.filter) <= spec.MaxComparisons) {
		f = spec.AndFilters(f, s.filter)
	}
	return f
}

func (s *stream) start(ctx context.Context) error {
	s.lock(ctx)
	defer s.unlock(ctx)
	st, cancel, err := s.t.cfg.Subscribe(ctx, streamSub{s})
	if err != nil {
		return fmt.Errorf("mtable: subscribing to the configuration: %w", err)
	}
	s.cancel, s.state = cancel, st
	if st < UseNewWithTombstones {
		if s.oldS, s.oldNext, err = s.open(ctx, s.t.old, "old", s.filter); err != nil {
			return err
		}
	}
	if st > UseOldHideMetadata {
		if s.newS, s.newNext, err = s.open(ctx, s.t.new, "new", s.newFilter(nil, s.oldS == nil)); err != nil {
			return err
		}
	}
	return nil
}

// side compares the two peeked rows: <0 old first, >0 new first, 0 the
// same key on both; ok is false when neither side has a row.
func (s *stream) side() (c int, ok bool) {
	switch {
	case s.oldNext == nil && s.newNext == nil:
		return 0, false
	case s.oldNext == nil:
		return 1, true
	case s.newNext == nil:
		return -1, true
	}
	return s.oldNext.Key.Compare(s.newNext.Key), true
}

func (s *stream) continuation() (spec.Key, bool) {
	c, ok := s.side()
	if !ok {
		return spec.Key{}, false
	}
	if c <= 0 {
		return s.oldNext.Key, true
	}
	return s.newNext.Key, true
}

// Next implements spec.Stream.
func (s *stream) Next(ctx context.Context) (spec.Entity, bool, error) {
	s.lock(ctx)
	defer s.unlock(ctx)
	if s.closed {
		return spec.Entity{}, false, ErrStreamClosed
	}
	for {
		if s.err != nil {
			return spec.Entity{}, false, s.err
		}
		c, ok := s.side()
		if !ok {
			return spec.Entity{}, false, nil
		}
		var fromOld, fromNew *spec.Entity
		var err error
		cont, more := s.continuation()
		if c <= 0 {
			fromOld = s.oldNext
			if s.oldNext, err = s.read(ctx, s.oldS, "old"); err != nil {
				s.err = err
			}
		}
		if c >= 0 && s.err == nil {
			fromNew = s.newNext
			if s.newNext, err = s.read(ctx, s.newS, "new"); err != nil {
				s.err = err
			}
		}
		if s.err != nil {
			s.errCont, s.errMore = cont, more
			return spec.Entity{}, false, s.err
		}
		e := fromOld
		if fromNew != nil {
			e = fromNew
		}
		if IsInternalKey(e.Key) || IsTombstone(*e) {
			continue
		}
		x := export(*e)
		if spec.Matches(s.filter, x) {
			return x, true, nil
		}
	}
}

// Continuation implements spec.Stream: the smallest key either side will
// consider next.
func (s *stream) Continuation() (spec.Key, bool) {
	s.lock(s.ctx)
	defer s.unlock(s.ctx)
	switch {
	case s.closed:
		return spec.Key{}, false
	case s.err != nil:
		return s.errCont, s.errMore // where it stood when it failed
	}
	return s.continuation()
}

// Close implements spec.Stream.
func (s *stream) Close() error {
	s.lock(s.ctx)
	defer s.unlock(s.ctx)
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	s.closeOld()
	s.closeNew()
	return nil
}

func (s *stream) closeOld() {
	if s.oldS != nil {
		s.oldS.Close()
	}
	s.oldS, s.oldNext = nil, nil
}

func (s *stream) closeNew() {
	if s.newS != nil {
		s.newS.Close()
	}
	s.newS, s.newNext = nil, nil
}

// apply reacts to a configuration push (section 3.5).
func (s *stream) apply(ctx context.Context, next State) error {
	s.lock(ctx)
	defer s.unlock(ctx)
	if s.closed || s.err != nil {
		return nil
	}
	cont, haveCont := s.continuation()
	var from *spec.Key
	if haveCont {
		from = &cont
	}
	justStarted := false
	if next > UseOldHideMetadata && s.state <= UseOldHideMetadata && haveCont {
		s.closeNew()
		st, first, err := s.open(ctx, s.t.new, "new", s.newFilter(from, false))
		if err != nil {
			s.err, s.errCont, s.errMore = err, cont, haveCont
			return err
		}
		s.newS, s.newNext, justStarted = st, first, true
	}
	// Entering a new-table-only state drops the old stream. PROTOCOL.md
	// 3.5 does this on entering USE_NEW_HIDE_METADATA, but that is too
	// late: once this stream has acknowledged USE_NEW_WITH_TOMBSTONES,
	// the push of USE_NEW_HIDE_METADATA may begin, and its clients
	// delete rows without leaving tombstones while this stream has yet
	// to hear of it; an old row would then show through. By the time
	// USE_NEW_WITH_TOMBSTONES is pushed every old row has been copied,
	// so the new table alone is complete.
	if next >= UseNewWithTombstones && s.state < UseNewWithTombstones {
		s.closeOld()
		// The new stream may have run ahead of the old one while rows
		// were still to come from the old stream: back it up.
		if !s.t.is(BugQueryStreamedBackUpNewStream) && haveCont && !justStarted {
			s.closeNew()
			st, first, err := s.open(ctx, s.t.new, "new", s.newFilter(from, true))
			if err != nil {
				s.err, s.errCont, s.errMore = err, cont, haveCont
				return err
			}
			s.newS, s.newNext = st, first
		}
	}
	if !s.t.is(BugQueryStreamedSaveNewConfig) {
		s.state = next
	}
	return nil
}
