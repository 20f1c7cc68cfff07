package aztable_test

import (
	"context"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

func TestMain(m *testing.M) { os.Exit(azuritetest.Run(m)) }

func ent(pk, rk string, props spec.Props) spec.Entity {
	return spec.Entity{Key: spec.Key{PartitionKey: pk, RowKey: rk}, Props: props}
}

func op(kind spec.OpKind, e spec.Entity, etag spec.ETag) spec.Op {
	e.ETag = etag
	return spec.Op{Kind: kind, Entity: e}
}

var valueCmp = cmp.Comparer(func(a, b spec.Value) bool {
	if a.Type() == spec.TypeDouble && b.Type() == spec.TypeDouble && math.IsNaN(a.AsDouble()) && math.IsNaN(b.AsDouble()) {
		return true
	}
	return a.Equal(b)
})

func TestTypedPropertiesRoundTrip(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "types")
	ctx := context.Background()
	g, _ := spec.ParseGUID("0123abcd-4567-89ef-0123-456789abcdef")
	props := spec.Props{
		"s":     spec.String("it's \"quoted\" ünïcode"),
		"empty": spec.String(""),
		"b":     spec.Bool(true),
		"i32":   spec.Int32(-2147483648),
		"i64":   spec.Int64(math.MaxInt64),
		"d":     spec.Double(2.0),
		"dfrac": spec.Double(-1.25e-300),
		"nan":   spec.Double(math.NaN()),
		"inf":   spec.Double(math.Inf(-1)),
		"dt":    spec.DateTime(time.Date(2026, 11, 25, 15, 4, 5, 123456700, time.UTC)),
		"g":     g,
		"bin":   spec.Binary([]byte{0, 1, 2, 255}),
		"bin0":  spec.Binary(nil),
	}
	if _, err := tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("p", "r", props), "")}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	got, ok, err := spec.Retrieve(ctx, tbl, spec.Key{PartitionKey: "p", RowKey: "r"})
	if err != nil || !ok {
		t.Fatalf("retrieve: ok=%v err=%v", ok, err)
	}
	if diff := cmp.Diff(props, got.Props, valueCmp); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	if got.ETag == "" || got.Timestamp.IsZero() {
		t.Errorf("got ETag %q, Timestamp %v; want both set", got.ETag, got.Timestamp)
	}
}

func TestSingleOperations(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "single")
	ctx := context.Background()
	a := ent("p", "a", spec.Props{"x": spec.Int32(1)})
	res, err := tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, a, "")})
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	etag := res[0].ETag
	if etag == "" {
		t.Fatalf("insert returned no ETag")
	}
	cases := []struct {
		name   string
		op     spec.Op
		status int
	}{
		{"insert existing", op(spec.Insert, a, ""), 409},
		{"replace absent", op(spec.Replace, ent("p", "zz", nil), "*"), 404},
		{"merge absent", op(spec.Merge, ent("p", "zz", nil), "*"), 404},
		{"delete absent", op(spec.Delete, ent("p", "zz", nil), "*"), 404},
		{"replace wrong etag", op(spec.Replace, a, `W/"datetime'2000-01-01T00%3A00%3A00.0000000Z'"`), 412},
		{"replace no etag", op(spec.Replace, a, ""), 400},
		{"delete-if-exists absent", op(spec.DeleteIfExists, ent("p", "zz", nil), ""), 0},
		{"merge current etag", op(spec.Merge, ent("p", "a", spec.Props{"y": spec.Bool(false)}), etag), 0},
		{"bad property name", op(spec.InsertOrMerge, ent("p", "a", spec.Props{"no-dash": spec.Bool(false)}), ""), 400},
		{"bad key", op(spec.InsertOrMerge, ent("p", "a/b", nil), ""), 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tbl.ExecuteBatch(ctx, []spec.Op{c.op})
			if got := spec.StatusOf(err); got != c.status {
				t.Fatalf("status: got %d (%v), want %d", got, err, c.status)
			}
			if c.status != 0 {
				if got := spec.IndexOf(err); got != 0 {
					t.Errorf("index: got %d, want 0", got)
				}
			}
		})
	}
	got, _, _ := spec.Retrieve(ctx, tbl, a.Key)
	want := spec.Props{"x": spec.Int32(1), "y": spec.Bool(false)}
	if diff := cmp.Diff(want, got.Props, valueCmp); diff != "" {
		t.Errorf("after merge (-want +got):\n%s", diff)
	}
}

