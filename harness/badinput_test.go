package harness_test

import (
	"testing"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// TestRunEndsBeforeLoad: a run the scheduler ends before the main
// machine has loaded the initial rows (a step bound of one step, a
// replay that diverges in the workload's first draws) is judged from
// empty tables: it reports the scheduler's failure, and its history is
// empty, instead of panicking on a missing initial revision.
func TestRunEndsBeforeLoad(t *testing.T) {
	opts := harness.Options{Workload: harness.DefaultWorkload(), Bug: mtable.NoBug}
	c := harness.ExploreConfig{Options: opts, Strategy: "random", Seed: 1, MaxSteps: 1}
	tests := []struct {
		name string
		run  func() (*harness.Iteration, error)
		kind string
	}{
		{"step bound 1", func() (*harness.Iteration, error) { return harness.RunOnce(opts, c.SchedConfig(0), 0) }, "step-bound"},
		{"replay diverging at step 1", func() (*harness.Iteration, error) {
			// The swarm's first draw is a choice; a schedule decision there
			// diverges before anything is loaded.
			tr := &sched.Trace{Version: sched.TraceVersion, Strategy: "random", Params: harness.Params(opts),
				Decisions: []sched.Decision{{Kind: sched.Schedule, Value: 0}, {Kind: sched.Schedule, Value: 0}}}
			return harness.Replay(opts, tr, 0)
		}, "divergence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := tt.run()
			if err != nil {
				t.Fatal(err)
			}
			if it.Failure == nil || it.Failure.Kind != tt.kind {
				t.Fatalf("failure got %+v, want kind %s", it.Failure, tt.kind)
			}
			if h := it.History(); len(h.Initial) != 0 || len(h.Calls) != 0 {
				t.Errorf("history got %d initial rows and %d calls, want none", len(h.Initial), len(h.Calls))
			}
		})
	}
}
