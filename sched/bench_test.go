package sched_test

import (
	"sync"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// Figures on the 2-core development machine (AMD EPYC, shared with other
// jobs: load average 6 to 14 while measuring), the binary of this commit
// and of the one before sched v2, alternated run by run, 100 runs of 3,000
// schedules each, medians (benchstat: no significant difference,
// geomean +0.01%):
//
//	                         before v2   v2
//	BenchmarkRun3x100Random  461 ns/decision   441 ns/decision
//	BenchmarkRun3x100PCT     173 ns/decision   187 ns/decision
//	BenchmarkRun3x100POS     182 ns/decision   176 ns/decision
//	BenchmarkTimerHeavy                        about 1.7 µs/decision (80 decisions/schedule)
//
// Each switch wakes another goroutine, so the figures move with the load
// of the machine: on a quiet machine the same programs ran at about 216
// ns (random) and 95-130 ns (pct, pos) per decision.
//
// The race check of Racy (the commit that added it, its parent, and the
// commit before this branch, alternated, 100 runs of 1,000 schedules
// each, load average 8 to 10; benchstat medians, no difference
// significant, p >= 0.26):
//
//	                         before branch  before check  with check
//	BenchmarkRun3x100Random  572 ns         520 ns        591 ns
//	BenchmarkRun3x100PCT     266 ns         246 ns        219 ns
//	BenchmarkRun3x100POS     223 ns         229 ns        229 ns
//	BenchmarkTimerHeavy      1.62 µs        1.67 µs       1.66 µs
//	geomean                                 -2.8%         -2.7%  (vs before branch)
//	B/op                     equal (5.6-22.3 KiB)
//
// With GOMAXPROCS=1 the geomean with the check is +2.3% against its
// parent (p >= 0.46). BenchmarkRacy, which pays for the check, ran at
// about twice Run3x100Random's ns per decision in the same runs.

// threeBy100 is the benchmark program: main and two workers, 100
// scheduling points in all (main: spawn 2 + 31 yields + Wait; workers:
// 32 yields each, exit).
func threeBy100() {
	var wg sched.WaitGroup
	for _, name := range []string{"w1", "w2"} {
		wg.Add(1)
		sched.GoNamed(name, func() {
			for i := 0; i < 32; i++ {
				sched.Yield()
			}
			wg.Done()
		})
	}
	for i := 0; i < 31; i++ {
		sched.Yield()
	}
	wg.Wait()
}

func benchStrategy(b *testing.B, strategy string) {
	var decisions int64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		res, err := sched.Run(sched.Config{Strategy: strategy, Seed: uint64(i), NoEvents: true}, threeBy100)
		if err != nil || res.Failure != nil {
			b.Fatalf("run %d: %v %v", i, err, res.Failure)
		}
		decisions += res.Steps
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(decisions), "ns/decision")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "schedules/s")
	b.ReportMetric(float64(decisions)/float64(b.N), "decisions/schedule")
}

func BenchmarkRun3x100Random(b *testing.B) { benchStrategy(b, "random") }

// timerHeavy is the timer-heavy benchmark program: a ticker-driven
// producer, a consumer that selects between the data channel, a
// per-message timeout timer and its own ticker, and two sleepers, over a
// few virtual seconds; about 100 decisions.
func timerHeavy() {
	data := sched.NewChan[int](1)
	var wg sched.WaitGroup
	wg.Go(func() {
		tk := sched.NewTicker(100 * time.Millisecond)
		defer tk.Stop()
		for i := range 10 {
			tk.C.Recv()
			data.Send(i)
		}
		data.Close()
	})
	wg.Go(func() {
		tk := sched.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		for done := false; !done; {
			timeout := sched.NewTimer(150 * time.Millisecond)
			sched.Select(
				data.RecvCase(func(_ int, ok bool) { done = !ok }),
				timeout.C.RecvCase(nil),
				tk.C.RecvCase(nil),
			)
			timeout.Stop()
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 5 {
				sched.Sleep(200 * time.Millisecond)
			}
		})
	}
	wg.Wait()
}

