package sched_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// A ported GoKer kernel: etcd bug 6873, from GoBench's GoKer suite
// (github.com/timmyyuan/gobench, gobench/goker/blocking/etcd/6873/
// etcd6873_test.go; etcd's fix is commit 7618fdd1d642). The kernel is a
// reduction of etcd code (Apache License 2.0); the GoBench repository
// states no license of its own. The port changes the imports (sync ->
// sched), the go statements (sched.Go), the channel operations (methods
// of sched.Chan, sched.Select) and the test entry point (an Explorer).
//
// stop holds the lock while it waits for the coalescing goroutine to
// finish, and that goroutine needs the lock for the update it is
// coalescing. The test's main returns at once, as the original test does,
// so the two goroutines are left blocked: a leak. The fix releases the
// lock before waiting.
type watchBroadcasts struct {
	mu      sched.Mutex
	updatec *sched.Chan[*watchBroadcast]
	donec   *sched.Chan[struct{}]
	fixed   bool
}

type watchBroadcast struct{}

func newWatchBroadcasts(fixed bool) *watchBroadcasts {
	wbs := &watchBroadcasts{
		updatec: sched.NewChan[*watchBroadcast](1),
		donec:   sched.NewChan[struct{}](0),
		fixed:   fixed,
	}
	sched.Go(func() {
		defer wbs.donec.Close()
		for {
			wb, ok := wbs.updatec.RecvOK()
			if !ok {
				break
			}
			wbs.coalesce(wb)
		}
	})
	return wbs
}

func (wbs *watchBroadcasts) coalesce(*watchBroadcast) {
	wbs.mu.Lock()
	wbs.mu.Unlock()
}

func (wbs *watchBroadcasts) stop() {
	wbs.mu.Lock()
	if wbs.fixed {
		wbs.updatec.Close()
		wbs.mu.Unlock()
		wbs.donec.Recv()
		return
	}
	defer wbs.mu.Unlock()
	wbs.updatec.Close()
	wbs.donec.Recv()
}

func (wbs *watchBroadcasts) update(wb *watchBroadcast) {
	sched.Select(wbs.updatec.SendCase(wb, nil), sched.Default(nil))
}

func Example() {
	kernel := func(fixed bool) func() {
		return func() {
			wbs := newWatchBroadcasts(fixed)
			wbs.update(&watchBroadcast{})
			sched.Go(wbs.stop)
		}
	}
	// Depth-first search with iterative deepening over the number of
	// preemptions, up to 2.
	for _, fixed := range []bool{false, true} {
		ex, _ := sched.NewExplorer(sched.Config{Strategy: "dfs", Depth: 2})
		found := false
		for !found {
			res, err := ex.Next(kernel(fixed))
			if errors.Is(err, sched.ErrExhausted) {
				break
			}
			if res.Failure != nil {
				fmt.Printf("bound %d, schedule %d: %v\n", ex.Bound(), ex.Schedules(), res.Failure)
				found = true
			}
		}
		if !found {
			fmt.Printf("fixed: no failure; schedules per preemption bound %v\n", ex.SchedulesPerBound())
		}
	}
	// Output:
	// bound 1, schedule 2: leak at step 11: machine 1 "g1" still blocked on Mutex.Lock (example_test.go:54) after main returned, held by machine 2 "g2"; machine 2 "g2" still blocked on Chan.Recv (example_test.go:68) after main returned
	// fixed: no failure; schedules per preemption bound [2 23 155]
}

