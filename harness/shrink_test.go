package harness_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// firstFailure explores bug from the gate's seed and returns its first
// failure.
func firstFailure(t *testing.T, bug mtable.Bug) (harness.Options, *harness.Iteration) {
	t.Helper()
	sum := explore(t, bug, bugBudgets[bug], false, nil)
	if sum.First == nil {
		t.Fatalf("bug %d not found", int(bug))
	}
	return harness.Options{Workload: originalWorld(), Bug: bug}, sum.First
}

// TestShrinkEveryBug shrinks the first failure of every catchable bug:
// the shrunk run fails the same check, is no larger in any respect the
// report states, is a fixed workload that its trace file records, and
// its trace replays it exactly. (A shrink takes up to a few seconds;
// -short gives each 300 runs.)
func TestShrinkEveryBug(t *testing.T) {
	runs := 0
	if testing.Short() {
		runs = 300
	}
	for _, bug := range mtable.Bugs() {
		if _, ok := bugBudgets[bug]; !ok {
			continue
		}
		t.Run(fmt.Sprintf("%d-%s", int(bug), bug), func(t *testing.T) {
			opts, it := firstFailure(t, bug)
			sr, err := harness.Shrink(context.Background(), opts, it, harness.ShrinkConfig{MaxRuns: runs, Parallel: 2})
			if err != nil {
				t.Fatal(err)
			}
			o, s := sr.OriginalShape(), sr.ShrunkShape()
			t.Logf("%s", sr.Summary())
			if got, want := harness.SignatureOf(sr.Shrunk), harness.SignatureOf(it); got != want || sr.Signature != want {
				t.Errorf("signature got %v (result %v), want %v", got, sr.Signature, want)
			}
			// Steps are those up to the failing check, and a smaller
			// workload comes first in the shrinker's order: with fewer
			// calls the check may fail a little later than the
			// original's did, but not later than the original ran.
			if s.Steps > it.Sched.Steps || s.Calls > o.Calls || s.Machines > o.Machines || s.Faults > o.Faults {
				t.Errorf("shrunk %v is larger than %v (which ran %d steps)", s, o, it.Sched.Steps)
			}
			if s.Steps >= o.Steps && s.Calls >= o.Calls && sr.Stopped == "" {
				t.Errorf("nothing shrunk: %v", s)
			}
			w := sr.Options.Workload
			if w.Swarm || w.Validate() != nil {
				t.Errorf("shrunk workload %+v: want a valid fixed shape", w)
			}
			back, err := harness.OptionsFromTrace(sr.Shrunk.Sched.Trace)
			if err != nil || !slices.Equal(back.Workload.AppCalls, w.AppCalls) || back.Workload.Describe() != w.Describe() || back.Bug != bug {
				t.Errorf("the shrunk trace records %+v (err %v), want %+v", back, err, sr.Options)
			}
			again, err := harness.Replay(back, sr.Shrunk.Sched.Trace, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again.Sched.Trace.Decisions, sr.Shrunk.Sched.Trace.Decisions) || harness.SignatureOf(again) != sr.Signature ||
				again.Failure.Text != sr.Shrunk.Failure.Text {
				t.Errorf("replaying the shrunk trace: %v, want %v decision for decision", again.Failure, sr.Shrunk.Failure)
			}
		})
	}
}

// TestShrinkDeterministic: the same failure shrinks to the same run,
// trace and run count at any Parallel.
func TestShrinkDeterministic(t *testing.T) {
	runs := 0
	if testing.Short() {
		runs = 200
	}
	opts, it := firstFailure(t, mtable.BugQueryStreamedBackUpNewStream)
	var first *harness.ShrinkResult
	for _, p := range []int{1, 3} {
		sr, err := harness.Shrink(context.Background(), opts, it, harness.ShrinkConfig{MaxRuns: runs, Parallel: p})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = sr
			continue
		}
		if !slices.Equal(sr.Shrunk.Sched.Trace.Decisions, first.Shrunk.Sched.Trace.Decisions) || sr.Runs != first.Runs ||
			sr.Accepted != first.Accepted || sr.Options.Workload.Describe() != first.Options.Workload.Describe() {
			t.Errorf("Parallel %d: %s (%d accepted), Parallel 1: %s (%d accepted)", p, sr.Summary(), sr.Accepted, first.Summary(), first.Accepted)
		}
	}
}

