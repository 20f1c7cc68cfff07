package aztable_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
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
// partition of 100,000 rows (or MTABLE_LARGE_ROWS, as in mtable), in
// each client state, each beside the same call on the plain table (see
// sideBySide).
//
// Azurite looks a row up by scanning its partition, so loading the two
// tables of 100,000 rows takes about an hour on a 2-core machine (20,000
// rows: a few minutes): it is done once per process (use -count for
// repetitions), and skipped under -short. make bench-scale runs it.

// largeRowsEnv names the environment variable that sets the size of
// the large partition.
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

var (
	largeOnce      sync.Once
	largeOld       *aztable.Table // the old table, and the plain one
	largeNew       *aztable.Table // the same rows, as after the migrator's copy
	largeErr       error
	largeLoadedFor time.Duration
)

func largeRow(n, i int) spec.Entity {
	return ent("p", fmt.Sprintf("r%06d", i), spec.Props{"v": spec.Int32(int32(i)), "g": spec.Int32(int32(i % (n / 10)))})
}

// largeTables creates and loads the two tables of n rows once per
// process.
func largeTables(b *testing.B, n int) (old, new *aztable.Table) {
	b.Helper()
	if testing.Short() {
		b.Skip("loading 100,000 rows into Azurite takes about an hour: skipped under -short (make bench-scale runs it)")
	}
	srv := azuritetest.Shared(b)
	largeOnce.Do(func() {
		start := time.Now()
		ctx := context.Background()
		// Azurite's batches scan the partition per row: on a loaded
		// machine a batch of 100 inserts can outlast the default
		// request timeout.
		var acct *aztable.Account
		if acct, largeErr = aztable.Connect(srv.ConnectionString(), aztable.WithRequestTimeout(10*time.Minute)); largeErr != nil {
			return
		}
		var tables [2]*aztable.Table
		for k, prefix := range []string{"largeold", "largenew"} {
			name := srv.NewTableName(prefix)
			if largeErr = acct.CreateTable(ctx, name); largeErr != nil {
				return
			}
			if tables[k], largeErr = acct.Table(name); largeErr != nil {
				return
			}
			for lo := 0; lo < n; lo += spec.MaxBatch {
				ops := make([]spec.Op, 0, spec.MaxBatch)
				for i := lo; i < lo+spec.MaxBatch && i < n; i++ {
					ops = append(ops, op(spec.Insert, largeRow(n, i), ""))
				}
				if _, largeErr = tables[k].ExecuteBatch(ctx, ops); largeErr != nil {
					return
				}
				if done := lo + len(ops); done%10_000 == 0 {
					fmt.Fprintf(os.Stderr, "BenchmarkLargePartition: %s: %d of %d rows loaded (%v)\n", prefix, done, n, time.Since(start).Round(time.Second))
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

// largeCalls are the calls of mtable's BenchmarkLargePartition, on a
// partition of n rows.
var largeCalls = []struct {
	name string
	call func(ctx context.Context, b *testing.B, t spec.Table, n int)
}{
	{"point", func(ctx context.Context, b *testing.B, t spec.Table, n int) {
		if _, ok, err := spec.Retrieve(ctx, t, spec.Key{PartitionKey: "p", RowKey: fmt.Sprintf("r%06d", n/2+5)}); err != nil || !ok {
			b.Fatalf("point read: %v %v", ok, err)
		}
	}},
	{"batch20", func(ctx context.Context, b *testing.B, t spec.Table, n int) {
		ops := make([]spec.Op, 20)
		for j := range ops {
			ops[j] = op(spec.Merge, ent("p", fmt.Sprintf("r%06d", n/20*j+17), spec.Props{"w": spec.Int32(int32(j))}), spec.AnyETag)
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

func BenchmarkLargePartition(b *testing.B) {
	n := largeRows(b)
	old, new := largeTables(b, n)
	b.Logf("loading the tables took %v", largeLoadedFor.Round(time.Second))
	ctx := context.Background()
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		setMeta(b, old, state)
		vt := mtable.New(old, new, mtable.NewMemConfig(state))
		for _, c := range largeCalls {
			call := func(ctx context.Context, b *testing.B, t spec.Table) { c.call(ctx, b, t, n) }
			b.Run(state.String()+"/"+c.name, func(b *testing.B) { sideBySide(ctx, b, call, old, vt) })
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
