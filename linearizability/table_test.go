package linearizability_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

type tOp = linearizability.TableOperation

func key(pk, rk string) spec.Key { return spec.Key{PartitionKey: pk, RowKey: rk} }

func ent(pk, rk string, etag spec.ETag, v int64) spec.Entity {
	return spec.Entity{Key: key(pk, rk), ETag: etag, Props: spec.Props{"v": spec.Int64(v)}}
}

func op(kind spec.OpKind, pk, rk string, ifMatch spec.ETag, v int64) spec.Op {
	e := ent(pk, rk, ifMatch, v)
	if kind.IsDelete() {
		e.Props = nil
	}
	return spec.Op{Kind: kind, Entity: e}
}

func ok(etags ...spec.ETag) []spec.Result {
	var rs []spec.Result
	for _, e := range etags {
		rs = append(rs, spec.Result{ETag: e})
	}
	return rs
}

func fail(status, index int) error { return spec.Errorf(status, index, "recorded failure") }

func batch(c int, call, ret int64, ops []spec.Op, results []spec.Result, err error) tOp {
	return linearizability.Batch(c, call, ret, ops, results, err)
}

func query(c int, call, ret int64, pk string, rows ...spec.Entity) tOp {
	return linearizability.Query(c, call, ret, spec.PartitionFilter(pk), rows, nil)
}

func get(c int, call, ret int64, pk, rk string, e *spec.Entity) tOp {
	if e == nil {
		return linearizability.Retrieve(c, call, ret, key(pk, rk), spec.Entity{}, false, nil)
	}
	return linearizability.Retrieve(c, call, ret, key(pk, rk), *e, true, nil)
}

func ptr(e spec.Entity) *spec.Entity { return &e }

func ops(o ...spec.Op) []spec.Op { return o }

// The initial table of the hand-made histories: p/1 with v=0, ETag e0.
var initial = []spec.Entity{ent("p", "1", "e0", 0)}

