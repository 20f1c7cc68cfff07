package sched_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// The classic small concurrency bugs, each with a correct variant. Every
// program is a main machine that spawns workers, waits for them and
// checks the outcome.

func spawnAll(names []string, f func(i int)) {
	var wg sched.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sched.GoNamed(name, func() {
			defer wg.Done()
			f(i)
		})
	}
	wg.Wait()
}

// lostUpdateProg: two unsynchronised read-modify-writes (buggy) or the
// same under a Mutex (correct).
func lostUpdateProg(correct bool) func() {
	return func() {
		var mu sched.Mutex
		x := 0
		spawnAll([]string{"inc1", "inc2"}, func(_ int) {
			if correct {
				mu.Lock()
				defer mu.Unlock()
			}
			v := x
			sched.Yield()
			x = v + 1
		})
		sched.Assertf(x == 2, "counter is %d, want 2", x)
	}
}

// atomicityProg: check-then-act on a shared pointer that another machine
// clears: the buggy checker dereferences nil.
func atomicityProg(correct bool) func() {
	return func() {
		var mu sched.Mutex
		v := 7
		p := &v
		spawnAll([]string{"user", "clearer"}, func(i int) {
			if correct {
				mu.Lock()
				defer mu.Unlock()
			}
			if i == 0 {
				if p != nil {
					sched.Yield()
					_ = *p // nil dereference when cleared in between
				}
				return
			}
			p = nil
		})
	}
}

// orderProg: a user assumes the initializer ran first (buggy) instead
// of waiting for it (correct).
func orderProg(correct bool) func() {
	return func() {
		config := ""
		ready := sched.NewFuture[struct{}]()
		spawnAll([]string{"init", "user"}, func(i int) {
			if i == 0 {
				sched.Yield()
				config = "loaded"
				ready.Resolve(struct{}{})
				return
			}
			if correct {
				ready.Wait()
			}
			sched.Assertf(config == "loaded", "config used before it was loaded")
		})
	}
}

// lockOrderProg: two machines take two locks in opposite orders (buggy)
// or in the same order (correct).
func lockOrderProg(correct bool) func() {
	return func() {
		var a, b sched.Mutex
		spawnAll([]string{"ab", "ba"}, func(i int) {
			first, second := &a, &b
			if i == 1 && !correct {
				first, second = &b, &a
			}
			first.Lock()
			second.Lock()
			second.Unlock()
			first.Unlock()
		})
	}
}

// livelockProg: two machines raise a flag, then wait while the other's
// flag is up (buggy: both spin forever when both flags are up), or use
// Peterson's algorithm (correct).
func livelockProg(correct bool) func() {
	return func() {
		var flag [2]bool
		turn, inside := 0, 0
		spawnAll([]string{"p0", "p1"}, func(i int) {
			j := 1 - i
			flag[i] = true
			sched.Yield()
			if correct {
				turn = j
				sched.Yield()
			}
			for flag[j] && (!correct || turn == j) {
				sched.Yield()
			}
			inside++
			sched.Assertf(inside == 1, "%d machines in the critical section", inside)
			sched.Yield()
			inside--
			flag[i] = false
		})
	}
}

type bugCase struct {
	name  string
	prog  func(correct bool) func()
	kinds []sched.Kind // acceptable failure kinds of the buggy variant
	fair  bool         // needs a fair strategy (no dfs)
}

var bugCases = []bugCase{
	{"lost update", lostUpdateProg, []sched.Kind{sched.Assertion}, false},
	{"atomicity violation", atomicityProg, []sched.Kind{sched.Panic}, false},
	{"order violation", orderProg, []sched.Kind{sched.Assertion}, false},
	{"lock-order deadlock", lockOrderProg, []sched.Kind{sched.Deadlock}, false},
	{"livelock", livelockProg, []sched.Kind{sched.StepBound, sched.Liveness}, true},
}

func bugConfig(strategy string) sched.Config {
	return sched.Config{Strategy: strategy, Seed: 2026, MaxSteps: 500, ExpectedSteps: 20, NoEvents: true}
}

// TestClassicBugs runs each buggy program for 1,000 iterations (100 with
// -short) under every strategy, logs how many iterations found the bug,
// and requires each strategy to find it at least once; dfs must find it
// within its first schedules. The correct variants must pass every
// iteration.
func TestClassicBugs(t *testing.T) {
	iters := 1000
	if testing.Short() {
		iters = 100
	}
	strategies := []string{"random", "pct", "pos", "portfolio", "dfs"}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-20s %8s %8s %8s %9s %8s   (failing iterations of %d)\n", "bug", "random", "pct", "pos", "portfolio", "dfs", iters)
	for _, bc := range bugCases {
		fmt.Fprintf(&table, "%-20s", bc.name)
		for _, strategy := range strategies {
			if strategy == "dfs" && bc.fair {
				fmt.Fprintf(&table, " %8s", "n/a")
				continue
			}
			ex, err := sched.NewExplorer(bugConfig(strategy))
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for i := 0; i < iters && !ex.Exhausted(); i++ {
				res, err := ex.Next(bc.prog(false))
				if err != nil {
					t.Fatal(err)
				}
				if f := res.Failure; f != nil {
					ok := false
					for _, k := range bc.kinds {
						ok = ok || f.Kind == k
					}
					if !ok {
						t.Errorf("%s/%s iteration %d: unexpected failure %v", bc.name, strategy, i, f)
					}
					found++
				}
			}
			if strategy == "dfs" {
				fmt.Fprintf(&table, " %4d/%-3d", found, ex.Schedules())
			} else {
				w := 8
				if strategy == "portfolio" {
					w = 9
				}
				fmt.Fprintf(&table, " %*d", w, found)
			}
			if found == 0 {
				t.Errorf("%s: strategy %s did not find the bug in %d iterations", bc.name, strategy, ex.Iteration())
			}
		}
		table.WriteString("\n")
	}
	t.Log(table.String())
}

func TestClassicBugsCorrectVariantsPass(t *testing.T) {
	iters := 300
	if testing.Short() {
		iters = 50
	}
	for _, bc := range bugCases {
		for _, strategy := range []string{"random", "pct", "pos", "dfs"} {
			if strategy == "dfs" && bc.fair {
				continue
			}
			t.Run(bc.name+"/"+strategy, func(t *testing.T) {
				ex, err := sched.NewExplorer(bugConfig(strategy))
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < iters; i++ {
					res, err := ex.Next(bc.prog(true))
					if errors.Is(err, sched.ErrExhausted) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if res.Failure != nil {
						t.Fatalf("iteration %d: %v", i, res.Failure)
					}
				}
			})
		}
	}
}
