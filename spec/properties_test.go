package spec_test

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/spec"
)

// ---- generators ----

var filterKeywords = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "lt": true,
	"le": true, "gt": true, "ge": true, "true": true, "false": true,
}

func genPropName() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.SampledFrom([]string{"a", "b", "_c", "x1", "PartitionKey", "RowKey", "Timestamp", "notx", "order"}),
		rapid.StringMatching(`[A-Za-z_][A-Za-z0-9_]{0,8}`).Filter(func(s string) bool { return !filterKeywords[s] }),
	)
}

func genValue() *rapid.Generator[spec.Value] {
	return rapid.OneOf(
		rapid.Map(rapid.String(), spec.String),
		rapid.Map(rapid.Bool(), spec.Bool),
		rapid.Map(rapid.Int32(), spec.Int32),
		rapid.Map(rapid.Int64(), spec.Int64),
		rapid.Map(rapid.Float64(), spec.Double),
		rapid.Map(rapid.SampledFrom([]float64{0, 1e21, 1e-7, -2.5}), spec.Double),
		rapid.Map(rapid.Int64(), func(n int64) spec.Value { return spec.DateTime(time.Unix(0, n)) }),
		rapid.Map(rapid.SliceOfN(rapid.Byte(), 16, 16), func(b []byte) spec.Value { return spec.GUID([16]byte(b)) }),
		rapid.Map(rapid.SliceOf(rapid.Byte()), spec.Binary),
	)
}

func genFilter(depth int) *rapid.Generator[spec.Filter] {
	comparison := rapid.Custom(func(t *rapid.T) spec.Filter {
		return spec.Comparison{
			Property: genPropName().Draw(t, "property"),
			Op:       spec.CompareOp(rapid.IntRange(0, 5).Draw(t, "op")),
			Value:    genValue().Draw(t, "value"),
		}
	})
	if depth == 0 {
		return comparison
	}
	sub := rapid.Deferred(func() *rapid.Generator[spec.Filter] { return genFilter(depth - 1) })
	return rapid.OneOf(
		comparison,
		rapid.Custom(func(t *rapid.T) spec.Filter { return spec.And{L: sub.Draw(t, "l"), R: sub.Draw(t, "r")} }),
		rapid.Custom(func(t *rapid.T) spec.Filter { return spec.Or{L: sub.Draw(t, "l"), R: sub.Draw(t, "r")} }),
		rapid.Custom(func(t *rapid.T) spec.Filter { return spec.Not{X: sub.Draw(t, "x")} }),
	)
}

// TestFilterRoundTrip: printing then parsing gives an equal filter.
func TestFilterRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := genFilter(4).Draw(t, "filter")
		s := f.String()
		got, err := spec.ParseFilter(s)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", s, err)
		}
		if diff := gocmp.Diff(f, got, valueComparer); diff != "" {
			t.Fatalf("round trip of %q (-want +got):\n%s", s, diff)
		}
		if got, want := got.String(), s; got != want {
			t.Fatalf("String after round trip: got %q, want %q", got, want)
		}
	})
}

// Small key and property spaces make collisions (409, 404, duplicate
// rows, mixed partitions) frequent.
var (
	genPK       = rapid.SampledFrom([]string{"p", "q"})
	genRK       = rapid.SampledFrom([]string{"a", "b", "c", "d"})
	genSmallVal = rapid.OneOf(
		rapid.Map(rapid.IntRange(0, 3), func(i int) spec.Value { return spec.Int32(int32(i)) }),
		rapid.Map(rapid.SampledFrom([]string{"x", "y"}), spec.String),
	)
	genProps = rapid.MapOfN(rapid.SampledFrom([]string{"a", "b", "c"}), genSmallVal, 0, 3)
)

func genRows() *rapid.Generator[[]spec.Entity] {
	return rapid.Custom(func(t *rapid.T) []spec.Entity {
		n := rapid.IntRange(0, 6).Draw(t, "rows")
		var out []spec.Entity
		for i := range n {
			out = append(out, spec.Entity{
				Key:   key(genPK.Draw(t, "pk"), genRK.Draw(t, "rk")),
				ETag:  spec.ETag("init" + strconv.Itoa(i)),
				Props: genProps.Draw(t, "props"),
			})
		}
		return out
	})
}

