package spec

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// MemTable is the in-memory reference implementation of Table. It is
// safe for concurrent use; every call is atomic (it runs under one lock,
// with no blocking inside), so its calls are trivially linearizable.
//
// It is deterministic: the n-th write it performs (n = 1, 2, …) gives the
// row the ETag etagPrefix+n (e.g. "old:7") and the Timestamp
// MemTimestamp(n); no wall clock, randomness or map order is involved.
//
// Its state is a Rows value replaced on every write (copy-on-write), so
// Snapshot is O(1). Entities it returns are deep copies.
type MemTable struct {
	mu        sync.Mutex
	prefix    string
	n         uint64 // number of ETags issued so far
	rows      Rows
	pageLimit int // 0: atomic queries of any size
}

// NewMemTable returns an empty table whose ETags are etagPrefix followed
// by a decimal counter. Tables with distinct prefixes never issue equal
// ETags.
func NewMemTable(etagPrefix string) *MemTable {
	return &MemTable{prefix: etagPrefix}
}

// memEpoch is the Timestamp of write 0.
var memEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// MemTimestamp returns the Timestamp a MemTable gives its n-th write:
// 2000-01-01T00:00:00Z plus n milliseconds.
func MemTimestamp(n uint64) time.Time {
	return memEpoch.Add(time.Duration(n) * time.Millisecond)
}

// issue advances the counter and returns the next ETag and Timestamp.
// The caller holds t.mu.
func (t *MemTable) issue() (ETag, time.Time) {
	t.n++
	return ETag(t.prefix + strconv.FormatUint(t.n, 10)), MemTimestamp(t.n)
}

// ExecuteBatch implements Table: it applies the batch as ApplyBatch
// specifies, with ETags from the table's counter.
func (t *MemTable) ExecuteBatch(ctx context.Context, ops []Op) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var ts time.Time
	rows, results, err := applyBatch(t.rows, ops,
		func(int) ETag {
			var etag ETag
			etag, ts = t.issue()
			return etag
		},
		func(int) time.Time { return ts })
	if err != nil {
		return nil, err
	}
	t.rows = rows
	return results, nil
}