func TestTableHistories(t *testing.T) {
	const I, R, M, D = spec.Insert, spec.Replace, spec.Merge, spec.Delete
	tests := []struct {
		name    string
		history []tOp
		want    linearizability.Result
		failed  int // index of the operation reported as Failed when Illegal
	}{
		{name: "query sees the initial row", want: linearizability.Ok,
			history: []tOp{query(1, 0, 1, "p", ent("p", "1", "e0", 0))}},
		{name: "overlapping query sees the old version", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, 10, ops(op(R, "p", "1", "e0", 5)), ok("e1"), nil),
				query(2, 1, 2, "p", ent("p", "1", "e0", 0)),
			}},
		{name: "overlapping query sees the new version", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, 10, ops(op(R, "p", "1", "e0", 5)), ok("e1"), nil),
				query(2, 1, 2, "p", ent("p", "1", "e1", 5)),
			}},
		{name: "stale read after a completed write", want: linearizability.Illegal, failed: 1,
			history: []tOp{
				batch(1, 0, 1, ops(op(R, "p", "1", "e0", 5)), ok("e1"), nil),
				query(2, 2, 3, "p", ent("p", "1", "e0", 0)),
			}},
		{name: "stale retrieve after a completed write", want: linearizability.Illegal, failed: 1,
			history: []tOp{
				batch(1, 0, 1, ops(op(R, "p", "1", "e0", 5)), ok("e1"), nil),
				get(2, 2, 3, "p", "1", ptr(ent("p", "1", "e0", 0))),
			}},
		{name: "retrieve of a deleted row", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, 1, ops(op(D, "p", "1", "e0", 0)), ok(""), nil),
				get(2, 2, 3, "p", "1", nil),
			}},
		{name: "lost update: two replaces with the same If-Match both succeed", want: linearizability.Illegal, failed: 1,
			history: []tOp{
				batch(1, 0, 10, ops(op(R, "p", "1", "e0", 1)), ok("e1"), nil),
				batch(2, 0, 10, ops(op(R, "p", "1", "e0", 2)), ok("e2"), nil),
			}},
		{name: "one of two racing replaces gets 412", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, 10, ops(op(R, "p", "1", "e0", 1)), ok("e1"), nil),
				batch(2, 0, 10, ops(op(R, "p", "1", "e0", 2)), nil, fail(412, 0)),
				query(3, 11, 12, "p", ent("p", "1", "e1", 1)),
			}},
		{name: "lost update: a merge's property vanishes", want: linearizability.Illegal, failed: 2,
			history: []tOp{
				batch(1, 0, 10, ops(spec.Op{Kind: M, Entity: spec.Entity{Key: key("p", "1"), ETag: "*", Props: spec.Props{"a": spec.Bool(true)}}}), ok("e1"), nil),
				batch(2, 0, 10, ops(spec.Op{Kind: M, Entity: spec.Entity{Key: key("p", "1"), ETag: "*", Props: spec.Props{"b": spec.Bool(true)}}}), ok("e2"), nil),
				linearizability.Query(3, 11, 12, spec.PartitionFilter("p"),
					[]spec.Entity{{Key: key("p", "1"), ETag: "e2", Props: spec.Props{"v": spec.Int64(0), "b": spec.Bool(true)}}}, nil),
			}},
		{name: "a 412 that cannot be explained", want: linearizability.Illegal, failed: 0,
			history: []tOp{
				batch(1, 0, 1, ops(op(R, "p", "1", "e0", 1)), nil, fail(412, 0)),
			}},
		{name: "a 412 explained by an ETag change", want: linearizability.Ok,
			history: []tOp{
				linearizability.ETagChange(9, 5, key("p", "1"), "m1"),
				batch(1, 0, 10, ops(op(R, "p", "1", "e0", 1)), nil, fail(412, 0)),
				query(2, 11, 12, "p", ent("p", "1", "m1", 0)),
			}},
		{name: "an ETag change before the call cannot be ignored", want: linearizability.Illegal, failed: 1,
			history: []tOp{
				linearizability.ETagChange(9, 5, key("p", "1"), "m1"),
				batch(1, 6, 10, ops(op(R, "p", "1", "e0", 1)), ok("e1"), nil),
			}},
		{name: "a query returning an ETag nobody wrote", want: linearizability.Illegal, failed: 1,
			history: []tOp{
				batch(1, 0, 10, ops(op(R, "p", "1", "e0", 1)), ok("e1"), nil),
				query(2, 1, 2, "p", ent("p", "1", "e7", 1)),
			}},
		{name: "a query at the instant of an ETag change sees either", want: linearizability.Ok,
			history: []tOp{
				query(2, 0, 5, "p", ent("p", "1", "m1", 0)),
				linearizability.ETagChange(9, 5, key("p", "1"), "m1"),
				query(3, 5, 6, "p", ent("p", "1", "m1", 0)),
			}},
		{name: "an ETag change needs the row", want: linearizability.Illegal, failed: 0,
			history: []tOp{linearizability.ETagChange(9, 5, key("p", "2"), "m1")}},
		{name: "409 explained by a concurrent insert", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, 10, ops(op(I, "p", "2", "", 1)), ok("e1"), nil),
				batch(2, 0, 10, ops(op(I, "p", "2", "", 2)), nil, fail(409, 0)),
			}},
		{name: "409 at the wrong index", want: linearizability.Illegal, failed: 0,
			history: []tOp{
				batch(2, 0, 10, ops(op(I, "p", "2", "", 2), op(I, "p", "1", "", 2)), nil, fail(409, 0)),
			}},
		{name: "caller error matches", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, 1, nil, nil, fail(400, -1)),
				batch(1, 2, 3, ops(op(R, "p", "1", "", 1)), nil, fail(400, 0)),
				linearizability.Query(1, 4, 5, spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int64(0)}, nil, fail(400, -1)),
			}},
		{name: "caller error must be reported", want: linearizability.Illegal, failed: 0,
			history: []tOp{
				batch(1, 0, 1, ops(op(R, "p", "1", "", 1)), ok("e1"), nil),
			}},
		{name: "a delete returns no ETag", want: linearizability.Illegal, failed: 0,
			history: []tOp{batch(1, 0, 1, ops(op(D, "p", "1", "*", 0)), ok("e1"), nil)}},
		{name: "a write returns an ETag", want: linearizability.Illegal, failed: 0,
			history: []tOp{batch(1, 0, 1, ops(op(spec.InsertOrReplace, "p", "1", "", 3)), ok(""), nil)}},
		{name: "pending batch observed by a query", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "e0", 5)), nil, nil),
				query(2, 3, 4, "p", ent("p", "1", "e9", 5)),
				query(2, 5, 6, "p", ent("p", "1", "e9", 5)),
			}},
		{name: "pending batch's ETag cannot change by itself", want: linearizability.Illegal, failed: 2,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "e0", 5)), nil, nil),
				query(2, 3, 4, "p", ent("p", "1", "e9", 5)),
				query(2, 5, 6, "p", ent("p", "1", "e8", 5)),
			}},
		{name: "pending batch left out", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "e0", 5)), nil, nil),
				query(2, 3, 4, "p", ent("p", "1", "e0", 0)),
			}},
		{name: "pending batch's ETag revealed by an If-Match", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "e0", 5)), nil, nil),
				batch(2, 3, 4, ops(op(M, "p", "1", "e9", 6)), ok("e10"), nil),
				query(2, 5, 6, "p", ent("p", "1", "e10", 6)),
			}},
		{name: "a 412 after a passed If-Match reveals a pending batch's ETag", want: linearizability.Illegal, failed: 2,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "e0", 5)), nil, nil),
				batch(2, 3, 4, ops(op(R, "p", "1", "e9", 6), op(I, "p", "1x", "", 1), op(R, "p", "2", "*", 1)), nil, fail(404, 2)),
				query(2, 5, 6, "p", ent("p", "1", "e8", 5)),
			}},
		{name: "a caller error reveals no ETag", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "e0", 5)), nil, nil),
				// The pending batch took effect by now (v is no longer 0),
				// but its ETag is still unknown.
				linearizability.Query(3, 1, 2, spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int64(0)}}, nil, nil),
				batch(2, 3, 4, ops(op(R, "p", "1", "e9", 6), op(R, "p", "2", "", 1)), nil, fail(400, 1)),
				query(2, 5, 6, "p", ent("p", "1", "e8", 5)),
			}},
		// Issue 13: the second pending replace's If-Match is the ETag the
		// first one wrote, which no completed call reveals before it.
		{name: "pending If-Match matches another pending call's ETag", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "*", 1)), nil, nil),
				batch(2, 1, linearizability.Pending, ops(op(R, "p", "1", "e5", 2)), nil, nil),
				get(3, 5, 6, "p", "1", ptr(ent("p", "1", "e6", 2))),
			}},
		{name: "pending If-Match cannot match an ETag a read pinned to another value", want: linearizability.Illegal, failed: 3,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "*", 1)), nil, nil),
				batch(2, 1, linearizability.Pending, ops(op(R, "p", "1", "e5", 2)), nil, nil),
				get(3, 5, 6, "p", "1", ptr(ent("p", "1", "e4", 1))),
				get(3, 7, 8, "p", "1", ptr(ent("p", "1", "e6", 2))),
			}},
		// The query [1, 2] shows the pending replace took effect (no row
		// has v=0 any more) without revealing its ETag; the 412 at [3, 4]
		// then shows that ETag is not "e7".
		{name: "a 412 against an unknown ETag excludes the If-Match from it", want: linearizability.Illegal, failed: 3,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "*", 1)), nil, nil),
				linearizability.Query(3, 1, 2, spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int64(0)}}, nil, nil),
				batch(2, 3, 4, ops(op(R, "p", "1", "e7", 2)), nil, fail(412, 0)),
				get(3, 5, 6, "p", "1", ptr(ent("p", "1", "e7", 1))),
			}},
		{name: "a completed If-Match cannot pass on an excluded ETag", want: linearizability.Illegal, failed: 3,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "*", 1)), nil, nil),
				linearizability.Query(3, 1, 2, spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int64(0)}}, nil, nil),
				batch(2, 3, 4, ops(op(R, "p", "1", "e7", 2)), nil, fail(412, 0)),
				batch(2, 5, 6, ops(op(R, "p", "1", "e7", 3)), ok("e8"), nil),
			}},
		{name: "a pending If-Match cannot pass on an excluded ETag", want: linearizability.Illegal, failed: 4,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "*", 1)), nil, nil),
				linearizability.Query(3, 1, 2, spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int64(0)}}, nil, nil),
				batch(2, 3, 4, ops(op(R, "p", "1", "e7", 2)), nil, fail(412, 0)),
				batch(4, 5, linearizability.Pending, ops(op(R, "p", "1", "e7", 3)), nil, nil),
				get(3, 7, 8, "p", "1", ptr(ent("p", "1", "e9", 3))),
			}},
		{name: "a 412 against an unknown ETag allows any other value", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, linearizability.Pending, ops(op(R, "p", "1", "*", 1)), nil, nil),
				linearizability.Query(3, 1, 2, spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int64(0)}}, nil, nil),
				batch(2, 3, 4, ops(op(R, "p", "1", "e7", 2)), nil, fail(412, 0)),
				batch(4, 5, linearizability.Pending, ops(op(R, "p", "1", "e8", 3)), nil, nil),
				get(3, 7, 8, "p", "1", ptr(ent("p", "1", "e9", 3))),
			}},
		{name: "transport error is pending", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, 1, ops(op(R, "p", "1", "e0", 5)), nil, errors.New("connection reset")),
				query(2, 3, 4, "p", ent("p", "1", "e9", 5)),
			}},
		{name: "pending query has no say", want: linearizability.Ok,
			history: []tOp{
				batch(1, 0, 1, ops(op(R, "p", "1", "e0", 5)), ok("e1"), nil),
				query(2, 3, linearizability.Pending, "p"),
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := linearizability.CheckTable(initial, tt.history, linearizability.Options{})
			if err != nil {
				t.Fatalf("CheckTable: %v", err)
			}
			if got, want := rep.Result, tt.want; got != want {
				t.Fatalf("got %v, want %v\n%s", got, want, rep.String())
			}
			if tt.want != linearizability.Illegal {
				return
			}
			if got, want := describe(rep.Failed), describe(tt.history[tt.failed]); got != want {
				t.Errorf("Failed: got %s, want %s\n%s", got, want, rep.Explanation)
			}
		})
	}
}

