package harness_test

import (
	"context"
	"fmt"
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
			rec, err := it.History().ParseRecord()
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.Initial) != 0 || len(rec.History) != 0 {
				t.Errorf("history got %d initial rows and %d operations, want none", len(rec.Initial), len(rec.History))
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
		{"backend faults negative", func(w *harness.Workload) { w.BackendFaults = -1 }, "backend faults -1 out of range 0..20"},
		{"backend faults huge", func(w *harness.Workload) { w.BackendFaults = maxInt }, "backend faults"},
		{"backend faults at the bound", func(w *harness.Workload) { w.BackendFaults = harness.MaxBackendFaults }, ""},
		{"backend faults without leases", func(w *harness.Workload) { w.Leases, w.Faults, w.ClockSkew = false, 0, false }, "backend faults and clock skew need the production world"},
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

// TestExploreValidateLimits: values of the command line's flags that
// would exhaust memory or time, or wrap around, are refused.
func TestExploreValidateLimits(t *testing.T) {
	const maxInt = int(^uint(0) >> 1)
	tests := []struct {
		name string
		edit func(*harness.ExploreConfig)
		want string
	}{
		{"defaults", func(*harness.ExploreConfig) {}, ""},
		{"depth at the limit", func(c *harness.ExploreConfig) { c.Depth = harness.MaxDepth }, ""},
		{"depth huge", func(c *harness.ExploreConfig) { c.Depth = 1_000_000_000 }, "depth 1000000000 out of range 0..400"},
		{"max steps huge", func(c *harness.ExploreConfig) { c.MaxSteps = maxInt }, "max steps"},
		{"parallel huge", func(c *harness.ExploreConfig) { c.Parallel = 1_000_000 }, "parallel 1000000 out of range 1..256"},
		{"parallel 0", func(c *harness.ExploreConfig) { c.Parallel = 0 }, "parallel 0"},
		{"iterations huge", func(c *harness.ExploreConfig) { c.Iterations = maxInt }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := harness.ExploreConfig{Options: harness.Options{Workload: harness.DefaultWorkload(), Bug: mtable.NoBug}, Strategy: "pct", Iterations: 1, Parallel: 1}
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: got %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestShardSize(t *testing.T) {
	const maxInt = int(^uint(0) >> 1)
	tests := []struct{ iterations, shard, shards, want int }{
		{10, 1, 3, 4}, {10, 2, 3, 3}, {10, 3, 3, 3}, {2, 3, 3, 0}, {0, 1, 1, 0}, {7, 1, 1, 7},
		{maxInt, 1, 1, maxInt},
		{maxInt, 2, maxInt, 1},      // (iterations-first+shards-1) overflowed to a negative count
		{maxInt, maxInt, maxInt, 1}, // iteration maxInt-1
		{maxInt - 1, maxInt, maxInt, 0},
		{maxInt, 1, 2, maxInt/2 + 1},
	}
	for _, tt := range tests {
		if got := harness.ShardSize(tt.iterations, tt.shard, tt.shards); got != tt.want {
			t.Errorf("ShardSize(%d, %d, %d): got %d, want %d", tt.iterations, tt.shard, tt.shards, got, tt.want)
		}
	}
}

// TestExploreContextCancelled: a cancelled exploration stops starting
// iterations, records the ones it ran (a prefix, in order) and says it
// was interrupted; one that ran everything is not marked.
func TestExploreContextCancelled(t *testing.T) {
	for _, strategy := range []string{"portfolio", "dfs"} {
		for _, parallel := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/parallel=%d", strategy, parallel), func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var seen []int
				c := harness.ExploreConfig{Options: harness.Options{Workload: harness.DefaultWorkload(), Bug: mtable.NoBug},
					Strategy: strategy, Seed: 1, Iterations: 1000, Parallel: parallel,
					OnIteration: func(it *harness.Iteration) {
						seen = append(seen, it.Index)
						if len(seen) == 5 {
							cancel()
						}
					}}
				sum, err := harness.ExploreContext(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				if !sum.Interrupted {
					t.Errorf("Interrupted got false, want true")
				}
				if sum.Iterations < 5 || sum.Iterations > 5+64*parallel || sum.Iterations != len(seen) {
					t.Errorf("iterations got %d (callbacks %d), want 5 and at most those in flight", sum.Iterations, len(seen))
				}
				for i, idx := range seen {
					if idx != i {
						t.Fatalf("recorded iterations %v: want the prefix 0..%d in order", seen, len(seen)-1)
					}
				}
			})
		}
	}
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		sum, err := harness.ExploreContext(ctx, harness.ExploreConfig{Options: harness.Options{Workload: harness.DefaultWorkload(), Bug: mtable.NoBug},
			Strategy: "random", Iterations: 10, Parallel: 2})
		if err != nil || sum.Iterations != 0 || !sum.Interrupted {
			t.Errorf("got %d iterations, interrupted %v, err %v; want 0, true, nil", sum.Iterations, sum.Interrupted, err)
		}
	})
	t.Run("finished before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		c := harness.ExploreConfig{Options: harness.Options{Workload: harness.DefaultWorkload(), Bug: mtable.NoBug},
			Strategy: "random", Iterations: 3, Parallel: 1,
			OnIteration: func(it *harness.Iteration) {
				if it.Index == 2 {
					cancel()
				}
			}}
		sum, err := harness.ExploreContext(ctx, c)
		if err != nil || sum.Iterations != 3 || sum.Interrupted {
			t.Errorf("got %d iterations, interrupted %v, err %v; want 3, false, nil", sum.Iterations, sum.Interrupted, err)
		}
	})
}
