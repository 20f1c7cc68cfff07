package harness_test

import (
	"context"
	"testing"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
)

// BenchmarkIteration measures iterations per second of the default
// configuration (portfolio strategy, correct library) on one worker:
// the production world with faults on and off, side by side, and the
// original world.
func BenchmarkIteration(b *testing.B) {
	noBackend := harness.DefaultWorkload()
	noBackend.BackendFaults = 0
	noFaults := noBackend
	noFaults.Faults, noFaults.ClockSkew = 0, false
	original := noFaults
	original.Leases = false
	for _, c := range []struct {
		name string
		wl   harness.Workload
	}{{"faults-on", harness.DefaultWorkload()}, {"backend-faults-off", noBackend}, {"faults-off", noFaults}, {"original", original}} {
		b.Run(c.name, func(b *testing.B) { benchIterations(b, c.wl) })
	}
}

func benchIterations(b *testing.B, wl harness.Workload) {
	c := harness.ExploreConfig{
		Options:  harness.Options{Workload: wl, Bug: mtable.NoBug},
		Strategy: "portfolio", Seed: 314159, Parallel: 1,
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it, err := harness.RunOnce(c.Options, c.SchedConfig(i), 0)
		if err != nil {
			b.Fatal(err)
		}
		if it.Failure != nil {
			b.Fatalf("iteration %d failed: %s", i, it.Failure.Text)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "iterations/s")
}

// BenchmarkShrink measures the shrink of bug 3's first failure from the
// gate's seed, one run at a time (run it with -cpu 1 for the one-core
// figure): time per shrink, and its runs.
func BenchmarkShrink(b *testing.B) {
	wl := harness.DefaultWorkload()
	wl.Leases, wl.Faults, wl.ClockSkew, wl.BackendFaults = false, 0, false, 0 // the original world's figure
	opts := harness.Options{Workload: wl, Bug: mtable.BugQueryStreamedBackUpNewStream}
	sum, err := harness.Explore(harness.ExploreConfig{Options: opts, Strategy: "portfolio", Seed: 314159, Iterations: 1000, Parallel: 1})
	if err != nil || sum.First == nil {
		b.Fatalf("no failure to shrink: %v", err)
	}
	runs := 0
	b.ResetTimer()
	for range b.N {
		sr, err := harness.Shrink(context.Background(), opts, sum.First, harness.ShrinkConfig{Parallel: 1})
		if err != nil {
			b.Fatal(err)
		}
		runs = sr.Runs
	}
	b.ReportMetric(float64(runs), "runs/shrink")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/shrink")
}
