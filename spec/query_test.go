package spec_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/migratingtable/migratingtable/spec"
)

// fixture is a table with rows in three partitions, loaded with known
// ETags.
func fixture() *spec.MemTable {
	tbl := spec.NewMemTable("t:")
	tbl.Load([]spec.Entity{
		ent("q", "a", "e4", spec.Props{"n": spec.Int32(4)}),
		ent("p", "b", "e2", spec.Props{"n": spec.Int32(2)}),
		ent("p", "a", "e1", spec.Props{"n": spec.Int32(1)}),
		ent("p", "c", "e3", spec.Props{"n": spec.Int32(3)}),
		ent("", "z", "e0", spec.Props{"n": spec.Int32(0)}),
	})
	return tbl
}

func keysOf(es []spec.Entity) []spec.Key {
	var ks []spec.Key
	for _, e := range es {
		ks = append(ks, e.Key)
	}
	return ks
}

func TestQueryAtomic(t *testing.T) {
	tests := []struct {
		filter string
		want   []spec.Key
		status int
	}{
		{"PartitionKey eq 'p'", []spec.Key{key("p", "a"), key("p", "b"), key("p", "c")}, 0},
		{"PartitionKey eq 'p' and n ge 2", []spec.Key{key("p", "b"), key("p", "c")}, 0},
		{"n ne 2 and PartitionKey eq 'p'", []spec.Key{key("p", "a"), key("p", "c")}, 0},
		{"PartitionKey eq 'p' and RowKey eq 'b'", []spec.Key{key("p", "b")}, 0},
		{"PartitionKey eq ''", []spec.Key{key("", "z")}, 0},
		{"PartitionKey eq 'none'", nil, 0},
		{"", nil, 400},
		{"RowKey eq 'a'", nil, 400},
		{"PartitionKey eq 'p' or PartitionKey eq 'q'", nil, 400},
		{"PartitionKey ge 'p'", nil, 400},
		{"not (PartitionKey ne 'p')", nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			got, err := fixture().QueryAtomic(context.Background(), spec.MustParseFilter(tc.filter))
			if got, want := spec.StatusOf(err), tc.status; got != want {
				t.Fatalf("status: got %d (%v), want %d", got, err, want)
			}
			if tc.status != 0 {
				if got != nil {
					t.Errorf("rows on error: got %v, want nil", got)
				}
				return
			}
			if diff := cmp.Diff(tc.want, keysOf(got)); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueryAtomicReturnsCopies(t *testing.T) {
	ctx := context.Background()
	tbl := fixture()
	snap := tbl.Snapshot()
	got, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
	if err != nil {
		t.Fatal(err)
	}
	got[0].Props["n"] = spec.Int32(100)
	got[0].Props["new"] = spec.Bool(true)
	got[1].ETag = "mutated"
	again, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Entity{
		ent("p", "a", "e1", spec.Props{"n": spec.Int32(1)}),
		ent("p", "b", "e2", spec.Props{"n": spec.Int32(2)}),
		ent("p", "c", "e3", spec.Props{"n": spec.Int32(3)}),
	}
	if diff := cmp.Diff(want, again, entityOpts); diff != "" {
		t.Errorf("rows after mutating a result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(snap, tbl.Snapshot(), entityOpts); diff != "" {
		t.Errorf("snapshot after mutating a result (-want +got):\n%s", diff)
	}
	e, ok, err := spec.Retrieve(ctx, tbl, key("p", "b"))
	if err != nil || !ok {
		t.Fatalf("Retrieve: got (%v, %v, %v), want the row", e, ok, err)
	}
	if diff := cmp.Diff(want[1], e, entityOpts); diff != "" {
		t.Errorf("Retrieve (-want +got):\n%s", diff)
	}
	if _, ok, err := spec.Retrieve(ctx, tbl, key("p", "x")); ok || err != nil {
		t.Errorf("Retrieve of an absent row: got (%v, %v), want (false, nil)", ok, err)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tbl := fixture()
	if _, err := tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: ent("p", "x", "", nil)}}); !errors.Is(err, context.Canceled) {
		t.Errorf("ExecuteBatch: got %v, want context.Canceled", err)
	}
	if _, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p")); !errors.Is(err, context.Canceled) {
		t.Errorf("QueryAtomic: got %v, want context.Canceled", err)
	}
	if _, err := tbl.QueryStreamed(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("QueryStreamed: got %v, want context.Canceled", err)
	}
	s, err := tbl.QueryStreamed(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next: got %v, want context.Canceled", err)
	}
}

func TestQueryStreamed(t *testing.T) {
	ctx := context.Background()
	tbl := fixture()
	s, err := tbl.QueryStreamed(ctx, spec.MustParseFilter("n ne 2"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if k, ok := s.Continuation(); k != (spec.Key{}) || !ok {
		t.Errorf("Continuation before Next: got (%v, %v), want (\"\"/\"\", true)", k, ok)
	}
	var got []spec.Key
	for step := 0; ; step++ {
		e, ok, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, e.Key)
		if k, ok := s.Continuation(); k != e.Key.Successor() || !ok {
			t.Errorf("Continuation after %v: got (%v, %v), want (%v, true)", e.Key, k, ok, e.Key.Successor())
		}
		switch step {
		case 0: // after ("", "z"): changes ahead and behind the cursor
			mustExec(t, tbl, spec.Op{Kind: spec.Insert, Entity: ent("", "a", "", spec.Props{"n": spec.Int32(9)})}) // behind: never seen
			mustExec(t, tbl, spec.Op{Kind: spec.Delete, Entity: ent("p", "a", "*", nil)})                          // ahead: gone
			mustExec(t, tbl, spec.Op{Kind: spec.Insert, Entity: ent("p", "bb", "", spec.Props{"n": spec.Int32(7)})})
			mustExec(t, tbl, spec.Op{Kind: spec.Merge, Entity: ent("p", "b", "*", spec.Props{"n": spec.Int32(8)})}) // now matches
		}
	}
	want := []spec.Key{key("", "z"), key("p", "b"), key("p", "bb"), key("p", "c"), key("q", "a")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("streamed keys (-want +got):\n%s", diff)
	}
	if _, ok := s.Continuation(); ok {
		t.Errorf("Continuation after the end: got ok=true, want false")
	}
	if _, ok, err := s.Next(ctx); ok || err != nil {
		t.Errorf("Next after the end: got (%v, %v), want (false, nil)", ok, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := s.Next(ctx); !errors.Is(err, spec.ErrStreamClosed) {
		t.Errorf("Next after Close: got %v, want ErrStreamClosed", err)
	}
}

func TestQueryStreamedReturnsCurrentVersion(t *testing.T) {
	ctx := context.Background()
	tbl := fixture()
	s, err := tbl.QueryStreamed(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := mustExec(t, tbl, spec.Op{Kind: spec.Replace, Entity: ent("", "z", "e0", spec.Props{"m": spec.String("v")})})
	e, ok, err := s.Next(ctx)
	if err != nil || !ok {
		t.Fatalf("Next: got (%v, %v), want a row", ok, err)
	}
	if diff := cmp.Diff(ent("", "z", res[0].ETag, spec.Props{"m": spec.String("v")}), e, entityOpts); diff != "" {
		t.Errorf("first row (-want +got):\n%s", diff)
	}
	e.Props["m"] = spec.String("mutated")
	if got, _ := tbl.Snapshot().Get(key("", "z")); got.Props["m"] != spec.String("v") {
		t.Errorf("table row after mutating a streamed row: got %v, want 'v'", got.Props["m"])
	}
}

func mustExec(t *testing.T, tbl spec.Table, ops ...spec.Op) []spec.Result {
	t.Helper()
	res, err := tbl.ExecuteBatch(context.Background(), ops)
	if err != nil {
		t.Fatalf("ExecuteBatch(%v): %v", ops, err)
	}
	return res
}

func TestSetETagAndLoad(t *testing.T) {
	tbl := fixture()
	before := tbl.Snapshot()
	if !tbl.SetETag(key("p", "b"), "x9") {
		t.Fatalf("SetETag of a present row: got false, want true")
	}
	if tbl.SetETag(key("p", "zz"), "x9") {
		t.Errorf("SetETag of an absent row: got true, want false")
	}
	got, _ := tbl.Snapshot().Get(key("p", "b"))
	if diff := cmp.Diff(ent("p", "b", "x9", spec.Props{"n": spec.Int32(2)}), got, entityOpts); diff != "" {
		t.Errorf("row after SetETag (-want +got):\n%s", diff)
	}
	if old, _ := before.Get(key("p", "b")); old.ETag != "e2" {
		t.Errorf("earlier snapshot after SetETag: got ETag %q, want %q (snapshots are immutable)", old.ETag, "e2")
	}
	// Load: unsorted, duplicate keys (last wins), an empty ETag filled in.
	in := []spec.Entity{
		ent("b", "1", "", nil),
		ent("a", "1", "first", nil),
		ent("a", "1", "second", spec.Props{"v": spec.Int32(2)}),
	}
	tbl.Load(in)
	in[2].Props["v"] = spec.Int32(99) // Load copied its input
	want := []spec.Entity{
		ent("a", "1", "second", spec.Props{"v": spec.Int32(2)}),
		ent("b", "1", "t:1", spec.Props{}),
	}
	if diff := cmp.Diff(want, []spec.Entity(tbl.Snapshot()), entityOpts); diff != "" {
		t.Errorf("table after Load (-want +got):\n%s", diff)
	}
}

func TestApplyBatchWithETags(t *testing.T) {
	tbl := fixture()
	ops := []spec.Op{
		{Kind: spec.Replace, Entity: ent("p", "a", "e1", spec.Props{"n": spec.Int32(10)})},
		{Kind: spec.Delete, Entity: ent("p", "b", "e2", nil)},
		{Kind: spec.InsertOrMerge, Entity: ent("p", "d", "", spec.Props{"n": spec.Int32(11)})},
	}
	res, err := tbl.ApplyBatchWithETags(ops, []spec.ETag{"m1", "ignored", "m3"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]spec.Result{{ETag: "m1"}, {ETag: ""}, {ETag: "m3"}}, res); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	rows, err := tbl.QueryAtomic(context.Background(), spec.PartitionFilter("p"))
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Entity{
		ent("p", "a", "m1", spec.Props{"n": spec.Int32(10)}),
		ent("p", "c", "e3", spec.Props{"n": spec.Int32(3)}),
		ent("p", "d", "m3", spec.Props{"n": spec.Int32(11)}),
	}
	if diff := cmp.Diff(want, rows, entityOpts); diff != "" {
		t.Errorf("partition after (-want +got):\n%s", diff)
	}

	errCases := []struct {
		name   string
		ops    []spec.Op
		etags  []spec.ETag
		status int
		index  int
	}{
		{"too few etags", ops[:1], nil, 400, -1},
		{"empty etag for a write", ops[2:], []spec.ETag{""}, 400, 0},
		{"precondition", ops[:1], []spec.ETag{"m"}, 412, 0},
		{"invalid batch", []spec.Op{{Kind: spec.Insert, Entity: ent("p/", "a", "", nil)}}, []spec.ETag{""}, 400, 0},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			before := tbl.Snapshot()
			_, err := tbl.ApplyBatchWithETags(tc.ops, tc.etags)
			if got, want := [2]int{spec.StatusOf(err), spec.IndexOf(err)}, [2]int{tc.status, tc.index}; got != want {
				t.Errorf("status, index: got %v (%v), want %v", got, err, want)
			}
			if diff := cmp.Diff(before, tbl.Snapshot(), entityOpts); diff != "" {
				t.Errorf("table changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestRowsHelpers(t *testing.T) {
	rows := fixture().Snapshot()
	if diff := cmp.Diff([]spec.Key{key("p", "a"), key("p", "b"), key("p", "c")}, keysOf(rows.Partition("p"))); diff != "" {
		t.Errorf("Partition(p) (-want +got):\n%s", diff)
	}
	if got := rows.Partition("o"); len(got) != 0 {
		t.Errorf("Partition(o): got %v, want none", got)
	}
	if i, ok := rows.Search(key("p", "bb")); i != 3 || ok {
		t.Errorf("Search(p/bb): got (%d, %v), want (3, false)", i, ok)
	}
	if diff := cmp.Diff([]spec.Key{key("", "z"), key("q", "a")}, keysOf(rows.Query(spec.MustParseFilter("n eq 0 or n eq 4")))); diff != "" {
		t.Errorf("Query (-want +got):\n%s", diff)
	}
	c := rows.Clone()
	c[0].Props["n"] = spec.Int32(-1)
	if got, _ := rows.Get(key("", "z")); got.Props["n"] != spec.Int32(0) {
		t.Errorf("Rows after mutating a Clone: got n=%v, want 0", got.Props["n"])
	}
}
