package harness_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
)

// TestShrinkGoals measures the shrinker on the first failure of every
// catchable bug from base seeds 1 to 10 (portfolio, the default
// workload, up to 20,000 iterations each), shrinking one run at a time
// with the default budget, and prints the table of the README: steps,
// calls, machines and preemptions before and after, the steps the
// shrunk report shows (and would show without folding quiet steps),
// and the shrink time. It checks the goals that do
// not depend on the machine: the median shrunk run has at most a
// quarter of its original's steps; every shrunk report shows every step
// up to the check, at most ShortRun of them (one screen), and the test
// lists those that show more. (Times are printed, not checked: make
// shrink-table on a quiet machine for the figures. It takes a few
// minutes, so -short skips it.) MTABLE_SHRINK_BUGS and
// MTABLE_SHRINK_SEEDS pick the bugs and base seeds (see
// shrinkSelection) for a cheaper measurement; MTABLE_SHRINK_TRACES=DIR
// also writes each shrunk run's trace into DIR.
func TestShrinkGoals(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few minutes: 120 explorations and shrinks")
	}
	type row struct {
		bug          mtable.Bug
		seed         uint64
		orig, shrunk harness.Shape
		shown        int
		unfolded     int // shown without folding quiet steps
		runs         int
		stopped      string
		secs         float64
	}
	// MTABLE_SHRINK_WORLD=production measures the default world (leases,
	// faults, plain clients: make shrink-table-production) with every
	// bug it catches, against the same goals.
	world, budgets, name := originalWorld(), bugBudgets, "original"
	if os.Getenv("MTABLE_SHRINK_WORLD") == "production" {
		world, budgets, name = faultsWorld(), faultBudgets, "production"
	}
	bugs, seeds, err := shrinkSelection(os.Getenv("MTABLE_SHRINK_BUGS"), os.Getenv("MTABLE_SHRINK_SEEDS"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the %s world", name)
	var all []row
	var long []string // shrinks whose reports show more than ShortRun steps
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-38s %5s %13s %6s %9s %9s %11s %6s %8s %8s %8s\n", fmt.Sprintf("bug (medians of %d seeds)", len(seeds)), "found", "steps", "ratio", "calls", "machines", "preemptions", "shown", "unfolded", "time", "worst")
	for _, bug := range mtable.Bugs() {
		if _, ok := budgets[bug]; !ok || (bugs != nil && !bugs[int(bug)]) {
			continue
		}
		var rows []row
		for _, seed := range seeds {
			opts := harness.Options{Workload: world, Bug: bug}
			sum, err := harness.Explore(harness.ExploreConfig{Options: opts, Strategy: "portfolio", Seed: seed, Iterations: 20000, Parallel: 2})
			if err != nil {
				t.Fatal(err)
			}
			if sum.First == nil {
				t.Errorf("bug %d, seed %d: not found in 20,000 iterations", int(bug), seed)
				continue
			}
			start := time.Now()
			sr, err := harness.Shrink(context.Background(), opts, sum.First, harness.ShrinkConfig{Parallel: 1})
			if err != nil {
				t.Fatalf("bug %d, seed %d: %v", int(bug), seed, err)
			}
			if dir := os.Getenv("MTABLE_SHRINK_TRACES"); dir != "" {
				writeShrunkTrace(t, dir, bug, seed, sr)
			}
			r := row{bug, seed, sr.OriginalShape(), sr.ShrunkShape(), harness.ShownSteps(sr.Shrunk), unfoldedSteps(sr.Shrunk), sr.Runs, sr.Stopped, time.Since(start).Seconds()}
			if r.shown > harness.ShortRun {
				long = append(long, fmt.Sprintf("bug %d, seed %d: %d steps shown; %s", int(bug), seed, r.shown, sr.Summary()))
			}
			rows = append(rows, r)
			t.Logf("bug %d seed %d: %s; %d steps shown (%d unfolded)", int(bug), seed, sr.Summary(), r.shown, r.unfolded)
		}
		if len(rows) == 0 {
			continue
		}
		med := func(f func(r row) float64) float64 {
			v := make([]float64, len(rows))
			for i, r := range rows {
				v[i] = f(r)
			}
			slices.Sort(v)
			if len(v)%2 == 0 {
				return (v[len(v)/2-1] + v[len(v)/2]) / 2
			}
			return v[len(v)/2]
		}
		worst := 0.0
		for _, r := range rows {
			worst = max(worst, r.secs)
		}
		ratio := med(func(r row) float64 { return float64(r.shrunk.Steps) / float64(r.orig.Steps) })
		if shown := med(func(r row) float64 { return float64(r.shown) }); shown > harness.ShortRun {
			t.Errorf("bug %d: the median shrunk report shows %.0f steps, want at most %d", int(bug), shown, harness.ShortRun)
		}
		fmt.Fprintf(&table, "%-38s %2d/%-2d %5.0f -> %4.0f %6.2f %3.0f -> %2.0f %3.0f -> %2.0f %4.0f -> %3.0f %6.0f %8.0f %7.2fs %7.2fs\n",
			fmt.Sprintf("%2d %s", int(bug), bug), len(rows), len(seeds),
			med(func(r row) float64 { return float64(r.orig.Steps) }), med(func(r row) float64 { return float64(r.shrunk.Steps) }), ratio,
			med(func(r row) float64 { return float64(r.orig.Calls) }), med(func(r row) float64 { return float64(r.shrunk.Calls) }),
			med(func(r row) float64 { return float64(r.orig.Machines) }), med(func(r row) float64 { return float64(r.shrunk.Machines) }),
			med(func(r row) float64 { return float64(r.orig.Preemptions) }), med(func(r row) float64 { return float64(r.shrunk.Preemptions) }),
			med(func(r row) float64 { return float64(r.shown) }), med(func(r row) float64 { return float64(r.unfolded) }), med(func(r row) float64 { return r.secs }), worst)
		all = append(all, rows...)
	}
	ratios := make([]float64, len(all))
	secs := make([]float64, len(all))
	shown := make([]int, len(all))
	unfolded := make([]int, len(all))
	budget := 0
	var worstRatio, slowest, mostShown row
	ratioOf := func(r row) float64 { return float64(r.shrunk.Steps) / float64(r.orig.Steps) }
	for i, r := range all {
		ratios[i], secs[i], shown[i], unfolded[i] = ratioOf(r), r.secs, r.shown, r.unfolded
		if r.stopped != "" {
			budget++
		}
		if i == 0 || ratioOf(r) > ratioOf(worstRatio) {
			worstRatio = r
		}
		if i == 0 || r.secs > slowest.secs {
			slowest = r
		}
		if i == 0 || r.shown > mostShown.shown {
			mostShown = r
		}
	}
	slices.Sort(ratios)
	slices.Sort(secs)
	slices.Sort(shown)
	slices.Sort(unfolded)
	fmt.Fprintf(&table, "all %d shrinks: median shrunk/original steps %.2f (worst %.2f, bug %d seed %d); median time %.2fs (worst %.2fs, bug %d seed %d); %d stopped by the run budget\n",
		len(all), ratios[len(ratios)/2], ratioOf(worstRatio), int(worstRatio.bug), worstRatio.seed, secs[len(secs)/2], slowest.secs, int(slowest.bug), slowest.seed, budget)
	fmt.Fprintf(&table, "steps shown: median %d, most %d (bug %d seed %d); without folding quiet steps: median %d, most %d\n",
		shown[len(shown)/2], mostShown.shown, int(mostShown.bug), mostShown.seed, unfolded[len(unfolded)/2], unfolded[len(unfolded)-1])
	fmt.Fprintf(&table, "%d of the %d shrunk reports show more than %d steps:\n%s\n", len(long), len(all), harness.ShortRun, strings.Join(long, "\n"))
	if len(long) > 0 {
		t.Errorf("%d shrunk reports show more than %d steps, want none", len(long), harness.ShortRun)
	}
	if ratios[len(ratios)/2] > 0.25 {
		t.Errorf("median shrunk/original steps %.2f, want at most 0.25", ratios[len(ratios)/2])
	}
	t.Log(table.String())
}

// writeShrunkTrace writes the shrunk run of bug from base seed to
// dir/bug-N-seed-S.trace (MTABLE_SHRINK_TRACES=dir), so that a change to
// how reports print can be measured on the same runs without shrinking
// them again (mtabletest -replay prints each one's report).
func writeShrunkTrace(t *testing.T, dir string, bug mtable.Bug, seed uint64, sr *harness.ShrinkResult) {
	t.Helper()
	f, err := os.Create(fmt.Sprintf("%s/bug-%02d-seed-%02d.trace", dir, int(bug), seed))
	if err != nil {
		t.Fatal(err)
	}
	if err := sr.Shrunk.Sched.Trace.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// shrinkSelection parses MTABLE_SHRINK_BUGS (bug numbers, "0,1,3";
// empty for every bug) and MTABLE_SHRINK_SEEDS (base seeds, "1-3" or
// "1,2,5-10"; empty for 1 to 10).
func shrinkSelection(bugList, seedList string) (bugs map[int]bool, seeds []uint64, err error) {
	parse := func(env, list string) ([]int, error) {
		var out []int
		for _, part := range strings.Split(list, ",") {
			lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
			a, err := strconv.Atoi(lo)
			b := a
			if err == nil && isRange {
				b, err = strconv.Atoi(hi)
			}
			if err != nil || a < 0 || b < a {
				return nil, fmt.Errorf("%s=%q: want numbers and ranges such as 1,2,5-10", env, list)
			}
			for n := a; n <= b; n++ {
				out = append(out, n)
			}
		}
		return out, nil
	}
	if bugList != "" {
		ns, err := parse("MTABLE_SHRINK_BUGS", bugList)
		if err != nil {
			return nil, nil, err
		}
		bugs = map[int]bool{}
		for _, n := range ns {
			bugs[n] = true
		}
	}
	if seedList == "" {
		seedList = "1-10"
	}
	ns, err := parse("MTABLE_SHRINK_SEEDS", seedList)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range ns {
		seeds = append(seeds, uint64(n))
	}
	return bugs, seeds, nil
}

// unfoldedSteps is harness.ShownSteps of it as the original world
// counts (nothing folded): the figure before quiet steps were folded.
func unfoldedSteps(it *harness.Iteration) int {
	c := *it
	s := *it.Sched
	tr := *s.Trace
	tr.Params = slices.Clone(tr.Params)
	for i := range tr.Params {
		if tr.Params[i].Key == "leases" {
			tr.Params[i].Value = "false"
		}
	}
	s.Trace, c.Sched = &tr, &s
	return harness.ShownSteps(&c)
}
