package harness

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// TestExploreWorkloads: the workloads explored afresh are smaller than
// the run's, smallest first, at most two applications of one call each,
// and in the production world the original world and one migrator among
// them; without applications, also without initial rows (and only
// then); none for a swarm; for a run of no calls in the original world,
// only the one without rows, and none smaller than that.
func TestExploreWorkloads(t *testing.T) {
	w := DefaultWorkload()
	w.Swarm, w.Apps, w.AppCalls, w.Migrators = false, 3, []int{4, 3, 2}, 2
	opts := Options{Workload: w}
	got := exploreWorkloads(opts)
	if len(got) == 0 {
		t.Fatal("no workloads for a production run of 3 applications")
	}
	var original, oneMigrator, noRows bool
	for i, o := range got {
		ow := o.Workload
		if ow.size() >= w.size() {
			t.Errorf("workload %d (%s) is not smaller than the run's", i, ow.Describe())
		}
		if i > 0 && ow.size() < got[i-1].Workload.size() {
			t.Errorf("workload %d (%s) is smaller than the one before it", i, ow.Describe())
		}
		if ow.Apps > 2 || slices.ContainsFunc(ow.AppCalls, func(n int) bool { return n != 1 }) || len(ow.AppCalls) != ow.Apps {
			t.Errorf("workload %d: apps %d, calls %v: want at most two applications of one call", i, ow.Apps, ow.AppCalls)
		}
		if err := o.Check(); err != nil {
			t.Errorf("workload %d: %v", i, err)
		}
		original = original || !ow.Leases
		oneMigrator = oneMigrator || ow.Leases && ow.Migrators == 1
		if len(ow.InitialRows) == 0 {
			noRows = true
			if ow.Apps > 0 {
				t.Errorf("workload %d: no initial rows with %d applications, want only without", i, ow.Apps)
			}
		}
	}
	if !original || !oneMigrator || !noRows {
		t.Errorf("original world among them: %v, one migrator among them: %v, no rows among them: %v; want all", original, oneMigrator, noRows)
	}
	if f := got[0].Workload; f.Apps != 0 || f.Leases || len(f.InitialRows) != 0 {
		t.Errorf("smallest first: got %s, want the original world without applications and rows", f.Describe())
	}

	// A lease bug changes nothing in the original world: not explored;
	// one migrator is.
	oneMigrator = false
	for _, o := range exploreWorkloads(Options{Workload: w, Bug: mtable.BugMigratorResumeFromCachedState}) {
		if !o.Workload.Leases {
			t.Errorf("bug 18, a lease bug: explored the original world (%s)", o.Workload.Describe())
		}
		oneMigrator = oneMigrator || o.Workload.Migrators == 1
	}
	if !oneMigrator {
		t.Errorf("bug 18, a lease bug: one migrator not explored")
	}

	w.Swarm, w.AppCalls = true, nil
	if got := exploreWorkloads(Options{Workload: w}); got != nil {
		t.Errorf("a swarm: got %d workloads, want none (its shape is fixed first)", len(got))
	}
	small := originalWorkloadOf(DefaultWorkload())
	small.Swarm, small.Apps, small.AppCalls = false, 0, []int{}
	if got := exploreWorkloads(Options{Workload: small}); len(got) != 1 || len(got[0].Workload.InitialRows) != 0 {
		t.Errorf("no calls, the original world: got %d workloads, want one, without rows", len(got))
	}
	small = got[0].Workload
	if got := exploreWorkloads(Options{Workload: small}); len(got) != 0 {
		t.Errorf("no calls and no rows, the original world: got %d workloads, want none smaller", len(got))
	}
}

func originalWorkloadOf(w Workload) Workload {
	w.toOriginalWorld()
	w.Plain, w.HotRows = false, false
	return w
}

// bug18First returns the first failure of bug 18 from seed 1 (two
// migrators, which the lenient replays of a smaller world rarely fail
// again) and its options with the run's shape fixed (what the first
// move does), as the fresh explorations start from.
func bug18First(t *testing.T) (*Iteration, Options) {
	t.Helper()
	opts := Options{Workload: DefaultWorkload(), Bug: mtable.BugMigratorResumeFromCachedState}
	sum, err := Explore(ExploreConfig{Options: opts, Strategy: "portfolio", Seed: 1, Iterations: 2000, Parallel: 2})
	if err != nil || sum.First == nil {
		t.Fatalf("bug 18 from seed 1: not found in 2,000 iterations (%v)", err)
	}
	fixed := opts
	fixed.Workload = sum.First.Workload
	fixed.Workload.Swarm = false
	return sum.First, fixed
}

// TestReexploreFindsSmaller: a failure of bug 18 (two migrators, which
// the lenient replays of a smaller world rarely fail again) explored
// afresh fails the same way in a workload of at most two calls, the same
// at Parallel 1 and 2; its smallest run replays leniently to the same
// failure.
func TestReexploreFindsSmaller(t *testing.T) {
	it, fixed := bug18First(t)
	var found [][]sched.Decision
	for _, par := range []int{1, 2} {
		sh := &shrinker{ctx: context.Background(), cfg: ShrinkConfig{MaxRuns: DefaultShrinkRuns, Parallel: par}, sig: SignatureOf(it), orig: it,
			best: shrinkRun{opts: fixed, it: it}}
		if !sh.reexplore() {
			t.Fatalf("parallel %d: nothing found afresh in %d runs", par, sh.runs)
		}
		w := sh.best.opts.Workload
		if w.totalCalls() > 2 || w.size() >= fixed.Workload.size() {
			t.Errorf("parallel %d: found %s (%d calls), want at most 2 calls and smaller than %s", par, w.Describe(), w.totalCalls(), fixed.Workload.Describe())
		}
		if SignatureOf(sh.best.it) != sh.sig {
			t.Errorf("parallel %d: the run found fails with %s, want %s", par, SignatureOf(sh.best.it), sh.sig)
		}
		if sh.best.it.Sched.Trace.Streams == nil {
			t.Errorf("parallel %d: the run found has no named streams (it was not run again leniently)", par)
		}
		t.Logf("parallel %d: %s in %d runs", par, w.Describe(), sh.runs)
		found = append(found, sh.best.it.Sched.Trace.Decisions)
	}
	if !slices.Equal(found[0], found[1]) {
		t.Errorf("the run found differs at Parallel 1 and 2")
	}
}

