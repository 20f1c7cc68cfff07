package sched_test

import (
	"context"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/atomic"
)

// TestRaceTexts: two accesses to a Racy, one a Store, that no
// synchronisation orders end the run with a Race failure naming both,
// on every schedule; the report is exact and replays.
func TestRaceTexts(t *testing.T) {
	tests := []struct {
		name string
		prog func()
		want string
	}{
		{"two stores", func() {
			var x sched.Racy[int]
			spawnAll([]string{"a", "b"}, func(i int) {
				x.Store(i) // @store
			})
		}, `data race at step 8: Store by machine 2 "b" at race_test.go:@store and Store by machine 1 "a" at race_test.go:@store, on the same Racy, are not ordered by happens-before`},
		{"load after store", func() {
			var x sched.Racy[int]
			sched.GoNamed("writer", func() { x.Store(1) }) // @writer
			sched.Sleep(time.Second)                       // not a synchronisation
			_ = x.Load()                                   // @reader
		}, `data race at step 6: Load by machine 0 "main" at race_test.go:@reader and Store by machine 1 "writer" at race_test.go:@writer, on the same Racy, are not ordered by happens-before`},
		{"store after an ordered and an unordered load", func() {
			var x sched.Racy[int]
			var wg sched.WaitGroup
			wg.Go(func() { _ = x.Load() })
			wg.Wait()
			sched.GoNamed("late", func() { _ = x.Load() }) // @late
			sched.Sleep(time.Second)
			x.Store(1) // @store-after
		}, `data race at step 11: Store by machine 0 "main" at race_test.go:@store-after and Load by machine 2 "late" at race_test.go:@late, on the same Racy, are not ordered by happens-before`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, sched.Config{Strategy: "dfs"}, tt.prog)
			if res.Failure == nil || res.Failure.Kind != sched.Race {
				t.Fatalf("got %v, want a race", res.Failure)
			}
			if got, want := res.Failure.Error(), lines(t, tt.want); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			again := mustRun(t, sched.Config{Strategy: "replay", Replay: res.Trace}, tt.prog)
			if again.Failure == nil || again.Failure.Error() != res.Failure.Error() {
				t.Errorf("replay: got %v, want %v", again.Failure, res.Failure)
			}
		})
	}
}