// genBatch draws a batch whose If-Match values are often right: they
// are drawn from "*", "", a wrong ETag and the ETags present in rows.
func genBatch(rows spec.Rows, mostlyValid bool) *rapid.Generator[[]spec.Op] {
	return rapid.Custom(func(t *rapid.T) []spec.Op {
		etags := []spec.ETag{"*", "", "wrong"}
		for _, e := range rows {
			etags = append(etags, e.ETag)
		}
		n := rapid.IntRange(1, 4).Draw(t, "ops")
		pk := genPK.Draw(t, "pk")
		var ops []spec.Op
		used := map[spec.Key]bool{}
		for range n {
			k := key(pk, genRK.Draw(t, "rk"))
			if !mostlyValid && rapid.IntRange(0, 9).Draw(t, "otherPartition") == 0 {
				k.PartitionKey = genPK.Draw(t, "pk2")
			}
			if mostlyValid && used[k] {
				continue
			}
			used[k] = true
			kind := spec.OpKind(rapid.IntRange(0, 6).Draw(t, "kind"))
			etag := rapid.SampledFrom(etags).Draw(t, "etag")
			if mostlyValid && kind.NeedsIfMatch() && etag == "" {
				etag = "*"
			}
			ops = append(ops, spec.Op{Kind: kind, Entity: spec.Entity{Key: k, ETag: etag, Props: genProps.Draw(t, "props")}})
		}
		return ops
	})
}

// TestFailedBatchLeavesTableUnchanged: a failing batch leaves the table
// byte-identical (as printed by %#v, which covers every field, ETags
// and Timestamps included), and ApplyBatch never modifies its inputs.
func TestFailedBatchLeavesTableUnchanged(t *testing.T) {
	failures := 0
	rapid.Check(t, func(t *rapid.T) {
		tbl := spec.NewMemTable("t:")
		tbl.Load(genRows().Draw(t, "initial"))
		before := tbl.Snapshot()
		beforeDump := fmt.Sprintf("%#v", before)
		ops := genBatch(before, false).Draw(t, "batch")
		opsDump := fmt.Sprintf("%#v", ops)

		_, _, perr := spec.ApplyBatch(before, ops, func(i int) spec.ETag { return spec.ETag("n" + strconv.Itoa(i)) })
		if got := fmt.Sprintf("%#v", before); got != beforeDump {
			t.Fatalf("ApplyBatch modified its input rows:\n got %s\nwant %s", got, beforeDump)
		}
		if got := fmt.Sprintf("%#v", ops); got != opsDump {
			t.Fatalf("ApplyBatch modified its ops:\n got %s\nwant %s", got, opsDump)
		}

		_, err := tbl.ExecuteBatch(context.Background(), ops)
		if got, want := fmt.Sprint(err), fmt.Sprint(perr); got != want {
			t.Fatalf("ExecuteBatch and ApplyBatch disagree: got %q, want %q", got, want)
		}
		if err == nil {
			return
		}
		failures++
		if got := fmt.Sprintf("%#v", tbl.Snapshot()); got != beforeDump {
			t.Fatalf("table after failed batch (%v):\n got %s\nwant %s", err, got, beforeDump)
		}
		if got := fmt.Sprintf("%#v", ops); got != opsDump {
			t.Fatalf("ExecuteBatch modified its ops:\n got %s\nwant %s", got, opsDump)
		}
	})
	if failures == 0 {
		t.Errorf("no generated batch failed: the property was never exercised")
	}
}

// ---- model test ----

// modelRow is a row of the deliberately simple reference model: a map
// from key to ETag and properties, updated in place.
type modelRow struct {
	etag  spec.ETag
	props map[string]spec.Value
}

type model struct {
	rows map[spec.Key]modelRow
	n    int // ETags issued
}

