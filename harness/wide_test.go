package harness

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// TestWidePartition: in a wide partition a read of the whole partition
// fails as a two-page Azure query does (an error that is not a table
// outcome), while every atomic query the workload makes of it reads no
// filler.
func TestWidePartition(t *testing.T) {
	ctx := context.Background()
	wl := DefaultWorkload()
	wl.Swarm, wl.WidePartition = false, true
	w := newWorld(Options{Workload: wl})
	w.load()
	pk := w.widePartition()
	_, err := w.old.QueryAtomic(ctx, spec.PartitionFilter(pk))
	if !errors.Is(err, spec.ErrMultiPage) || spec.StatusOf(err) != 0 {
		t.Fatalf("reading the whole wide partition: got %v, want an error wrapping spec.ErrMultiPage", err)
	}
	fillers := 0
	for _, e := range w.old.Snapshot().Partition(pk) {
		if strings.HasPrefix(e.RowKey, fillerPrefix) {
			fillers++
		}
	}
	if fillers != WideFillers(wl.RowKeys) || fillers <= PageLimit(wl.RowKeys) {
		t.Fatalf("got %d fillers, want %d, more than the page limit %d", fillers, WideFillers(wl.RowKeys), PageLimit(wl.RowKeys))
	}
	// The filters genCall can draw for the wide partition.
	for _, f := range []spec.Filter{
		spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(true)},
		spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(false)},
		spec.Comparison{Property: spec.RowKeyProp, Op: spec.Lt, Value: spec.String("~")},
	} {
		rows, err := w.old.QueryAtomic(ctx, spec.AndFilters(spec.PartitionFilter(pk), f))
		if err != nil {
			t.Fatalf("query %s: %v", f, err)
		}
		for _, e := range rows {
			if strings.HasPrefix(e.RowKey, fillerPrefix) {
				t.Errorf("query %s returned filler %s", f, e.Key)
			}
		}
	}
}

// TestWidePartitionQueries: the correct library with a wide partition in
// every iteration is clean, and each atomic query the workload makes of
// that partition keeps to 14 comparisons (the library's doc asks that of
// callers: with all 15 it reads the old table's whole partition, which
// fails on a wide one) and returns no filler.
func TestWidePartitionQueries(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 150
	}
	wl := DefaultWorkload()
	wl.Swarm, wl.WidePartition, wl.Partitions = false, true, 1
	// Without a swarm the budget is every iteration's: the two faults
	// the queries were counted under (a swarm draws 0..Faults).
	wl.Faults = 2
	wl.Plain, wl.HotRows = false, false
	queries, long := 0, 0
	sum, err := Explore(ExploreConfig{
		Options:  Options{Workload: wl, Bug: mtable.NoBug},
		Strategy: "portfolio", Seed: 8675309, Iterations: n, Parallel: 2, KeepGoing: true,
		OnIteration: func(it *Iteration) {
			pk := it.world.widePartition()
			for _, c := range it.world.calls {
				if c.Call.Kind != CallQuery {
					continue
				}
				if p, _ := spec.SinglePartition(c.Call.Filter); p != pk {
					continue
				}
				queries++
				k := spec.CountComparisons(c.Call.Filter)
				if k > spec.MaxComparisons-1 {
					t.Errorf("iteration %d: %s has %d comparisons, want at most %d", it.Index, c.Call, k, spec.MaxComparisons-1)
				}
				if k == spec.MaxComparisons-1 {
					long++
				}
				for _, e := range c.Outcome.Rows {
					if strings.HasPrefix(e.RowKey, fillerPrefix) {
						t.Errorf("iteration %d: %s returned filler %s", it.Index, c.Call, e.Key)
					}
				}
			}
		},
		OnFailure: func(it *Iteration) { t.Errorf("iteration %d failed: %s", it.Index, it.Failure.Text) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failures != 0 || queries == 0 || long == 0 {
		t.Fatalf("%d failures, %d atomic queries of the wide partition, %d with 14 comparisons: want 0 failures and some of each", sum.Failures, queries, long)
	}
	t.Logf("%d iterations clean; %d atomic queries of the wide partition, %d with 14 comparisons", n, queries, long)
}
