package harness

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// TestStopAtFailureSameFailure: a run that stops at its first failure
// (the shrinker's candidates) fails with the same Failure and Signature
// as the run to its end, over the failing iterations of several bugs in
// both worlds, and its decisions are a prefix of the full run's; an
// oracle's failure in a machine ends it there (so the option can be
// seen to work: at least one run of each bug is shorter), and so does
// an error the production world's faults do not explain, judged in the
// run too (bug 13's first failures are all such errors).
func TestStopAtFailureSameFailure(t *testing.T) {
	original := DefaultWorkload()
	original.Faults, original.ClockSkew, original.BackendFaults = 0, false, 0
	original.Leases, original.Plain, original.HotRows = false, false, false
	cases := []struct {
		bug        mtable.Bug
		wl         Workload
		iterations int
		// stops: some of its failures are checks in a machine.
		stops bool
	}{
		{mtable.BugQueryAtomicFilterShadowing, original, 400, true},
		{mtable.BugQueryStreamedBackUpNewStream, original, 400, true},
		{mtable.BugDeletePrimaryKey, original, 100, true},
		{mtable.BugDeleteIfExistsHideMetadata, original, 200, true},
		{mtable.BugServeAfterLeaseExpiry, DefaultWorkload(), 150, true},
		{mtable.BugPushExpiresLeaseEarly, DefaultWorkload(), 150, true},
		{mtable.BugMigratorResumeFromMemory, DefaultWorkload(), 120, true},
	}
	perBug := 12
	if testing.Short() {
		perBug = 4
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d-%s", int(tc.bug), tc.bug), func(t *testing.T) {
			opts := Options{Workload: tc.wl, Bug: tc.bug}
			var mu sync.Mutex
			var failing []*Iteration
			_, err := Explore(ExploreConfig{Options: opts, Strategy: "portfolio", Seed: 314159, Iterations: tc.iterations, Parallel: 2, KeepGoing: true,
				OnFailure: func(it *Iteration) {
					mu.Lock()
					failing = append(failing, it)
					mu.Unlock()
				}})
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(failing, func(a, b *Iteration) int { return a.Index - b.Index })
			if len(failing) == 0 {
				t.Fatalf("no failure in %d iterations", tc.iterations)
			}
			failing = failing[:min(len(failing), perBug)]
			shorter := 0
			for _, it := range failing {
				o := opts
				o.stopAtFailure = true
				tr := *it.Sched.Trace
				got, err := RunOnce(o, sched.Config{Strategy: "lenient", Replay: &tr, Params: Params(o), NoEvents: true}, 0)
				if err != nil {
					t.Fatal(err)
				}
				want := it.Failure
				if got.Failure == nil {
					t.Errorf("iteration %d: stopped run passed, want %s", it.Index, want.Text)
					continue
				}
				if SignatureOf(got) != SignatureOf(it) || got.Failure.Kind != want.Kind || got.Failure.Text != want.Text {
					t.Errorf("iteration %d: stopped run fails %s %q, want %s %q", it.Index, SignatureOf(got), got.Failure.Text, SignatureOf(it), want.Text)
				}
				if (got.Failure.Check == nil) != (want.Check == nil) || got.Failure.Check != nil && *got.Failure.Check != *want.Check {
					t.Errorf("iteration %d: stopped run's check %+v, want %+v", it.Index, got.Failure.Check, want.Check)
				}
				if !isPrefix(got.Sched.Trace.Decisions, it.Sched.Trace.Decisions) {
					t.Errorf("iteration %d: the stopped run's %d decisions are not a prefix of the run's %d", it.Index, len(got.Sched.Trace.Decisions), len(it.Sched.Trace.Decisions))
				}
				if got.world.stopped {
					if got.Failure.Sched != nil || got.Sched.Steps != want.Check.Step {
						t.Errorf("iteration %d: stopped at step %d with scheduler failure %v, want step %d and none", it.Index, got.Sched.Steps, got.Failure.Sched, want.Check.Step)
					}
					if ShapeOf(got).Steps != ShapeOf(it).Steps {
						t.Errorf("iteration %d: stopped run's shape %v, the run's %v: want the same steps", it.Index, ShapeOf(got), ShapeOf(it))
					}
				}
				if got.Sched.Steps < it.Sched.Steps {
					shorter++
				}
			}
			t.Logf("%d failing iterations compared, %d stopped before the run's end", len(failing), shorter)
			if tc.stops && shorter == 0 {
				t.Errorf("none of %d failing iterations stopped before its end", len(failing))
			}
		})
	}
}
