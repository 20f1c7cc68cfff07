package spec_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/migratingtable/migratingtable/spec"
)

// benchTable holds partitions p00..p09 of 10 rows each, 3 properties a row.
func benchTable(b *testing.B) *spec.MemTable {
	b.Helper()
	var rows []spec.Entity
	for p := range 10 {
		for r := range 10 {
			rows = append(rows, spec.Entity{
				Key:   spec.Key{PartitionKey: fmt.Sprintf("p%02d", p), RowKey: fmt.Sprintf("r%02d", r)},
				ETag:  "init",
				Props: spec.Props{"n": spec.Int32(int32(r)), "s": spec.String("value"), "t": spec.Bool(r%2 == 0)},
			})
		}
	}
	t := spec.NewMemTable("b:")
	t.Load(rows)
	return t
}

// BenchmarkExecuteBatch2 measures a 2-operation batch (an unconditional
// InsertOrReplace and a Merge with If-Match "*") on a 100-row table.
func BenchmarkExecuteBatch2(b *testing.B) {
	ctx := context.Background()
	t := benchTable(b)
	ops := []spec.Op{
		{Kind: spec.InsertOrReplace, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p05", RowKey: "r03"}, Props: spec.Props{"n": spec.Int32(1)}}},
		{Kind: spec.Merge, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p05", RowKey: "r07"}, ETag: "*", Props: spec.Props{"s": spec.String("x")}}},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := t.ExecuteBatch(ctx, ops); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyBatch2 measures the pure semantics of the same batch.
func BenchmarkApplyBatch2(b *testing.B) {
	rows := benchTable(b).Snapshot()
	ops := []spec.Op{
		{Kind: spec.InsertOrReplace, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p05", RowKey: "r03"}, Props: spec.Props{"n": spec.Int32(1)}}},
		{Kind: spec.Merge, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p05", RowKey: "r07"}, ETag: "*", Props: spec.Props{"s": spec.String("x")}}},
	}
	newETag := func(int) spec.ETag { return "e" }
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := spec.ApplyBatch(rows, ops, newETag); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryAtomic10 measures an atomic query returning a whole
// 10-row partition of a 100-row table.
func BenchmarkQueryAtomic10(b *testing.B) {
	ctx := context.Background()
	t := benchTable(b)
	f := spec.PartitionFilter("p05")
	b.ReportAllocs()
	for b.Loop() {
		rows, err := t.QueryAtomic(ctx, f)
		if err != nil || len(rows) != 10 {
			b.Fatalf("QueryAtomic: got %d rows, %v; want 10 rows", len(rows), err)
		}
	}
}

// BenchmarkParseFilter measures parsing a typical atomic-query filter.
func BenchmarkParseFilter(b *testing.B) {
	const s = "(PartitionKey eq 'p05') and ((RowKey ge 'r03') and (n lt 7 or s eq 'it''s'))"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := spec.ParseFilter(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryKeysBesideFilter measures, on a partition of 10,000
// rows, the query "PartitionKey eq 'p' and (g eq 7 or RowKey eq 'k1' or
// ... 'k10')" (the shape of MigratingTable's shadowing read) beside the
// same query without the keys: the keys should cost a few lookups, not
// ten comparisons on every row.
func BenchmarkQueryKeysBesideFilter(b *testing.B) {
	ctx := context.Background()
	rows := make([]spec.Entity, 10_000)
	for i := range rows {
		rows[i] = spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: fmt.Sprintf("r%05d", i)}, ETag: "init",
			Props: spec.Props{"g": spec.Int32(int32(i % 1_000))}}
	}
	t := spec.NewMemTable("b:")
	t.Load(rows)
	g := spec.Filter(spec.Comparison{Property: "g", Op: spec.Eq, Value: spec.Int32(7)})
	withKeys := g
	for i := range 10 {
		withKeys = spec.Or{L: withKeys, R: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Eq, Value: spec.String(fmt.Sprintf("r%05d", 997*i+3))}}
	}
	for _, tt := range []struct {
		name string
		g    spec.Filter
		want int
	}{{"filter", g, 10}, {"filter+10keys", withKeys, 20}} {
		b.Run(tt.name, func(b *testing.B) {
			f := spec.And{L: spec.PartitionFilter("p"), R: tt.g}
			b.ReportAllocs()
			for b.Loop() {
				if got, err := t.QueryAtomic(ctx, f); err != nil || len(got) != tt.want {
					b.Fatalf("QueryAtomic: got %d rows, %v; want %d rows", len(got), err, tt.want)
				}
			}
		})
	}
}