func TestBatchFailureIndexAndETags(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "batch")
	ctx := context.Background()
	ops := []spec.Op{
		op(spec.Insert, ent("p", "a", nil), ""),
		op(spec.InsertOrReplace, ent("p", "b", spec.Props{"v": spec.Int64(7)}), ""),
		op(spec.InsertOrMerge, ent("p", "c", nil), ""),
	}
	res, err := tbl.ExecuteBatch(ctx, ops)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	rows, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	for i, r := range rows {
		if r.ETag != res[i].ETag {
			t.Errorf("row %v: got ETag %q from the query, batch result said %q", r.Key, r.ETag, res[i].ETag)
		}
	}
	// The third operation fails: nothing applies and the index says so.
	bad := []spec.Op{
		op(spec.Delete, ent("p", "a", nil), res[0].ETag),
		op(spec.Merge, ent("p", "b", spec.Props{"w": spec.Bool(true)}), "*"),
		op(spec.Insert, ent("p", "c", nil), ""),
	}
	_, err = tbl.ExecuteBatch(ctx, bad)
	if got, want := spec.StatusOf(err), 409; got != want {
		t.Fatalf("status: got %d (%v), want %d", got, err, want)
	}
	if got, want := spec.IndexOf(err), 2; got != want {
		t.Errorf("index: got %d, want %d", got, want)
	}
	after, _ := tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
	if diff := cmp.Diff(rows, after, valueCmp); diff != "" {
		t.Errorf("failed batch changed the table (-before +after):\n%s", diff)
	}
	// A DeleteIfExists alone, of an absent row then of a present one.
	for _, k := range []string{"zz", "a"} {
		res, err = tbl.ExecuteBatch(ctx, []spec.Op{op(spec.DeleteIfExists, ent("p", k, nil), "")})
		if err != nil || len(res) != 1 || res[0].ETag != "" {
			t.Fatalf("lone DeleteIfExists of %s: got %v, %v; want one empty result", k, res, err)
		}
	}
	if _, ok, err := spec.Retrieve(ctx, tbl, spec.Key{PartitionKey: "p", RowKey: "a"}); ok || err != nil {
		t.Errorf("p/a after DeleteIfExists: found %v, err %v; want absent", ok, err)
	}
}

func TestBatchValidation(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "valid")
	ctx := context.Background()
	many := make([]spec.Op, spec.MaxBatch+1)
	for i := range many {
		many[i] = op(spec.InsertOrReplace, ent("p", strings.Repeat("r", i+1), nil), "")
	}
	cases := []struct {
		name  string
		ops   []spec.Op
		index int
	}{
		{"empty", nil, -1},
		{"too many", many, -1},
		{"two partitions", []spec.Op{op(spec.Insert, ent("p", "a", nil), ""), op(spec.Insert, ent("q", "a", nil), "")}, 1},
		{"same row twice", []spec.Op{op(spec.Insert, ent("p", "a", nil), ""), op(spec.Delete, ent("p", "a", nil), "*")}, 1},
		{"DeleteIfExists not alone", []spec.Op{op(spec.Insert, ent("p", "a", nil), ""), op(spec.DeleteIfExists, ent("p", "zz", nil), "")}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tbl.ExecuteBatch(ctx, c.ops)
			if got := spec.StatusOf(err); got != 400 {
				t.Fatalf("status: got %d (%v), want 400", got, err)
			}
			if got := spec.IndexOf(err); got != c.index {
				t.Errorf("index: got %d, want %d", got, c.index)
			}
		})
	}
}

