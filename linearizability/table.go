package linearizability

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/spec"
)

// CallKind is the kind of a call in a table history.
type CallKind uint8

// The calls of a table history.
const (
	// BatchCall is spec.Table.ExecuteBatch(Ops).
	BatchCall CallKind = iota + 1
	// QueryCall is spec.Table.QueryAtomic(Filter).
	QueryCall
	// RetrieveCall is spec.Retrieve(Key): an atomic point query.
	RetrieveCall
	// ETagChangeCall is an event, not a call: a backend write (a
	// migrator's copy or clean-up) gave row Key the ETag ETag without
	// changing its content.
	ETagChangeCall
	// StreamCall is spec.Table.QueryStreamed(Filter), read answer by
	// answer. A streamed query is not atomic: it is judged by
	// CheckTableRecord against the table's content changes, never by
	// the search (CheckTable refuses it).
	StreamCall
)

var callKindNames = [...]string{BatchCall: "batch", QueryCall: "query", RetrieveCall: "retrieve", ETagChangeCall: "etag-change", StreamCall: "stream"}

// String returns "batch", "query", "retrieve", "etag-change" or
// "stream".
func (k CallKind) String() string {
	if int(k) < len(callKindNames) && callKindNames[k] != "" {
		return callKindNames[k]
	}
	return "CallKind(" + strconv.Itoa(int(k)) + ")"
}

// TableCall is a call on a spec.Table (or an ETag-change event): the
// input of an operation of a table history. It is the one value this
// project uses for a virtual-table call: the harness draws its workload
// as TableCalls, reports and history files print them with String, and
// ParseTableCall reads that form back.
type TableCall struct {
	Kind   CallKind
	Ops    []spec.Op   // BatchCall: the operations
	Filter spec.Filter // QueryCall, StreamCall: the filter (nil matches every row)
	Key    spec.Key    // RetrieveCall, ETagChangeCall: the row
	ETag   spec.ETag   // ETagChangeCall: the row's new ETag
}

// TableOutcome is the output of an operation of a table history.
//
// Err is nil or the *spec.Error the call returned. On success Results
// holds a batch's results, and Rows a query's rows (a retrieve's row,
// or none when it was not found). A streamed query's answers are in
// Stream, in the order returned, whether or not it completed. An
// ETagChangeCall has no outcome. A call that failed in another way (a
// cancelled context, a transport error) has an indeterminate effect and
// must be recorded as pending.
type TableOutcome struct {
	Results []spec.Result
	Rows    []spec.Entity
	Stream  []StreamAnswer
	Err     error
}

// StreamAnswer is one answer of a streamed query: a row, or the end of
// the stream (End), returned by Next at time At, and the continuation
// key the stream reported right after it (HasCont false when
// Continuation said the stream is finished).
type StreamAnswer struct {
	At      int64
	End     bool
	Row     spec.Entity // the row, when !End
	Cont    spec.Key
	HasCont bool
}

// TableOperation is an operation of a table history.
type TableOperation = Operation[TableCall, TableOutcome]

// Batch records an ExecuteBatch call made by client at time call that
// returned (results, err) at time ret. An err that is not a *spec.Error
// makes the operation pending (its effect is unknown); so does ret ==
// Pending. The operation keeps ops and results (and Query and Retrieve
// keep their rows) without copying them: do not modify them afterwards.
func Batch(client int, call, ret int64, ops []spec.Op, results []spec.Result, err error) TableOperation {
	op := TableOperation{Client: client, Call: call, Return: ret,
		Input: TableCall{Kind: BatchCall, Ops: ops}, Output: TableOutcome{Results: results, Err: err}}
	return settle(op)
}

// Query records a QueryAtomic call; see Batch.
func Query(client int, call, ret int64, filter spec.Filter, rows []spec.Entity, err error) TableOperation {
	if rows == nil && err == nil {
		rows = []spec.Entity{}
	}
	op := TableOperation{Client: client, Call: call, Return: ret,
		Input: TableCall{Kind: QueryCall, Filter: filter}, Output: TableOutcome{Rows: rows, Err: err}}
	return settle(op)
}

// Retrieve records a spec.Retrieve call that returned (e, found, err);
// see Batch.
func Retrieve(client int, call, ret int64, key spec.Key, e spec.Entity, found bool, err error) TableOperation {
	rows := []spec.Entity{}
	if found && err == nil {
		rows = append(rows, e)
	}
	op := TableOperation{Client: client, Call: call, Return: ret,
		Input: TableCall{Kind: RetrieveCall, Key: key}, Output: TableOutcome{Rows: rows, Err: err}}
	return settle(op)
}

