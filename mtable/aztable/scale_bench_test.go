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
	"github.com/migratingtable/migratingtable/mtable/internal/largebench"
	"github.com/migratingtable/migratingtable/spec"
)

// BenchmarkLargePartition is mtable's benchmark of the same name on
// Azurite: a point read, a batch of 20 merges and a filtered query on a
// partition of 100,000 rows (or MTABLE_LARGE_ROWS, as in mtable), in
// each client state, each beside the same call on the plain table (see
// largebench.SideBySide).
//
// Azurite looks a row up by scanning its partition, so loading the two
// tables of 100,000 rows takes about an hour on a 2-core machine (20,000
// rows: a few minutes): it is done once per process (use -count for
// repetitions), and skipped under -short. make bench-scale runs it.

var (
	largeOnce      sync.Once
	largeOld       *aztable.Table // the old table, and the plain one
	largeNew       *aztable.Table // the same rows, as after the migrator's copy
	largeErr       error
	largeLoadedFor time.Duration
)

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
					ops = append(ops, op(spec.Insert, largebench.Row(n, i), ""))
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

func BenchmarkLargePartition(b *testing.B) {
	n := largebench.Rows(b)
	old, new := largeTables(b, n)
	b.Logf("loading the tables took %v", largeLoadedFor.Round(time.Second))
	ctx := context.Background()
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		setMeta(b, old, state)
		vt := mtable.New(old, new, mtable.NewMemConfig(state))
		for _, c := range largebench.Calls {
			call := func(ctx context.Context, b testing.TB, t spec.Table) { c.Call(ctx, b, t, n) }
			b.Run(state.String()+"/"+c.Name, func(b *testing.B) { largebench.SideBySide(ctx, b, call, old, vt) })
		}
	}
}
