package sched_test

import (
	"fmt"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// spinUntilDone: a waiter spins (Yield) while a worker finishes its job;
// "job pending" is hot until the worker is done. With broken set the
// worker never finishes its job but keeps running.
func spinUntilDone(broken bool) func() {
	return func() {
		done := false
		sched.SetHot("job pending", true)
		sched.GoNamed("waiter", func() {
			for !done {
				sched.Yield()
			}
		})
		sched.GoNamed("worker", func() {
			for i := 0; ; i++ {
				sched.Yield()
				if i == 3 && !broken {
					done = true
					sched.SetHot("job pending", false)
					return
				}
			}
		})
	}
}

// TestLivenessFairness: steps in PCT's and POS's unfair phase (the first
// ExpectedSteps) do not count towards a hot condition, so a spinning
// machine that starves the worker there is not reported; a worker that
// never finishes is reported under every fair strategy.
func TestLivenessFairness(t *testing.T) {
	for _, strategy := range []string{"random", "pct", "pos"} {
		t.Run(strategy, func(t *testing.T) {
			for seed := uint64(0); seed < 200; seed++ {
				cfg := sched.Config{Strategy: strategy, Seed: seed, ExpectedSteps: 200, LivenessSteps: 100, MaxSteps: 5000}
				if res := mustRun(t, cfg, spinUntilDone(false)); res.Failure != nil {
					t.Fatalf("seed %d, correct program: %v", seed, res.Failure)
				}
				res := mustRun(t, cfg, spinUntilDone(true))
				if res.Failure == nil || res.Failure.Kind != sched.Liveness {
					t.Fatalf("seed %d, broken program: got %v, want a liveness failure", seed, res.Failure)
				}
				wantStep := int64(102) // hot since step 1
				if strategy != "random" {
					wantStep = 301
				}
				want := fmt.Sprintf(`liveness violation at step %d: hot condition "job pending" held for more than 100 fair steps`, wantStep)
				if got := res.Failure.Error(); got != want {
					t.Fatalf("seed %d: got %q, want %q", seed, got, want)
				}
			}
		})
	}
}

func TestReport(t *testing.T) {
	res := mustRun(t, sched.Config{Strategy: "dfs", Params: []sched.Param{{Key: "bug", Value: "3"}, {Key: "note", Value: "a b"}}}, func() {
		sched.Logf("early")
		sched.Yield()
		sched.Yield()
		sched.Logf("late")
		sched.Fail(fmt.Errorf("broken"))
	})
	want := `=== sched run: strategy dfs, seed 0 (depth 0, expected-steps 100, max-steps 100000, liveness-steps 50000), 3 steps, 1 machines
params: bug=3 note="a b"
--- failure (assertion)
assertion failed in machine 0 "main" at step 3: broken
--- events of the last 1 steps (2 events)
step 3 [0 main]: late
step 3 [sched]: run failed: assertion failed in machine 0 "main" at step 3: broken
`
	if got := res.Report(1); got != want {
		t.Errorf("Report:\ngot:\n%s\nwant:\n%s", got, want)
	}
}
