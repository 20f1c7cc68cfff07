package harness_test

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

func config(bug mtable.Bug, parallel int) harness.ExploreConfig {
	return harness.ExploreConfig{
		Options:  harness.Options{Workload: originalWorld(), Bug: bug},
		Strategy: "portfolio", Seed: gateSeed, Iterations: 200, Parallel: parallel, KeepGoing: true,
	}
}

// traceHash hashes every decision and event of the iterations.
func traceHash(t *testing.T, c harness.ExploreConfig) string {
	t.Helper()
	h := sha256.New()
	c.Events = true
	for i := 0; i < c.Iterations; i++ {
		it, err := harness.RunOnce(c.Options, c.SchedConfig(i), 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(h, it.Sched.Trace.String())
		for _, e := range it.Sched.Events {
			fmt.Fprintln(h, e)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestDeterministic: the same seed gives the same decisions and the same
// event log, byte for byte, at any GOMAXPROCS.
func TestDeterministic(t *testing.T) {
	c := config(mtable.BugQueryStreamedBackUpNewStream, 1)
	c.Iterations = 50
	want := traceHash(t, c)
	for _, procs := range []int{1, 2, 8} {
		prev := runtime.GOMAXPROCS(procs)
		got := traceHash(t, c)
		runtime.GOMAXPROCS(prev)
		if got != want {
			t.Errorf("GOMAXPROCS %d: trace hash %s, want %s", procs, got, want)
		}
	}
}

// TestParallelAndShards: the summary does not depend on the number of
// workers, and shards partition the iteration space.
func TestParallelAndShards(t *testing.T) {
	summarize := func(c harness.ExploreConfig) string {
		var failing []int
		c.OnFailure = func(it *harness.Iteration) { failing = append(failing, it.Index) }
		sum, err := harness.Explore(c)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("iterations=%d failures=%d failing=%v kinds=%s", sum.Iterations, sum.Failures, failing, harness.SortedCounts(sum.ByKind))
	}
	one := summarize(config(mtable.BugEnsurePartitionSwitchedFromPopulated, 1))
	two := summarize(config(mtable.BugEnsurePartitionSwitchedFromPopulated, 2))
	if one != two {
		t.Errorf("parallel 1: %s\nparallel 2: %s", one, two)
	}
	if !strings.Contains(one, "failures=") || strings.Contains(one, "failures=0 ") {
		t.Fatalf("the comparison needs failures: %s", one)
	}
	// Stopping at the first failure reports the same iteration.
	c1, c2 := config(mtable.BugEnsurePartitionSwitchedFromPopulated, 1), config(mtable.BugEnsurePartitionSwitchedFromPopulated, 2)
	c1.KeepGoing, c2.KeepGoing = false, false
	if a, b := summarize(c1), summarize(c2); a != b {
		t.Errorf("first failure: parallel 1: %s, parallel 2: %s", a, b)
	}
	// Three shards together run every iteration once.
	seen := map[int]int{}
	total := 0
	for k := 1; k <= 3; k++ {
		c := config(mtable.BugEnsurePartitionSwitchedFromPopulated, 2)
		c.Shard, c.Shards = k, 3
		c.Progress = func(p harness.Progress) {}
		c.OnFailure = func(it *harness.Iteration) { seen[it.Index]++ }
		sum, err := harness.Explore(c)
		if err != nil {
			t.Fatal(err)
		}
		total += sum.Iterations
	}
	if total != 200 {
		t.Errorf("shards ran %d iterations, want 200", total)
	}
	var whole []int
	c := config(mtable.BugEnsurePartitionSwitchedFromPopulated, 2)
	c.OnFailure = func(it *harness.Iteration) { whole = append(whole, it.Index) }
	if _, err := harness.Explore(c); err != nil {
		t.Fatal(err)
	}
	for _, i := range whole {
		if seen[i] != 1 {
			t.Errorf("failing iteration %d seen %d times across shards, want 1", i, seen[i])
		}
	}
	if len(seen) != len(whole) {
		t.Errorf("shards found %d failing iterations, the whole run %d", len(seen), len(whole))
	}
}

// TestReplay: a failing iteration's trace, written and parsed back,
// reproduces the same failure with the same event log.
func TestReplay(t *testing.T) {
	c := config(mtable.BugEnsurePartitionSwitchedFromPopulated, 1)
	c.KeepGoing = false
	sum, err := harness.Explore(c)
	if err != nil || sum.First == nil {
		t.Fatalf("no failure to replay (err %v)", err)
	}
	tr, err := sched.Parse(strings.NewReader(sum.First.Sched.Trace.String()))
	if err != nil {
		t.Fatal(err)
	}
	opts, err := harness.OptionsFromTrace(tr)
	if err != nil {
		t.Fatal(err)
	}
	again, err := harness.Replay(opts, tr, 0)
	if err != nil {
		t.Fatal(err)
	}
	if again.Failure == nil {
		t.Fatalf("replay passed, want %q", sum.First.Failure.Text)
	}
	if got, want := again.Failure.Text, sum.First.Failure.Text; got != want {
		t.Errorf("replay failure:\n%s\nwant:\n%s", got, want)
	}
	if got, want := len(again.Sched.Events), len(sum.First.Sched.Events); got != want {
		t.Errorf("replay logged %d events, want %d", got, want)
	}
}

// TestBadOptions: unusable settings are errors, not panics.
func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*harness.ExploreConfig)
		want string
	}{
		{"strategy", func(c *harness.ExploreConfig) { c.Strategy = "bogus" }, `unknown strategy "bogus"`},
		{"bug", func(c *harness.ExploreConfig) { c.Bug = 99 }, "unknown bug 99"},
		{"parallel", func(c *harness.ExploreConfig) { c.Parallel = 0 }, "parallel 0"},
		{"shard", func(c *harness.ExploreConfig) { c.Shard, c.Shards = 4, 3 }, "shard 4/3"},
		{"apps", func(c *harness.ExploreConfig) { c.Workload.Apps = -1 }, "apps -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config(mtable.NoBug, 1)
			tc.edit(&c)
			_, err := harness.Explore(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestConstantGoroutines: iterations, failing or not, leave no
// goroutines behind.
func TestConstantGoroutines(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	before := runtime.NumGoroutine()
	for _, bug := range []mtable.Bug{mtable.NoBug, mtable.BugDeletePrimaryKey, mtable.BugQueryStreamedLock} {
		c := config(bug, 2)
		c.Iterations = n
		if _, err := harness.Explore(c); err != nil {
			t.Fatal(err)
		}
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
}