// Stream records a streamed query made by client at time call with
// filter: the answers it got, and how it ended at time ret (err nil: the
// caller stopped reading, after the end or before it; a *spec.Error: the
// query failed). An err that is not a *spec.Error, or ret == Pending,
// makes it pending; its answers are kept, since each of them was
// returned and must be valid.
func Stream(client int, call, ret int64, filter spec.Filter, answers []StreamAnswer, err error) TableOperation {
	op := TableOperation{Client: client, Call: call, Return: ret,
		Input: TableCall{Kind: StreamCall, Filter: filter}, Output: TableOutcome{Stream: answers, Err: err}}
	return settle(op)
}

// ETagChange records that a backend write by client at time at changed
// the ETag of row key to etag without changing its virtual content. It
// is an instantaneous operation (Call == Return == at).
func ETagChange(client int, at int64, key spec.Key, etag spec.ETag) TableOperation {
	return TableOperation{Client: client, Call: at, Return: at,
		Input: TableCall{Kind: ETagChangeCall, Key: key, ETag: etag}}
}

// settle turns an operation with an indeterminate outcome into a
// pending one.
func settle(op TableOperation) TableOperation {
	var se *spec.Error
	if op.Output.Err != nil && !errors.As(op.Output.Err, &se) {
		op.Return = Pending
	}
	if op.IsPending() {
		op.Output = TableOutcome{Stream: op.Output.Stream}
	}
	return op
}

// TableState is a state of the table model: the rows, with their ETags.
// A row written by a pending batch has an ETag that is not known yet
// (see TableModel), possibly known to differ from some values; it
// prints as ? or ?(not "e1", "e2").
type TableState struct {
	rows    spec.Rows
	touched []string // sorted PartitionKeys whose rows may differ from the initial ones (shared, never modified)
}

// with returns the state with rows replaced, marking pk as touched.
func (s TableState) with(rows spec.Rows, pk string) TableState {
	touched := s.touched
	if i, found := slices.BinarySearch(touched, pk); !found {
		touched = slices.Insert(slices.Clip(touched), i, pk)
	}
	return TableState{rows: rows, touched: touched}
}

// Rows returns the state's rows (shared: do not modify them).
func (s TableState) Rows() spec.Rows { return s.rows }

// An unknown ETag is held in the row as a placeholder: unknownPrefix,
// then, for each value the ETag is known to differ from, in increasing
// order, a NUL byte and the value. The placeholder is canonical (equal
// knowledge, equal string), so memoization keys need no renaming, and
// it cannot be a real ETag or If-Match: ETags are HTTP header values,
// which exclude control characters (CheckTable rejects any that has
// one). An unknown ETag belongs to one row: ETags are never copied from
// row to row, so the model needs no names to tell unknowns apart.
const unknownPrefix = "\x00?"

// unknownETag is the ETag a pending batch writes: nothing known.
const unknownETag spec.ETag = unknownPrefix

func isUnknown(e spec.ETag) bool { return strings.HasPrefix(string(e), unknownPrefix) }

// excluded returns the values the unknown ETag e is known to differ
// from, in increasing order.
func excluded(e spec.ETag) []string {
	rest := string(e[len(unknownPrefix):])
	if rest == "" {
		return nil
	}
	return strings.Split(rest[1:], "\x00")
}

// excludes reports whether the unknown ETag e is known to differ from v.
func excludes(e, v spec.ETag) bool {
	_, found := slices.BinarySearch(excluded(e), string(v))
	return found
}

// exclude returns the unknown ETag e also known to differ from v.
func exclude(e, v spec.ETag) spec.ETag {
	vs := excluded(e)
	i, found := slices.BinarySearch(vs, string(v))
	if found {
		return e
	}
	vs = slices.Insert(vs, i, string(v))
	return spec.ETag(unknownPrefix + "\x00" + strings.Join(vs, "\x00"))
}

// specificETag reports whether e can be a row's ETag as a call observes
// it: not empty, not "*", not a placeholder.
func specificETag(e spec.ETag) bool {
	return e != "" && e != spec.AnyETag && !isUnknown(e)
}

