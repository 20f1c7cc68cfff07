package harness_test

import (
	"testing"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
)

// plainScenario is the plain-client workload of the production world
// narrowed to one partition of three row keys, of which one exists at
// the start (so DeleteIfExists often meets an absent row), with one
// migrator, eight calls per application and fewer queries: where a
// guard tombstone of bug 17 shows to a plain client of the new table
// about once in a hundred iterations. The default swarm shows it to
// plain clients too, but about once in several thousand (README): the
// tombstone lives only between two backend requests of one call.
func plainScenario() harness.Workload {
	w := harness.DefaultWorkload()
	w.Swarm, w.Partitions, w.Migrators = false, 1, 1
	w.RowKeys, w.InitialRows, w.CallsPerApp = 3, []int{0}, 8
	w.QueryWeight, w.StreamWeight = 1, 1
	return w
}

// plainBudgets: bug 17 must be found by the plain-client oracle alone
// within these budgets from gateSeed (first at iteration 141, about one
// iteration in 125 fails).
const (
	plainBudget      = 1000
	plainBudgetShort = 500
)

// TestPlainClientsFindGuardTombstone: bug 17's guard tombstone is seen by
// plain clients of the new table, with every oracle but the plain-client
// one switched off; the correct library is clean in the same scenario
// with every oracle on.
func TestPlainClientsFindGuardTombstone(t *testing.T) {
	budget := plainBudget
	if testing.Short() {
		budget = plainBudgetShort
	}
	sum, err := harness.Explore(harness.ExploreConfig{
		Options:  harness.Options{Workload: plainScenario(), Bug: mtable.BugDeleteIfExistsGuardTombstone}.Only(harness.OraclePlain),
		Strategy: "portfolio", Seed: gateSeed, Iterations: budget, Parallel: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.First == nil {
		t.Fatalf("bug 17 not found by the plain-client oracle alone in %d iterations from seed %d", budget, gateSeed)
	}
	if sum.First.Flagged != harness.OraclePlain {
		t.Fatalf("iteration %d flagged by %v, want the plain-client oracle: %s", sum.First.Index, sum.First.Flagged, firstLine(sum.First.Failure.Text))
	}
	t.Logf("found at iteration %d: %s", sum.First.Index, firstLine(sum.First.Failure.Text))
	n := 400
	if testing.Short() {
		n = 100
	}
	requireCleanIn(t, plainScenario(), mtable.NoBug, n, "correct library failed in the plain-client scenario")
}
