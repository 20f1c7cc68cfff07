package sched_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// TestSleepOrder: sleepers wake in the order of their deadlines, the
// clock reads exactly the deadlines, and nothing else moves it.
func TestSleepOrder(t *testing.T) {
	for _, strategy := range []string{"random", "pct", "pos", "dfs"} {
		for seed := uint64(0); seed < 30; seed++ {
			var log []string
			res := mustRun(t, sched.Config{Strategy: strategy, Seed: seed}, func() {
				start := sched.Now()
				sched.Assertf(start.Equal(sched.DefaultStart), "start: got %v, want %v", start, sched.DefaultStart)
				var wg sched.WaitGroup
				for _, d := range []int{3, 1, 2} {
					wg.Go(func() {
						sched.Sleep(time.Duration(d) * time.Second)
						log = append(log, fmt.Sprintf("%d@%v", d, sched.Since(start)))
					})
				}
				wg.Wait()
			})
			if res.Failure != nil {
				t.Fatalf("%s seed %d: %v", strategy, seed, res.Failure)
			}
			if got, want := strings.Join(log, " "), "1@1s 2@2s 3@3s"; got != want {
				t.Fatalf("%s seed %d: %q, want %q", strategy, seed, got, want)
			}
			if res.Elapsed != 3*time.Second {
				t.Errorf("Elapsed: got %v, want 3s", res.Elapsed)
			}
			if strategy == "dfs" {
				break
			}
		}
	}
}

