package spec

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Key is an entity's primary key. Keys order ordinally, as in Azure: by
// PartitionKey, then by RowKey, comparing UTF-16 code units (see
// CompareStrings).
type Key struct {
	PartitionKey string
	RowKey       string
}

// Compare returns -1, 0 or +1 as k sorts before, equal to or after o.
func (k Key) Compare(o Key) int {
	if c := CompareStrings(k.PartitionKey, o.PartitionKey); c != 0 {
		return c
	}
	return CompareStrings(k.RowKey, o.RowKey)
}

// Less reports whether k sorts before o.
func (k Key) Less(o Key) bool { return k.Compare(o) < 0 }

// Successor returns the smallest key greater than k.
func (k Key) Successor() Key { return Key{k.PartitionKey, k.RowKey + "\x00"} }

// String returns "pk/rk" with both parts quoted when they need it.
func (k Key) String() string { return quote(k.PartitionKey) + "/" + quote(k.RowKey) }

// ETag is an opaque entity version. Layers compare ETags as strings and
// never parse them.
type ETag string

// AnyETag is the If-Match value that matches any existing entity.
const AnyETag ETag = "*"

// Props holds an entity's user properties by name.
type Props map[string]Value

// Names returns the property names in sorted order.
func (p Props) Names() []string { return slices.Sorted(maps.Keys(p)) }

// Clone returns a copy of p (nil stays nil).
func (p Props) Clone() Props { return maps.Clone(p) }

// Entity is a row: a key, the service-assigned ETag and Timestamp, and
// typed user properties.
//
// ETag is the entity's current version when the entity comes from a
// table, and the If-Match condition when it is an operand of Replace,
// Merge or Delete. Timestamp is informational: it is set by the service
// and never compared by this project's checks.
type Entity struct {
	Key
	ETag      ETag
	Timestamp time.Time
	Props     Props
}

// Clone returns a deep copy of e.
func (e Entity) Clone() Entity {
	e.Props = e.Props.Clone()
	return e
}

// OpKind is the kind of a write operation.
type OpKind uint8

// The seven write operations of Azure Table storage.
const (
	Insert          OpKind = iota // 201; 409 if the row exists
	Replace                       // 204; 404 if absent; 412 if If-Match fails
	Merge                         // like Replace but sets only the given properties
	Delete                        // 204; 404 if absent; 412 if If-Match fails
	InsertOrReplace               // 204, unconditional
	InsertOrMerge                 // 204, unconditional
	DeleteIfExists                // 204 whether or not the row existed
)

var opNames = [...]string{"Insert", "Replace", "Merge", "Delete", "InsertOrReplace", "InsertOrMerge", "DeleteIfExists"}

// String returns the operation's name, e.g. "InsertOrMerge".
func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return "OpKind(" + strconv.Itoa(int(k)) + ")"
}

// ParseOpKind is the inverse of OpKind.String.
func ParseOpKind(s string) (OpKind, bool) {
	i := slices.Index(opNames[:], s)
	return OpKind(i), i >= 0
}

// NeedsIfMatch reports whether the operation takes an If-Match condition
// (Replace, Merge, Delete); for these an empty ETag is a caller error.
func (k OpKind) NeedsIfMatch() bool { return k == Replace || k == Merge || k == Delete }

// IsDelete reports whether the operation removes the row (Delete,
// DeleteIfExists). Deletes return no ETag.
func (k OpKind) IsDelete() bool { return k == Delete || k == DeleteIfExists }

// Op is one write operation of a batch. Entity carries the key, the
// properties to write (ignored for deletes) and, for Replace, Merge and
// Delete, the If-Match ETag ("*" or a specific version).
type Op struct {
	Kind   OpKind
	Entity Entity
}

// Result is the outcome of one successful operation: the row's new ETag,
// or "" for a delete.
type Result struct {
	ETag ETag
}

// MaxBatch is the largest number of operations a batch may hold.
const MaxBatch = 100

// Table is the contract every layer implements: the in-memory reference
// table, the Azure adapter and MigratingTable itself.
//
// All methods are safe for concurrent use. Errors that describe the
// outcome of a request are *Error values (use errors.As or StatusOf);
// other errors (a cancelled context, a transport failure) pass through.
type Table interface {
	// ExecuteBatch applies 1..MaxBatch operations on distinct rows of one
	// partition atomically. On success it returns one Result per
	// operation, in order. On failure no operation is applied and the
	// error is an *Error whose Index names the first failing operation.
	ExecuteBatch(ctx context.Context, ops []Op) ([]Result, error)

	// QueryAtomic returns, in key order, the rows of one partition that
	// match filter, as of a single instant. The filter must target one
	// partition syntactically (see SinglePartition); otherwise the call
	// fails with a 400 *Error.
	QueryAtomic(ctx context.Context, filter Filter) ([]Entity, error)

	// QueryStreamed starts a query over the whole table (nil filter
	// matches every row) whose rows are delivered one at a time in key
	// order. See Stream for the (weak) consistency guarantee.
	QueryStreamed(ctx context.Context, filter Filter) (Stream, error)
}

// Stream is the result of a streamed query.
//
// Each row returned reflects the table's state at some instant between
// the start of the query and the moment Next returns it; the instants
// need not increase with the key. End of stream is likewise a valid
// answer at the moment it is given.
type Stream interface {
	// Next returns the next matching row. ok is false at the end of the
	// stream.
	Next(ctx context.Context) (e Entity, ok bool, err error)

	// Continuation returns the key from which a restarted query would
	// complete the result: every key not yet returned is >= it, and it
	// is greater than every key already returned. ok is false when the
	// stream is known to be finished.
	Continuation() (k Key, ok bool)

	// Close releases the stream. It is safe to call more than once.
	Close() error
}

// Retrieve reads one row through an atomic point query. ok is false when
// the row does not exist.
func Retrieve(ctx context.Context, t Table, k Key) (e Entity, ok bool, err error) {
	rows, err := t.QueryAtomic(ctx, KeyFilter(k))
	if err != nil || len(rows) == 0 {
		return Entity{}, false, err
	}
	return rows[0], true, nil
}

// SortEntities sorts rows by key.
func SortEntities(rows []Entity) {
	slices.SortFunc(rows, func(a, b Entity) int { return a.Key.Compare(b.Key) })
}
