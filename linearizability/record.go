package linearizability

import (
	"fmt"
	"slices"
	"strings"

	"github.com/migratingtable/migratingtable/spec"
)

// TableRecord is everything recorded about one run against a table, for
// CheckTableRecord: the calls, with the table's content as it changed
// underneath them and as it was at the end. Its text form is
// FormatTableRecord's; cmd/mtabletest's -history-out files hold one per
// iteration.
type TableRecord struct {
	// Initial is the table's content at the start.
	Initial []spec.Entity
	// History holds the calls (atomic calls and streamed queries) and
	// the ETag-change events, in any order.
	History []TableOperation
	// Tracked says that Changes lists every change of the table's
	// content during the run. Streamed queries, and the check of the
	// ETags writes report, need it.
	Tracked bool
	// Changes are the changes of the table's content, in time order:
	// each gives a row its new version (Present) or removes it. Changes
	// with equal times happened at one instant, as one revision.
	Changes []ContentChange
	// Final is the content of some partitions at the end, read after
	// every other event: each joins the search as an atomic read of its
	// partition, so a write acknowledged and then lost is caught even
	// when no call read it.
	Final []PartitionContent
	// Plain is what a plain reader of the store that holds the table
	// sees at the end, when it must see the table itself (for
	// MigratingTable: the new table after the migration): each
	// partition's rows must be exactly Final's for that partition (no
	// Final line: no rows).
	Plain []PartitionContent
	// Stray lists rows that a store holds at the end and must not (for
	// MigratingTable: the old table's rows after the migration): any is
	// a violation. Nil when not recorded.
	Stray []spec.Entity
}

// ContentChange is a change of the table's content at time At: row Key
// becomes Row (Present), or is removed.
type ContentChange struct {
	At      int64
	Key     spec.Key
	Present bool
	Row     spec.Entity // when Present; Row.Key is Key
}

// PartitionContent is the content of one partition: its rows in key
// order.
type PartitionContent struct {
	PartitionKey string
	Rows         []spec.Entity
}

// ClosingClient is the client of the closing reads CheckTableRecord
// adds to the search, one per Final partition, as reports show them.
const ClosingClient = -2

// Violation is a reason CheckTableRecord found a record illegal other
// than the search's: a streamed query's answer, a write's reported ETag,
// or the end state.
type Violation struct {
	// Op is the index in TableRecord.History of the operation concerned,
	// or -1 for the end state.
	Op int
	// At is the time of the answer concerned for a streamed query, the
	// operation's return for a write, 0 for the end state.
	At      int64
	Message string
}

// RecordReport is CheckTableRecord's verdict.
type RecordReport struct {
	// Result is Illegal when there is a Violation or the search found
	// the atomic calls not linearizable, Unknown when the search ran out
	// of budget, Ok otherwise.
	Result Result
	// Violations lists, in the order of the checks (streamed queries in
	// history order, then reported ETags, then the end state), every
	// violation found, at most one per operation.
	Violations []Violation
	// Search is the report of the search over the atomic calls, the
	// ETag changes and the closing reads. It runs only when there is no
	// violation (nil otherwise).
	Search *Report[TableState, TableCall, TableOutcome]
	// Explanation is the verdict as text: the violations, or the
	// search's report.
	Explanation string
}

