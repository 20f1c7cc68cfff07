package sched_test

import (
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// TestCondSignalFIFO: Signal wakes the machine that has waited longest.
func TestCondSignalFIFO(t *testing.T) {
	for seed := uint64(0); seed < 100; seed++ {
		var woke []string
		res := mustRun(t, sched.Config{Seed: seed}, func() {
			var mu sched.Mutex
			cond := sched.NewCond(&mu)
			waiting := 0
			var order []string
			var wg sched.WaitGroup
			for _, name := range []string{"w1", "w2", "w3"} {
				wg.Add(1)
				sched.GoNamed(name, func() {
					defer wg.Done()
					mu.Lock()
					order = append(order, name)
					waiting++
					cond.Wait()
					woke = append(woke, name)
					mu.Unlock()
				})
			}
			mu.Lock()
			for waiting < 3 {
				mu.Unlock()
				sched.Yield()
				mu.Lock()
			}
			mu.Unlock()
			for i := 0; i < 3; i++ {
				mu.Lock()
				n := len(woke)
				cond.Signal()
				mu.Unlock()
				for {
					mu.Lock()
					done := len(woke) > n
					mu.Unlock()
					if done {
						break
					}
					sched.Yield()
				}
				sched.Assertf(woke[i] == order[i], "signal %d woke %s, want %s (waited in order %v)", i, woke[i], order[i], order)
			}
			wg.Wait()
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
	}
}

func TestMisuseTexts(t *testing.T) {
	tests := []struct {
		name string
		prog func()
		want string
	}{
		{"Go with nil function", func() {
			sched.GoNamed("nothing", nil)
		}, `panic in machine 0 "main" at step 1: sched: Go("nothing") with a nil function`},
		{"negative WaitGroup", func() {
			var wg sched.WaitGroup
			wg.Done() // @wg-done
		}, `panic in machine 0 "main" at step 1: sched: negative WaitGroup counter (primitives_test.go:@wg-done)`},
		{"Cond.Wait without lock", func() {
			var mu sched.Mutex
			sched.NewCond(&mu).Wait()
		}, `panic in machine 0 "main" at step 1: sched: Cond.Wait with its Mutex unlocked`},
		{"Cond.Wait without read lock", func() {
			var rw sched.RWMutex
			rw.Lock()
			sched.NewCond(rw.RLocker()).Wait()
		}, `panic in machine 0 "main" at step 2: sched: Cond.Wait with its RWMutex not read-locked`},
		{"unlock of a mutex another machine unlocked", func() {
			var mu sched.Mutex
			mu.Lock()
			done := sched.NewFuture[int]()
			sched.GoNamed("other", func() { mu.Unlock(); done.Resolve(1) })
			done.Wait()
			mu.Unlock() // @unlock-twice
		}, `panic in machine 0 "main" at step 7: sched: Mutex.Unlock of unlocked mutex (primitives_test.go:@unlock-twice)`},
		{"RWMutex.Unlock of unlocked", func() {
			var rw sched.RWMutex
			rw.Unlock() // @rw-unlock
		}, `panic in machine 0 "main" at step 2: sched: RWMutex.Unlock of unlocked RWMutex (primitives_test.go:@rw-unlock)`},
		{"RWMutex.Unlock of a read lock", func() {
			rw := sched.RWMutex{Name: "state"}
			rw.RLock()
			rw.Unlock()
		}, `panic in machine 0 "main" at step 3: sched: RWMutex.Unlock of unlocked RWMutex "state"`},
		{"RWMutex.RUnlock of a write lock", func() {
			rw := sched.RWMutex{Name: "state"}
			rw.Lock()
			rw.RUnlock()
		}, `panic in machine 0 "main" at step 3: sched: RWMutex.RUnlock of unlocked RWMutex "state"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, sched.Config{Strategy: "dfs"}, tt.prog)
			if res.Failure == nil || res.Failure.Kind != sched.Panic {
				t.Fatalf("got %v, want a panic failure", res.Failure)
			}
			if got, want := res.Failure.Error(), lines(t, tt.want); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestMutexReuseAcrossRuns: a Mutex left locked by a failed run is
// unlocked for the next run.
func TestMutexReuseAcrossRuns(t *testing.T) {
	var mu sched.Mutex
	res := mustRun(t, sched.Config{}, func() {
		mu.Lock()
		sched.Assertf(false, "stop while holding the lock")
	})
	if res.Failure == nil {
		t.Fatal("first run passed, want its assertion")
	}
	res = mustRun(t, sched.Config{}, func() {
		mu.Lock()
		mu.Unlock()
	})
	if res.Failure != nil {
		t.Fatalf("second run: %v", res.Failure)
	}
}

// TestFailOutsideScheduler: without a scheduler Fail panics with the
// error itself, since there is no run to end.
func TestFailOutsideScheduler(t *testing.T) {
	defer func() {
		r := recover()
		if err, ok := r.(error); !ok || !strings.Contains(err.Error(), "outside") {
			t.Errorf("recovered %v, want the error passed to Fail", r)
		}
	}()
	sched.Fail(errOutside)
}

type outsideErr struct{}

func (outsideErr) Error() string { return "failed outside a run" }

var errOutside error = outsideErr{}