// TestExploreAgainFindsShorter: the first failure of bug 18 from seed 1,
// its shape fixed, explored afresh in its own workload with its length
// as the step bound, fails the same way in fewer steps, the same run at
// Parallel 1 and 2, named for the moves; explored again after it found
// nothing, the workload is not; nor is a failure of another kind than an
// assertion's.
func TestExploreAgainFindsShorter(t *testing.T) {
	it, fixed := bug18First(t)
	var found [][]sched.Decision
	for _, par := range []int{1, 2} {
		sh := &shrinker{ctx: context.Background(), cfg: ShrinkConfig{MaxRuns: DefaultShrinkRuns, MaxSteps: DefaultShrinkSteps, Parallel: par}, sig: SignatureOf(it), orig: it,
			best: shrinkRun{opts: fixed, it: it, size: sched.SizeOf(it.Sched)}}
		near := map[string]bool{}
		for _, o := range sh.neighbours() {
			near[fmt.Sprint(Params(o))] = true
		}
		if !sh.exploreAgain() {
			t.Fatalf("parallel %d: nothing shorter found afresh in %d runs", par, sh.runs)
		}
		// A shorter run of the workload, or a run of one of its
		// neighbours (explored with it), no longer.
		if got, was := sh.best.it.Sched.Steps, it.Sched.Steps; got >= was {
			t.Errorf("parallel %d: found a run of %d steps, want fewer than %d", par, got, was)
		}
		if key := fmt.Sprint(Params(sh.best.opts)); key != fmt.Sprint(Params(fixed)) && !near[key] {
			t.Errorf("parallel %d: found a run of %s, want the workload explored, %s, or a neighbour of it", par, sh.best.opts.Workload.Describe(), fixed.Workload.Describe())
		}
		if SignatureOf(sh.best.it) != sh.sig || sh.best.it.Sched.Trace.Streams == nil {
			t.Errorf("parallel %d: the run found fails with %s (streams named: %v), want %s, named", par, SignatureOf(sh.best.it), sh.best.it.Sched.Trace.Streams != nil, sh.sig)
		}
		if got, want := sh.best.it.Sched.Trace.MaxSteps, it.Sched.Trace.MaxSteps; got != want {
			t.Errorf("parallel %d: the run found has step bound %d, want the original's %d", par, got, want)
		}
		t.Logf("parallel %d: %d steps to %d in %d runs", par, it.Sched.Steps, sh.best.it.Sched.Steps, sh.runs)
		found = append(found, sh.best.it.Sched.Trace.Decisions)

		// Nothing found for a workload: only its neighbours are
		// explored again.
		sh.best = shrinkRun{opts: fixed, it: it, size: sched.SizeOf(it.Sched)}
		sh.exploredAgain = map[string]bool{fmt.Sprint(Params(fixed)): true}
		runs := sh.runs
		if found := sh.exploreAgain(); sh.runs == runs || found && !near[fmt.Sprint(Params(sh.best.opts))] {
			t.Errorf("parallel %d: a workload it found nothing for: %d runs, found %s, want its neighbours explored", par, sh.runs-runs, sh.best.opts.Workload.Describe())
		}
		sh.exploredAgain, sh.sig = nil, Signature{Kind: "deadlock"}
		if runs := sh.runs; sh.exploreAgain() || sh.runs != runs {
			t.Errorf("parallel %d: a deadlock's workload explored again (%d runs)", par, sh.runs-runs)
		}
	}
	if !slices.Equal(found[0], found[1]) {
		t.Errorf("the run found differs at Parallel 1 and 2")
	}
}

// TestNeighbours: the neighbours of a workload are the smaller workloads
// the moves propose for it, valid, each once, smallest first.
func TestNeighbours(t *testing.T) {
	it, fixed := bug18First(t)
	sh := &shrinker{best: shrinkRun{opts: fixed, it: it, size: sched.SizeOf(it.Sched)}}
	near := sh.neighbours()
	seen := map[string]bool{}
	apps := false
	for i, o := range near {
		key := fmt.Sprint(Params(o))
		switch {
		case seen[key] || key == fmt.Sprint(Params(fixed)):
			t.Errorf("neighbour %d, %s: again, or the workload itself", i, o.Workload.Describe())
		case o.Workload.size() >= fixed.Workload.size() || o.Check() != nil:
			t.Errorf("neighbour %d, %s: not a smaller valid workload (%v)", i, o.Workload.Describe(), o.Check())
		case i > 0 && o.Workload.size() < near[i-1].Workload.size():
			t.Errorf("neighbour %d: smaller than the one before it", i)
		}
		seen[key] = true
		apps = apps || o.Workload.Apps == fixed.Workload.Apps-1
	}
	if len(near) < 3 || !apps {
		t.Errorf("%d neighbours (one with an application fewer: %v), want at least 3, one of them", len(near), apps)
	}
	t.Logf("%d neighbours", len(near))
}