// TestTimersSameInstant: timers due at the same instant all fire; the
// machines they wake then race as usual (both orders occur).
func TestTimersSameInstant(t *testing.T) {
	orders := map[string]int{}
	for seed := uint64(0); seed < 100; seed++ {
		var log []string
		res := mustRun(t, sched.Config{Seed: seed}, func() {
			var wg sched.WaitGroup
			for _, name := range []string{"a", "b"} {
				wg.Go(func() {
					tm := sched.NewTimer(time.Second)
					tm.C.Recv()
					log = append(log, name)
				})
			}
			wg.Wait()
			sched.Assertf(sched.Since(sched.DefaultStart) == time.Second, "clock: %v", sched.Since(sched.DefaultStart))
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
		orders[strings.Join(log, "")]++
	}
	if orders["ab"] == 0 || orders["ba"] == 0 {
		t.Errorf("orders: %v, want both", orders)
	}
}

// TestTimerStopReset follows Go 1.23's timer semantics: Stop and Reset
// report whether the timer was pending, and no stale value is received
// after them.
func TestTimerStopReset(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		tm := sched.NewTimer(time.Second)
		sched.Assertf(tm.Stop(), "Stop of a pending timer: got false")
		sched.Assertf(!tm.Stop(), "second Stop: got true")
		sched.Assertf(!tm.Reset(2*time.Second), "Reset of a stopped timer: got true")
		v := tm.C.Recv()
		sched.Assertf(v.Sub(sched.DefaultStart) == 2*time.Second, "fired at %v, want +2s", v.Sub(sched.DefaultStart))
		tm.Reset(time.Second)
		sched.Sleep(5 * time.Second) // the timer fires unobserved
		sched.Assertf(tm.C.Len() == 0 && tm.C.Cap() == 0, "timer channel Len %d Cap %d, want 0 0", tm.C.Len(), tm.C.Cap())
		sched.Assertf(!tm.Reset(time.Second), "Reset after firing: got true")
		v = tm.C.Recv() // not the stale value of +3s
		sched.Assertf(v.Sub(sched.DefaultStart) == 8*time.Second, "received the value of +%v, want +8s", v.Sub(sched.DefaultStart))
		fired := false
		f := sched.AfterFunc(time.Second, func() { fired = true })
		sched.Assertf(f.Stop(), "Stop of AfterFunc: got false")
		sched.Sleep(2 * time.Second)
		sched.Assertf(!fired, "stopped AfterFunc ran")
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
}

// TestTicker: a ticker delivers every period; ticks a slow receiver
// misses are dropped; Stop ends it.
func TestTicker(t *testing.T) {
	var got []time.Duration
	res := mustRun(t, sched.Config{}, func() {
		tk := sched.NewTicker(time.Second)
		for range 3 {
			v := tk.C.Recv()
			got = append(got, v.Sub(sched.DefaultStart))
		}
		sched.Sleep(2500 * time.Millisecond) // misses the ticks at +4s and +5s but one
		v := tk.C.Recv()
		got = append(got, v.Sub(sched.DefaultStart))
		v = tk.C.Recv()
		got = append(got, v.Sub(sched.DefaultStart))
		tk.Reset(10 * time.Second)
		v = tk.C.Recv()
		got = append(got, v.Sub(sched.DefaultStart))
		tk.Stop()
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 6 * time.Second, 16 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ticks at %v, want %v", got, want)
	}
}

// TestIdleTickerIsNotProgress: a ticker nobody receives from does not
// keep a deadlocked run alive.
func TestIdleTickerIsNotProgress(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		tk := sched.NewTicker(time.Millisecond)
		defer tk.Stop()
		var mu sched.Mutex
		mu.Name = "stuck"
		mu.Lock()
		mu.Lock()
	})
	want := `deadlock at step 3: no machine enabled; machine 0 "main" waits on Mutex.Lock "stuck", held by machine 0 "main"`
	if res.Failure == nil || res.Failure.Error() != want {
		t.Fatalf("got  %v\nwant %s", res.Failure, want)
	}
}

// TestAfterFunc: f runs in its own machine, in the caller's process, at
// the deadline.
func TestAfterFunc(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		done := sched.NewFuture[string]()
		sched.AfterFunc(time.Minute, func() {
			done.Resolve(fmt.Sprintf("%s at +%v", sched.MachineName(), sched.Since(sched.DefaultStart)))
		})
		got := done.Wait()
		sched.Assertf(got == "afterfunc at +1m0s", "got %q", got)
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
}

// TestMaxTimeStep: with MaxTimeStep the strategy may let time pass while
// machines are busy; the advances are decisions in the trace and replay.
func TestMaxTimeStep(t *testing.T) {
	prog := func() {
		deadline := sched.Now().Add(time.Second)
		for i := 0; i < 200 && sched.Now().Before(deadline); i++ {
			sched.Yield()
		}
		sched.Assertf(sched.Now().Before(deadline), "the clock passed the deadline at +%v", sched.Since(sched.DefaultStart))
	}
	for _, strategy := range []string{"random", "pct", "pos"} {
		t.Run(strategy, func(t *testing.T) {
			found := 0
			for seed := uint64(0); seed < 100; seed++ {
				cfg := sched.Config{Strategy: strategy, Seed: seed, MaxTimeStep: 500 * time.Millisecond, ExpectedSteps: 100}
				res := mustRun(t, cfg, prog)
				if res.Failure == nil {
					continue
				}
				found++
				advances := 0
				for _, d := range res.Trace.Decisions {
					if d.Kind == sched.TimeAdvance {
						advances++
						if d.Duration <= 0 || d.Duration > cfg.MaxTimeStep {
							t.Fatalf("advance by %v outside (0, %v]", d.Duration, cfg.MaxTimeStep)
						}
					}
				}
				if advances == 0 {
					t.Fatalf("seed %d: the clock moved without an advance decision", seed)
				}
				rep := mustRun(t, sched.Config{Strategy: "replay", Replay: roundTrip(t, res.Trace)}, prog)
				if rep.Failure == nil || rep.Failure.Error() != res.Failure.Error() || traceHash(t, rep) != traceHash(t, res) {
					t.Fatalf("seed %d: replay got %v, want %v", seed, rep.Failure, res.Failure)
				}
			}
			if found == 0 {
				t.Errorf("the clock never passed the deadline in 100 seeds")
			}
			res := mustRun(t, sched.Config{Strategy: strategy, Seed: 1}, prog)
			if res.Failure != nil {
				t.Errorf("without MaxTimeStep: %v", res.Failure)
			}
		})
	}
}

// TestClockSkew: processes' clocks differ by at most MaxClockSkew, never
// go backwards, and the offsets are recorded decisions.
func TestClockSkew(t *testing.T) {
	const skew = 100 * time.Millisecond
	spread := time.Duration(0)
	for seed := uint64(0); seed < 50; seed++ {
		res := mustRun(t, sched.Config{Seed: seed, MaxClockSkew: skew}, func() {
			reads := make([]time.Time, 3)
			var ps []*sched.Process
			for i := range reads {
				ps = append(ps, sched.StartProcess(fmt.Sprint("p", i), func() {
					last := sched.Now()
					for range 5 {
						sched.Sleep(10 * time.Millisecond)
						now := sched.Now()
						sched.Assertf(!now.Before(last), "clock went back from %v to %v", last, now)
						last = now
					}
					reads[i] = sched.Now().Add(-50 * time.Millisecond)
				}, sched.ProcessOptions{}))
			}
			for _, p := range ps {
				p.Wait()
			}
			for _, a := range reads {
				for _, b := range reads {
					sched.Assertf(a.Sub(b) <= skew, "clocks %v apart, bound %v", a.Sub(b), skew)
					spread = max(spread, a.Sub(b))
				}
			}
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
		offsets := 0
		for _, d := range res.Trace.Decisions {
			if d.Kind == sched.ClockOffset {
				offsets++
			}
		}
		if offsets != 3 {
			t.Fatalf("seed %d: %d offset decisions, want 3", seed, offsets)
		}
	}
	if spread < skew/2 {
		t.Errorf("largest spread %v over 50 seeds, want at least %v", spread, skew/2)
	}
}

// TestTimeUncontrolled: outside a run the functions are the time
// package's.
func TestTimeUncontrolled(t *testing.T) {
	before := time.Now()
	sched.Sleep(time.Millisecond)
	if sched.Since(before) < time.Millisecond || sched.Now().Before(before) {
		t.Errorf("Now and Sleep outside a run are not the real clock")
	}
	done := make(chan bool)
	sched.AfterFunc(time.Millisecond, func() { done <- true })
	<-done
	tk := sched.NewTicker(time.Millisecond)
	tk.C.Recv()
	tk.Stop()
}
