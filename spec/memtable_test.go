package spec_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/migratingtable/migratingtable/spec"
)

// valueComparer compares Values by type and literal text, so that a
// Double NaN equals itself in test diffs.
var valueComparer = cmp.Comparer(func(a, b spec.Value) bool {
	return a.Type() == b.Type() && a.Literal() == b.Literal()
})

// entityOpts compares entities ignoring the informational Timestamp.
var entityOpts = cmp.Options{valueComparer, cmpopts.IgnoreFields(spec.Entity{}, "Timestamp"), cmpopts.EquateEmpty()}

func key(pk, rk string) spec.Key { return spec.Key{PartitionKey: pk, RowKey: rk} }

func ent(pk, rk string, etag spec.ETag, props spec.Props) spec.Entity {
	return spec.Entity{Key: key(pk, rk), ETag: etag, Props: props}
}

// TestOperations checks every write operation against an absent row and
// a present row, with a matching, a wrong and the "*" If-Match, both as
// a single operation and as operation 1 of a batch whose operation 0
// (an Insert of another row) would succeed; a DeleteIfExists is refused
// (400) in that batch, as it must be sent alone.
func TestOperations(t *testing.T) {
	old := ent("p", "r", "e1", spec.Props{"a": spec.Int32(1), "b": spec.String("x")})
	opProps := spec.Props{"b": spec.String("y"), "c": spec.Bool(true)}
	merged := spec.Props{"a": spec.Int32(1), "b": spec.String("y"), "c": spec.Bool(true)}

	type tcase struct {
		kind    spec.OpKind
		present bool      // the row exists before the operation
		ifMatch spec.ETag // the operation's ETag
		status  int       // 0 for success
		after   spec.Props
		gone    bool // on success, the row is absent afterwards
	}
	cases := []tcase{
		{spec.Insert, false, "", 0, opProps, false},
		{spec.Insert, true, "", spec.StatusConflict, nil, false},
		{spec.Insert, true, "e1", spec.StatusConflict, nil, false},

		{spec.Replace, false, "*", spec.StatusNotFound, nil, false},
		{spec.Replace, false, "e1", spec.StatusNotFound, nil, false},
		{spec.Replace, true, "e1", 0, opProps, false},
		{spec.Replace, true, "wrong", spec.StatusPreconditionFailed, nil, false},
		{spec.Replace, true, "*", 0, opProps, false},

		{spec.Merge, false, "*", spec.StatusNotFound, nil, false},
		{spec.Merge, false, "e1", spec.StatusNotFound, nil, false},
		{spec.Merge, true, "e1", 0, merged, false},
		{spec.Merge, true, "wrong", spec.StatusPreconditionFailed, nil, false},
		{spec.Merge, true, "*", 0, merged, false},

		{spec.Delete, false, "*", spec.StatusNotFound, nil, false},
		{spec.Delete, false, "e1", spec.StatusNotFound, nil, false},
		{spec.Delete, true, "e1", 0, nil, true},
		{spec.Delete, true, "wrong", spec.StatusPreconditionFailed, nil, false},
		{spec.Delete, true, "*", 0, nil, true},

		{spec.InsertOrReplace, false, "", 0, opProps, false},
		{spec.InsertOrReplace, true, "", 0, opProps, false},
		{spec.InsertOrReplace, true, "wrong", 0, opProps, false},
		{spec.InsertOrReplace, true, "*", 0, opProps, false},

		{spec.InsertOrMerge, false, "", 0, opProps, false},
		{spec.InsertOrMerge, true, "", 0, merged, false},
		{spec.InsertOrMerge, true, "wrong", 0, merged, false},
		{spec.InsertOrMerge, true, "*", 0, merged, false},

		{spec.DeleteIfExists, false, "", 0, nil, true},
		{spec.DeleteIfExists, false, "*", 0, nil, true},
		{spec.DeleteIfExists, true, "", 0, nil, true},
		{spec.DeleteIfExists, true, "wrong", 0, nil, true},
		{spec.DeleteIfExists, true, "e1", 0, nil, true},
	}
	for _, tc := range cases {
		for _, inBatch := range []bool{false, true} {
			state := "absent"
			if tc.present {
				state = "present"
			}
			name := fmt.Sprintf("%v/%s/ifmatch=%q/batch=%v", tc.kind, state, tc.ifMatch, inBatch)
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				tbl := spec.NewMemTable("t:")
				var initial []spec.Entity
				if tc.present {
					initial = append(initial, old)
				}
				tbl.Load(initial)
				before := tbl.Snapshot()

				op := spec.Op{Kind: tc.kind, Entity: ent("p", "r", tc.ifMatch, opProps.Clone())}
				ops := []spec.Op{op}
				idx := 0
				if inBatch {
					ops = []spec.Op{{Kind: spec.Insert, Entity: ent("p", "q", "", spec.Props{"z": spec.Int64(9)})}, op}
					idx = 1
				}
				res, err := tbl.ExecuteBatch(ctx, ops)

				if tc.kind == spec.DeleteIfExists && inBatch {
					tc.status = spec.StatusBadRequest // DeleteIfExists must be sent alone
				}
				if tc.status != 0 {
					if got, want := spec.StatusOf(err), tc.status; got != want {
						t.Fatalf("status: got %d (err %v), want %d", got, err, want)
					}
					if got, want := spec.IndexOf(err), idx; got != want {
						t.Errorf("failed index: got %d, want %d", got, want)
					}
					if res != nil {
						t.Errorf("results on failure: got %v, want nil", res)
					}
					if diff := cmp.Diff(before, tbl.Snapshot(), entityOpts); diff != "" {
						t.Errorf("table changed by a failed batch (-before +after):\n%s", diff)
					}
					return
				}
				if err != nil {
					t.Fatalf("ExecuteBatch: got error %v, want success", err)
				}
				var want []spec.Entity
				var wantRes []spec.Result
				next := 1
				if inBatch {
					want = append(want, ent("p", "q", "t:1", spec.Props{"z": spec.Int64(9)}))
					wantRes = append(wantRes, spec.Result{ETag: "t:1"})
					next = 2
				}
				if tc.gone {
					wantRes = append(wantRes, spec.Result{ETag: ""})
				} else {
					etag := spec.ETag(fmt.Sprintf("t:%d", next))
					want = append(want, ent("p", "r", etag, tc.after))
					wantRes = append(wantRes, spec.Result{ETag: etag})
				}
				if diff := cmp.Diff(wantRes, res); diff != "" {
					t.Errorf("results (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, []spec.Entity(tbl.Snapshot()), entityOpts); diff != "" {
					t.Errorf("table after (-want +got):\n%s", diff)
				}
				// The pure function agrees with the table.
				rows, pres, perr := spec.ApplyBatch(before, ops, func(i int) spec.ETag { return spec.ETag(fmt.Sprintf("t:%d", i+1)) })
				if perr != nil {
					t.Fatalf("ApplyBatch: got error %v, want success", perr)
				}
				if diff := cmp.Diff(wantRes, pres); diff != "" {
					t.Errorf("ApplyBatch results (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, []spec.Entity(rows), entityOpts); diff != "" {
					t.Errorf("ApplyBatch rows (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestBatchFirstFailureWins checks that the error names the first
// failing operation and that nothing is applied.
func TestBatchFirstFailureWins(t *testing.T) {
	ctx := context.Background()
	tbl := spec.NewMemTable("t:")
	tbl.Load([]spec.Entity{ent("p", "a", "e1", nil), ent("p", "b", "e2", nil)})
	before := tbl.Snapshot()
	ops := []spec.Op{
		{Kind: spec.InsertOrReplace, Entity: ent("p", "x", "", nil)},
		{Kind: spec.Replace, Entity: ent("p", "a", "e1", spec.Props{"v": spec.Int32(1)})},
		{Kind: spec.Delete, Entity: ent("p", "b", "stale", nil)}, // 412
		{Kind: spec.Insert, Entity: ent("p", "a2", "", nil)},
		{Kind: spec.Replace, Entity: ent("p", "missing", "*", nil)}, // 404, later
	}
	_, err := tbl.ExecuteBatch(ctx, ops)
	var e *spec.Error
	if !errors.As(err, &e) {
		t.Fatalf("error: got %v (%T), want *spec.Error", err, err)
	}
	if got, want := [2]int{e.Status, e.Index}, [2]int{412, 2}; got != want {
		t.Errorf("status, index: got %v, want %v", got, want)
	}
	if !errors.Is(err, &spec.Error{Status: 412}) {
		t.Errorf("errors.Is(err, 412): got false, want true")
	}
	if diff := cmp.Diff(before, tbl.Snapshot(), entityOpts); diff != "" {
		t.Errorf("table changed (-before +after):\n%s", diff)
	}
	// The counter did not advance: the next write gets t:1.
	res, err := tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: ent("p", "c", "", nil)}})
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
	if got, want := res[0].ETag, spec.ETag("t:1"); got != want {
		t.Errorf("ETag after a failed batch: got %q, want %q", got, want)
	}
}

// manyComparisons returns PartitionKey eq 'p' and n-1 more comparisons.
func manyComparisons(n int) spec.Filter {
	f := spec.PartitionFilter("p")
	for i := 1; i < n; i++ {
		f = spec.And{L: f, R: spec.Comparison{Property: "v", Op: spec.Ne, Value: spec.Int32(int32(i))}}
	}
	return f
}

// TestMemTableLimits: MemTable refuses what Azure refuses (a filter of
// more than 15 comparisons) and, with a page limit, fails an atomic
// query whose answer would need more than one page.
func TestMemTableLimits(t *testing.T) {
	ctx := context.Background()
	tbl := spec.NewMemTable("t:")
	var ops []spec.Op
	for i := range 5 {
		ops = append(ops, spec.Op{Kind: spec.Insert, Entity: ent("p", fmt.Sprint(i), "", spec.Props{"v": spec.Int32(0)})})
	}
	if _, err := tbl.ExecuteBatch(ctx, ops); err != nil {
		t.Fatal(err)
	}
	t.Run("comparisons", func(t *testing.T) {
		for _, tt := range []struct {
			n      int
			status int
		}{{spec.MaxComparisons, 0}, {spec.MaxComparisons + 1, spec.StatusBadRequest}} {
			f := manyComparisons(tt.n)
			rows, err := tbl.QueryAtomic(ctx, f)
			if got := spec.StatusOf(err); got != tt.status {
				t.Errorf("QueryAtomic with %d comparisons: got status %d (%v), want %d", tt.n, got, err, tt.status)
			}
			if tt.status == 0 && len(rows) != 5 {
				t.Errorf("QueryAtomic with %d comparisons: got %d rows, want 5", tt.n, len(rows))
			}
			_, err = tbl.QueryStreamed(ctx, f)
			if got := spec.StatusOf(err); got != tt.status {
				t.Errorf("QueryStreamed with %d comparisons: got status %d (%v), want %d", tt.n, got, err, tt.status)
			}
		}
		_, err := tbl.QueryAtomic(ctx, manyComparisons(16))
		if want := "has 16 comparisons: at most 15 are allowed"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error saying %q", err, want)
		}
	})
	t.Run("page limit", func(t *testing.T) {
		tbl.SetPageLimit(4)
		defer tbl.SetPageLimit(0)
		_, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
		if !errors.Is(err, spec.ErrMultiPage) || spec.StatusOf(err) != 0 {
			t.Errorf("5 rows, page limit 4: got %v, want ErrMultiPage and no table outcome", err)
		}
		rows, err := tbl.QueryAtomic(ctx, spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Lt, Value: spec.String("4")}})
		if err != nil || len(rows) != 4 {
			t.Errorf("4 rows, page limit 4: got %d rows, %v; want 4 rows", len(rows), err)
		}
		st, err := tbl.QueryStreamed(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			_, ok, err := st.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			n++
		}
		if n != 5 {
			t.Errorf("streamed query under a page limit of 4: got %d rows, want 5", n)
		}
	})
}
