package spec

import (
	"errors"
	"maps"
	"slices"
	"sort"
	"time"
)

// Rows is an immutable snapshot of (part of) a table: entities sorted by
// key, with no two sharing a key.
//
// A Rows value and the entities in it (including their Props maps) must
// never be modified once built: snapshots share entities with each other
// and with the table they came from. ApplyBatch returns a new Rows and
// leaves its input untouched. Use Entity.Clone (or Rows.Clone) to obtain
// something mutable.
type Rows []Entity

// Search returns the index of the first row whose key is >= k, and
// whether that row's key equals k.
func (r Rows) Search(k Key) (int, bool) {
	return slices.BinarySearchFunc(r, k, func(e Entity, k Key) int { return e.Key.Compare(k) })
}

// Get returns the row with key k. The entity is shared with r: do not
// modify its Props (clone it first).
func (r Rows) Get(k Key) (Entity, bool) {
	i, ok := r.Search(k)
	if !ok {
		return Entity{}, false
	}
	return r[i], true
}

// Partition returns the sub-snapshot of the rows whose PartitionKey is
// pk (sharing r's backing array; it is immutable like r).
func (r Rows) Partition(pk string) Rows {
	lo, _ := r.Search(Key{PartitionKey: pk})
	hi := lo + sort.Search(len(r)-lo, func(i int) bool { return r[lo+i].PartitionKey != pk })
	return r[lo:hi:hi]
}

// Query returns deep copies of the rows that match f (nil matches all),
// in key order. It is the sequential semantics of both query kinds:
// QueryAtomic on a table whose state is r returns
// r.Query(filter) (after checking SinglePartition).
//
// When f targets one partition, only the rows of that partition whose
// RowKey can satisfy f's RowKey comparisons are visited (as a service
// uses its key index), so a point query costs O(log n). Within the
// partition, f's "PartitionKey eq" conjuncts are known to hold and are
// not evaluated again; and when what remains is a disjunction
// ("g or RowKey eq 'k1' or ..."), each disjunct that RowKey comparisons
// narrow is evaluated over its own ranges only, the others together
// over the partition, so a list of keys added to a filter costs a few
// lookups rather than a comparison per key on every row.
func (r Rows) Query(f Filter) []Entity {
	out := []Entity{}
	pk, ok := SinglePartition(f)
	if !ok {
		for _, e := range r {
			if Matches(f, e) {
				out = append(out, cloneEntity(e))
			}
		}
		return out
	}
	part := r.Partition(pk)
	for _, i := range partitionMatches(withoutPartitionKey(f, pk), part) {
		out = append(out, cloneEntity(part[i]))
	}
	return out
}

// partitionMatches returns, in increasing order, the indexes of the
// rows of part (one partition, in key order) that match g.
func partitionMatches(g Filter, part Rows) []int {
	var wide, narrow []Filter // disjuncts over the whole partition, over some ranges
	for _, d := range disjuncts(g, nil) {
		if s := rowKeySpans(d, part); len(s) == 1 && s[0] == (span{0, len(part)}) {
			wide = append(wide, d)
		} else {
			narrow = append(narrow, d)
		}
	}
	var hits []int
	visit := func(d Filter) {
		for _, s := range rowKeySpans(d, part) {
			for i := s.lo; i < s.hi; i++ {
				if Matches(d, part[i]) {
					hits = append(hits, i)
				}
			}
		}
	}
	if len(wide) > 0 {
		visit(orFilters(wide))
	}
	for _, d := range narrow {
		visit(d)
	}
	if len(wide)+len(narrow) > 1 {
		slices.Sort(hits)
		hits = slices.Compact(hits) // a row may match several disjuncts
	}
	return hits
}

// withoutPartitionKey drops from the top-level "and" chain of f the
// comparisons "PartitionKey eq pk", which every row of partition pk
// satisfies, so that on those rows the result matches exactly when f
// does (nil, matching every row, when nothing else remains).
func withoutPartitionKey(f Filter, pk string) Filter {
	switch f := f.(type) {
	case Comparison:
		if f.Property == PartitionKeyProp && f.Op == Eq && f.Value.Type() == TypeString && f.Value.Str() == pk {
			return nil
		}
	case And:
		l, r := withoutPartitionKey(f.L, pk), withoutPartitionKey(f.R, pk)
		if l == nil || r == nil {
			return AndFilters(l, r)
		}
		return And{l, r}
	}
	return f
}

// disjuncts appends to out the operands of f's top-level "or" chain, in
// order (f itself when it is not an "or").
func disjuncts(f Filter, out []Filter) []Filter {
	if o, ok := f.(Or); ok {
		return disjuncts(o.R, disjuncts(o.L, out))
	}
	return append(out, f)
}