// batch is the model's semantics of a batch, written independently of
// spec.ApplyBatch: check every operation, then apply them all. It only
// knows the caller errors the generator can produce.
func (m *model) batch(ops []spec.Op) ([]spec.Result, int, int) {
	seen := map[spec.Key]bool{}
	for i, op := range ops {
		if op.Entity.PartitionKey != ops[0].Entity.PartitionKey || seen[op.Entity.Key] ||
			((op.Kind == spec.Replace || op.Kind == spec.Merge || op.Kind == spec.Delete) && op.Entity.ETag == "") {
			return nil, 400, i
		}
		if op.Kind == spec.DeleteIfExists && len(ops) > 1 {
			return nil, 400, i
		}
		seen[op.Entity.Key] = true
	}
	for i, op := range ops {
		r, ok := m.rows[op.Entity.Key]
		switch op.Kind {
		case spec.Insert:
			if ok {
				return nil, 409, i
			}
		case spec.Replace, spec.Merge, spec.Delete:
			if !ok {
				return nil, 404, i
			}
			if op.Entity.ETag != "*" && op.Entity.ETag != r.etag {
				return nil, 412, i
			}
		}
	}
	var res []spec.Result
	for _, op := range ops {
		k := op.Entity.Key
		switch op.Kind {
		case spec.Delete, spec.DeleteIfExists:
			delete(m.rows, k)
			res = append(res, spec.Result{})
			continue
		}
		m.n++
		etag := spec.ETag("m:" + strconv.Itoa(m.n))
		props := map[string]spec.Value{}
		if op.Kind == spec.Merge || op.Kind == spec.InsertOrMerge {
			maps.Copy(props, m.rows[k].props)
		}
		maps.Copy(props, op.Entity.Props)
		m.rows[k] = modelRow{etag: etag, props: props}
		res = append(res, spec.Result{ETag: etag})
	}
	return res, 0, -1
}

func (m *model) entities(match func(spec.Entity) bool) []spec.Entity {
	var out []spec.Entity
	for k, r := range m.rows {
		e := spec.Entity{Key: k, ETag: r.etag, Props: maps.Clone(r.props)}
		if match(e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b spec.Entity) int {
		return cmp.Or(cmp.Compare(a.PartitionKey, b.PartitionKey), cmp.Compare(a.RowKey, b.RowKey))
	})
	return out
}

// TestMemTableModel runs random operation sequences on a MemTable and on
// the map model and requires identical results and contents.
func TestMemTableModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		tbl := spec.NewMemTable("m:")
		m := &model{rows: map[spec.Key]modelRow{}}
		all := func(spec.Entity) bool { return true }
		t.Repeat(map[string]func(*rapid.T){
			"": func(t *rapid.T) {
				if diff := gocmp.Diff(m.entities(all), []spec.Entity(tbl.Snapshot()), entityOpts); diff != "" {
					t.Fatalf("table vs model (-model +table):\n%s", diff)
				}
			},
			"batch": func(t *rapid.T) {
				ops := genBatch(tbl.Snapshot(), rapid.Bool().Draw(t, "mostlyValid")).Draw(t, "batch")
				res, err := tbl.ExecuteBatch(ctx, ops)
				wantRes, wantStatus, wantIndex := m.batch(ops)
				if got, want := [2]int{spec.StatusOf(err), spec.IndexOf(err)}, [2]int{wantStatus, wantIndex}; got != want {
					t.Fatalf("batch %v: status, index: got %v (%v), want %v", ops, got, err, want)
				}
				if diff := gocmp.Diff(wantRes, res); diff != "" {
					t.Fatalf("batch %v: results (-model +table):\n%s", ops, diff)
				}
			},
			"queryAtomic": func(t *rapid.T) {
				f := spec.AndFilters(spec.PartitionFilter(genPK.Draw(t, "pk")),
					spec.Comparison{Property: "a", Op: spec.CompareOp(rapid.IntRange(0, 5).Draw(t, "op")), Value: genSmallVal.Draw(t, "v")})
				got, err := tbl.QueryAtomic(ctx, f)
				if err != nil {
					t.Fatalf("QueryAtomic(%v): %v", f, err)
				}
				want := m.entities(func(e spec.Entity) bool { return spec.Matches(f, e) })
				if diff := gocmp.Diff(want, got, entityOpts); diff != "" {
					t.Fatalf("QueryAtomic(%v) (-model +table):\n%s", f, diff)
				}
			},
			"queryStreamed": func(t *rapid.T) {
				s, err := tbl.QueryStreamed(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				var got []spec.Entity
				for {
					e, ok, err := s.Next(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
					got = append(got, e)
				}
				if diff := gocmp.Diff(m.entities(all), got, entityOpts); diff != "" {
					t.Fatalf("QueryStreamed (-model +table):\n%s", diff)
				}
			},
			"setETag": func(t *rapid.T) {
				k := key(genPK.Draw(t, "pk"), genRK.Draw(t, "rk"))
				r, want := m.rows[k]
				if got := tbl.SetETag(k, "s:"+spec.ETag(k.RowKey)); got != want {
					t.Fatalf("SetETag(%v): got %v, want %v", k, got, want)
				}
				if want {
					r.etag = "s:" + spec.ETag(k.RowKey)
					m.rows[k] = r
				}
			},
		})
	})
}
