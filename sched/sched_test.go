package sched_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

func mustRun(t testing.TB, cfg sched.Config, main func()) *sched.Result {
	t.Helper()
	res, err := sched.Run(cfg, main)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// lockOrder is the classic lock-order deadlock: main takes b then a,
// machine x takes a then b.
func lockOrder() {
	var a, b sched.Mutex
	sched.GoNamed("x", func() {
		a.Lock() // @x-locks-a
		b.Lock() // @x-locks-b
		b.Unlock()
		a.Unlock()
	})
	b.Lock() // @main-locks-b
	a.Lock() // @main-locks-a
	a.Unlock()
	b.Unlock()
}

// findFailure runs prog with seeds 0, 1, ... until it fails.
func findFailure(t *testing.T, cfg sched.Config, prog func()) *sched.Result {
	t.Helper()
	for seed := uint64(0); seed < 1000; seed++ {
		cfg.Seed = seed
		if res := mustRun(t, cfg, prog); res.Failure != nil {
			return res
		}
	}
	t.Fatalf("no failure in 1000 seeds")
	return nil
}

func TestFailureTexts(t *testing.T) {
	errBroken := errors.New("invariant broken")
	tests := []struct {
		name string
		cfg  sched.Config
		prog func()
		kind sched.Kind
		want string
	}{
		{
			name: "assertion",
			prog: func() {
				sched.GoNamed("checker", func() { sched.Fail(errBroken) })
			},
			kind: sched.Assertion,
			want: `assertion failed in machine 1 "checker" at step 2: invariant broken`,
		},
		{
			name: "assertf",
			prog: func() {
				sched.Assertf(1+1 == 3, "sum is %d, want %d", 2, 3)
			},
			kind: sched.Assertion,
			want: `assertion failed in machine 0 "main" at step 1: sum is 2, want 3`,
		},
		{
			name: "leak",
			cfg:  sched.Config{Strategy: "dfs"},
			prog: func() {
				var a, b sched.Mutex
				sched.GoNamed("x", func() { a.Lock(); b.Lock() }) // @leak-a
				b.Lock()                                          // dfs runs main first: main holds b
				sched.Yield()
				sched.Yield()
				a.Lock()
			},
			kind: sched.Leak,
			// dfs runs the lowest enabled ID: main takes both locks and
			// exits holding them; x is left behind.
			want: `leak at step 8: machine 1 "x" still blocked on Mutex.Lock (sched_test.go:@leak-a) after main returned, held by machine 0 "main", which has finished`,
		},
		{
			name: "future deadlock",
			prog: func() {
				f := sched.NewFuture[int]()
				var wg sched.WaitGroup
				wg.Add(1)
				sched.GoNamed("waiter", func() { f.Wait(); wg.Done() }) // @future-wait
				wg.Wait()                                               // @wg-wait
			},
			kind: sched.Deadlock,
			want: `deadlock at step 5: no machine enabled; machine 0 "main" waits on WaitGroup.Wait (sched_test.go:@wg-wait); machine 1 "waiter" waits on Future.Wait (sched_test.go:@future-wait)`,
			cfg:  sched.Config{Strategy: "dfs"},
		},
		{
			name: "panic",
			prog: func() {
				sched.Yield()
				var m map[string]int
				m["x"] = 1
			},
			kind: sched.Panic,
			want: `panic in machine 0 "main" at step 2: assignment to entry in nil map`,
		},
		{
			name: "step bound",
			cfg:  sched.Config{MaxSteps: 50},
			prog: func() {
				for {
					sched.Yield()
				}
			},
			kind: sched.StepBound,
			want: `step bound exceeded at step 50: 50 steps without finishing (possible livelock)`,
		},
		{
			name: "liveness held",
			cfg:  sched.Config{LivenessSteps: 10},
			prog: func() {
				sched.SetHot("work pending", true)
				for {
					sched.Yield()
				}
			},
			kind: sched.Liveness,
			want: `liveness violation at step 12: hot condition "work pending" held for more than 10 fair steps`,
		},
		{
			name: "liveness at end",
			prog: func() {
				sched.SetHot("work pending", true)
				sched.SetHot("other", true)
				sched.SetHot("other", false)
			},
			kind: sched.Liveness,
			want: `liveness violation at step 1: hot condition "work pending" still held when every machine finished`,
		},
		{
			name: "uncontrolled blocking",
			cfg:  sched.Config{Strategy: "dfs", Watchdog: 100 * time.Millisecond},
			prog: func() {
				sched.GoNamed("sleeper", func() {
					time.Sleep(time.Second)
				})
				sched.Yield()
				sched.Yield()
			},
			kind: sched.UncontrolledBlocking,
			want: `uncontrolled blocking in machine 1 "sleeper" at step 5: no scheduling point for 100ms (blocked on a plain channel, sync primitive, sleep or I/O, or computing)`,
		},
		{
			name: "unlock of unlocked mutex",
			prog: func() {
				var mu sched.Mutex
				mu.Unlock() // @unlock-nobody
			},
			kind: sched.Panic,
			want: `panic in machine 0 "main" at step 1: sched: Mutex.Unlock of unlocked mutex (sched_test.go:@unlock-nobody)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, tt.cfg, tt.prog)
			if res.Failure == nil {
				t.Fatalf("run passed, want a %v failure", tt.kind)
			}
			if got := res.Failure.Kind; got != tt.kind {
				t.Fatalf("kind: got %v, want %v (%v)", got, tt.kind, res.Failure)
			}
			if tt.want != "" {
				if got, want := res.Failure.Error(), lines(t, tt.want); got != want {
					t.Errorf("error text:\ngot  %s\nwant %s", got, want)
				}
			}
		})
	}
}

func TestDeadlockText(t *testing.T) {
	res := findFailure(t, sched.Config{}, lockOrder)
	f := res.Failure
	if f.Kind != sched.Deadlock {
		t.Fatalf("kind: got %v, want deadlock (%v)", f.Kind, f)
	}
	// Each mutex is named by the line where its waiter waits.
	want := fmt.Sprintf(`deadlock at step %d: no machine enabled; machine 0 "main" waits on Mutex.Lock (sched_test.go:@main-locks-a), held by machine 1 "x"; machine 1 "x" waits on Mutex.Lock (sched_test.go:@x-locks-b), held by machine 0 "main"`, f.Step)
	if got, want := f.Error(), lines(t, want); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if len(f.Blocked) != 2 || f.Blocked[0].Holder != 1 || f.Blocked[1].Holder != 0 {
		t.Errorf("Blocked: got %+v, want main held by 1 and x held by 0", f.Blocked)
	}
}

func TestPanicHasStack(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		sched.GoNamed("bad", func() { panicHere() })
	})
	if res.Failure == nil || res.Failure.Kind != sched.Panic {
		t.Fatalf("got %v, want a panic failure", res.Failure)
	}
	if !strings.Contains(res.Failure.Stack, "panicHere") {
		t.Errorf("stack does not name the panicking function:\n%s", res.Failure.Stack)
	}
	if res.Failure.Value != "deliberate" {
		t.Errorf("Value: got %v, want %q", res.Failure.Value, "deliberate")
	}
}

func panicHere() { panic("deliberate") }

func TestBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  sched.Config
		want string
	}{
		{"unknown strategy", sched.Config{Strategy: "bfs"}, `sched: unknown strategy "bfs" (want random, pct, pos, dfs, portfolio, replay or lenient)`},
		{"replay without trace", sched.Config{Strategy: "replay"}, `sched: bad config: strategy replay needs Config.Replay`},
		{"lenient without trace", sched.Config{Strategy: "lenient"}, `sched: bad config: strategy lenient needs Config.Replay`},
		{"negative", sched.Config{MaxSteps: -1}, `sched: bad config: Depth, ExpectedSteps, MaxSteps, Watchdog and Iteration must not be negative`},
		{"depth above expected steps", sched.Config{Strategy: "pct", Depth: 101}, `sched: bad config: Depth 101 above ExpectedSteps 100 (the depth's points fall among the first ExpectedSteps steps)`},
		{"huge depth", sched.Config{Strategy: "pct", Depth: 1 << 40, ExpectedSteps: 1 << 50}, `sched: bad config: Depth 1099511627776 above MaxDepth 10000`},
		{"huge dfs bound", sched.Config{Strategy: "dfs", Depth: sched.MaxDepth + 1}, `sched: bad config: Depth 10001 above MaxDepth 10000`},
		{"huge replayed depth", sched.Config{Strategy: "replay", Replay: &sched.Trace{Strategy: "pct", Depth: 1 << 40, ExpectedSteps: 100}}, `sched: bad config: Depth 1099511627776 above MaxDepth 10000`},
		{"bad param", sched.Config{Params: []sched.Param{{Key: "a b", Value: "1"}}}, `sched: bad config: param key "a b" must be printable ASCII without spaces, '=', '"' or '#'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sched.Run(tt.cfg, func() {})
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got %q, want %q", err, tt.want)
			}
		})
	}
	if _, err := sched.Run(sched.Config{}, nil); err == nil {
		t.Errorf("Run with nil main: got no error")
	}
}

// TestPrimitivesUncontrolled runs the primitives with a plain context and
// real goroutines (run it with -race).
func TestPrimitivesUncontrolled(t *testing.T) {
	var mu sched.Mutex
	cond := sched.NewCond(&mu)
	var wg sched.WaitGroup
	n, ready := 0, false
	f := sched.NewFuture[string]()
	for i := 0; i < 8; i++ {
		wg.Add(1)
		sched.GoNamed("w", func() {
			defer wg.Done()
			mu.Lock()
			for !ready {
				cond.Wait()
			}
			n++
			mu.Unlock()
			sched.Yield()
			f.Resolve("done")
		})
	}
	mu.Lock()
	ready = true
	cond.Broadcast()
	mu.Unlock()
	wg.Wait()
	if got := f.Wait(); got != "done" {
		t.Errorf("Future: got %q, want %q", got, "done")
	}
	if n != 8 {
		t.Errorf("counter: got %d, want 8", n)
	}
	if c := sched.Choose(5); c < 0 || c >= 5 {
		t.Errorf("Choose(5): got %d, want 0..4", c)
	}
	if sched.Controlled() || sched.Tracing() || sched.Step() != 0 || sched.MachineID() != -1 || sched.MachineName() != "" {
		t.Errorf("plain context looks controlled")
	}
}

// TestMutexExclusion checks that a controlled Mutex excludes, Cond wakes
// and WaitGroup waits, under many schedules.
func TestMutexExclusion(t *testing.T) {
	for _, strategy := range []string{"random", "pct", "pos"} {
		t.Run(strategy, func(t *testing.T) {
			for seed := uint64(0); seed < 200; seed++ {
				res := mustRun(t, sched.Config{Strategy: strategy, Seed: seed}, func() {
					var mu sched.Mutex
					cond := sched.NewCond(&mu)
					var wg sched.WaitGroup
					inside, total, turn := 0, 0, 0
					for i := 0; i < 3; i++ {
						wg.Add(1)
						sched.GoNamed(fmt.Sprint("w", i), func() {
							defer wg.Done()
							mu.Lock()
							for turn != i {
								cond.Wait()
							}
							inside++
							sched.Yield()
							sched.Assertf(inside == 1, "%d machines inside the lock", inside)
							inside--
							total++
							turn++
							cond.Broadcast()
							mu.Unlock()
						})
					}
					wg.Wait()
					sched.Assertf(total == 3, "total: got %d, want 3", total)
				})
				if res.Failure != nil {
					t.Fatalf("seed %d: %v", seed, res.Failure)
				}
			}
		})
	}
}

func traceHash(t testing.TB, res *sched.Result) string {
	var b bytes.Buffer
	if err := res.Trace.Write(&b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b.Bytes()))
}

// busy is a program with several machines, locks, futures and choices.
func busy() {
	var mu sched.Mutex
	var wg sched.WaitGroup
	shared := 0
	fs := make([]*sched.Future[int], 4)
	for i := range fs {
		fs[i] = sched.NewFuture[int]()
		wg.Add(1)
		sched.GoNamed(fmt.Sprint("worker", i), func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				mu.Lock()
				shared += sched.Choose(3)
				mu.Unlock()
				sched.Yield()
			}
			fs[i].Resolve(shared)
		})
	}
	for _, f := range fs {
		sched.Logf("got %d", f.Wait())
	}
	wg.Wait()
}

// TestDeterminismGOMAXPROCS: the same seed gives the same trace at
// GOMAXPROCS 1, 2 and 8, for every strategy.
func TestDeterminismGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, strategy := range []string{"random", "pct", "pos", "portfolio", "dfs"} {
		for seed := uint64(1); seed <= 5; seed++ {
			var first string
			for _, procs := range []int{1, 2, 8} {
				runtime.GOMAXPROCS(procs)
				res := mustRun(t, sched.Config{Strategy: strategy, Seed: seed}, busy)
				if res.Failure != nil {
					t.Fatalf("%s seed %d: %v", strategy, seed, res.Failure)
				}
				h := traceHash(t, res)
				if procs == 1 {
					first = h
				} else if h != first {
					t.Errorf("%s seed %d: GOMAXPROCS %d trace hash %s, GOMAXPROCS 1 gave %s", strategy, seed, procs, h, first)
				}
			}
		}
	}
}

// TestSweepSeesBothOrders: over a sweep of seeds, a two-machine race
// resolves both ways, and every seed is reproducible.
// TestDeterminismParallelRuns: runs in parallel goroutines (workers)
// share nothing: each seed gives the trace it gives alone.
func TestDeterminismParallelRuns(t *testing.T) {
	const seeds = 40
	want := make([]string, seeds)
	for i := range want {
		want[i] = traceHash(t, mustRun(t, sched.Config{Strategy: "pct", Seed: uint64(i)}, busy))
	}
	var wg sync.WaitGroup
	got := make([][]string, 4)
	for w := range got {
		got[w] = make([]string, seeds)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < seeds; i++ {
				res, err := sched.Run(sched.Config{Strategy: "pct", Seed: uint64(i)}, busy)
				if err != nil {
					panic(err)
				}
				got[w][i] = traceHash(t, res)
			}
		}()
	}
	wg.Wait()
	for w := range got {
		for i := range want {
			if got[w][i] != want[i] {
				t.Errorf("worker %d seed %d: trace hash %s, alone %s", w, i, got[w][i], want[i])
			}
		}
	}
}

// worldConfig turns on virtual time decisions, clock skew and faults.
func worldConfig(strategy string, seed uint64) sched.Config {
	return sched.Config{Strategy: strategy, Seed: seed, MaxSteps: 2000, Faults: 2, MaxStall: time.Second,
		MaxTimeStep: 50 * time.Millisecond, MaxClockSkew: 10 * time.Millisecond, ExpectedSteps: 50}
}

// TestDeterminismWorld: with timers, clock skew, crashes and stalls in
// play, the same seed gives the same trace, failure, faults and virtual
// time at GOMAXPROCS 1, 2 and 8.
func TestDeterminismWorld(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	faults := 0
	for _, strategy := range []string{"random", "pct", "pos"} {
		for seed := uint64(1); seed <= 20; seed++ {
			var first string
			for _, procs := range []int{1, 2, 8} {
				runtime.GOMAXPROCS(procs)
				res := mustRun(t, worldConfig(strategy, seed), worldProg)
				h := fmt.Sprintf("%s|%v|%v|%v", traceHash(t, res), res.Failure, res.Faults, res.Elapsed)
				if procs == 1 {
					first = h
					faults += len(res.Faults)
				} else if h != first {
					t.Errorf("%s seed %d: GOMAXPROCS %d gave %s, GOMAXPROCS 1 gave %s", strategy, seed, procs, h, first)
				}
			}
		}
	}
	if faults == 0 {
		t.Errorf("no fault in 60 runs")
	}
}

func TestSweepSeesBothOrders(t *testing.T) {
	for _, strategy := range []string{"random", "pct", "pos"} {
		t.Run(strategy, func(t *testing.T) {
			seen := map[string]int{}
			for i := 0; i < 100; i++ {
				var order []string
				prog := func() {
					var wg sched.WaitGroup
					for _, name := range []string{"a", "b"} {
						wg.Add(1)
						sched.GoNamed(name, func() {
							sched.Yield()
							order = append(order, name)
							wg.Done()
						})
					}
					wg.Wait()
				}
				mustRun(t, sched.Config{Strategy: strategy, Seed: sched.IterationSeed(7, i)}, prog)
				seen[strings.Join(order, "")]++
			}
			if seen["ab"] == 0 || seen["ba"] == 0 || len(seen) != 2 {
				t.Errorf("orders seen: got %v, want both ab and ba", seen)
			}
		})
	}
}

// worldProg is a world with time and faults: processes whose machines
// wait on root-owned primitives, channels, timers and contexts, restarted
// or not, with a scripted crash; under injected faults it may pass or
// fail in any way.
func worldProg() {
	var mu sched.Mutex
	cond := sched.NewCond(&mu)
	ch := sched.NewChan[int](1)
	var ps []*sched.Process
	for i := range 2 {
		ps = append(ps, sched.StartProcess(fmt.Sprint("p", i), func() {
			var local sched.Mutex
			local.Lock()
			defer local.Unlock()
			sched.GoNamed("helper", func() {
				ctx, cancel := sched.WithTimeout(context.Background(), time.Second)
				defer cancel()
				sched.Select(sched.DoneCase(ctx, nil), ch.RecvCase(nil))
				mu.Lock()
				cond.Wait()
				mu.Unlock()
			})
			tk := sched.NewTicker(100 * time.Millisecond)
			defer tk.Stop()
			for range 4 {
				tk.C.Recv()
				mu.Lock()
				cond.Broadcast()
				mu.Unlock()
			}
		}, sched.ProcessOptions{Restart: i == 0}))
	}
	sched.Yield()
	ps[1].Crash()
	for _, p := range ps {
		p.Wait()
	}
}

func TestTeardown(t *testing.T) {
	progs := map[string]func(){
		"deadlock": lockOrder,
		"assertion": func() {
			var mu sched.Mutex
			sched.GoNamed("holder", func() {
				mu.Lock()
				defer mu.Unlock() // runs during teardown
				f := sched.NewFuture[int]()
				f.Wait()
			})
			sched.GoNamed("unstarted", func() {})
			sched.Yield()
			sched.Fail(errors.New("stop"))
		},
		"panic": func() {
			for i := 0; i < 3; i++ {
				sched.GoNamed("spinner", func() {
					for {
						sched.Yield()
					}
				})
			}
			sched.Yield()
			panic("stop")
		},
		"step bound": func() {
			sched.GoNamed("spinner", func() {
				for {
					sched.Yield()
				}
			})
			for {
				sched.Yield()
			}
		},
		"pass":   busy,
		"faults": worldProg,
		"timers": func() {
			for range 3 {
				sched.GoNamed("sleeper", func() { sched.Sleep(time.Hour) })
				sched.AfterFunc(time.Minute, func() {})
				sched.NewTimer(time.Second)
				sched.NewTicker(time.Second)
				ctx, cancel := sched.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				sched.GoNamed("waiter", func() { sched.Select(sched.DoneCase(ctx, nil)) })
			}
			sched.Sleep(time.Second)
			sched.Fail(errors.New("stop"))
		},
	}
	names := []string{"assertion", "deadlock", "panic", "pass", "step bound", "faults", "timers"}
	mayFail := map[string]bool{"deadlock": true, "faults": true}
	faultKinds, outcomes := map[string]int{}, map[string]int{}
	runs := 20000
	if testing.Short() {
		runs = 500
	}
	runtime.GC()
	before := runtime.NumGoroutine()
	var ms0, ms1 runtime.MemStats
	for i := 0; i < runs; i++ {
		if i == runs/2 {
			runtime.GC()
			runtime.ReadMemStats(&ms0)
		}
		name := names[i%len(names)]
		cfg := sched.Config{Seed: uint64(i), MaxSteps: 200, NoEvents: true}
		if name == "faults" {
			cfg.Faults, cfg.MaxStall, cfg.MaxTimeStep, cfg.ExpectedSteps = 2, time.Second, 50*time.Millisecond, 50
		}
		res := mustRun(t, cfg, progs[name])
		if (res.Failure == nil) != (name == "pass") && !mayFail[name] {
			t.Fatalf("run %d (%s): unexpected outcome %v", i, name, res.Failure)
		}
		if name == "faults" {
			for _, f := range res.Faults {
				faultKinds[f.Kind.String()+" by "+f.By]++
			}
			if res.Failure != nil {
				outcomes[res.Failure.Kind.String()]++
			} else {
				outcomes["passed"]++
			}
		}
		if f := res.Failure; f != nil && (f.Kind == sched.UncontrolledBlocking || f.Kind == sched.Divergence || (f.Kind == sched.Panic && name != "panic")) {
			t.Fatalf("run %d (%s): %v", i, name, f)
		}
		// A few goroutines of the last runs may still be retiring;
		// a leak would grow without bound.
		if got := runtime.NumGoroutine(); got > before+10 && settledGoroutines(before+10) > before+10 {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%s\nrun %d (%s): %d goroutines after Run returned, %d before the runs", buf, i, name, got, before)
		}
	}
	if got := settledGoroutines(before); got > before {
		t.Errorf("%d goroutines after %d runs, %d before", got, runs, before)
	}
	t.Logf("faults in the runs of the faults program: %v; outcomes: %v", faultKinds, outcomes)
	for _, k := range []string{"crash by strategy", "stall by strategy", "crash by program", "restart by strategy"} {
		if faultKinds[k] == 0 {
			t.Errorf("no %s in the faults runs: %v", k, faultKinds)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	if growth := int64(ms1.HeapAlloc) - int64(ms0.HeapAlloc); growth > 1<<20 {
		t.Errorf("heap grew by %d bytes over %d runs", growth, runs/2)
	}
}

// settledGoroutines returns runtime.NumGoroutine once it is at most
// want, or after up to a second of polling: a machine goroutine that has
// signalled its exit may not have been retired by the runtime yet. It
// never asserts on time; it only gives the runtime the chance to finish.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 1000 && n > want; i++ {
		time.Sleep(time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// TestControlledFromPlainGoroutine: a goroutine started with the go
// statement that uses a primitive bound to the run ends the run with a
// Panic failure instead of taking the plain path.
func TestControlledFromPlainGoroutine(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		var mu sched.Mutex
		mu.Lock()
		start, fin := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(fin)
			<-start
			mu.Unlock() // wrong: not a machine
		}()
		sched.GoNamed("y", func() {
			close(start)
			<-fin
			sched.Yield()
		})
		sched.NewFuture[int]().Wait()
	})
	want := "panic in a goroutine that is not a machine at step 3: sched: Mutex.Unlock called from a goroutine that is not a machine of the run it belongs to (start goroutines with sched.Go, not the go statement)"
	if res.Failure == nil || res.Failure.Error() != want {
		t.Fatalf("got %v\nwant %s", res.Failure, want)
	}
}

func TestLingering(t *testing.T) {
	release := make(chan struct{})
	res := mustRun(t, sched.Config{Strategy: "dfs", Watchdog: 100 * time.Millisecond}, func() {
		started := sched.NewFuture[bool]()
		sched.GoNamed("stubborn", func() {
			defer func() { <-release }() // blocks outside the scheduler during teardown
			started.Resolve(true)
			sched.NewFuture[int]().Wait()
		})
		started.Wait()
		sched.Fail(errors.New("stop"))
	})
	if res.Failure == nil || res.Failure.Kind != sched.Assertion {
		t.Fatalf("got %v, want the assertion", res.Failure)
	}
	if res.Lingering != 1 {
		t.Errorf("Lingering: got %d, want 1", res.Lingering)
	}
	close(release)

	res = mustRun(t, sched.Config{}, busy)
	if res.Lingering != 0 {
		t.Errorf("Lingering of a passing run: got %d, want 0", res.Lingering)
	}
}