func TestQueries(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "query")
	ctx := context.Background()
	for _, pk := range []string{"p", "q"} {
		var ops []spec.Op
		for i, rk := range []string{"a", "b", "c", "d"} {
			ops = append(ops, op(spec.Insert, ent(pk, rk, spec.Props{"n": spec.Int32(int32(i)), "happy": spec.Bool(i%2 == 0)}), ""))
		}
		if _, err := tbl.ExecuteBatch(ctx, ops); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("atomic needs one partition", func(t *testing.T) {
		_, err := tbl.QueryAtomic(ctx, spec.Comparison{Property: "n", Op: spec.Eq, Value: spec.Int32(1)})
		if got := spec.StatusOf(err); got != 400 {
			t.Errorf("status: got %d (%v), want 400", got, err)
		}
	})
	t.Run("atomic filter", func(t *testing.T) {
		rows, err := tbl.QueryAtomic(ctx, spec.AndFilters(spec.PartitionFilter("q"), spec.Comparison{Property: "happy", Op: spec.Eq, Value: spec.Bool(true)}))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Key.String())
		}
		if want := []string{"'q'/'a'", "'q'/'c'"}; !cmp.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("streamed", func(t *testing.T) {
		s, err := tbl.QueryStreamed(ctx, spec.Comparison{Property: "n", Op: spec.Ge, Value: spec.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if k, ok := s.Continuation(); !ok || k != (spec.Key{}) {
			t.Errorf("initial continuation: got %v %v, want the smallest key", k, ok)
		}
		var got []string
		for {
			e, ok, err := s.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			got = append(got, e.Key.String())
			if k, ok := s.Continuation(); !ok || !e.Key.Less(k) {
				t.Errorf("continuation after %v: got %v %v, want a greater key", e.Key, k, ok)
			}
		}
		if want := []string{"'p'/'c'", "'p'/'d'", "'q'/'c'", "'q'/'d'"}; !cmp.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
		if _, ok := s.Continuation(); ok {
			t.Errorf("continuation at end: got ok, want finished")
		}
	})
}

func TestSmallPages(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "small")
	ctx := context.Background()
	var ops []spec.Op
	for _, rk := range []string{"a", "b", "c", "d", "e"} {
		ops = append(ops, op(spec.Insert, ent("p", rk, nil), ""))
	}
	if _, err := tbl.ExecuteBatch(ctx, ops); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("q", "a", nil), "")}); err != nil {
		t.Fatal(err)
	}
	paged := tbl.WithPageSize(2)
	if _, err := paged.QueryAtomic(ctx, spec.PartitionFilter("p")); !errors.Is(err, aztable.ErrMultiPage) {
		t.Errorf("atomic query over 5 rows, 2 a page: got %v, want ErrMultiPage", err)
	}
	if rows, err := paged.QueryAtomic(ctx, spec.PartitionFilter("q")); err != nil || len(rows) != 1 {
		t.Errorf("atomic query over 1 row, 2 a page: got %d rows, %v; want 1 row", len(rows), err)
	}
	s, err := paged.QueryStreamed(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	for {
		e, ok, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, e.Key.String())
	}
	if want := []string{"'p'/'a'", "'p'/'b'", "'p'/'c'", "'p'/'d'", "'p'/'e'", "'q'/'a'"}; !cmp.Equal(got, want) {
		t.Errorf("streamed query, 2 a page: got %q, want %q", got, want)
	}
}

func TestAtomicQueryMultiPage(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1,001 rows (about 2 s on Azurite); run without -short")
	}
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "pages")
	ctx := context.Background()
	for b := 0; b < 11; b++ {
		var ops []spec.Op
		for i := 0; i < 91; i++ {
			ops = append(ops, op(spec.Insert, ent("p", string(rune('a'+b))+strings.Repeat("x", i), nil), ""))
		}
		if _, err := tbl.ExecuteBatch(ctx, ops); err != nil {
			t.Fatal(err)
		}
	}
	_, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
	if !errors.Is(err, aztable.ErrMultiPage) {
		t.Fatalf("got %v, want ErrMultiPage", err)
	}
}

// TestQuotesInKeys checks keys holding single quotes, which the SDK puts
// into request URLs without the doubling OData needs.
func TestQuotesInKeys(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "quotes")
	ctx := context.Background()
	k := ent("it's", "o'k''", nil)
	steps := []struct {
		name string
		op   spec.Op
	}{
		{"insert", op(spec.Insert, ent(k.PartitionKey, k.RowKey, spec.Props{"v": spec.Int32(1)}), "")},
		{"replace", op(spec.Replace, ent(k.PartitionKey, k.RowKey, spec.Props{"v": spec.Int32(2)}), "*")},
		{"merge", op(spec.Merge, ent(k.PartitionKey, k.RowKey, spec.Props{"w": spec.Int32(3)}), "*")},
		{"insert or merge", op(spec.InsertOrMerge, ent(k.PartitionKey, k.RowKey, spec.Props{"x": spec.Int32(4)}), "")},
		{"insert or replace", op(spec.InsertOrReplace, ent(k.PartitionKey, k.RowKey, spec.Props{"v": spec.Int32(5)}), "")},
	}
	for _, s := range steps {
		if _, err := tbl.ExecuteBatch(ctx, []spec.Op{s.op}); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	got, ok, err := spec.Retrieve(ctx, tbl, k.Key)
	if err != nil || !ok {
		t.Fatalf("retrieve: ok=%v err=%v", ok, err)
	}
	if diff := cmp.Diff(spec.Props{"v": spec.Int32(5)}, got.Props, valueCmp); diff != "" {
		t.Errorf("content (-want +got):\n%s", diff)
	}
	if got.Key != k.Key {
		t.Errorf("key: got %v, want %v", got.Key, k.Key)
	}
	if _, err := tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Delete, k, got.ETag)}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, ok, _ := spec.Retrieve(ctx, tbl, k.Key); ok {
		t.Errorf("row still there after delete")
	}
}