// CheckTableRecord judges a record. Unlike the search alone (CheckTable)
// it needs no trust in anything but the record, and covers the whole
// run:
//
//   - Streamed queries: every answer must be valid given the revisions
//     of the content (Initial, then Changes) since the query began (the
//     revision current at its call time, and every later one up to the
//     answer's time; a change at the same time as an event counts as
//     before it). A row must be a version of that row matching the
//     filter in one of those revisions, its key greater than the last
//     row returned and not below a continuation reported before it, and
//     no key may be skipped that matched the filter in every one of
//     them (a mandatory key); the end may be reported only when no key
//     after the last row is mandatory, and nothing may follow it. Each
//     continuation key must be greater than the last row returned and
//     never go back.
//   - Reported ETags (Tracked records): every non-delete result of a
//     completed, successful batch must be the ETag a change gave that
//     row during the call: ETags are judged by the content, never taken
//     on the call's word.
//   - The end state: each Plain partition equals Final's; Stray is
//     empty.
//   - The search: the atomic calls, the ETag changes and a closing read
//     of each Final partition (client ClosingClient, after every other
//     event) are checked by CheckTable with opts. It runs only when no
//     violation was found above, so a record with a violation costs no
//     search.
//
// It returns an error, and no verdict, for a record that cannot be
// judged: anything CheckTable refuses; a streamed query in a record that
// is not Tracked; a stream's answers out of time order or outside its
// call; changes out of time order, or with a control character in an
// ETag; Final or Plain content out of key order, in another partition
// or listed twice; Plain without Final; and, in a Tracked record, a
// Final partition whose rows are not those the changes reach.
func CheckTableRecord(rec TableRecord, opts Options) (RecordReport, error) {
	var out RecordReport
	revs, err := validateRecord(rec)
	if err != nil {
		return out, err
	}
	for i, op := range rec.History {
		if op.Input.Kind != StreamCall {
			continue
		}
		if v, bad := checkStream(revs, op); bad {
			v.Op = i
			out.Violations = append(out.Violations, v)
		}
	}
	if rec.Tracked {
		out.Violations = append(out.Violations, checkReportedETags(rec)...)
	}
	out.Violations = append(out.Violations, checkEnd(rec)...)
	if len(out.Violations) > 0 {
		out.Result = Illegal
		out.Explanation = explainViolations(rec, out.Violations)
		return out, nil
	}

	var atomic []TableOperation
	last := int64(0)
	for _, op := range rec.History {
		last = max(last, op.Call)
		if !op.IsPending() {
			last = max(last, op.Return)
		}
		if op.Input.Kind != StreamCall {
			atomic = append(atomic, op)
		}
	}
	for _, c := range rec.Changes {
		last = max(last, c.At)
	}
	for i, pc := range rec.Final {
		at := last + 1 + int64(i)
		atomic = append(atomic, Query(ClosingClient, at, at, spec.PartitionFilter(pc.PartitionKey), pc.Rows, nil))
	}
	rep, err := CheckTable(rec.Initial, atomic, opts)
	if err != nil {
		return out, err
	}
	out.Search = &rep
	out.Result = rep.Result
	out.Explanation = rep.String()
	return out, nil
}

func explainViolations(rec TableRecord, vs []Violation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "illegal: %d violation(s)", len(vs))
	for _, v := range vs {
		b.WriteString("\n")
		if v.Op >= 0 {
			op := rec.History[v.Op]
			b.WriteString(describeCall(op) + ": ")
		}
		b.WriteString(v.Message)
	}
	return b.String()
}

// describeCall names an operation briefly: client, times and call.
func describeCall(op TableOperation) string {
	ret := "pending"
	if !op.IsPending() {
		ret = fmt.Sprint(op.Return)
	}
	return fmt.Sprintf("client %d [%d, %s]: %s", op.Client, op.Call, ret, op.Input)
}

// revision is the content from time at on.
type revision struct {
	at   int64
	rows spec.Rows
}

// revisions are the content's revisions, the initial one first (at the
// smallest time).
type revisions []revision

// current returns the index of the revision current at time t: the
// last one at or before t.
func (r revisions) current(t int64) int {
	i, found := slices.BinarySearchFunc(r, t, func(x revision, t int64) int {
		switch {
		case x.at < t:
			return -1
		case x.at > t:
			return 1
		}
		return 0
	})
	if found {
		return i
	}
	return i - 1
}