// TableModel returns the sequential specification of a spec.Table whose
// initial content is initial (entities with their ETags; Timestamps are
// ignored), partitioned by PartitionKey.
//
// The semantics are spec's: batches follow spec.ApplyBatch, queries
// spec.Matches within the filter's partition (spec.SinglePartition;
// other filters fail with 400 and Index -1), and a retrieve is the
// point query spec.KeyFilter(Key). Outcomes are compared as follows:
//
//   - A failed call must fail with the *spec.Error of the same Status
//     and Index as the model's (a 400 caller error included); Code and
//     Message are not compared.
//   - A successful batch must succeed in the model, with one result per
//     operation: "" for a delete, a non-empty ETag other than "*" for
//     any other operation. ETags are not predictable, so the model takes
//     each written row's new ETag from the recorded result.
//   - A successful query or retrieve must return exactly the model's
//     rows, in key order, with the same ETags and properties
//     (Timestamps are ignored).
//   - An ETag change requires the row to exist and sets its ETag.
//
// ETags are not predictable, and the model does not predict them: a
// write may give a row any ETag other than "" and "*" (the tables of
// this project give a new one on every write, but the model needs no
// such assumption). A completed batch's results say which ETags it
// wrote. A pending batch's ETags are unknown; the model keeps, for each
// row whose ETag is unknown, exactly what the history has revealed
// about it so far on the search's path:
//
//   - It is fixed to a value by a completed query or retrieve that
//     returns the row, and by an If-Match with a specific ETag that
//     passed on it: in a successful batch, or before the failing
//     operation of a batch that failed (a 400 is found before any
//     If-Match is checked, so it reveals nothing).
//   - It is known to differ from the If-Match of the operation a
//     completed batch failed with 412.
//   - A pending batch, if linearized, takes effect as if it succeeded:
//     each If-Match with a specific ETag on a row whose ETag is unknown
//     passes and fixes it, unless the ETag is known to differ (then the
//     batch fails). A pending batch that fails has no effect, so the
//     search never needs that branch: leaving the batch out is always
//     allowed and constrains nothing.
//
// An observation contradicting what is known fails. So a history with
// pending batches is accepted exactly when, for some choice of the ETags
// each pending batch that took effect wrote, the calls in the order of
// the linearization give their recorded outcomes. Pending queries and
// retrieves have no effect and are left out.
func TableModel(initial []spec.Entity) Model[TableState, TableCall, TableOutcome] {
	init := TableState{rows: spec.NewRows(initial)}
	return Model[TableState, TableCall, TableOutcome]{
		Init:              func() TableState { return init },
		Step:              tableStep,
		StepPending:       tableStepPending,
		Key:               tableKey,
		Partition:         partitionTable,
		DescribeOperation: describeTableOp,
		DescribeState:     describeTableState,
	}
}

// CheckTable checks a table history against TableModel(initial). Before
// the search it rejects, with an error, operations whose call kind is
// unknown, streamed queries (not atomic: see CheckTableRecord), query
// filters that compare Timestamp (the model does not know written rows'
// Timestamps), ETag changes with an empty ETag or "*", completed
// operations whose Err is not a *spec.Error, and any ETag (of an initial
// row, an If-Match, a result, a returned row, an ETag change) holding a
// control character, which no table's ETag has (ETags are HTTP header
// values).
func CheckTable(initial []spec.Entity, history []TableOperation, opts Options) (Report[TableState, TableCall, TableOutcome], error) {
	for _, e := range initial {
		if err := validateETag(e.ETag); err != nil {
			return Report[TableState, TableCall, TableOutcome]{}, fmt.Errorf("linearizability: initial row %s: %w", e.Key, err)
		}
	}
	for i, op := range history {
		if err := validateTableOp(op); err != nil {
			return Report[TableState, TableCall, TableOutcome]{}, fmt.Errorf("linearizability: operation %d: %w", i, err)
		}
	}
	return Check(TableModel(initial), history, opts)
}

