package mtable_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// benchWorld: partition p with 20 rows in the old table, switched and
// copied to the new table once the state needs it.
func benchWorld(b *testing.B, state mtable.State, opts ...mtable.Option) *mtable.Table {
	b.Helper()
	var oldRows, newRows []spec.Entity
	for i := 0; i < 20; i++ {
		oldRows = append(oldRows, row("p", fmt.Sprintf("r%02d", i), "", spec.Props{"v": spec.Int32(int32(i))}))
		if state >= mtable.PreferNew {
			newRows = append(newRows, row("p", fmt.Sprintf("r%02d", i), "", spec.Props{"v": spec.Int32(int32(i))}))
		}
	}
	if state >= mtable.PreferNew {
		oldRows = append(oldRows, switchedMeta("p"))
	}
	f := newFixture(state, oldRows, newRows)
	return f.table(opts...)
}

func BenchmarkExecuteBatch(b *testing.B) {
	ctx := context.Background()
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		b.Run(state.String(), func(b *testing.B) {
			vt := benchWorld(b, state)
			ops := []spec.Op{{Kind: spec.InsertOrReplace, Entity: row("p", "r05", "", spec.Props{"v": spec.Int32(1)})}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := vt.ExecuteBatch(ctx, ops); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkQueryAtomic(b *testing.B) {
	ctx := context.Background()
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		b.Run(state.String(), func(b *testing.B) {
			vt := benchWorld(b, state)
			f := spec.PartitionFilter("p")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := vt.QueryAtomic(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMonitor compares a batch with no monitor and with a monitor
// that does nothing.
func BenchmarkMonitor(b *testing.B) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		opts []mtable.Option
	}{{"none", nil}, {"nop", []mtable.Option{mtable.WithMonitor(monitorFunc(func(context.Context, mtable.Annotation) {}))}}} {
		b.Run(tt.name, func(b *testing.B) {
			vt := benchWorld(b, mtable.PreferNew, tt.opts...)
			ops := []spec.Op{{Kind: spec.InsertOrReplace, Entity: row("p", "r05", "", spec.Props{"v": spec.Int32(1)})}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := vt.ExecuteBatch(ctx, ops); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMigration(b *testing.B) {
	ctx := context.Background()
	rows := make([]spec.Entity, 0, 1000)
	for p := 0; p < 10; p++ {
		for i := 0; i < 100; i++ {
			rows = append(rows, row(fmt.Sprintf("p%d", p), fmt.Sprintf("r%03d", i), "", spec.Props{"v": spec.Int32(int32(i))}))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		f := newFixture(mtable.UseOldHideMetadata, rows, nil)
		if err := mtable.NewMigrator(f.old, f.new, f.cfg).Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows)), "rows/op")
}

// The large-partition benchmarks: a point read, a batch of 20 merges
// and a filtered query on a partition of n rows (100,000 unless the
// environment variable MTABLE_LARGE_ROWS says otherwise), in each
// client state, each beside the same call on the plain backend (see
// sideBySide).

// largeRowsEnv names the environment variable that sets the size of
// the large partition, so that the Azurite benchmark can run at a size
// whose loading takes minutes rather than an hour.
const largeRowsEnv = "MTABLE_LARGE_ROWS"

// largeRows returns the size of the large partition: 100,000, or the
// value of MTABLE_LARGE_ROWS, a multiple of 20 of at least 1,000.
func largeRows(b *testing.B) int {
	b.Helper()
	s := os.Getenv(largeRowsEnv)
	if s == "" {
		return 100_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1_000 || n%20 != 0 {
		b.Fatalf("%s=%q: want a multiple of 20 of at least 1000", largeRowsEnv, s)
	}
	return n
}

// largeRow is row i of partition p of n rows: v = i, g = i mod n/10 (so
// each value of g selects 10 rows).
func largeRow(n, i int) spec.Entity {
	return row("p", fmt.Sprintf("r%06d", i), "", spec.Props{"v": spec.Int32(int32(i)), "g": spec.Int32(int32(i % (n / 10)))})
}

// largeCall is one benchmarked call on a partition of n rows, made on t
// (the plain table or a MigratingTable); it fails b when the answer is
// wrong.
type largeCall struct {
	name string
	call func(ctx context.Context, b *testing.B, t spec.Table, n int)
}

// largeCalls are the calls of the large-partition benchmarks (the
// Azurite benchmark in mtable/aztable makes the same ones): for
// n = 100,000, the point read of r050005, merges of r000017, r005017,
// ..., r095017, and the query "g eq 1234".
var largeCalls = []largeCall{
	{"point", func(ctx context.Context, b *testing.B, t spec.Table, n int) {
		if _, ok, err := spec.Retrieve(ctx, t, spec.Key{PartitionKey: "p", RowKey: fmt.Sprintf("r%06d", n/2+5)}); err != nil || !ok {
			b.Fatalf("point read: %v %v", ok, err)
		}
	}},
	{"batch20", func(ctx context.Context, b *testing.B, t spec.Table, n int) {
		ops := make([]spec.Op, 20)
		for j := range ops {
			ops[j] = spec.Op{Kind: spec.Merge, Entity: row("p", fmt.Sprintf("r%06d", n/20*j+17), spec.AnyETag, spec.Props{"w": spec.Int32(int32(j))})}
		}
		if _, err := t.ExecuteBatch(ctx, ops); err != nil {
			b.Fatalf("batch of 20: %v", err)
		}
	}},
	{"filtered", func(ctx context.Context, b *testing.B, t spec.Table, n int) {
		f := spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "g", Op: spec.Eq, Value: spec.Int32(int32(1234 % (n / 10)))}}
		if rows, err := t.QueryAtomic(ctx, f); err != nil || len(rows) != 10 {
			b.Fatalf("filtered query: %d rows, %v", len(rows), err)
		}
	}},
}

// largeFixture lays out the rows as the migration leaves them
// in state: in the old table until PREFER_NEW (the partition switched
// there, and copied to the new table, as after the migrator's copy), in
// the new table from then on.
func largeFixture(state mtable.State, rows []spec.Entity) *fixture {
	var oldRows, newRows []spec.Entity
	if state <= mtable.UseNewWithTombstones {
		oldRows = rows
	}
	if state >= mtable.PreferNew {
		newRows = rows
		if state <= mtable.UseNewWithTombstones {
			oldRows = append(slices.Clip(oldRows), switchedMeta("p"))
		}
	}
	return newFixture(state, oldRows, newRows)
}

func BenchmarkLargePartition(b *testing.B) {
	ctx := context.Background()
	n := largeRows(b)
	rows := make([]spec.Entity, n)
	for i := range rows {
		rows[i] = largeRow(n, i)
	}
	plain := spec.NewMemTable("plain:")
	plain.Load(rows)
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		vt := largeFixture(state, rows).table()
		for _, c := range largeCalls {
			call := func(ctx context.Context, b *testing.B, t spec.Table) { c.call(ctx, b, t, n) }
			b.Run(state.String()+"/"+c.name, func(b *testing.B) { sideBySide(ctx, b, call, plain, vt) })
		}
	}
}

// sideBySide makes call on the plain table and on vt in turn (which goes
// first alternates), so that both see the same moments of a noisy
// machine, and reports each one's time per call and their ratio,
// x-plain. ns/op is the time of the pair.
func sideBySide(ctx context.Context, b *testing.B, call func(context.Context, *testing.B, spec.Table), plain, vt spec.Table) {
	var plainT, vtT time.Duration
	n := 0
	for b.Loop() {
		first, second, firstT, secondT := plain, spec.Table(vt), &plainT, &vtT
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
