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