func validateTableOp(op TableOperation) error {
	switch op.Input.Kind {
	case BatchCall, RetrieveCall:
	case QueryCall:
		if err := validateFilter(op.Input.Filter); err != nil {
			return err
		}
	case StreamCall:
		return fmt.Errorf("stream(%s) is a streamed query, which is not atomic: the search judges atomic calls only (CheckTableRecord judges streams)", spec.FilterString(op.Input.Filter))
	case ETagChangeCall:
		if op.Input.ETag == "" || op.Input.ETag == spec.AnyETag {
			return fmt.Errorf("etag-change of %s to %q: want a specific new ETag", op.Input.Key, op.Input.ETag)
		}
		return validateETag(op.Input.ETag)
	default:
		return fmt.Errorf("unknown call kind %d", op.Input.Kind)
	}
	var se *spec.Error
	if !op.IsPending() && op.Output.Err != nil && !errors.As(op.Output.Err, &se) {
		return fmt.Errorf("%s returned %q, which is not a *spec.Error: record a call with an indeterminate outcome as pending", op.Input.Kind, op.Output.Err)
	}
	for _, o := range op.Input.Ops {
		if err := validateETag(o.Entity.ETag); err != nil {
			return err
		}
	}
	for _, r := range op.Output.Results {
		if err := validateETag(r.ETag); err != nil {
			return err
		}
	}
	for _, e := range op.Output.Rows {
		if err := validateETag(e.ETag); err != nil {
			return err
		}
	}
	return nil
}

// validateFilter rejects a filter that compares Timestamp: the model
// does not know the Timestamps of the rows written during a history (a
// write's result carries its ETag only), so it would judge such a
// filter wrongly.
func validateFilter(f spec.Filter) error {
	if mentions(f, spec.TimestampProp) {
		return fmt.Errorf("filter %q compares Timestamp, which the table model does not track (a write reports no Timestamp): leave Timestamp out of recorded filters", spec.FilterString(f))
	}
	return nil
}

// mentions reports whether f compares property name.
func mentions(f spec.Filter, name string) bool {
	switch f := f.(type) {
	case spec.Comparison:
		return f.Property == name
	case spec.And:
		return mentions(f.L, name) || mentions(f.R, name)
	case spec.Or:
		return mentions(f.L, name) || mentions(f.R, name)
	case spec.Not:
		return mentions(f.X, name)
	}
	return false
}

// validateETag rejects an ETag holding a control character, which would
// also be confused with the model's placeholders for unknown ETags.
func validateETag(e spec.ETag) error {
	if strings.ContainsFunc(string(e), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("ETag %q holds a control character, which no table's ETag has", e)
	}
	return nil
}

func tableStep(s TableState, in TableCall, out TableOutcome) (bool, TableState) {
	switch in.Kind {
	case BatchCall:
		return stepBatch(s, in.Ops, out)
	case QueryCall:
		return stepQuery(s, in.Filter, out)
	case RetrieveCall:
		return stepQuery(s, spec.KeyFilter(in.Key), out)
	case ETagChangeCall:
		return stepETagChange(s, in.Key, in.ETag)
	}
	return false, s
}

func tableStepPending(s TableState, in TableCall) (bool, TableState) {
	switch in.Kind {
	case BatchCall:
		// The branch in which every If-Match passed; see TableModel.
		rows, _, ok := pass(s.rows, in.Ops)
		if !ok {
			return false, s // it fails: the same as leaving it out
		}
		next, _, err := spec.ApplyBatch(rows, in.Ops, func(int) spec.ETag { return unknownETag })
		if err != nil {
			return false, s
		}
		return true, s.with(next, in.Ops[0].Entity.PartitionKey)
	case ETagChangeCall:
		return stepETagChange(s, in.Key, in.ETag)
	}
	return false, s // queries have no effect
}

// pass returns rows as they must be for every If-Match of ops with a
// specific ETag on a row whose ETag is unknown to pass: the row's ETag
// fixed to the If-Match. ok is false when one of them is known to
// differ; changed is true when rows is a modified copy. Rows whose ETag
// is known are left to spec.ApplyBatch.
func pass(rows spec.Rows, ops []spec.Op) (_ spec.Rows, changed, ok bool) {
	for _, op := range ops {
		if !op.Kind.NeedsIfMatch() || !specificETag(op.Entity.ETag) {
			continue
		}
		j, found := rows.Search(op.Entity.Key)
		if !found || !isUnknown(rows[j].ETag) {
			continue
		}
		if excludes(rows[j].ETag, op.Entity.ETag) {
			return rows, changed, false
		}
		if !changed {
			rows, changed = slices.Clone(rows), true
		}
		rows[j].ETag = op.Entity.ETag
	}
	return rows, changed, true
}

