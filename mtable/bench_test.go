package mtable_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/internal/largebench"
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
// client state, each beside the same call on the plain backend
// (package largebench, shared with the Azurite benchmark in
// mtable/aztable).

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
	n := largebench.Rows(b)
	rows := make([]spec.Entity, n)
	for i := range rows {
		rows[i] = largebench.Row(n, i)
	}
	plain := spec.NewMemTable("plain:")
	plain.Load(rows)
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		vt := largeFixture(state, rows).table()
		for _, c := range largebench.Calls {
			call := func(ctx context.Context, b testing.TB, t spec.Table) { c.Call(ctx, b, t, n) }
			b.Run(state.String()+"/"+c.Name, func(b *testing.B) { largebench.SideBySide(ctx, b, call, plain, vt) })
		}
	}
}
