package sched_test

import (
	"context"
	"fmt"

	"github.com/migratingtable/migratingtable/sched"
)

// Shrink a failing run of the lost update, found by the random strategy,
// to its smallest failing schedule.
func ExampleShrink() {
	// Two to four machines each increment a counter, without a lock.
	prog := func() {
		n := 2 + sched.Choose(3)
		x := 0
		var wg sched.WaitGroup
		for range n {
			wg.Add(1)
			sched.Go(func() {
				defer wg.Done()
				v := x
				sched.Yield()
				x = v + 1
			})
		}
		wg.Wait()
		sched.Assertf(x == n, "counter is %d, want %d", x, n)
	}
	var failing *sched.Result
	for seed := uint64(1); failing == nil; seed++ {
		res, _ := sched.Run(sched.Config{Strategy: "random", Seed: seed, NoEvents: true}, prog)
		if res.Failure != nil {
			failing = res
		}
	}
	sameFailure := func(cfg sched.Config) (*sched.Result, bool) {
		res, err := sched.Run(cfg, prog)
		return res, err == nil && res.Failure != nil && res.Failure.Kind == sched.Assertion
	}
	sr, err := sched.Shrink(context.Background(), failing.Trace, sameFailure, sched.ShrinkOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Two machines (Choose 0). Main starts them and is preempted at its
	// Wait; machine 1 reads the counter and yields; machine 2 preempts
	// it, reads, writes 1 and exits; machine 1 writes 1.
	fmt.Printf("from %v\nto   %v\n", sr.Original, sr.Shrunk)
	fmt.Println(sr.Result.Failure)
	fmt.Println(sr.Result.Trace.Decisions)
	// Output:
	// from 12 steps, 3 preemptions, 4 machines, 0 faults
	// to   9 steps, 2 preemptions, 3 machines, 0 faults
	// assertion failed in machine 0 "main" at step 9: counter is 1, want 2
	// [s 0 c 0/3 s 0 s 0 s 1 s 2 s 2 s 1 s 0]
}