// BenchmarkTimerHeavy measures a scheduling decision of timerHeavy
// (random strategy): timers, tickers, sleeps and a select, with the
// clock jumping whenever every machine waits.
func BenchmarkTimerHeavy(b *testing.B) {
	var decisions int64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		res, err := sched.Run(sched.Config{Seed: uint64(i), NoEvents: true}, timerHeavy)
		if err != nil || res.Failure != nil {
			b.Fatalf("run %d: %v %v", i, err, res.Failure)
		}
		decisions += res.Steps
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(decisions), "ns/decision")
	b.ReportMetric(float64(decisions)/float64(b.N), "decisions/schedule")
}
func BenchmarkRun3x100PCT(b *testing.B) { benchStrategy(b, "pct") }

// BenchmarkRacy measures a scheduling decision of a program that uses
// Racy, and so pays for the race check: two workers each increment a
// shared Racy 16 times under a Mutex (Lock, Load, Store, Unlock), about
// 140 decisions (random strategy).
func BenchmarkRacy(b *testing.B) {
	var decisions int64
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		res, err := sched.Run(sched.Config{Seed: uint64(i), NoEvents: true}, func() {
			var mu sched.Mutex
			var x sched.Racy[int]
			var wg sched.WaitGroup
			for range 2 {
				wg.Go(func() {
					for range 16 {
						mu.Lock()
						x.Store(x.Load() + 1)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			sched.Assertf(x.Load() == 32, "lost an update")
		})
		if err != nil || res.Failure != nil {
			b.Fatalf("run %d: %v %v", i, err, res.Failure)
		}
		decisions += res.Steps
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(decisions), "ns/decision")
	b.ReportMetric(float64(decisions)/float64(b.N), "decisions/schedule")
}
func BenchmarkRun3x100POS(b *testing.B) { benchStrategy(b, "pos") }

// BenchmarkDecisionNoSwitch measures a scheduling decision that keeps the
// running machine (one machine, 100 yields): the cost of the strategy
// and bookkeeping without a goroutine hand-off.
func BenchmarkDecisionNoSwitch(b *testing.B) {
	prog := func() {
		for i := 0; i < 100; i++ {
			sched.Yield()
		}
	}
	var decisions int64
	for i := 0; b.Loop(); i++ {
		res, err := sched.Run(sched.Config{Seed: uint64(i), NoEvents: true}, prog)
		if err != nil || res.Failure != nil {
			b.Fatalf("run %d: %v %v", i, err, res.Failure)
		}
		decisions += res.Steps
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(decisions), "ns/decision")
}

// The plain path: what production code (mtable's locks, for example)
// pays for using sched's primitives outside a run, next to the sync and
// time primitives they stand for.

func BenchmarkPlainSyncMutex(b *testing.B) {
	var mu sync.Mutex
	for b.Loop() {
		mu.Lock()
		mu.Unlock()
	}
}

func BenchmarkPlainMutex(b *testing.B) {
	var mu sched.Mutex
	for b.Loop() {
		mu.Lock()
		mu.Unlock()
	}
}

// BenchmarkPlainMutexRunActive is BenchmarkPlainMutex while a run is in
// progress in another goroutine: each call looks the goroutine up.
func BenchmarkPlainMutexRunActive(b *testing.B) {
	stop, started := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sched.Run(sched.Config{Strategy: "dfs", Watchdog: time.Hour, NoEvents: true}, func() {
			close(started)
			<-stop // uncontrolled on purpose: keeps the run in progress
		})
	}()
	<-started
	var mu sched.Mutex
	for b.Loop() {
		mu.Lock()
		mu.Unlock()
	}
	close(stop)
	<-done
}

func BenchmarkPlainTimeNow(b *testing.B) {
	for b.Loop() {
		_ = time.Now()
	}
}

func BenchmarkPlainNow(b *testing.B) {
	for b.Loop() {
		_ = sched.Now()
	}
}
