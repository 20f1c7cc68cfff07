package sched_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/atomic"
)

// TestRWMutexExclusion: readers share the lock, a writer excludes
// everyone, over many schedules; both "two readers inside" and "writer
// inside" occur.
func TestRWMutexExclusion(t *testing.T) {
	sawShared := false
	for _, strategy := range []string{"random", "pct", "pos"} {
		for seed := uint64(0); seed < 100; seed++ {
			res := mustRun(t, sched.Config{Strategy: strategy, Seed: seed}, func() {
				var rw sched.RWMutex
				readers, writers := 0, 0
				var wg sched.WaitGroup
				for i := range 4 {
					wg.Go(func() {
						for range 3 {
							if i < 2 {
								rw.Lock()
								writers++
								sched.Assertf(writers == 1 && readers == 0, "writer with %d writers, %d readers", writers, readers)
								sched.Yield()
								writers--
								rw.Unlock()
							} else {
								rw.RLock()
								readers++
								sched.Assertf(writers == 0, "reader with a writer inside")
								sched.Yield()
								if readers == 2 {
									sawShared = true
								}
								readers--
								rw.RUnlock()
							}
						}
					})
				}
				wg.Wait()
			})
			if res.Failure != nil {
				t.Fatalf("%s seed %d: %v", strategy, seed, res.Failure)
			}
		}
	}
	if !sawShared {
		t.Errorf("two readers never held the lock together")
	}
}