func stepBatch(s TableState, ops []spec.Op, out TableOutcome) (bool, TableState) {
	// Operations before the failing one (all of them on success) passed
	// their If-Match. A caller error (400) is found before any operation
	// is checked against the rows.
	passed := len(ops)
	var want *spec.Error
	if out.Err != nil {
		if !errors.As(out.Err, &want) {
			return false, s
		}
		passed = min(max(want.Index, 0), len(ops))
		if want.Status == spec.StatusBadRequest {
			passed = 0
		}
	} else if len(out.Results) != len(ops) {
		return false, s
	}
	rows, changed, ok := pass(s.rows, ops[:passed])
	if !ok {
		return false, s
	}
	if want != nil {
		_, _, err := spec.ApplyBatch(rows, ops, func(int) spec.ETag { return "" })
		if spec.StatusOf(err) != want.Status || spec.IndexOf(err) != want.Index {
			return false, s
		}
		if want.Status == spec.StatusPreconditionFailed {
			// The failing If-Match differs from the row's ETag; when that
			// ETag is unknown, remember it.
			op := ops[want.Index]
			if j, found := rows.Search(op.Entity.Key); found && isUnknown(rows[j].ETag) {
				rows, changed = bind(rows, j, exclude(rows[j].ETag, op.Entity.ETag)), true
			}
		}
		if changed {
			return true, s.with(rows, ops[0].Entity.PartitionKey)
		}
		return true, s
	}
	for i, r := range out.Results {
		if ops[i].Kind.IsDelete() {
			if r.ETag != "" {
				return false, s
			}
		} else if !specificETag(r.ETag) {
			return false, s
		}
	}
	next, _, err := spec.ApplyBatch(rows, ops, func(i int) spec.ETag { return out.Results[i].ETag })
	if err != nil {
		return false, s
	}
	return true, s.with(next, ops[0].Entity.PartitionKey)
}

// bind returns rows with row j's ETag set to etag (a copy; rows is
// shared).
func bind(rows spec.Rows, j int, etag spec.ETag) spec.Rows {
	rows = slices.Clone(rows)
	rows[j].ETag = etag
	return rows
}

func stepQuery(s TableState, f spec.Filter, out TableOutcome) (bool, TableState) {
	pk, ok := spec.SinglePartition(f)
	if !ok {
		return spec.StatusOf(out.Err) == spec.StatusBadRequest && spec.IndexOf(out.Err) == -1, s
	}
	if out.Err != nil {
		return false, s
	}
	rows, bound := s.rows, false
	lo, _ := rows.Search(spec.Key{PartitionKey: pk})
	got := out.Rows
	n := 0
	for j := lo; j < len(rows) && rows[j].PartitionKey == pk; j++ {
		e := rows[j]
		if !spec.Matches(f, e) {
			continue
		}
		if n >= len(got) {
			return false, s
		}
		g := got[n]
		n++
		if g.Key != e.Key || !sameProps(g.Props, e.Props) {
			return false, s
		}
		if g.ETag != e.ETag {
			// Only an unknown ETag can be seen as another value, and only
			// as a real ETag it is not known to differ from.
			if !isUnknown(e.ETag) || !specificETag(g.ETag) || excludes(e.ETag, g.ETag) {
				return false, s
			}
			if !bound {
				rows, bound = slices.Clone(rows), true
			}
			rows[j].ETag = g.ETag
		}
	}
	if n != len(got) {
		return false, s
	}
	if bound {
		return true, s.with(rows, pk)
	}
	return true, s
}

func sameProps(a, b spec.Props) bool {
	if len(a) != len(b) {
		return false
	}
	for name, v := range a {
		w, ok := b[name]
		if !ok || !sameValue(v, w) {
			return false
		}
	}
	return true
}

// sameValue is Value equality under which a NaN equals itself.
func sameValue(v, w spec.Value) bool {
	if v.Equal(w) {
		return true
	}
	return v.Type() == spec.TypeDouble && w.Type() == spec.TypeDouble &&
		math.IsNaN(v.AsDouble()) && math.IsNaN(w.AsDouble())
}

func stepETagChange(s TableState, k spec.Key, etag spec.ETag) (bool, TableState) {
	j, ok := s.rows.Search(k)
	if !ok {
		return false, s
	}
	return true, s.with(bind(s.rows, j, etag), k.PartitionKey)
}

