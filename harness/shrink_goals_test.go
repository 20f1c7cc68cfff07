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
// shrunk report shows, and the shrink time. It checks the goals that do
// not depend on the machine: the median shrunk run has at most a
// quarter of its original's steps; every shrunk report shows every step
// up to the check, at most ShortRun of them (one screen), and the test
// lists those that show more. (Times are printed, not checked: make
// shrink-table on a quiet machine for the figures. It takes a few
// minutes, so -short skips it.) MTABLE_SHRINK_BUGS=0,1,7 and
// MTABLE_SHRINK_SEEDS=1-3 measure only those bugs and base seeds.
func TestShrinkGoals(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a few minutes: 120 explorations and shrinks")
	}
	type row struct {
		bug          mtable.Bug
		seed         uint64
		orig, shrunk harness.Shape
		shown        int
		runs         int
		stopped      string
		secs         float64
	}
	// MTABLE_SHRINK_WORLD=production measures the default world (leases,
	// faults, plain clients: make shrink-table-production) with every
	// bug it catches; the goals are held in the original world.
	world, budgets, name := originalWorld(), bugBudgets, "original"
	if os.Getenv("MTABLE_SHRINK_WORLD") == "production" {
		world, budgets, name = faultsWorld(), faultBudgets, "production"
	}
	bugs, err := numberList(os.Getenv("MTABLE_SHRINK_BUGS"))
	if err != nil {
		t.Fatalf("MTABLE_SHRINK_BUGS: %v", err)
	}
	seeds, err := numberList(os.Getenv("MTABLE_SHRINK_SEEDS"))
	if err != nil {
		t.Fatalf("MTABLE_SHRINK_SEEDS: %v", err)
	}
	if seeds == nil {
		seeds = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	}
	t.Logf("the %s world", name)
	var all []row
	var long []string // shrinks whose reports show more than ShortRun steps
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-38s %5s %13s %6s %9s %9s %11s %6s %8s %8s\n", fmt.Sprintf("bug (medians of %d seeds)", len(seeds)), "found", "steps", "ratio", "calls", "machines", "preemptions", "shown", "time", "worst")
	for _, bug := range mtable.Bugs() {
		if _, ok := budgets[bug]; !ok || (bugs != nil && !slices.Contains(bugs, int(bug))) {
			continue
		}
		var rows []row
		for _, s := range seeds {
			seed := uint64(s)
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
			r := row{bug, seed, sr.OriginalShape(), sr.ShrunkShape(), harness.ShownSteps(sr.Shrunk), sr.Runs, sr.Stopped, time.Since(start).Seconds()}
			if r.shown > harness.ShortRun {
				long = append(long, fmt.Sprintf("bug %d, seed %d: %d steps shown; %s", int(bug), seed, r.shown, sr.Summary()))
			}
			rows = append(rows, r)
			t.Logf("bug %d seed %d: %s; %d steps shown", int(bug), seed, sr.Summary(), r.shown)
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
		fmt.Fprintf(&table, "%-38s %2d/%-2d %5.0f -> %4.0f %6.2f %3.0f -> %2.0f %3.0f -> %2.0f %4.0f -> %3.0f %6.0f %7.2fs %7.2fs\n",
			fmt.Sprintf("%2d %s", int(bug), bug), len(rows), len(seeds),
			med(func(r row) float64 { return float64(r.orig.Steps) }), med(func(r row) float64 { return float64(r.shrunk.Steps) }), ratio,
			med(func(r row) float64 { return float64(r.orig.Calls) }), med(func(r row) float64 { return float64(r.shrunk.Calls) }),
			med(func(r row) float64 { return float64(r.orig.Machines) }), med(func(r row) float64 { return float64(r.shrunk.Machines) }),
			med(func(r row) float64 { return float64(r.orig.Preemptions) }), med(func(r row) float64 { return float64(r.shrunk.Preemptions) }),
			med(func(r row) float64 { return float64(r.shown) }), med(func(r row) float64 { return r.secs }), worst)
		all = append(all, rows...)
	}
	ratios := make([]float64, len(all))
	secs := make([]float64, len(all))
	shown := make([]int, len(all))
	budget := 0
	var worstRatio, slowest, mostShown row
	ratioOf := func(r row) float64 { return float64(r.shrunk.Steps) / float64(r.orig.Steps) }
	for i, r := range all {
		ratios[i], secs[i], shown[i] = ratioOf(r), r.secs, r.shown
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
	fmt.Fprintf(&table, "all %d shrinks: median shrunk/original steps %.2f (worst %.2f, bug %d seed %d); median time %.2fs (worst %.2fs, bug %d seed %d); %d stopped by the run budget\n",
		len(all), ratios[len(ratios)/2], ratioOf(worstRatio), int(worstRatio.bug), worstRatio.seed, secs[len(secs)/2], slowest.secs, int(slowest.bug), slowest.seed, budget)
	fmt.Fprintf(&table, "steps shown: median %d, most %d (bug %d seed %d)\n", shown[len(shown)/2], mostShown.shown, int(mostShown.bug), mostShown.seed)
	fmt.Fprintf(&table, "%d of the %d shrunk reports show more than %d steps:\n%s\n", len(long), len(all), harness.ShortRun, strings.Join(long, "\n"))
	if len(long) > 0 {
		t.Errorf("%d shrunk reports show more than %d steps, want none", len(long), harness.ShortRun)
	}
	if ratios[len(ratios)/2] > 0.25 {
		t.Errorf("median shrunk/original steps %.2f, want at most 0.25", ratios[len(ratios)/2])
	}
	t.Log(table.String())
}

// numberList parses "0,1,7" or "1-3" (or both: "1-3,7") into the numbers
// it lists, in its order; nil for "".
func numberList(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("%q: want numbers and ranges such as 0,1,7 or 1-3", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || b < a {
				return nil, fmt.Errorf("%q: want numbers and ranges such as 0,1,7 or 1-3", s)
			}
		}
		for n := a; n <= b; n++ {
			out = append(out, n)
		}
	}
	return out, nil
}
