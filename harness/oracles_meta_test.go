package harness_test

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// The meta-tests: each oracle must be able to fail a run on its own.
// For each oracle, aloneCases lists bugs it ALONE (every other oracle
// switched off through Options.OraclesOff) must catch within a budget
// of iterations from a stated seed; and the same test, with that oracle too
// replaced by one that always says ok, must fail: the test runs it and
// asserts that it did. An oracle that stopped judging (a check that
// always passes, a record that lost the calls) fails its meta-test.
//
// The budgets are at least 100 iterations and well above the first
// that fails (README's oracle table, seed 314159), so a change that reshuffles schedules does
// not break them by bad luck; the liveness oracle catches no bug of the
// catalogue often (bug 6's retries keep the migration from completing
// now and then), so its case is the slowest.

// aloneCase is one bug an oracle alone must catch within budget
// iterations from seed (gateSeed when 0); short cases also run under
// -short.
type aloneCase struct {
	bug    mtable.Bug
	budget int
	short  bool
	seed   uint64
	// plain runs the plain-client scenario (plainScenario) instead of
	// the original world; leases the production world without faults
	// (noFaultsWorld), where requests are fenced.
	plain, leases bool
}

var aloneCases = []struct {
	oracle harness.Oracles
	cases  []aloneCase
}{
	{harness.OracleAnnotations, []aloneCase{
		{bug: mtable.BugTombstoneOutputETag, budget: 100, short: true},
		{bug: mtable.BugEnsurePartitionSwitchedFromPopulated, budget: 100},
		{bug: mtable.BugInsertBehindMigrator, budget: 300},
		{bug: mtable.BugQueryAtomicFilterShadowing, budget: 500},
	}},
	{harness.OracleLinearizability, []aloneCase{
		{bug: mtable.BugTombstoneOutputETag, budget: 100, short: true},
		{bug: mtable.BugQueryStreamedBackUpNewStream, budget: 100, short: true},
		{bug: mtable.BugDeletePrimaryKey, budget: 100, short: true},
		{bug: mtable.BugQueryStreamedFilterShadowing, budget: 100},
		{bug: mtable.BugEnsurePartitionSwitchedFromPopulated, budget: 100},
		{bug: mtable.BugInsertBehindMigrator, budget: 300},
		{bug: mtable.BugQueryAtomicFilterShadowing, budget: 500},
		{bug: mtable.BugMigrateSkipUseNewWithTombstones, budget: 1000},
	}},
	{harness.OracleStreams, []aloneCase{
		{bug: mtable.BugQueryStreamedBackUpNewStream, budget: 100, short: true},
		{bug: mtable.BugQueryStreamedLock, budget: 100},
		{bug: mtable.BugQueryStreamedFilterShadowing, budget: 100},
		{bug: mtable.BugInsertBehindMigrator, budget: 300},
	}},
	{harness.OracleLiveness, []aloneCase{
		// Bug 6's failed deletes are retried until the step bound now
		// and then: from seed 3 first at iteration 851.
		{bug: mtable.BugDeletePrimaryKey, budget: 1200, short: true, seed: 3},
	}},
	{harness.OracleEndOfRun, []aloneCase{
		{bug: mtable.BugDeletePrimaryKey, budget: 100, short: true},
		{bug: mtable.BugInsertBehindMigrator, budget: 300},
		{bug: mtable.BugEnsurePartitionSwitchedFromPopulated, budget: 1000},
	}},
	{harness.OracleErrors, []aloneCase{
		{bug: mtable.BugDeleteNoLeaveTombstonesETag, budget: 100, short: true},
		{bug: mtable.BugDeleteIfExistsHideMetadata, budget: 100, short: true},
		{bug: mtable.BugDeletePrimaryKey, budget: 100},
		{bug: mtable.BugQueryStreamedLock, budget: 200},
	}},
	{harness.OraclePlain, []aloneCase{
		// Only plain clients see a guard tombstone; first at iteration
		// 141 of the plain-client scenario.
		{bug: mtable.BugDeleteIfExistsGuardTombstone, budget: plainBudgetShort, short: true, plain: true},
	}},
	{harness.OracleFencing, []aloneCase{
		// Skipping a state lets an application's request made under
		// PREFER_NEW land once USE_NEW_HIDE_METADATA is stored.
		{bug: mtable.BugMigrateSkipUseNewWithTombstones, budget: 100, short: true, leases: true},
		{bug: mtable.BugMigrateSkipPreferOld, budget: 100, leases: true},
	}},
}

func (c aloneCase) seedOr() uint64 {
	if c.seed == 0 {
		return gateSeed
	}
	return c.seed
}

// exploreOracles explores bug from seed for up to budget iterations
// with the oracles off switched off, stopping at the first failure.
func exploreOracles(t *testing.T, c aloneCase, off harness.Oracles) harness.Summary {
	t.Helper()
	wl, bug, seed, budget := originalWorld(), c.bug, c.seedOr(), c.budget
	switch {
	case c.plain:
		wl = plainScenario()
	case c.leases:
		wl = noFaultsWorld()
	}
	sum, err := harness.Explore(harness.ExploreConfig{
		Options:    harness.Options{Workload: wl, Bug: bug, OraclesOff: off},
		Strategy:   "portfolio",
		Seed:       seed,
		Iterations: budget,
		Parallel:   runtime.GOMAXPROCS(0),
	})
	if err != nil {
		t.Fatalf("explore: %v", err)
	}
	return sum
}