// validateRecord checks what CheckTable does not, and builds the
// revisions of a tracked record.
func validateRecord(rec TableRecord) (revisions, error) {
	fail := func(format string, args ...any) (revisions, error) {
		return nil, fmt.Errorf("linearizability: "+format, args...)
	}
	for i, op := range rec.History {
		if op.Input.Kind != StreamCall {
			continue
		}
		if !rec.Tracked {
			return fail("operation %d: a streamed query needs a tracked record: the content's changes to judge it against", i)
		}
		if err := validateFilter(op.Input.Filter); err != nil {
			return fail("operation %d: %v", i, err)
		}
		if op.Return < op.Call {
			return fail("operation %d: return time %d is before call time %d", i, op.Return, op.Call)
		}
		prev := op.Call
		for j, a := range op.Output.Stream {
			if a.At < prev || (!op.IsPending() && a.At > op.Return) {
				return fail("operation %d: answer %d at time %d: answers are in time order, within the call [%d, %d]", i, j, a.At, op.Call, op.Return)
			}
			prev = a.At
			if err := validateETag(a.Row.ETag); err != nil {
				return fail("operation %d: answer %d: %v", i, j, err)
			}
		}
	}
	for i, c := range rec.Changes {
		if i > 0 && c.At < rec.Changes[i-1].At {
			return fail("change %d at time %d comes after one at time %d: changes are in time order", i, c.At, rec.Changes[i-1].At)
		}
		if c.Present && c.Row.Key != c.Key {
			return fail("change %d of %s holds row %s", i, c.Key, c.Row.Key)
		}
		if err := validateETag(c.Row.ETag); err != nil {
			return fail("change %d: %v", i, err)
		}
	}
	seen := map[string]bool{}
	for _, kind := range []struct {
		name  string
		parts []PartitionContent
	}{{"final", rec.Final}, {"plain", rec.Plain}} {
		clear(seen)
		for _, pc := range kind.parts {
			if seen[pc.PartitionKey] {
				return fail("%s content of partition %s listed twice", kind.name, quoteString(pc.PartitionKey))
			}
			seen[pc.PartitionKey] = true
			for j, e := range pc.Rows {
				if e.PartitionKey != pc.PartitionKey {
					return fail("%s content of partition %s holds row %s", kind.name, quoteString(pc.PartitionKey), e.Key)
				}
				if j > 0 && !pc.Rows[j-1].Key.Less(e.Key) {
					return fail("%s content of partition %s: row %s after %s: rows are in key order, each once", kind.name, quoteString(pc.PartitionKey), e.Key, pc.Rows[j-1].Key)
				}
			}
		}
	}
	if len(rec.Plain) > 0 && len(rec.Final) == 0 {
		return fail("plain content without final content to compare it with")
	}
	if !rec.Tracked {
		return nil, nil
	}
	revs := revisions{{at: minTime, rows: spec.NewRows(rec.Initial)}}
	for i := 0; i < len(rec.Changes); {
		at := rec.Changes[i].At
		rows := slices.Clone(revs[len(revs)-1].rows)
		for ; i < len(rec.Changes) && rec.Changes[i].At == at; i++ {
			rows = applyChange(rows, rec.Changes[i])
		}
		revs = append(revs, revision{at: at, rows: rows})
	}
	end := revs[len(revs)-1].rows
	for _, pc := range rec.Final {
		got := end.Partition(pc.PartitionKey)
		if !sameRows(got, pc.Rows) {
			return fail("final content of partition %s is %s, but the changes reach %s: the record is inconsistent",
				quoteString(pc.PartitionKey), rowsString(pc.Rows, etagString), rowsString(got, etagString))
		}
	}
	return revs, nil
}

// minTime is before every time of a history.
const minTime = -1 << 63

// applyChange applies c to rows, a copy the caller owns.
func applyChange(rows spec.Rows, c ContentChange) spec.Rows {
	i, found := rows.Search(c.Key)
	switch {
	case c.Present && found:
		rows[i] = c.Row
	case c.Present:
		rows = slices.Insert(rows, i, c.Row)
	case found:
		rows = slices.Delete(rows, i, i+1)
	}
	return rows
}

// sameRow reports whether two rows are the same version: key, ETag and
// properties (Timestamps are not compared).
func sameRow(a, b spec.Entity) bool {
	return a.Key == b.Key && a.ETag == b.ETag && sameProps(a.Props, b.Props)
}

func sameRows(a, b []spec.Entity) bool {
	return slices.EqualFunc(a, b, sameRow)
}

// MandatoryKey returns the row a streamed query with filter f must
// return next, at the latest, after the key last (nil: before any row):
// the smallest key after last whose row matches f in every one of the n
// revisions rev(0), ..., rev(n-1) since the query began; nil if there is
// none. A stream that returns a greater key first, or ends, skipped it.
// Oracle 3 of the harness judges streams by the same rule.
func MandatoryKey(n int, rev func(i int) spec.Rows, f spec.Filter, last *spec.Key) *spec.Key {
	first := rev(0)
	for _, r := range first {
		if last != nil && !last.Less(r.Key) || !spec.Matches(f, r) {
			continue
		}
		inAll := true
		for i := 1; i < n && inAll; i++ {
			x, found := rev(i).Get(r.Key)
			inAll = found && spec.Matches(f, x)
		}
		if inAll {
			k := r.Key
			return &k
		}
	}
	return nil
}

