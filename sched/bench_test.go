package sched_test

import (
	"sync"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// Figures on the 2-core development machine (AMD EPYC, shared, load
// average around 8), go test -run XXX -bench . -count 2 ./sched:
//
//	BenchmarkRun3x100Random-2   ~22 µs/op  101.6 decisions/schedule  ~216 ns/decision  ~45,000 schedules/s
//	BenchmarkRun3x100PCT-2      ~12 µs/op  ~112-131 ns/decision  ~75,000-88,000 schedules/s
//	BenchmarkRun3x100POS-2      ~9.6 µs/op  ~94 ns/decision  ~104,000 schedules/s
//	BenchmarkDecisionNoSwitch-2 ~143-177 ns/decision (includes the per-run setup)
//
// Under heavier load from other processes the random figure rose as high
// as ~600 ns/decision: each switch wakes another goroutine.

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
