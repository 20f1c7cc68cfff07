package aztable_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// BenchmarkLargePartition is mtable's benchmark of the same name on
// Azurite: a point read, a batch of 20 merges and a filtered query on a
// partition of 100,000 rows, in each client state, each beside the same
// call on the plain table (see sideBySide).
//
// Azurite looks a row up by scanning its partition, so loading the two
// tables of 100,000 rows takes about an hour on a 2-core machine: it is
// done once per process (use -count for repetitions), and skipped under
// -short. make bench-scale runs it.

const largeRows = 100_000

var (
	largeOnce      sync.Once
	largeOld       *aztable.Table // the old table, and the plain one
	largeNew       *aztable.Table // the same rows, as after the migrator's copy
	largeErr       error
	largeLoadedFor time.Duration
)

func largeRow(i int) spec.Entity {
	return ent("p", fmt.Sprintf("r%06d", i), spec.Props{"v": spec.Int32(int32(i)), "g": spec.Int32(int32(i % 10_000))})
}

// largeTables creates and loads the two tables once per process.
func largeTables(b *testing.B) (old, new *aztable.Table) {
	b.Helper()
	if testing.Short() {
		b.Skip("loading 100,000 rows into Azurite takes about an hour: skipped under -short (make bench-scale runs it)")
	}
	srv := azuritetest.Shared(b)
	largeOnce.Do(func() {
		start := time.Now()
		ctx := context.Background()
		acct := srv.Account()
		var tables [2]*aztable.Table
		for k, prefix := range []string{"largeold", "largenew"} {
			name := srv.NewTableName(prefix)
			if largeErr = acct.CreateTable(ctx, name); largeErr != nil {
				return
			}
			if tables[k], largeErr = acct.Table(name); largeErr != nil {
				return
			}
			for lo := 0; lo < largeRows; lo += spec.MaxBatch {
				ops := make([]spec.Op, 0, spec.MaxBatch)
				for i := lo; i < lo+spec.MaxBatch && i < largeRows; i++ {
					ops = append(ops, op(spec.Insert, largeRow(i), ""))
				}
				if _, largeErr = tables[k].ExecuteBatch(ctx, ops); largeErr != nil {
					return
				}
				if done := lo + len(ops); done%10_000 == 0 {
					fmt.Fprintf(os.Stderr, "BenchmarkLargePartition: %s: %d of %d rows loaded (%v)\n", prefix, done, largeRows, time.Since(start).Round(time.Second))
				}
			}
		}
		largeOld, largeNew = tables[0], tables[1]
		largeLoadedFor = time.Since(start)
	})
	if largeErr != nil {
		b.Fatalf("loading the large partition: %v", largeErr)
	}
	return largeOld, largeNew
}

// setMeta gives partition p of the old table the meta row a partition
// has in state: none before PREFER_NEW (the first write in PREFER_OLD
// marks it POPULATED), SWITCHED from then on.
func setMeta(b *testing.B, old spec.Table, state mtable.State) {
	ctx := context.Background()
	meta := ent("p", mtable.MetaRowKey, spec.Props{mtable.PartitionStateProperty: spec.Int32(int32(mtable.PartitionSwitched))})
	assertion := ent("p", mtable.PopulatedAssertionRowKey, nil)
	ops := []spec.Op{op(spec.DeleteIfExists, assertion, "")}
	if state >= mtable.PreferNew {
		ops = append(ops, op(spec.InsertOrReplace, meta, ""))
	} else {
		ops = append(ops, op(spec.DeleteIfExists, meta, ""))
	}
	for _, o := range ops {
		if _, err := old.ExecuteBatch(ctx, []spec.Op{o}); err != nil {
			b.Fatalf("setting the meta row for %s: %v", state, err)
		}
	}
}

// largeCalls are the calls of mtable's BenchmarkLargePartition.
var largeCalls = []struct {
	name string
	call func(ctx context.Context, b *testing.B, t spec.Table)
}{
	{"point", func(ctx context.Context, b *testing.B, t spec.Table) {
		if _, ok, err := spec.Retrieve(ctx, t, spec.Key{PartitionKey: "p", RowKey: "r050005"}); err != nil || !ok {
			b.Fatalf("point read: %v %v", ok, err)
		}
	}},
	{"batch20", func(ctx context.Context, b *testing.B, t spec.Table) {
		ops := make([]spec.Op, 20)
		for j := range ops {
			ops[j] = op(spec.Merge, ent("p", fmt.Sprintf("r%06d", 5_000*j+17), spec.Props{"w": spec.Int32(int32(j))}), spec.AnyETag)
		}
		if _, err := t.ExecuteBatch(ctx, ops); err != nil {
			b.Fatalf("batch of 20: %v", err)
		}
	}},
	{"filtered", func(ctx context.Context, b *testing.B, t spec.Table) {
		f := spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "g", Op: spec.Eq, Value: spec.Int32(1234)}}
		if rows, err := t.QueryAtomic(ctx, f); err != nil || len(rows) != 10 {
			b.Fatalf("filtered query: %d rows, %v", len(rows), err)
		}
	}},
}

func BenchmarkLargePartition(b *testing.B) {
	old, new := largeTables(b)
	b.Logf("loading the tables took %v", largeLoadedFor.Round(time.Second))
	ctx := context.Background()
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		setMeta(b, old, state)
		vt := mtable.New(old, new, mtable.NewMemConfig(state))
		for _, c := range largeCalls {
			b.Run(state.String()+"/"+c.name, func(b *testing.B) { sideBySide(ctx, b, c.call, old, vt) })
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