// checkStream judges a streamed query's answers; see CheckTableRecord.
func checkStream(revs revisions, op TableOperation) (Violation, bool) {
	f := op.Input.Filter
	start := revs.current(op.Call)
	var last, cont *spec.Key
	ended := false
	after := func(k spec.Key) bool { return last == nil || last.Less(k) }
	for _, a := range op.Output.Stream {
		bad := func(format string, args ...any) (Violation, bool) {
			return Violation{At: a.At, Message: fmt.Sprintf("answer at time %d: ", a.At) + fmt.Sprintf(format, args...)}, true
		}
		if ended {
			return bad("an answer after the end of the stream")
		}
		span := revs[start : revs.current(a.At)+1]
		mandatory := MandatoryKey(len(span), func(i int) spec.Rows { return span[i].rows }, f, last)
		if a.End {
			if mandatory != nil {
				return bad("the stream ended, but row %s matched the filter in every revision since the query began and was not returned", mandatory)
			}
			ended = true
		} else {
			e := a.Row
			switch {
			case !after(e.Key):
				return bad("row %s returned after row %s: keys must increase", e.Key, last)
			case cont != nil && e.Key.Less(*cont):
				return bad("row %s returned below the continuation key %s reported before it", e.Key, cont)
			case mandatory != nil && mandatory.Less(e.Key):
				return bad("row %s returned, skipping row %s, which matched the filter in every revision since the query began", e.Key, mandatory)
			}
			valid := false
			for _, rev := range span {
				if x, found := rev.rows.Get(e.Key); found && spec.Matches(f, x) && sameRow(x, e) {
					valid = true
					break
				}
			}
			if !valid {
				return bad("row %s is not a version of that row matching the filter in any revision since the query began", rowString(e, etagString))
			}
			k := e.Key
			last = &k
		}
		if a.HasCont {
			k := a.Cont
			if last != nil && !last.Less(k) {
				return bad("continuation key %s is not greater than the last row returned, %s", k, last)
			}
			if cont != nil && k.Less(*cont) {
				return bad("continuation key went backwards: %s after %s", k, cont)
			}
			cont = &k
		}
	}
	return Violation{}, false
}

// checkReportedETags checks that every ETag a completed, successful
// batch reports for a written row is one a change gave that row during
// the call.
func checkReportedETags(rec TableRecord) []Violation {
	byKey := map[spec.Key][]ContentChange{}
	for _, c := range rec.Changes {
		if c.Present {
			byKey[c.Key] = append(byKey[c.Key], c)
		}
	}
	var out []Violation
	for i, op := range rec.History {
		if op.Input.Kind != BatchCall || op.IsPending() || op.Output.Err != nil || len(op.Output.Results) != len(op.Input.Ops) {
			continue // the search judges the rest
		}
		for j, o := range op.Input.Ops {
			if o.Kind.IsDelete() {
				continue
			}
			etag := op.Output.Results[j].ETag
			found := false
			for _, c := range byKey[o.Entity.Key] {
				if op.Call <= c.At && c.At <= op.Return && c.Row.ETag == etag {
					found = true
					break
				}
			}
			if !found {
				out = append(out, Violation{Op: i, At: op.Return, Message: fmt.Sprintf(
					"result %d reports ETag %s for row %s, but no change of the table's content during the call gave that row that ETag",
					j, etagString(etag), o.Entity.Key)})
				break
			}
		}
	}
	return out
}

// checkEnd compares the plain reads with the final content and wants
// no stray rows.
func checkEnd(rec TableRecord) []Violation {
	var out []Violation
	final := map[string][]spec.Entity{}
	for _, pc := range rec.Final {
		final[pc.PartitionKey] = pc.Rows
	}
	for _, pc := range rec.Plain {
		want := final[pc.PartitionKey]
		if !sameRows(pc.Rows, want) {
			out = append(out, Violation{Op: -1, Message: fmt.Sprintf(
				"at the end a plain read of partition %s shows %s, but the table's content is %s",
				quoteString(pc.PartitionKey), rowsString(pc.Rows, etagString), rowsString(want, etagString))})
		}
	}
	if len(rec.Stray) > 0 {
		out = append(out, Violation{Op: -1, Message: fmt.Sprintf(
			"at the end %d row(s) remain that must not exist: %s", len(rec.Stray), rowsString(rec.Stray, etagString))})
	}
	return out
}