// ApplyBatchWithETags executes a batch like ExecuteBatch but gives the
// row written by operation i the ETag etags[i] (entries for deletes are
// ignored); it is how a harness mirrors onto a reference table a batch
// another table executed. etags must have one entry per operation and
// no empty entry for a non-delete (400 otherwise). The counter still
// advances once per written row, for the Timestamp.
func (t *MemTable) ApplyBatchWithETags(ops []Op, etags []ETag) ([]Result, error) {
	if len(etags) != len(ops) {
		return nil, &Error{Status: StatusBadRequest, Index: -1, Code: "InvalidInput",
			Message: fmt.Sprintf("ApplyBatchWithETags: %d ETags for %d operations: want one per operation", len(etags), len(ops))}
	}
	if err := ValidateBatch(ops); err != nil {
		return nil, err
	}
	for i, op := range ops {
		if !op.Kind.IsDelete() && etags[i] == "" {
			return nil, &Error{Status: StatusBadRequest, Index: i, Code: "InvalidInput",
				Message: "ApplyBatchWithETags: empty ETag for " + op.Kind.String() + " of " + op.Entity.Key.String()}
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var ts time.Time
	rows, results, err := applyBatch(t.rows, ops,
		func(i int) ETag {
			_, ts = t.issue()
			return etags[i]
		},
		func(int) time.Time { return ts })
	if err != nil {
		return nil, err
	}
	t.rows = rows
	return results, nil
}

// QueryAtomic implements Table: the rows of one partition matching
// filter, in key order, as of one instant. A filter that does not target
// one partition syntactically (SinglePartition), or that holds more than
// MaxComparisons comparisons, is a 400 *Error. With a page limit set
// (SetPageLimit), a result of more rows fails with an error wrapping
// ErrMultiPage, as a service that pages its answers does.
func (t *MemTable) QueryAtomic(ctx context.Context, filter Filter) ([]Entity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, ok := SinglePartition(filter); !ok {
		return nil, &Error{Status: StatusBadRequest, Index: -1, Code: "InvalidInput",
			Message: fmt.Sprintf("atomic query filter %q does not target a single partition: it must be PartitionKey eq '…' or an and with such an operand", FilterString(filter))}
	}
	if err := checkComparisons(filter); err != nil {
		return nil, err
	}
	t.mu.Lock()
	rows, limit := t.rows, t.pageLimit
	t.mu.Unlock()
	out := rows.Query(filter)
	if limit > 0 && len(out) > limit {
		return nil, fmt.Errorf("table: atomic query %q matches %d rows, more than the page limit of %d: %w", FilterString(filter), len(out), limit, ErrMultiPage)
	}
	return out, nil
}

// SetPageLimit makes QueryAtomic fail with an error wrapping
// ErrMultiPage when its result holds more than n rows, as Azure Table
// storage answers a query of more than 1,000 rows in several pages,
// which are not read at one instant (n <= 0: no limit, the default).
// Streamed queries are not limited: they read page after page.
func (t *MemTable) SetPageLimit(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pageLimit = max(n, 0)
}

// ErrMultiPage is the error (wrapped) of an atomic query whose answer
// does not fit in one page of the service: the service cannot give it
// at a single instant, so no partial answer is returned. It is not a
// table outcome (*Error): the request was valid. Such a query can be
// made as a streamed query instead, or narrowed.
var ErrMultiPage = errors.New("table: atomic query needs more than one page; it cannot be answered at a single instant")

// checkComparisons refuses, as Azure Table storage does, a filter with
// more than MaxComparisons comparisons.
func checkComparisons(f Filter) error {
	if n := CountComparisons(f); n > MaxComparisons {
		return &Error{Status: StatusBadRequest, Index: -1, Code: "InvalidInput",
			Message: fmt.Sprintf("filter %q has %d comparisons: at most %d are allowed", FilterString(f), n, MaxComparisons)}
	}
	return nil
}

// QueryStreamed implements Table. Each Next reads the table as it is at
// that moment and returns the first matching row whose key is greater
// than the last key returned, so every row reflects the state at the
// instant it is returned (which satisfies the Stream guarantee). A
// filter with more than MaxComparisons comparisons is a 400 *Error.
func (t *MemTable) QueryStreamed(ctx context.Context, filter Filter) (Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkComparisons(filter); err != nil {
		return nil, err
	}
	return &memStream{t: t, filter: filter}, nil
}

// Snapshot returns the whole table as of one instant, in O(1). The
// result shares storage with the table's history and must not be
// modified (see Rows).
func (t *MemTable) Snapshot() Rows {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rows
}

// SetETag changes the ETag of row k, leaving its properties and
// Timestamp unchanged. It returns false (and changes nothing) when the
// row is absent.
func (t *MemTable) SetETag(k Key, etag ETag) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, ok := t.rows.Search(k)
	if !ok {
		return false
	}
	rows := make(Rows, len(t.rows))
	copy(rows, t.rows)
	rows[i].ETag = etag
	t.rows = rows
	return true
}

// Load replaces the table's content with deep copies of rows, keeping
// their ETags and Timestamps. Rows may come in any order; when several
// share a key the last wins; a row with an empty ETag gets a fresh one
// (and a fresh Timestamp) from the counter. Keys are not validated.
func (t *MemTable) Load(rows []Entity) {
	r := NewRows(rows)
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range r {
		if r[i].ETag == "" {
			r[i].ETag, r[i].Timestamp = t.issue()
		}
	}
	t.rows = r
}

// ErrStreamClosed is returned by Next on a stream that was closed.
var ErrStreamClosed = errors.New("table: Next on a closed stream")

type memStream struct {
	mu     sync.Mutex
	t      *MemTable
	filter Filter
	next   Key // every key not yet returned is >= next
	done   bool
	closed bool
}

func (s *memStream) Next(ctx context.Context) (Entity, bool, error) {
	if err := ctx.Err(); err != nil {
		return Entity{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Entity{}, false, ErrStreamClosed
	}
	if s.done {
		return Entity{}, false, nil
	}
	rows := s.t.Snapshot()
	i, _ := rows.Search(s.next)
	for ; i < len(rows); i++ {
		if Matches(s.filter, rows[i]) {
			s.next = rows[i].Key.Successor()
			return cloneEntity(rows[i]), true, nil
		}
	}
	s.done = true
	return Entity{}, false, nil
}

func (s *memStream) Continuation() (Key, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return Key{}, false
	}
	return s.next, true
}

func (s *memStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