// tableKey encodes canonically the rows of the touched partitions, each
// preceded by its PartitionKey. The other partitions hold their initial
// rows in every state of a search, so leaving them out keeps equal keys
// for equal states. An unknown ETag's placeholder holds all that is
// known about it, canonically.
func tableKey(s TableState) string {
	b := make([]byte, 0, 512)
	names := make([]string, 0, 16)
	str := func(x string) {
		b = strconv.AppendInt(b, int64(len(x)), 10)
		b = append(b, ':')
		b = append(b, x...)
	}
	for _, pk := range s.touched {
		b = append(b, 'P')
		str(pk)
		lo, _ := s.rows.Search(spec.Key{PartitionKey: pk})
		for _, e := range s.rows[lo:] {
			if e.PartitionKey != pk {
				break
			}
			b = append(b, 'R')
			str(e.RowKey)
			str(string(e.ETag))
			names = names[:0]
			for name := range e.Props {
				names = append(names, name)
			}
			slices.Sort(names)
			b = strconv.AppendInt(b, int64(len(names)), 10)
			for _, name := range names {
				str(name)
				b = appendValueKey(b, e.Props[name])
			}
		}
	}
	return string(b)
}

// appendValueKey appends a canonical encoding of v: its type, then its
// content (every NaN alike, as sameValue has it). It formats nothing,
// since it runs for every row of every state the search visits.
func appendValueKey(b []byte, v spec.Value) []byte {
	b = append(b, byte(v.Type()))
	switch v.Type() {
	case spec.TypeString, spec.TypeGUID:
		b = binary.AppendUvarint(b, uint64(len(v.Str())))
		b = append(b, v.Str()...)
	case spec.TypeBinary:
		raw := v.AsBytes()
		b = binary.AppendUvarint(b, uint64(len(raw)))
		b = append(b, raw...)
	case spec.TypeBool:
		if v.AsBool() {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case spec.TypeInt32, spec.TypeInt64:
		b = binary.AppendVarint(b, v.AsInt())
	case spec.TypeDouble:
		f := v.AsDouble()
		if math.IsNaN(f) {
			f = math.NaN()
		}
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	case spec.TypeDateTime:
		t := v.AsTime()
		b = binary.AppendVarint(b, t.Unix())
		b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	}
	return b
}

// partitionTable groups operations by the partition they address,
// keeping history order within a group; groups are in PartitionKey
// order. Operations whose outcome does not depend on the state (a batch
// with no operations, a query whose filter targets no single partition)
// join the group of the empty PartitionKey.
func partitionTable(h []TableOperation) [][]TableOperation {
	pkOf := make([]string, len(h))
	count := map[string]int{}
	for i, op := range h {
		var pk string
		switch op.Input.Kind {
		case BatchCall:
			if len(op.Input.Ops) > 0 {
				pk = op.Input.Ops[0].Entity.PartitionKey
			}
		case QueryCall:
			pk, _ = spec.SinglePartition(op.Input.Filter)
		default:
			pk = op.Input.Key.PartitionKey
		}
		pkOf[i] = pk
		count[pk]++
	}
	pks := make([]string, 0, len(count))
	for pk := range count {
		pks = append(pks, pk)
	}
	slices.Sort(pks)
	out := make([][]TableOperation, len(pks))
	index := make(map[string]int, len(pks))
	for i, pk := range pks {
		out[i] = make([]TableOperation, 0, count[pk])
		index[pk] = i
	}
	for i, op := range h {
		j := index[pkOf[i]]
		out[j] = append(out[j], op)
	}
	return out
}

func describeTableState(s TableState) string { return rowsString(s.rows, stateETagString) }

func errString(err error) string {
	var se *spec.Error
	if errors.As(err, &se) {
		if se.Index >= 0 {
			return fmt.Sprintf("%d at %d", se.Status, se.Index)
		}
		return strconv.Itoa(se.Status)
	}
	return fmt.Sprintf("error %q", err)
}

// etagString prints a recorded ETag, always quoted (the text form of
// histories reads it back).
func etagString(e spec.ETag) string { return strconv.Quote(string(e)) }

// stateETagString prints an ETag of a model state: an unknown one as ?
// or ?(not "e1", "e2").
func stateETagString(e spec.ETag) string {
	if !isUnknown(e) {
		return etagString(e)
	}
	vs := excluded(e)
	if len(vs) == 0 {
		return "?"
	}
	var b strings.Builder
	b.WriteString("?(not ")
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(v))
	}
	b.WriteString(")")
	return b.String()
}

func rowsString(rows []spec.Entity, etag func(spec.ETag) string) string {
	var b strings.Builder
	b.WriteString("[")
	for i, e := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(rowString(e, etag))
	}
	b.WriteString("]")
	return b.String()
}

func propsString(p spec.Props) string {
	var b strings.Builder
	b.WriteString("{")
	for i, name := range p.Names() {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(name + "=" + p[name].Literal())
	}
	b.WriteString("}")
	return b.String()
}