// A lease expiring under a stall: a client process takes a lease from a
// store (durable state kept by the root process), checks that it still
// holds it, and writes. A stall of the client between the check and the
// write — a GC pause, a SIGSTOP — outlasts the lease: a second client
// takes it over and writes, then the stalled client, resuming, writes
// too. A strategy with a fault budget finds the stall; the trace replays
// it exactly. (The fix, a fencing token checked by the store, is in the
// package's tests.)
func Example_lease() {
	const term = 10 * time.Second
	prog := func() {
		holder, expiry := "", time.Time{}
		var writes []string
		client := func(name string) {
			for {
				got := false
				sched.Durable(&holder, func() {
					if now := sched.Now(); holder == "" || !now.Before(expiry) {
						holder, expiry, got = name, now.Add(term), true
					}
				})
				if got {
					break
				}
				sched.Sleep(time.Second)
			}
			myExpiry := sched.Now().Add(term)
			if sched.Now().Before(myExpiry) { // still mine: write
				sched.Durable(&holder, func() {
					writes = append(writes, name)
					if holder != name {
						sched.Fail(fmt.Errorf("%s wrote at +%v after its lease passed to %s", name, sched.Since(sched.DefaultStart), holder))
					}
				})
			}
		}
		a := sched.StartProcess("a", func() { client("a") }, sched.ProcessOptions{})
		b := sched.StartProcess("b", func() { sched.Sleep(time.Second); client("b") }, sched.ProcessOptions{})
		a.Wait()
		b.Wait()
	}
	cfg := sched.Config{Strategy: "pct", Faults: 1, NoCrash: true, MaxStall: 30 * time.Second, ExpectedSteps: 20}
	ex, _ := sched.NewExplorer(cfg)
	for {
		res, _ := ex.Next(prog)
		if res.Failure == nil {
			continue
		}
		fmt.Println("iteration", ex.Iteration()-1)
		fmt.Println(res.Failure)
		for _, f := range res.Faults {
			fmt.Println(f)
		}
		var file strings.Builder
		res.Trace.Write(&file)
		tr, _ := sched.Parse(strings.NewReader(file.String()))
		again, _ := sched.Run(sched.Config{Strategy: "replay", Replay: tr}, prog)
		fmt.Println("replay:", again.Failure.Error() == res.Failure.Error())
		return
	}
	// Output:
	// iteration 44
	// assertion failed in machine 1 "a" at step 28: a wrote at +24.385518388s after its lease passed to b
	// step 4 (+0s): stall process 1 "a" for 24.385518388s
	// replay: true
}

// Two machines increment a counter without a lock. Depth-first search
// finds the lost update; the failing trace replays it exactly.
func Example_replay() {
	prog := func() {
		x := 0
		var wg sched.WaitGroup
		for _, name := range []string{"inc1", "inc2"} {
			wg.Add(1)
			sched.GoNamed(name, func() {
				v := x
				sched.Yield() // another machine may run here
				x = v + 1
				wg.Done()
			})
		}
		wg.Wait()
		sched.Assertf(x == 2, "counter is %d, want 2", x)
	}
	ex, _ := sched.NewExplorer(sched.Config{Strategy: "dfs"})
	for {
		res, err := ex.Next(prog)
		if errors.Is(err, sched.ErrExhausted) {
			fmt.Println("no bug")
			return
		}
		if res.Failure == nil {
			continue
		}
		fmt.Printf("schedule %d: %v\n", ex.Schedules(), res.Failure)
		var file strings.Builder
		res.Trace.Write(&file)
		tr, _ := sched.Parse(strings.NewReader(file.String()))
		again, _ := sched.Run(sched.Config{Strategy: "replay", Replay: tr}, prog)
		fmt.Println("replay:", again.Failure)
		return
	}
	// Output:
	// schedule 2: assertion failed in machine 0 "main" at step 9: counter is 1, want 2
	// replay: assertion failed in machine 0 "main" at step 9: counter is 1, want 2
}

// A data race with no visible effect (GoKer's kubernetes#80284): two
// machines set a callback without a lock. Marked Racy, the field's
// accesses are checked for happens-before order, and the very first
// schedule reports the race; with a Mutex around the writes every
// schedule passes.
func ExampleRacy() {
	prog := func(locked bool) func() {
		return func() {
			var mu sched.Mutex
			var onRotate sched.Racy[func()]
			var wg sched.WaitGroup
			for range 2 {
				wg.Go(func() {
					if locked {
						mu.Lock()
						defer mu.Unlock()
					}
					onRotate.Store(func() {})
				})
			}
			wg.Wait()
		}
	}
	res, _ := sched.Run(sched.Config{Strategy: "random", Seed: 1}, prog(false))
	fmt.Println(res.Failure)
	ex, _ := sched.NewExplorer(sched.Config{Strategy: "dfs"})
	failed := 0
	for !ex.Exhausted() {
		if res, _ := ex.Next(prog(true)); res.Failure != nil {
			failed++
		}
	}
	fmt.Printf("locked: %d schedules, %d failed\n", ex.Schedules(), failed)
	// Output:
	// data race at step 8: Store by machine 2 "g2" at example_test.go:232 and Store by machine 1 "g1" at example_test.go:232, on the same Racy, are not ordered by happens-before
	// locked: 4518 schedules, 0 failed
}
