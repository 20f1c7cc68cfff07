package harness_test

import (
	"strings"
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

// TestWorkloadValidate: every parameter a trace file can carry is
// checked, so an edited file is refused before it runs instead of
// panicking in a machine (initial rows listed twice) or overflowing a
// sum of weights into a Choose bound.
func TestWorkloadValidate(t *testing.T) {
	const maxInt = int(^uint(0) >> 1)
	tests := []struct {
		name string
		edit func(*harness.Workload)
		want string // substring of the error; "" for none
	}{
		{"default", func(*harness.Workload) {}, ""},
		{"initial row twice", func(w *harness.Workload) { w.InitialRows = []int{0, 1, 0} }, "initial row 0 listed twice"},
		{"initial row out of range", func(w *harness.Workload) { w.InitialRows = []int{6} }, "initial row 6 out of range"},
		{"latency negative", func(w *harness.Workload) { w.Latency = -1 }, "latency -1 out of range 0..100"},
		{"latency huge", func(w *harness.Workload) { w.Latency = maxInt }, "out of range 0..100"},
		{"weights overflow", func(w *harness.Workload) { w.BatchWeight, w.QueryWeight = maxInt, maxInt }, "call weights must be in 0..1000"},
		{"weight negative", func(w *harness.Workload) { w.StreamWeight = -1 }, "call weights"},
		{"weights all zero", func(w *harness.Workload) { w.BatchWeight, w.QueryWeight, w.RetrieveWeight, w.StreamWeight = 0, 0, 0, 0 }, "not all 0"},
		{"weights at the bound", func(w *harness.Workload) { w.BatchWeight = 1000 }, ""},
		{"apps", func(w *harness.Workload) { w.Apps = 17 }, "apps 17"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := harness.DefaultWorkload()
			tt.edit(&w)
			err := w.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: got %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
