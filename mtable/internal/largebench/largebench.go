// Package largebench holds what the large-partition benchmarks of mtable
// (in memory) and mtable/aztable (on Azurite) share: the size of the
// partition, its rows, the calls they time, and the side-by-side timing
// against a plain table. Both must make the same calls on the same rows
// for their x-plain figures to be comparable.
package largebench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/spec"
)

// RowsEnv names the environment variable that sets the size of the large
// partition, so that the Azurite benchmark can run at a size whose
// loading takes minutes rather than an hour.
const RowsEnv = "MTABLE_LARGE_ROWS"

// Rows returns the size of the large partition: 100,000, or the value of
// MTABLE_LARGE_ROWS, a multiple of 20 of at least 1,000. It fails b on a
// bad value.
func Rows(b testing.TB) int {
	b.Helper()
	s := os.Getenv(RowsEnv)
	if s == "" {
		return 100_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1_000 || n%20 != 0 {
		b.Fatalf("%s=%q: want a multiple of 20 of at least 1000", RowsEnv, s)
	}
	return n
}

// Row is row i of partition "p" of n rows: RowKey r%06d, v = i, g = i mod
// n/10 (so each value of g selects 10 rows).
func Row(n, i int) spec.Entity {
	return spec.Entity{
		Key:   spec.Key{PartitionKey: "p", RowKey: fmt.Sprintf("r%06d", i)},
		Props: spec.Props{"v": spec.Int32(int32(i)), "g": spec.Int32(int32(i % (n / 10)))},
	}
}

// Call is one benchmarked call on a partition of n rows, made on t (the
// plain table or a MigratingTable); it fails b when the answer is wrong.
type Call struct {
	Name string
	Call func(ctx context.Context, b testing.TB, t spec.Table, n int)
}

// Calls are the calls of the large-partition benchmarks: for n =
// 100,000, the point read of r050005, merges of r000017, r005017, ...,
// r095017, and the atomic query "g eq 1234" (10 rows).
var Calls = []Call{
	{"point", func(ctx context.Context, b testing.TB, t spec.Table, n int) {
		if _, ok, err := spec.Retrieve(ctx, t, spec.Key{PartitionKey: "p", RowKey: fmt.Sprintf("r%06d", n/2+5)}); err != nil || !ok {
			b.Fatalf("point read: %v %v", ok, err)
		}
	}},
	{"batch20", func(ctx context.Context, b testing.TB, t spec.Table, n int) {
		ops := make([]spec.Op, 20)
		for j := range ops {
			e := spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: fmt.Sprintf("r%06d", n/20*j+17)}, ETag: spec.AnyETag, Props: spec.Props{"w": spec.Int32(int32(j))}}
			ops[j] = spec.Op{Kind: spec.Merge, Entity: e}
		}
		if _, err := t.ExecuteBatch(ctx, ops); err != nil {
			b.Fatalf("batch of 20: %v", err)
		}
	}},
	{"filtered", func(ctx context.Context, b testing.TB, t spec.Table, n int) {
		f := spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "g", Op: spec.Eq, Value: spec.Int32(int32(1234 % (n / 10)))}}
		if rows, err := t.QueryAtomic(ctx, f); err != nil || len(rows) != 10 {
			b.Fatalf("filtered query: %d rows, %v", len(rows), err)
		}
	}},
}

// SideBySide makes call on the plain table and on vt in turn (which goes
// first alternates), so that both see the same moments of a noisy
// machine, and reports each one's time per call and their ratio,
// x-plain. ns/op is the time of the pair.
func SideBySide(ctx context.Context, b *testing.B, call func(context.Context, testing.TB, spec.Table), plain, vt spec.Table) {
	var plainT, vtT time.Duration
	n := 0
	for b.Loop() {
		first, second, firstT, secondT := plain, vt, &plainT, &vtT
		if n%2 == 1 {
			first, second, firstT, secondT = vt, plain, &vtT, &plainT
		}
		t0 := time.Now()
		call(ctx, b, first)
		t1 := time.Now()
		call(ctx, b, second)
		*firstT += t1.Sub(t0)
		*secondT += time.Since(t1)
		n++
	}
	b.ReportMetric(float64(plainT.Nanoseconds())/float64(n), "plain-ns/op")
	b.ReportMetric(float64(vtT.Nanoseconds())/float64(n), "mtable-ns/op")
	b.ReportMetric(float64(vtT)/float64(plainT), "x-plain")
}