func describe(o tOp) string {
	return linearizability.TableModel(nil).DescribeOperation(o.Input, o.Output)
}

func TestTablePartitions(t *testing.T) {
	init := []spec.Entity{ent("a", "1", "a0", 0), ent("b", "1", "b0", 0)}
	h := []tOp{
		batch(1, 0, 10, ops(op(spec.Replace, "a", "1", "a0", 1)), ok("a1"), nil),
		batch(2, 0, 10, ops(op(spec.Replace, "b", "1", "b0", 1)), ok("b1"), nil),
		query(3, 11, 12, "a", ent("a", "1", "a1", 1)),
		query(3, 13, 14, "b", ent("b", "1", "b0", 0)), // stale
		linearizability.Query(3, 15, 16, nil, nil, fail(400, -1)),
	}
	rep, err := linearizability.CheckTable(init, h, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Result, linearizability.Illegal; got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got, want := rep.Parts, 3; got != want {
		t.Errorf("Parts: got %d, want %d", got, want)
	}
	if got, want := rep.Part, 2; got != want { // "", "a", "b"
		t.Errorf("Part: got %d, want %d", got, want)
	}
	if got, want := describe(rep.Failed), describe(h[3]); got != want {
		t.Errorf("Failed: got %s, want %s", got, want)
	}
	wantText := `cannot linearize: client 3 [13, 14]: query(PartitionKey eq 'b') -> ['b'/'1'@"b0" {v=0L}]`
	if !strings.Contains(rep.Explanation, wantText) {
		t.Errorf("Explanation lacks %q:\n%s", wantText, rep.Explanation)
	}
}

func TestCheckTableErrors(t *testing.T) {
	tests := []struct {
		name string
		op   tOp
		want string
	}{
		{"unknown kind", tOp{Call: 1, Return: 2}, "linearizability: operation 0: unknown call kind 0"},
		{"empty ETag change", linearizability.ETagChange(1, 3, key("p", "1"), ""), `linearizability: operation 0: etag-change of 'p'/'1' to "": want a specific new ETag`},
		{"non-table error", tOp{Call: 1, Return: 2, Input: linearizability.TableCall{Kind: linearizability.QueryCall}, Output: linearizability.TableOutcome{Err: errors.New("boom")}},
			`linearizability: operation 0: query returned "boom", which is not a *spec.Error: record a call with an indeterminate outcome as pending`},
		{"return before call", query(1, 5, 4, "p"), "linearizability: operation 0: return time 4 is before call time 5"},
		{"control character in an If-Match", batch(1, 1, 2, ops(op(spec.Replace, "p", "1", "\x00?", 1)), nil, fail(412, 0)),
			`linearizability: operation 0: ETag "\x00?" holds a control character, which no table's ETag has`},
		{"control character in a result", batch(1, 1, 2, ops(op(spec.Insert, "p", "2", "", 1)), ok("e\n1"), nil),
			`linearizability: operation 0: ETag "e\n1" holds a control character, which no table's ETag has`},
		{"control character in a row", query(1, 1, 2, "p", ent("p", "1", "\x7f", 0)),
			`linearizability: operation 0: ETag "\x7f" holds a control character, which no table's ETag has`},
		{"control character in an ETag change", linearizability.ETagChange(1, 3, key("p", "1"), "m\x00"),
			`linearizability: operation 0: ETag "m\x00" holds a control character, which no table's ETag has`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := linearizability.CheckTable(initial, []tOp{tt.op}, linearizability.Options{})
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("control character in an initial row", func(t *testing.T) {
		_, err := linearizability.CheckTable([]spec.Entity{ent("p", "1", "e\x00", 0)}, nil, linearizability.Options{})
		want := `linearizability: initial row 'p'/'1': ETag "e\x00" holds a control character, which no table's ETag has`
		if err == nil {
			t.Fatalf("got no error, want %q", want)
		}
		if got := err.Error(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestTableBudgetAndDeterminism(t *testing.T) {
	h, model := benchHistory(300)
	m := model()
	full, err := linearizability.Check(m, h, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := full.Result, linearizability.Ok; got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	again, err := linearizability.Check(model(), h, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := again.Steps, full.Steps; got != want {
		t.Errorf("second run: Steps: got %d, want %d", got, want)
	}
	tiny, err := linearizability.Check(m, h, linearizability.Options{MaxSteps: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tiny.Result, linearizability.Unknown; got != want {
		t.Errorf("budget 5: got %v, want %v", got, want)
	}
	if got, want := tiny.Steps, int64(5); got != want {
		t.Errorf("budget 5: Steps: got %d, want %d", got, want)
	}
	// Break the last completed query: the verdict and its explanation are
	// the same on every run.
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Input.Kind == linearizability.QueryCall && !h[i].IsPending() && h[i].Output.Err == nil {
			h[i].Output.Rows = append(slices.Clone(h[i].Output.Rows), spec.Entity{Key: key("zz", "zz"), ETag: "x"})
			break
		}
	}
	var first string
	for run := range 2 {
		rep, err := linearizability.Check(model(), h, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rep.Result, linearizability.Illegal; got != want {
			t.Fatalf("broken history: got %v, want %v", got, want)
		}
		if run == 0 {
			first = rep.Explanation
		} else if rep.Explanation != first {
			t.Errorf("second run differs:\n%s\nfirst:\n%s", rep.Explanation, first)
		}
	}
}

// A state's unknown ETag prints with what is known about it.
func TestTableExplanationShowsUnknownETags(t *testing.T) {
	h := []tOp{
		batch(1, 0, linearizability.Pending, ops(op(spec.Replace, "p", "1", "*", 1)), nil, nil),
		linearizability.Query(3, 1, 2, spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int64(0)}}, nil, nil),
		batch(2, 3, 4, ops(op(spec.Replace, "p", "1", "e7", 2)), nil, fail(412, 0)),
		batch(2, 3, 4, ops(op(spec.Replace, "p", "1", "e6", 2)), nil, fail(412, 0)),
		get(3, 5, 6, "p", "1", ptr(ent("p", "1", "e7", 1))),
	}
	rep, err := linearizability.CheckTable(initial, h, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Result, linearizability.Illegal; got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, want := range []string{
		"\n     state: ['p'/'1'@? {v=1L}]\n",
		"\n     state: ['p'/'1'@?(not \"e6\", \"e7\") {v=1L}]\n",
	} {
		if !strings.Contains(rep.Explanation, want) {
			t.Errorf("Explanation lacks %q:\n%s", want, rep.Explanation)
		}
	}
}
