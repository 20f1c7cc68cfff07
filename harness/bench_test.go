package harness_test

import (
	"testing"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
)

// BenchmarkIteration measures iterations per second of the default
// configuration (portfolio strategy, correct library) on one worker.
func BenchmarkIteration(b *testing.B) {
	c := harness.ExploreConfig{
		Options:  harness.Options{Workload: harness.DefaultWorkload(), Bug: mtable.NoBug},
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