// TestShrinkBudget: a shrink stops at its run budget and says so; what
// it reached still fails the same way. One whose report would be longer
// than a screen there goes on, once, for as many runs again.
func TestShrinkBudget(t *testing.T) {
	opts, it := firstFailure(t, mtable.BugDeletePrimaryKey)
	for _, c := range []struct {
		budget, runs int
		extended     bool
	}{
		{40, 40, false}, // 116 steps, 35 shown at 40 runs
		{25, 50, true},  // more than ShortRun shown at 25 runs
	} {
		var last harness.ShrinkProgress
		sr, err := harness.Shrink(context.Background(), opts, it, harness.ShrinkConfig{MaxRuns: c.budget,
			Progress: func(p harness.ShrinkProgress) { last = p }})
		if err != nil {
			t.Fatal(err)
		}
		if sr.Stopped != "runs" || sr.Runs != c.runs || sr.Extended != c.extended || harness.SignatureOf(sr.Shrunk) != harness.SignatureOf(it) {
			t.Errorf("budget %d: stopped %q after %d runs (extended %v) with %v: want \"runs\" after %d (extended %v), failing as before",
				c.budget, sr.Stopped, sr.Runs, sr.Extended, sr.Shrunk.Failure, c.runs, c.extended)
		}
		if last.Runs != c.runs || last.Iteration != it.Index || last.Original != harness.ShapeOf(it) {
			t.Errorf("budget %d: last progress %+v: want %d runs of iteration %d from %v", c.budget, last, c.runs, it.Index, harness.ShapeOf(it))
		}
		if shown := harness.ShownSteps(sr.Shrunk); shown > harness.ShortRun && !sr.Extended {
			t.Errorf("budget %d: the report shows %d steps, and the budget was not extended", c.budget, shown)
		}
		if got := strings.Contains(sr.Summary(), "budget doubled"); got != c.extended {
			t.Errorf("budget %d: summary %q: want it to say the budget was doubled: %v", c.budget, sr.Summary(), c.extended)
		}
	}
	// A step budget reckoned on the failing run's length up to its
	// failing check (a candidate stops there), then on the smallest
	// run's as it gets shorter (never on more than the failing run's):
	// 120 runs of the failing run leave more than 120 runs, for this
	// shrink passes through shorter runs (the floor is 100).
	if cf := it.Failure.Check; cf == nil || cf.Step >= it.Sched.Steps {
		t.Fatalf("bug %d's first failure %v: want a check that fails before the run's end", int(opts.Bug), it.Failure)
	}
	sr, err := harness.Shrink(context.Background(), opts, it, harness.ShrinkConfig{MaxSteps: 120 * harness.ShapeOf(it).Steps})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("step budget: %d runs, stopped %q", sr.Runs, sr.Stopped)
	if sr.Stopped != "runs" || sr.Runs <= 120 {
		t.Errorf("step budget of 120 runs: stopped %q after %d runs, want \"runs\" after more than 120", sr.Stopped, sr.Runs)
	}
	sr, err = harness.Shrink(context.Background(), opts, it, harness.ShrinkConfig{MaxSteps: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sr.Runs > 100 {
		t.Errorf("step budget of 1: %d runs, want at most the floor of 100", sr.Runs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sr, err = harness.Shrink(ctx, opts, it, harness.ShrinkConfig{})
	if err != nil || sr.Stopped != "cancelled" || sr.Runs != 0 {
		t.Errorf("cancelled shrink: %v, %+v", err, sr)
	}
}

func TestShrinkRefusesPassingIteration(t *testing.T) {
	opts := harness.Options{Workload: harness.DefaultWorkload(), Bug: mtable.NoBug}
	it, err := harness.RunOnce(opts, sched.Config{Strategy: "random", Seed: 1, Params: harness.Params(opts)}, 0)
	if err != nil || it.Failure != nil {
		t.Fatalf("RunOnce: %v %v", err, it.Failure)
	}
	if _, err := harness.Shrink(context.Background(), opts, it, harness.ShrinkConfig{}); err == nil {
		t.Errorf("Shrink of a passing iteration: got no error")
	}
	if _, err := harness.Shrink(context.Background(), opts, it, harness.ShrinkConfig{MaxRuns: -1}); err == nil {
		t.Errorf("Shrink with a negative budget: got no error")
	}
}

// TestExploreShrinks: with ExploreConfig.Shrink an exploration shrinks
// its first failure before OnFailure sees it; with KeepGoing, every
// failure, and the groups add up to the failures.
func TestExploreShrinks(t *testing.T) {
	for _, keepGoing := range []bool{false, true} {
		t.Run(fmt.Sprintf("keepGoing=%v", keepGoing), func(t *testing.T) {
			seen := 0
			sum, err := harness.Explore(harness.ExploreConfig{
				Options:  harness.Options{Workload: originalWorld(), Bug: mtable.BugDeletePrimaryKey},
				Strategy: "portfolio", Seed: gateSeed, Iterations: 30, Parallel: 2, KeepGoing: keepGoing,
				Shrink: &harness.ShrinkConfig{MaxRuns: 100, Parallel: 2},
				OnFailure: func(it *harness.Iteration) {
					seen++
					if it.Shrunk == nil || it.Shrunk.Original != it || it.Shrunk.Shrunk.ShrunkFrom != it {
						t.Errorf("iteration %d: shrink %+v (error %v)", it.Index, it.Shrunk, it.ShrinkErr)
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Failures == 0 || seen != sum.Failures {
				t.Fatalf("%d failures, %d seen", sum.Failures, seen)
			}
			total := 0
			for i, g := range sum.Groups {
				total += g.Count
				if g.Shape == "" || g.Signature != harness.SignatureOf(g.First) {
					t.Errorf("group %+v", g)
				}
				if i > 0 && g.Count > sum.Groups[i-1].Count {
					t.Errorf("groups not in decreasing count: %+v", sum.Groups)
				}
			}
			if total != sum.Failures {
				t.Errorf("groups hold %d failures, want %d", total, sum.Failures)
			}
		})
	}
}

// TestShrinkProductionWorld shrinks a failure found in the production
// world (faults on): the shrink takes away the world's dimensions a
// failure does not need. Bug 12 fails in the original world too, so its
// shrunk run is there (Leases off, no faults); lease bug 14 needs the
// leases, so its shrunk run keeps them, with one migrator process and
// a fault budget of the faults it takes. The report's fault counts are
// the crashes and stalls (a restart follows a crash and is not one)
// and the backend faults. (Bug 14's first failure from this seed keeps
// two migrators: without the second it fails the fencing check instead,
// another signature.)
func TestShrinkProductionWorld(t *testing.T) {
	runs := 0
	if testing.Short() {
		runs = 800
	}
	faults := func(it *harness.Iteration) int {
		n := len(it.BackendFaults)
		for _, f := range it.Sched.Faults {
			if f.Kind == sched.Crash || f.Kind == sched.Stall {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		bug    mtable.Bug
		leases bool
	}{
		{mtable.BugDeleteIfExistsHideMetadata, false},
		{mtable.BugPushExpiresLeaseEarly, true},
	} {
		t.Run(fmt.Sprintf("%d-%s", int(tc.bug), tc.bug), func(t *testing.T) {
			// The process faults' world: the moves for backend faults,
			// plain clients and hot rows have their own tests.
			world := faultsWorld()
			world.BackendFaults, world.Plain, world.HotRows = 0, false, false
			sum := exploreIn(t, world, tc.bug, 3000, false, nil)
			if sum.First == nil {
				t.Fatalf("bug %d not found in the production world", int(tc.bug))
			}
			opts := harness.Options{Workload: world, Bug: tc.bug}
			sr, err := harness.Shrink(context.Background(), opts, sum.First, harness.ShrinkConfig{MaxRuns: runs, Parallel: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s; workload %s", sr.Summary(), sr.Options.Workload.Describe())
			if got, want := harness.SignatureOf(sr.Shrunk), harness.SignatureOf(sum.First); got != want {
				t.Errorf("signature got %v, want %v", got, want)
			}
			o, s := sr.OriginalShape(), sr.ShrunkShape()
			if got, want := o.Faults, faults(sum.First); got != want {
				t.Errorf("original faults got %d, want %d (its crashes, stalls and backend faults)", got, want)
			}
			if got, want := s.Faults, faults(sr.Shrunk); got != want {
				t.Errorf("shrunk faults got %d, want %d (its crashes, stalls and backend faults)", got, want)
			}
			w := sr.Options.Workload
			if w.Leases != tc.leases {
				t.Errorf("shrunk workload has leases %v, want %v", w.Leases, tc.leases)
			}
			if w.Leases && (w.Migrators != 1 || w.Faults != s.Faults) {
				t.Errorf("shrunk workload: %d migrators, a budget of %d faults for %d taken; want 1 migrator and the budget of the faults taken", w.Migrators, w.Faults, s.Faults)
			}
			if !w.Leases && (w.Faults != 0 || w.ClockSkew || s.Faults != 0) {
				t.Errorf("shrunk workload %s with %d faults, want none without leases", w.Describe(), s.Faults)
			}
		})
	}
}

// TestShrinkPastFailure: bug 16's first failure from seed 314159 in the
// default world fails a fencing check at step 1,436 and runs on to the
// step bound (40,000 steps); its candidates stop at their failure, so
// the step budget, reckoned on the run up to it, leaves the shrink its
// runs (it used to allow 150 and shrink nothing), and it shrinks well
// below the original; the shrunk trace, run to its end, replays exactly.
func TestShrinkPastFailure(t *testing.T) {
	opts := harness.Options{Workload: harness.DefaultWorkload(), Bug: mtable.BugMigratorResumeFromMemory}
	sum, err := harness.Explore(harness.ExploreConfig{Options: opts, Strategy: "portfolio", Seed: 314159, Iterations: 20, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	it := sum.First
	if it == nil || it.Failure.Check == nil || it.Failure.Check.Check != harness.CheckFencing {
		t.Fatalf("first failure %v: want the fencing check", it)
	}
	bound := int64(it.Sched.Trace.MaxSteps)
	if it.Sched.Steps != bound || it.Failure.Check.Step*10 > bound {
		t.Fatalf("the check fails at step %d of %d (bound %d): want early in a run to the bound", it.Failure.Check.Step, it.Sched.Steps, bound)
	}
	runs := 0 // the default budget
	if testing.Short() {
		runs = 400
	}
	sr, err := harness.Shrink(context.Background(), opts, it, harness.ShrinkConfig{MaxRuns: runs, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	o, s := sr.OriginalShape(), sr.ShrunkShape()
	t.Logf("%s", sr.Summary())
	if o.Steps != it.Failure.Check.Step {
		t.Errorf("original shape %v: want the %d steps up to the check", o, it.Failure.Check.Step)
	}
	if want := 300; sr.Runs < want {
		t.Errorf("%d runs: want at least %d (the step budget must be reckoned on the run up to its failure)", sr.Runs, want)
	}
	if harness.SignatureOf(sr.Shrunk) != harness.SignatureOf(it) {
		t.Errorf("shrunk run fails %v, want %v", harness.SignatureOf(sr.Shrunk), harness.SignatureOf(it))
	}
	if s.Calls*2 > o.Calls || s.Steps >= o.Steps || s.Faults >= o.Faults {
		t.Errorf("shrunk %v from %v: want at most half the calls, fewer steps and faults", s, o)
	}
	back, err := harness.OptionsFromTrace(sr.Shrunk.Sched.Trace)
	if err != nil {
		t.Fatal(err)
	}
	again, err := harness.Replay(back, sr.Shrunk.Sched.Trace, 0)
	if err != nil {
		t.Fatal(err)
	}
	if again.Failure == nil || !slices.Equal(again.Sched.Trace.Decisions, sr.Shrunk.Sched.Trace.Decisions) || again.Failure.Text != sr.Shrunk.Failure.Text {
		t.Errorf("replaying the shrunk trace: %v, want %v decision for decision", again.Failure, sr.Shrunk.Failure)
	}
}