// orFilters combines non-empty fs with "or".
func orFilters(fs []Filter) Filter {
	out := fs[0]
	for _, f := range fs[1:] {
		out = Or{out, f}
	}
	return out
}

// span is the index range [lo, hi) of a partition's rows.
type span struct{ lo, hi int }

// rowKeySpans returns sorted, disjoint index ranges of part (the rows of
// one partition, in key order) outside which no row matches f. It is
// conservative: only RowKey comparisons with a string literal, and the
// and/or combining them, narrow the ranges; anything else (another
// property, not) leaves them whole, and Matches decides.
func rowKeySpans(f Filter, part Rows) []span {
	if len(part) == 0 {
		return nil
	}
	all := func() []span { return []span{{0, len(part)}} }
	switch f := f.(type) {
	case Comparison:
		if f.Property != RowKeyProp || f.Value.Type() != TypeString {
			return all()
		}
		v := f.Value.Str()
		// first is the index of the first row whose RowKey is >= v
		// (orEqual) or > v.
		first := func(orEqual bool) int {
			return sort.Search(len(part), func(i int) bool {
				c := CompareStrings(part[i].RowKey, v)
				return c > 0 || (orEqual && c == 0)
			})
		}
		switch f.Op {
		case Eq:
			// Keys are unique: at most the row at first(true) equals v.
			lo := first(true)
			if lo < len(part) && part[lo].RowKey == v {
				return []span{{lo, lo + 1}}
			}
			return nil
		case Lt:
			return nonEmpty(span{0, first(true)})
		case Le:
			return nonEmpty(span{0, first(false)})
		case Gt:
			return nonEmpty(span{first(false), len(part)})
		case Ge:
			return nonEmpty(span{first(true), len(part)})
		}
		return all()
	case And:
		return intersectSpans(rowKeySpans(f.L, part), rowKeySpans(f.R, part))
	case Or:
		return unionSpans(rowKeySpans(f.L, part), rowKeySpans(f.R, part))
	}
	return all()
}

func nonEmpty(s span) []span {
	if s.lo >= s.hi {
		return nil
	}
	return []span{s}
}

// unionSpans merges two sorted, disjoint span lists into one.
func unionSpans(a, b []span) []span {
	switch {
	case len(a) == 0:
		return b
	case len(b) == 0:
		return a
	}
	all := append(slices.Clone(a), b...)
	slices.SortFunc(all, func(x, y span) int { return x.lo - y.lo })
	var out []span
	for _, s := range all {
		if n := len(out); n > 0 && s.lo <= out[n-1].hi {
			out[n-1].hi = max(out[n-1].hi, s.hi)
			continue
		}
		out = append(out, s)
	}
	return out
}

// intersectSpans intersects two sorted, disjoint span lists.
func intersectSpans(a, b []span) []span {
	if len(a) == 1 && len(b) > 0 && a[0].lo <= b[0].lo && b[len(b)-1].hi <= a[0].hi {
		return b // a covers b (typically: the whole partition and b)
	}
	if len(b) == 1 && len(a) > 0 && b[0].lo <= a[0].lo && a[len(a)-1].hi <= b[0].hi {
		return a
	}
	var out []span
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].lo, b[j].lo), min(a[i].hi, b[j].hi)
		if lo < hi {
			out = append(out, span{lo, hi})
		}
		if a[i].hi < b[j].hi {
			i++
		} else {
			j++
		}
	}
	return out
}

// Clone returns a deep copy of the rows as a mutable slice.
func (r Rows) Clone() []Entity {
	out := make([]Entity, len(r))
	for i, e := range r {
		out[i] = cloneEntity(e)
	}
	return out
}

// NewRows builds a Rows from arbitrary entities: it deep-copies them,
// sorts them by key and, when several share a key, keeps the last one.
// Nil Props become empty maps. Keys and ETags are not validated.
func NewRows(entities []Entity) Rows {
	out := make(Rows, 0, len(entities))
	for _, e := range entities {
		out = append(out, cloneEntity(e))
	}
	// Stable sort keeps the input order among equal keys, so that the
	// last one of each run is the last given.
	slices.SortStableFunc(out, func(a, b Entity) int { return a.Key.Compare(b.Key) })
	dedup := out[:0]
	for i, e := range out {
		if i+1 < len(out) && out[i+1].Key == e.Key {
			continue
		}
		dedup = append(dedup, e)
	}
	return slices.Clip(dedup)
}

// cloneEntity deep-copies e and makes its Props non-nil, so callers can
// add properties to the copy.
func cloneEntity(e Entity) Entity {
	e = e.Clone()
	if e.Props == nil {
		e.Props = Props{}
	}
	return e
}