// TestRWMutexWriterPreference: as with sync.RWMutex, a reader that
// takes the read lock again while a writer waits deadlocks; the
// deadlock says that the reader waits behind the pending writer (which
// holds nothing yet) and that the writer waits for the reader.
func TestRWMutexWriterPreference(t *testing.T) {
	prog := func() {
		var rw sched.RWMutex
		rw.Name = "state"
		sched.GoNamed("writer", func() {
			rw.Lock()
			rw.Unlock()
		})
		rw.RLock()
		sched.Yield()
		rw.RLock() // recursive read lock
		rw.RUnlock()
		rw.RUnlock()
	}
	res := findFailure(t, sched.Config{}, prog)
	want := fmt.Sprintf(`deadlock at step %d: no machine enabled; machine 0 "main" waits on RWMutex.RLock "state", behind the pending Lock of machine 1 "writer"; machine 1 "writer" waits on RWMutex.Lock "state", read-locked by machine 0 "main"`, res.Failure.Step)
	if got := res.Failure.Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestUnlockByAnotherMachine: as with the sync types, a lock is not
// associated with a machine: one machine locks, another unlocks, and
// the first locks again, on every schedule and outside a run.
func TestUnlockByAnotherMachine(t *testing.T) {
	progs := map[string]func(){
		"Mutex": func() {
			var mu sched.Mutex
			mu.Lock()
			sched.GoNamed("unlocker", mu.Unlock)
			mu.Lock()
			mu.Unlock()
		},
		"RWMutex write": func() {
			var rw sched.RWMutex
			rw.Lock()
			sched.GoNamed("unlocker", rw.Unlock)
			rw.Lock()
			rw.Unlock()
		},
		"RWMutex read": func() {
			var rw sched.RWMutex
			rw.RLock()
			sched.GoNamed("unlocker", rw.RUnlock)
			rw.Lock()
			rw.Unlock()
		},
	}
	for _, name := range []string{"Mutex", "RWMutex write", "RWMutex read"} {
		t.Run(name, func(t *testing.T) {
			prog := progs[name]
			prog() // outside a run: the sync types
			ex, err := sched.NewExplorer(sched.Config{Strategy: "dfs"})
			if err != nil {
				t.Fatal(err)
			}
			for !ex.Exhausted() {
				res, err := ex.Next(prog)
				if err != nil {
					t.Fatal(err)
				}
				if res.Failure != nil {
					t.Fatalf("schedule %d: %v", ex.Schedules(), res.Failure)
				}
			}
			if got := ex.Schedules(); got < 2 {
				t.Errorf("schedules: got %d, want at least 2", got)
			}
		})
	}
}

// TestRWMutexReports: a deadlock or leak on an RWMutex says what each
// machine waits behind: the writer holding the lock, or the writer
// waiting for the readers to leave (which holds nothing yet), and, for
// that writer, the readers.
func TestRWMutexReports(t *testing.T) {
	tests := []struct {
		name string
		prog func()
		want string
	}{
		{"writers behind a pending writer", func() {
			rw := sched.RWMutex{Name: "state"}
			rw.RLock()
			sched.GoNamed("w1", rw.Lock)
			sched.GoNamed("w2", rw.Lock)
			sched.GoNamed("r", rw.RLock)
		}, `leak at step 11: ` +
			`machine 1 "w1" still blocked on RWMutex.Lock "state" after main returned, read-locked by machine 0 "main" (finished); ` +
			`machine 2 "w2" still blocked on RWMutex.Lock "state" after main returned, behind the pending Lock of machine 1 "w1"; ` +
			`machine 3 "r" still blocked on RWMutex.RLock "state" after main returned, behind the pending Lock of machine 1 "w1"`},
		{"readers of a pending writer", func() {
			rw := sched.RWMutex{Name: "state"}
			rw.RLock()
			sched.GoNamed("r", func() {
				rw.RLock()
				sched.NewFuture[int]().Wait() // @r-waits
			})
			sched.GoNamed("w", rw.Lock)
			sched.NewFuture[int]().Wait() // @main-waits
		}, `deadlock at step 10: no machine enabled; ` +
			`machine 0 "main" waits on Future.Wait (sync_test.go:@main-waits); ` +
			`machine 1 "r" waits on Future.Wait (sync_test.go:@r-waits); ` +
			`machine 2 "w" waits on RWMutex.Lock "state", read-locked by machine 0 "main" and machine 1 "r"`},
		{"writer holding the lock", func() {
			rw := sched.RWMutex{Name: "state"}
			rw.Lock()
			sched.GoNamed("r", rw.RLock)
			sched.GoNamed("w", rw.Lock)
		}, `leak at step 8: ` +
			`machine 1 "r" still blocked on RWMutex.RLock "state" after main returned, held by machine 0 "main", which has finished; ` +
			`machine 2 "w" still blocked on RWMutex.Lock "state" after main returned, held by machine 0 "main", which has finished`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// dfs's first schedule runs the lowest enabled machine:
			// main, then each machine in turn until it blocks.
			res := mustRun(t, sched.Config{Strategy: "dfs"}, tt.prog)
			if res.Failure == nil {
				t.Fatal("run passed")
			}
			if got, want := res.Failure.Error(), lines(t, tt.want); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestRWMutexPendingWriterCrashes: a writer waiting for the readers to
// leave whose process crashes no longer holds back the readers queued
// behind it; on every schedule the reader gets in.
func TestRWMutexPendingWriterCrashes(t *testing.T) {
	ex, err := sched.NewExplorer(sched.Config{Strategy: "dfs"})
	if err != nil {
		t.Fatal(err)
	}
	queued := 0
	for !ex.Exhausted() {
		res, err := ex.Next(func() {
			var rw sched.RWMutex
			rw.RLock()
			p := sched.StartProcess("p", rw.Lock, sched.ProcessOptions{})
			sched.GoNamed("r", func() {
				rw.RLock()
				rw.RUnlock()
			})
			sched.Yield()
			if !rw.TryRLock() {
				queued++ // the writer is pending
			} else {
				rw.RUnlock()
			}
			p.Crash()
			rw.RUnlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Failure != nil {
			t.Fatalf("schedule %d: %v", ex.Schedules(), res.Failure)
		}
	}
	if queued == 0 {
		t.Errorf("the writer was never pending at the crash")
	}
}

func TestRWMutexTryAndMisuse(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		var rw sched.RWMutex
		sched.Assertf(rw.TryRLock() && rw.TryRLock(), "TryRLock of a free lock failed")
		sched.Assertf(!rw.TryLock(), "TryLock with readers succeeded")
		rw.RUnlock()
		rw.RUnlock()
		sched.Assertf(rw.TryLock(), "TryLock of a free lock failed")
		sched.Assertf(!rw.TryRLock(), "TryRLock with a writer succeeded")
		rw.Unlock()
		rw.RUnlock() // @try-rlock
	})
	want := `panic in machine 0 "main" at step 10: sched: RWMutex.RUnlock of unlocked RWMutex (sync_test.go:@try-rlock)`
	if want := lines(t, want); res.Failure == nil || res.Failure.Error() != want {
		t.Errorf("got  %v\nwant %s", res.Failure, want)
	}
}

// TestCondWithRLocker: a Cond over an RWMutex's read lock.
func TestCondWithRLocker(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		res := mustRun(t, sched.Config{Seed: seed}, func() {
			var rw sched.RWMutex
			cond := sched.NewCond(rw.RLocker())
			ready := false
			done := sched.NewFuture[bool]()
			sched.GoNamed("waiter", func() {
				rw.RLock()
				for !ready {
					cond.Wait()
				}
				rw.RUnlock()
				done.Resolve(true)
			})
			rw.Lock()
			ready = true
			rw.Unlock()
			cond.Broadcast()
			done.Wait()
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
	}
}

// TestOnce: Do runs f once; a second caller waits until f has returned.
func TestOnce(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		res := mustRun(t, sched.Config{Seed: seed}, func() {
			var once sched.Once
			calls, done := 0, false
			var wg sched.WaitGroup
			for range 3 {
				wg.Go(func() {
					once.Do(func() {
						calls++
						sched.Sleep(time.Second)
						done = true
					})
					sched.Assertf(done, "Do returned before f finished")
				})
			}
			wg.Wait()
			sched.Assertf(calls == 1, "f ran %d times", calls)
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
	}
}

// TestAtomics: atomics' operations are scheduling points, so a
// Load-then-Store increment loses updates that Add does not. (Racy's
// accesses are scheduling points too; see race_test.go for its race
// check.)
func TestAtomics(t *testing.T) {
	incr := map[string]func() int{
		"atomic Add": func() int {
			var n atomic.Int64
			spawnAll([]string{"a", "b"}, func(int) { n.Add(1) })
			return int(n.Load())
		},
		"atomic Load+Store": func() int {
			var n atomic.Int32
			spawnAll([]string{"a", "b"}, func(int) { n.Store(n.Load() + 1) })
			return int(n.Load())
		},
		"CompareAndSwap loop": func() int {
			var n atomic.Uint64
			spawnAll([]string{"a", "b"}, func(int) {
				for {
					v := n.Load()
					if n.CompareAndSwap(v, v+1) {
						return
					}
				}
			})
			return int(n.Load())
		},
	}
	wantLost := map[string]bool{"atomic Load+Store": true}
	for name, f := range incr {
		t.Run(name, func(t *testing.T) {
			lost := 0
			for seed := uint64(0); seed < 100; seed++ {
				res := mustRun(t, sched.Config{Seed: seed}, func() {
					if n := f(); n != 2 {
						lost++
					}
				})
				if res.Failure != nil {
					t.Fatal(res.Failure)
				}
			}
			if (lost > 0) != wantLost[name] {
				t.Errorf("lost updates in %d of 100 runs, want lost: %v", lost, wantLost[name])
			}
		})
	}
	var b atomic.Bool
	var p atomic.Pointer[string]
	s := "x"
	if b.Swap(true) || !b.Load() || p.Swap(&s) != nil || p.Load() != &s {
		t.Errorf("atomics outside a run")
	}
}

// TestNewRacy: a Racy made by NewRacy in a composite literal holds the
// value, under a run and outside one.
func TestNewRacy(t *testing.T) {
	type conf struct{ name sched.Racy[string] }
	c := &conf{name: sched.NewRacy("a")}
	if got := c.name.Load(); got != "a" {
		t.Errorf("outside a run: got %q, want %q", got, "a")
	}
	res := mustRun(t, sched.Config{}, func() {
		c := &conf{name: sched.NewRacy("b")}
		sched.Assertf(c.name.Load() == "b", "Load: got %q, want %q", c.name.Load(), "b")
	})
	if res.Failure != nil {
		t.Error(res.Failure)
	}
}

// TestSyncUncontrolled: outside a run RWMutex and Once are the sync
// types (run with -race).
func TestSyncUncontrolled(t *testing.T) {
	var rw sched.RWMutex
	var once sched.Once
	var wg sync.WaitGroup
	n, calls := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			once.Do(func() { calls++ })
			rw.Lock()
			n++
			rw.Unlock()
			rw.RLock()
			_ = n
			rw.RUnlock()
		}()
	}
	wg.Wait()
	if n != 8 || calls != 1 {
		t.Errorf("n %d calls %d", n, calls)
	}
}
