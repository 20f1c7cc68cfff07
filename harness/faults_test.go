package harness_test

import (
	"runtime"
	"testing"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// TestFaultsInjected: the default workload injects every kind of fault
// the production world has (crashes, each followed by a restart, and
// stalls longer than a lease among them, clock offsets, time advances),
// and logs how many per 1,000 iterations; with -faults 0 (no budget, no
// skew) it injects none.
func TestFaultsInjected(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 200
	}
	count := func(wl harness.Workload) map[string]int {
		got := map[string]int{}
		_, err := harness.Explore(harness.ExploreConfig{
			Options: harness.Options{Workload: wl, Bug: mtable.NoBug}, Strategy: "portfolio", Seed: gateSeed,
			Iterations: n, Parallel: runtime.GOMAXPROCS(0), KeepGoing: true,
			OnIteration: func(it *harness.Iteration) {
				for _, f := range it.Sched.Faults {
					got[f.Kind.String()]++
					if f.Kind == sched.Stall && f.Duration > harness.LeaseTTL {
						got["stall longer than a lease"]++
					}
				}
				for _, d := range it.Sched.Trace.Decisions {
					switch {
					case d.Kind == sched.ClockOffset && d.Duration != 0:
						got["clock offset"]++
					case d.Kind == sched.TimeAdvance:
						got["time advance"]++
					}
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	on := count(faultsWorld())
	t.Logf("faults on, per %d iterations: %s", n, harness.SortedCounts(on))
	for _, k := range []string{"crash", "restart", "stall", "stall longer than a lease", "clock offset", "time advance"} {
		if on[k] == 0 {
			t.Errorf("no %s in %d iterations with faults on", k, n)
		}
	}
	off := count(noFaultsWorld())
	t.Logf("faults off, per %d iterations: %s", n, harness.SortedCounts(off))
	for _, k := range []string{"crash", "restart", "stall", "clock offset"} {
		if off[k] != 0 {
			t.Errorf("%d of %s with faults off", off[k], k)
		}
	}
}