// ApplyBatch is the pure sequential semantics of a batch: given the
// table state rows, it returns the state after the batch and one Result
// per operation, or the *Error of the first failing operation (and then
// nil Rows and nil results). It never modifies rows or ops.
//
// The batch is first checked by ValidateBatch (400). Then each
// operation, in order, is checked against the row with its key:
//
//   - Insert fails with 409 if the row exists.
//   - Replace, Merge and Delete fail with 404 if the row is absent, and
//     with 412 if the operation's ETag (If-Match) is neither AnyETag nor
//     the row's current ETag.
//   - InsertOrReplace, InsertOrMerge and DeleteIfExists never fail; their
//     ETag field is ignored.
//
// Operations of a valid batch touch distinct rows, so checking each
// against the state before the batch is the same as checking it after
// its predecessors. If every check passes, newETag(i) is called, in
// increasing i and only for the non-delete operations, to supply the
// ETag of the row operation i writes; it is never called when the batch
// fails (a nil newETag is an error). Replace and InsertOrReplace set exactly the operation's
// properties; Merge and InsertOrMerge set the given properties and keep
// the others. A written row has a zero Timestamp. Successful results
// carry the written row's new ETag, or "" for deletes.
func ApplyBatch(rows Rows, ops []Op, newETag func(i int) ETag) (Rows, []Result, error) {
	return applyBatch(rows, ops, newETag, nil)
}

// applyBatch is ApplyBatch with stamp, when non-nil, supplying the
// Timestamp of the row operation i writes (called right after newETag).
func applyBatch(rows Rows, ops []Op, newETag func(i int) ETag, stamp func(i int) time.Time) (Rows, []Result, error) {
	if newETag == nil {
		return nil, nil, errors.New("table: ApplyBatch needs a newETag function, got nil")
	}
	if err := ValidateBatch(ops); err != nil {
		return nil, nil, err
	}
	if err := checkBatch(rows, ops); err != nil {
		return nil, nil, err
	}
	// All operations are on one partition: rebuild only its rows.
	pk := ops[0].Entity.PartitionKey
	lo, _ := rows.Search(Key{PartitionKey: pk})
	hi := lo
	for hi < len(rows) && rows[hi].PartitionKey == pk {
		hi++
	}
	part := slices.Clone(rows[lo:hi])
	results := make([]Result, len(ops))
	for i, op := range ops {
		j, found := part.Search(op.Entity.Key)
		if op.Kind.IsDelete() {
			if found {
				part = slices.Delete(part, j, j+1)
			}
			continue
		}
		etag := newETag(i)
		var ts time.Time
		if stamp != nil {
			ts = stamp(i)
		}
		e := Entity{Key: op.Entity.Key, ETag: etag, Timestamp: ts}
		if found && (op.Kind == Merge || op.Kind == InsertOrMerge) {
			e.Props = part[j].Props.Clone()
			if e.Props == nil {
				e.Props = Props{}
			}
			maps.Copy(e.Props, op.Entity.Props)
		} else {
			e.Props = op.Entity.Props.Clone()
			if e.Props == nil {
				e.Props = Props{}
			}
		}
		if found {
			part[j] = e
		} else {
			part = slices.Insert(part, j, e)
		}
		results[i] = Result{ETag: etag}
	}
	out := make(Rows, 0, len(rows)-(hi-lo)+len(part))
	out = append(out, rows[:lo]...)
	out = append(out, part...)
	out = append(out, rows[hi:]...)
	return out, results, nil
}

// checkBatch returns the *Error of the first operation of a valid batch
// that fails against rows (404, 409 or 412), or nil.
func checkBatch(rows Rows, ops []Op) error {
	for i, op := range ops {
		cur, found := rows.Get(op.Entity.Key)
		switch op.Kind {
		case Insert:
			if found {
				return &Error{Status: StatusConflict, Index: i, Code: "EntityAlreadyExists",
					Message: "Insert: the entity " + op.Entity.Key.String() + " already exists"}
			}
		case Replace, Merge, Delete:
			if !found {
				return &Error{Status: StatusNotFound, Index: i, Code: "ResourceNotFound",
					Message: op.Kind.String() + ": the entity " + op.Entity.Key.String() + " does not exist"}
			}
			if op.Entity.ETag != AnyETag && op.Entity.ETag != cur.ETag {
				return &Error{Status: StatusPreconditionFailed, Index: i, Code: "UpdateConditionNotSatisfied",
					Message: op.Kind.String() + ": If-Match " + quote(string(op.Entity.ETag)) +
						" does not match the current ETag " + quote(string(cur.ETag)) + " of " + op.Entity.Key.String()}
			}
		}
	}
	return nil
}
