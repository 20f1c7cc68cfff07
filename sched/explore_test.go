package sched_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// TestDFSTwoByTwo: two machines of two atomic steps each have exactly
// C(4,2) = 6 interleavings; dfs runs each exactly once and then reports
// exhaustion.
func TestDFSTwoByTwo(t *testing.T) {
	ex, err := sched.NewExplorer(sched.Config{Strategy: "dfs"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i := 0; i < 100; i++ {
		var log []string
		res, err := ex.Next(func() {
			// main is machine a; it spawns b first.
			sched.GoNamed("b", func() {
				log = append(log, "b1")
				sched.Yield()
				log = append(log, "b2")
			})
			log = append(log, "a1")
			sched.Yield()
			log = append(log, "a2")
		})
		if errors.Is(err, sched.ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if res.Failure != nil {
			t.Fatalf("schedule %d: %v", i, res.Failure)
		}
		seen[strings.Join(log, " ")]++
	}
	if !ex.Exhausted() {
		t.Fatalf("dfs not exhausted after %d schedules", ex.Schedules())
	}
	if got := ex.Schedules(); got != 6 {
		t.Errorf("Schedules: got %d, want 6", got)
	}
	var got []string
	for k, n := range seen {
		if n != 1 {
			t.Errorf("interleaving %q run %d times, want once", k, n)
		}
		got = append(got, k)
	}
	sort.Strings(got)
	want := []string{
		"a1 a2 b1 b2", "a1 b1 a2 b2", "a1 b1 b2 a2",
		"b1 a1 a2 b2", "b1 a1 b2 a2", "b1 b2 a1 a2",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("interleavings:\ngot  %q\nwant %q", got, want)
	}
	if _, err := ex.Next(func() {}); !errors.Is(err, sched.ErrExhausted) {
		t.Errorf("Next after exhaustion: got %v, want ErrExhausted", err)
	}
}

// TestDFSChoices: dfs enumerates Choose values too.
func TestDFSChoices(t *testing.T) {
	ex, err := sched.NewExplorer(sched.Config{Strategy: "dfs"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[2]int]bool{}
	for !ex.Exhausted() {
		if _, err := ex.Next(func() {
			a := sched.Choose(3)
			b := 0
			if sched.Bool() {
				b = 1
			}
			seen[[2]int{a, b}] = true
		}); err != nil {
			t.Fatal(err)
		}
	}
	if ex.Schedules() != 6 || len(seen) != 6 {
		t.Errorf("got %d schedules and %d distinct outcomes, want 6 and 6", ex.Schedules(), len(seen))
	}
}

func TestIterationSeed(t *testing.T) {
	seen := map[uint64]bool{}
	for i := 0; i < 1000; i++ {
		s := sched.IterationSeed(314159, i)
		if seen[s] {
			t.Fatalf("IterationSeed(314159, %d) repeats an earlier seed", i)
		}
		seen[s] = true
	}
	if sched.IterationSeed(1, 0) == sched.IterationSeed(2, 0) {
		t.Errorf("different bases give the same seed")
	}
	// The Explorer's iteration i is Run with IterationSeed(base, i).
	ex, err := sched.NewExplorer(sched.Config{Strategy: "random", Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		got, err := ex.Next(busy)
		if err != nil {
			t.Fatal(err)
		}
		want := mustRun(t, sched.Config{Strategy: "random", Seed: sched.IterationSeed(42, i), Iteration: i}, busy)
		if traceHash(t, got) != traceHash(t, want) {
			t.Errorf("iteration %d: Explorer trace differs from Run with IterationSeed", i)
		}
	}
}

func TestPortfolio(t *testing.T) {
	ex, err := sched.NewExplorer(sched.Config{Strategy: "portfolio", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := 0; i < 6; i++ {
		res, err := ex.Next(busy)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Trace.Strategy)
	}
	want := []string{"random", "pct", "pos", "random", "pct", "pos"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("strategies: got %v, want %v", got, want)
	}
}

// workers runs n machines of k atomic steps each.
func workers(n, k int) func() {
	return func() {
		var wg sched.WaitGroup
		for i := range n {
			wg.Go(func() {
				for range k {
					sched.Yield()
				}
				_ = i
			})
		}
		wg.Wait()
	}
}

// TestDFSPreemptionBound: with Depth D, dfs deepens over preemption
// bounds 0..D; it prints the schedules of each bound and states whether
// the search was complete. A program whose whole space fits a bound
// stops there, complete; a big one is explored within the bound only.
func TestDFSPreemptionBound(t *testing.T) {
	tests := []struct {
		name      string
		prog      func()
		depth     int
		perBound  string
		complete  bool
		wantFound int // the bound of the first failing schedule, -1 none
	}{
		{"2 machines x 2 steps", workers(2, 2), 12, "[2 15 71 216 446 679 811 840]", true, -1},
		{"3 machines x 10 steps", workers(3, 10), 2, "[6 230 6287]", false, -1},
		{"lock-order deadlock", lockOrder, 12, "[1 6 23 51 85 112 124 128]", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := sched.NewExplorer(sched.Config{Strategy: "dfs", Depth: tt.depth})
			if err != nil {
				t.Fatal(err)
			}
			found := -1
			for {
				res, err := ex.Next(tt.prog)
				if errors.Is(err, sched.ErrExhausted) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.Failure != nil && found < 0 {
					found = ex.Bound()
				}
			}
			t.Logf("%s: schedules per preemption bound %v (total %d), complete: %v", tt.name, ex.SchedulesPerBound(), ex.Schedules(), ex.Complete())
			if got := fmt.Sprint(ex.SchedulesPerBound()); got != tt.perBound {
				t.Errorf("schedules per bound: got %s, want %s", got, tt.perBound)
			}
			if ex.Complete() != tt.complete || !ex.Exhausted() {
				t.Errorf("complete %v exhausted %v, want complete %v", ex.Complete(), ex.Exhausted(), tt.complete)
			}
			if found != tt.wantFound {
				t.Errorf("first failure at bound %d, want %d", found, tt.wantFound)
			}
		})
	}
	// Unbounded dfs: the sizes the complete deepenings ended with.
	for prog, want := range map[string]int{"workers": 840, "lockOrder": 128} {
		ex, _ := sched.NewExplorer(sched.Config{Strategy: "dfs"})
		for !ex.Exhausted() {
			f := workers(2, 2)
			if prog == "lockOrder" {
				f = lockOrder
			}
			if _, err := ex.Next(f); err != nil {
				t.Fatal(err)
			}
		}
		if ex.Schedules() != want || !ex.Complete() || ex.Bound() != -1 || fmt.Sprint(ex.SchedulesPerBound()) != fmt.Sprintf("[%d]", want) {
			t.Errorf("unbounded %s: %d schedules, complete %v, bound %d; want %d, true, -1", prog, ex.Schedules(), ex.Complete(), ex.Bound(), want)
		}
	}
}