// TestRaceOnEverySchedule: a race is in the happens-before order, not in
// an interleaving: every schedule of two unsynchronised writers finds
// it, whichever runs first.
func TestRaceOnEverySchedule(t *testing.T) {
	ex, err := sched.NewExplorer(sched.Config{Strategy: "dfs"})
	if err != nil {
		t.Fatal(err)
	}
	for !ex.Exhausted() {
		res, err := ex.Next(func() {
			var x sched.Racy[int]
			spawnAll([]string{"a", "b"}, func(i int) {
				sched.Yield()
				x.Store(i)
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Failure == nil || res.Failure.Kind != sched.Race {
			t.Fatalf("schedule %d: got %v, want a race", ex.Schedules(), res.Failure)
		}
	}
	if ex.Schedules() < 10 {
		t.Errorf("only %d schedules", ex.Schedules())
	}
}

// TestNoRaceAcrossSync: an access to a Racy in one machine and one in
// another, ordered by a controlled primitive as the Go memory model
// orders them, are no race, on any schedule; the same program with the
// synchronisation left out is one (so each row's edge is what keeps it
// clean).
func TestNoRaceAcrossSync(t *testing.T) {
	// Each program writes x in machine "w" and reads it in main, or the
	// other way round, ordered by one primitive when synced.
	tests := []struct {
		name string
		prog func(synced bool)
	}{
		{"Mutex", func(synced bool) {
			var x sched.Racy[int]
			var mu sched.Mutex
			sched.GoNamed("w", func() {
				mu.Lock()
				x.Store(1)
				mu.Unlock()
			})
			sched.Sleep(time.Second)
			if synced {
				mu.Lock()
				defer mu.Unlock()
			}
			_ = x.Load()
		}},
		{"Mutex unlocked by another machine", func(synced bool) {
			var x sched.Racy[int]
			var mu sched.Mutex
			mu.Lock()
			sched.GoNamed("w", func() {
				x.Store(1)
				if synced {
					mu.Unlock()
				}
			})
			if synced {
				mu.Lock()
			} else {
				sched.Yield()
			}
			_ = x.Load()
		}},
		{"RWMutex write then read", func(synced bool) {
			var x sched.Racy[int]
			var rw sched.RWMutex
			var wg sched.WaitGroup
			wg.Go(func() {
				rw.Lock()
				x.Store(1)
				rw.Unlock()
			})
			wg.Go(func() {
				if synced {
					rw.RLock()
					defer rw.RUnlock()
				}
				_ = x.Load()
			})
			wg.Wait()
		}},
		{"RWMutex read then write", func(synced bool) {
			var x sched.Racy[int]
			var rw sched.RWMutex
			var wg sched.WaitGroup
			for range 2 {
				wg.Go(func() {
					rw.RLock()
					_ = x.Load()
					rw.RUnlock()
				})
			}
			wg.Go(func() {
				if synced {
					rw.Lock()
					defer rw.Unlock()
				}
				x.Store(1)
			})
			wg.Wait()
		}},
		{"WaitGroup", func(synced bool) {
			var x sched.Racy[int]
			var wg sched.WaitGroup
			wg.Go(func() { x.Store(1) })
			if synced {
				wg.Wait()
			}
			_ = x.Load()
			wg.Wait()
		}},
		{"Once", func(synced bool) {
			var x sched.Racy[int]
			var once sched.Once
			var wg sched.WaitGroup
			for range 2 {
				wg.Go(func() {
					if synced {
						once.Do(func() { x.Store(1) })
					} else {
						x.Store(1)
					}
					_ = x.Load()
				})
			}
			wg.Wait()
		}},
		{"Future", func(synced bool) {
			var x sched.Racy[int]
			f := sched.NewFuture[int]()
			sched.GoNamed("w", func() {
				x.Store(1)
				f.Resolve(1)
			})
			if synced {
				f.Wait()
			} else {
				sched.Yield()
			}
			_ = x.Load()
		}},
		{"unbuffered channel, send then receive", func(synced bool) {
			var x sched.Racy[int]
			ch := sched.NewChan[int](0)
			sched.GoNamed("w", func() {
				x.Store(1)
				ch.Send(1)
			})
			if synced {
				ch.Recv()
			}
			_ = x.Load()
			if !synced {
				ch.Recv()
			}
		}},
		{"unbuffered channel, receive then send completes", func(synced bool) {
			var x sched.Racy[int]
			ch := sched.NewChan[int](0)
			sched.GoNamed("w", func() {
				x.Store(1)
				ch.Recv()
			})
			if synced {
				ch.Send(1)
			}
			_ = x.Load()
			if !synced {
				ch.Send(1)
			}
		}},
		{"buffered channel as a semaphore (k-th receive, k+cap-th send)", func(synced bool) {
			var x sched.Racy[int]
			sem := sched.NewChan[int](1)
			var wg sched.WaitGroup
			for i := range 2 {
				wg.Go(func() {
					if synced {
						sem.Send(1)
						defer sem.Recv()
					}
					x.Store(i)
				})
			}
			wg.Wait()
		}},
		{"close", func(synced bool) {
			var x sched.Racy[int]
			ch := sched.NewChan[int](1)
			sched.GoNamed("w", func() {
				x.Store(1)
				ch.Close()
			})
			if synced {
				_, _ = ch.RecvOK()
			} else {
				sched.Yield()
			}
			_ = x.Load()
		}},
		{"select", func(synced bool) {
			var x sched.Racy[int]
			a, b := sched.NewChan[int](0), sched.NewChan[int](1)
			sched.GoNamed("w", func() {
				x.Store(1)
				sched.Select(a.SendCase(1, nil), b.SendCase(2, nil))
			})
			if synced {
				sched.Select(a.RecvCase(nil), b.RecvCase(nil))
			} else {
				sched.Yield()
			}
			_ = x.Load()
		}},
		{"Go", func(synced bool) {
			var x sched.Racy[int]
			if !synced {
				sched.GoNamed("w", func() { _ = x.Load() })
				x.Store(1)
				return
			}
			x.Store(1)
			sched.GoNamed("w", func() { _ = x.Load() })
		}},
		{"atomic store then load", func(synced bool) {
			var x sched.Racy[int]
			var flag atomic.Bool
			sched.GoNamed("w", func() {
				x.Store(1)
				flag.Store(true)
			})
			for synced && !flag.Load() {
				sched.Yield()
			}
			_ = x.Load()
		}},
		{"atomic function forms", func(synced bool) {
			var x sched.Racy[int]
			var flag int32
			sched.GoNamed("w", func() {
				x.Store(1)
				atomic.StoreInt32(&flag, 1)
			})
			for synced && atomic.LoadInt32(&flag) == 0 {
				sched.Yield()
			}
			_ = x.Load()
		}},
		{"Process.Wait", func(synced bool) {
			var x sched.Racy[int]
			p := sched.StartProcess("p", func() { x.Store(1) }, sched.ProcessOptions{})
			if synced {
				p.Wait()
			}
			_ = x.Load()
			p.Wait()
		}},
		{"Process.Wait after a crash", func(synced bool) {
			var x sched.Racy[int]
			p := sched.StartProcess("p", func() {
				x.Store(1)
				sched.NewFuture[int]().Wait()
			}, sched.ProcessOptions{})
			sched.Yield()
			p.Crash()
			if synced {
				p.Wait()
			}
			_ = x.Load()
		}},
		{"AfterFunc", func(synced bool) {
			var x sched.Racy[int]
			if synced {
				x.Store(1)
			}
			done := sched.NewFuture[int]()
			sched.AfterFunc(time.Second, func() {
				_ = x.Load()
				done.Resolve(1)
			})
			if !synced {
				x.Store(1)
			}
			done.Wait()
		}},
		{"virtual context cancel", func(synced bool) {
			var x sched.Racy[int]
			ctx, cancel := sched.WithTimeout(context.Background(), time.Hour)
			sched.GoNamed("w", func() {
				x.Store(1)
				cancel()
			})
			if synced {
				sched.Select(sched.DoneCase(ctx, nil))
			} else {
				sched.Yield()
			}
			_ = x.Load()
		}},
		{"standard context cancel", func(synced bool) {
			var x sched.Racy[int]
			ctx, cancel := context.WithCancel(context.Background())
			sched.GoNamed("w", func() {
				x.Store(1)
				cancel()
			})
			if synced {
				sched.Select(sched.DoneCase(ctx, nil))
			} else {
				sched.Yield()
			}
			_ = x.Load()
		}},
		{"virtual context with a standard parent cancelled", func(synced bool) {
			var x sched.Racy[int]
			parent, cancel := context.WithCancel(context.Background())
			ctx, vcancel := sched.WithTimeout(parent, time.Hour)
			defer vcancel()
			sched.GoNamed("w", func() {
				x.Store(1)
				cancel()
			})
			if synced {
				sched.Select(sched.DoneCase(ctx, nil))
			} else {
				sched.Yield()
			}
			_ = x.Load()
		}},
		{"Cond through its lock", func(synced bool) {
			var x sched.Racy[int]
			var mu sched.Mutex
			cond := sched.NewCond(&mu)
			ready := false
			sched.GoNamed("w", func() {
				x.Store(1)
				mu.Lock()
				ready = true
				mu.Unlock()
				cond.Broadcast()
			})
			if !synced {
				sched.Yield()
				_ = x.Load()
				return
			}
			mu.Lock()
			for !ready {
				cond.Wait()
			}
			mu.Unlock()
			_ = x.Load()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, synced := range []bool{true, false} {
				races, seeds := 0, uint64(30)
				if testing.Short() {
					seeds = 10
				}
				for _, strategy := range []string{"random", "pct", "pos"} {
					for seed := range seeds {
						res := mustRun(t, sched.Config{Strategy: strategy, Seed: seed}, func() { tt.prog(synced) })
						switch f := res.Failure; {
						case f == nil:
						case f.Kind == sched.Race && !synced:
							races++
						default:
							t.Fatalf("synced %v, %s seed %d: %v", synced, strategy, seed, f)
						}
					}
				}
				if !synced && races == 0 {
					t.Errorf("without the synchronisation: no race reported in %d schedules", 3*seeds)
				}
			}
		})
	}
}

// TestRaceCheckStartsLate: the check starts at a run's first Racy
// access; synchronisation before it still orders nothing wrongly, and a
// race after it is found.
func TestRaceCheckStartsLate(t *testing.T) {
	for seed := range uint64(50) {
		res := mustRun(t, sched.Config{Seed: seed}, func() {
			var mu sched.Mutex
			var x sched.Racy[int]
			n := 0
			spawnAll([]string{"a", "b"}, func(int) {
				mu.Lock()
				n++
				if n == 2 {
					x.Store(n) // the run's first Racy access
				}
				mu.Unlock()
			})
			_ = x.Load()
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
	}
}