// catches is the meta-test's test: oracle o, with the oracles off
// switched off, must fail an iteration of bug within budget, and that
// failure must be o's. It returns why not, or "".
func catches(t *testing.T, o harness.Oracles, off harness.Oracles, c aloneCase) (string, *harness.Iteration) {
	t.Helper()
	sum := exploreOracles(t, c, off)
	switch it := sum.First; {
	case it == nil:
		return fmt.Sprintf("no failure in %d iterations", sum.Iterations), nil
	case it.Flagged != o:
		return fmt.Sprintf("iteration %d failed, flagged by %v, not by %v alone: %s", it.Index, it.Flagged, o, firstLine(it.Failure.Text)), it
	default:
		return "", it
	}
}

// allOff caches, per bug and budget, the exploration with every oracle
// off: it is the same run whichever oracle the meta-test replaced.
var allOff struct {
	sync.Mutex
	m map[aloneCase]string
}

func TestOracleAlone(t *testing.T) {
	for _, oc := range aloneCases {
		t.Run(oc.oracle.String(), func(t *testing.T) {
			ran := 0
			for _, c := range oc.cases {
				if testing.Short() && !c.short {
					continue
				}
				ran++
				t.Run(fmt.Sprintf("%d-%s", int(c.bug), c.bug), func(t *testing.T) {
					why, it := catches(t, oc.oracle, harness.AllOracles&^oc.oracle, c)
					if why != "" {
						t.Fatalf("oracle %v alone must catch bug %d (%s) within %d iterations from seed %d: %s",
							oc.oracle, int(c.bug), c.bug, c.budget, c.seedOr(), why)
					}
					t.Logf("caught at iteration %d: %s", it.Index, firstLine(it.Failure.Text))

					// The same test with the oracle replaced by one that
					// always says ok must fail.
					key := aloneCase{bug: c.bug, budget: c.budget, seed: c.seedOr(), plain: c.plain, leases: c.leases}
					allOff.Lock()
					if allOff.m == nil {
						allOff.m = map[aloneCase]string{}
					}
					whyOff, done := allOff.m[key]
					if !done {
						whyOff, _ = catches(t, oc.oracle, harness.AllOracles, c)
						allOff.m[key] = whyOff
					}
					allOff.Unlock()
					if whyOff == "" {
						t.Errorf("with oracle %v always ok, its meta-test still passed: it catches nothing itself", oc.oracle)
					} else {
						t.Logf("with oracle %v always ok, the test fails as it must: %s", oc.oracle, whyOff)
					}
				})
			}
			if ran == 0 {
				t.Fatalf("oracle %v has no meta-test case", oc.oracle)
			}
		})
	}
}

// TestOracleAloneCoversEveryOracle: every oracle of harness.OracleList
// has a meta-test case that runs under -short.
func TestOracleAloneCoversEveryOracle(t *testing.T) {
	var missing []string
	for _, o := range harness.OracleList {
		found := false
		for _, oc := range aloneCases {
			for _, c := range oc.cases {
				found = found || oc.oracle == o && c.short
			}
		}
		if !found {
			missing = append(missing, o.String())
		}
	}
	if len(missing) > 0 {
		t.Errorf("oracles without a -short meta-test case in aloneCases: %s", strings.Join(missing, ", "))
	}
}

// TestOraclesOffChangeNoSchedule: switching oracles off changes no
// schedule, so an oracle alone fails exactly the iterations it fails
// among all of them (what -oracle-table and the budgets above rely on).
func TestOraclesOffChangeNoSchedule(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 60
	}
	bug := mtable.BugInsertBehindMigrator
	flagged := func(off harness.Oracles) (map[int]harness.Oracles, map[int][]sched.Decision) {
		fl, traces := map[int]harness.Oracles{}, map[int][]sched.Decision{}
		_, err := harness.Explore(harness.ExploreConfig{
			Options:  harness.Options{Workload: originalWorld(), Bug: bug, OraclesOff: off},
			Strategy: "portfolio", Seed: gateSeed, Iterations: n, Parallel: runtime.GOMAXPROCS(0), KeepGoing: true,
			OnIteration: func(it *harness.Iteration) {
				fl[it.Index] = it.Flagged
				traces[it.Index] = it.Sched.Trace.Decisions
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return fl, traces
	}
	all, allTraces := flagged(0)
	for _, o := range harness.OracleList {
		got, traces := flagged(harness.AllOracles &^ o)
		for i := range n {
			if !slices.Equal(traces[i], allTraces[i]) {
				t.Fatalf("oracle %v alone: iteration %d ran another schedule than with every oracle", o, i)
			}
			if want := all[i] & o; got[i] != want {
				t.Errorf("oracle %v alone: iteration %d flagged %v, want %v (flagged %v with every oracle)", o, i, got[i], want, all[i])
			}
		}
	}
}
