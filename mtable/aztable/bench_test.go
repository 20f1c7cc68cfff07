package aztable_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// Benchmarks of the adapter on Azurite (loopback): they measure the
// adapter plus the emulator, not Azure.

func BenchmarkInsertOne(b *testing.B) {
	srv := azuritetest.Shared(b)
	tbl := srv.NewTable(b, "benchone")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("p", fmt.Sprint(i), spec.Props{"v": spec.Int64(int64(i))}), "")}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBatch100(b *testing.B) {
	srv := azuritetest.Shared(b)
	tbl := srv.NewTable(b, "benchbatch")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ops := make([]spec.Op, spec.MaxBatch)
		for j := range ops {
			ops[j] = op(spec.InsertOrReplace, ent(fmt.Sprint(i), fmt.Sprint(j), spec.Props{"v": spec.Int32(int32(j))}), "")
		}
		if _, err := tbl.ExecuteBatch(ctx, ops); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*spec.MaxBatch)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkFailedBatch(b *testing.B) {
	srv := azuritetest.Shared(b)
	tbl := srv.NewTable(b, "benchfail")
	ctx := context.Background()
	if _, err := tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("p", "x", nil), "")}); err != nil {
		b.Fatal(err)
	}
	ops := []spec.Op{op(spec.InsertOrMerge, ent("p", "a", nil), ""), op(spec.Insert, ent("p", "x", nil), "")}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tbl.ExecuteBatch(ctx, ops); spec.IndexOf(err) != 1 {
			b.Fatalf("got %v, want a 409 at operation 1", err)
		}
	}
}

func BenchmarkQueryAtomic100(b *testing.B) {
	srv := azuritetest.Shared(b)
	tbl := srv.NewTable(b, "benchquery")
	ctx := context.Background()
	ops := make([]spec.Op, spec.MaxBatch)
	for j := range ops {
		ops[j] = op(spec.Insert, ent("p", fmt.Sprintf("%03d", j), spec.Props{"v": spec.Int32(int32(j))}), "")
	}
	if _, err := tbl.ExecuteBatch(ctx, ops); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
		if err != nil || len(rows) != spec.MaxBatch {
			b.Fatalf("got %d rows, %v", len(rows), err)
		}
	}
}
