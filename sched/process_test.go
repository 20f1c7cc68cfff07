package sched_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// TestCrashSemantics: a crash unwinds the process's machines (their
// deferred calls run), every controlled primitive they reach while
// unwinding exits at once without effect, and a crashed machine leaves
// the wait lists of the root's primitives: a Signal goes to the root
// machine that waited after it.
func TestCrashSemantics(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		testCrashSemantics(t, seed)
	}
}

func testCrashSemantics(t *testing.T, seed uint64) {
	var log []string
	res := mustRun(t, sched.Config{Seed: seed}, func() {
		var mu sched.Mutex
		cond := sched.NewCond(&mu)
		out := sched.NewChan[string](10)
		waiting := 0
		p := sched.StartProcess("p", func() {
			sched.GoNamed("sleeper", func() {
				var local sched.Mutex
				local.Lock()
				defer local.Unlock()
				defer func() { log = append(log, "sleeper unwinds") }()
				sched.Sleep(time.Hour)
				log = append(log, "sleeper woke")
			})
			defer func() {
				log = append(log, "waiter unwinds")
				out.Send("from the dead") // exits at once: no effect
				log = append(log, "not reached")
			}()
			mu.Lock()
			waiting++
			cond.Wait() // the crash finds it here
			log = append(log, "waiter woke")
		}, sched.ProcessOptions{})
		woke := sched.NewFuture[string]()
		sched.GoNamed("root-waiter", func() {
			mu.Lock()
			for waiting < 1 {
				mu.Unlock()
				sched.Yield()
				mu.Lock()
			}
			waiting++
			cond.Wait()
			mu.Unlock()
			woke.Resolve(sched.MachineName())
		})
		for {
			mu.Lock()
			n := waiting
			mu.Unlock()
			if n == 2 {
				break
			}
			sched.Yield()
		}
		p.Crash()
		log = append(log, "crashed")
		sched.Assertf(p.Crashed(), "Crashed: false after Crash")
		sched.Assertf(out.Len() == 0, "a dead machine's send had an effect")
		mu.Lock()
		cond.Signal()
		mu.Unlock()
		sched.Assertf(woke.Wait() == "root-waiter", "Signal woke %q", woke.Wait())
		p.Wait()
	})
	if res.Failure != nil {
		t.Fatalf("seed %d: %v\n%s", seed, res.Failure, res.Report(20))
	}
	want := []string{"waiter unwinds", "sleeper unwinds", "crashed"}
	if !reflect.DeepEqual(log, want) {
		t.Errorf("log: got %q, want %q", log, want)
	}
	if len(res.Faults) != 1 || res.Faults[0].Kind != sched.Crash || res.Faults[0].By != "program" || res.Faults[0].ProcessName != "p" {
		t.Errorf("Faults: %v", res.Faults)
	}
	if res.Lingering != 0 {
		t.Errorf("Lingering: %d", res.Lingering)
	}
}

// TestCrashSelf: a machine that crashes its own process (or whose
// process a decision crashes while it runs) unwinds, and the others go
// on.
func TestCrashSelf(t *testing.T) {
	var log []string
	res := mustRun(t, sched.Config{}, func() {
		var p *sched.Process
		p = sched.StartProcess("p", func() {
			defer func() { log = append(log, "unwound") }()
			sched.CurrentProcess().Crash()
			log = append(log, "not reached")
		}, sched.ProcessOptions{})
		p.Wait()
		log = append(log, "main")
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	if want := []string{"unwound", "main"}; !reflect.DeepEqual(log, want) {
		t.Errorf("log: got %q, want %q", log, want)
	}
}

// TestRestart: a restartable process runs its body again after a crash
// (forced when nothing else can run); the body sees Restarts; Wait
// returns when the restarted body returns.
func TestRestart(t *testing.T) {
	var log []string
	res := mustRun(t, sched.Config{}, func() {
		p := sched.StartProcess("server", func() {
			n := sched.CurrentProcess().Restarts()
			log = append(log, fmt.Sprintf("start %d", n))
			if n == 0 {
				sched.Sleep(time.Hour)
			}
		}, sched.ProcessOptions{Restart: true})
		sched.Yield()
		p.Crash()
		p.Wait()
		log = append(log, fmt.Sprintf("waited, restarts %d, crashed %v", p.Restarts(), p.Crashed()))
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	want := []string{"start 0", "start 1", "waited, restarts 1, crashed false"}
	if !reflect.DeepEqual(log, want) {
		t.Errorf("log: got %q, want %q", log, want)
	}
	var got []string
	for _, f := range res.Faults {
		got = append(got, f.String())
	}
	wantFaults := []string{
		`step 4 (+0s): crash process 1 "server" (by the program)`,
		`step 6 (+0s): restart process 1 "server" (by the scheduler: no machine was enabled)`,
	}
	if !reflect.DeepEqual(got, wantFaults) {
		t.Errorf("faults:\ngot  %q\nwant %q", got, wantFaults)
	}
}

// TestStall: a stalled process is not scheduled while the clock and the
// other processes go on; when it resumes it reads the advanced clock.
func TestStall(t *testing.T) {
	var ticks []time.Duration
	var rootTicks int
	res := mustRun(t, sched.Config{}, func() {
		p := sched.StartProcess("worker", func() {
			for range 6 {
				ticks = append(ticks, sched.Since(sched.DefaultStart))
				sched.Sleep(time.Second)
			}
		}, sched.ProcessOptions{})
		sched.Sleep(2500 * time.Millisecond)
		p.Stall(5 * time.Second)
		for range 5 {
			sched.Sleep(time.Second)
			rootTicks++
		}
		p.Wait()
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, 7500 * time.Millisecond, 8500 * time.Millisecond, 9500 * time.Millisecond}
	if !reflect.DeepEqual(ticks, want) || rootTicks != 5 {
		t.Errorf("worker ticks at %v (root ticked %d times), want %v", ticks, rootTicks, want)
	}
}

// TestStallEndsAfterExpectedSteps: a stall that other machines keep from
// ending (they run without letting time pass) ends after ExpectedSteps
// steps, and the clock moves to its end.
func TestStallEndsAfterExpectedSteps(t *testing.T) {
	res := mustRun(t, sched.Config{ExpectedSteps: 50}, func() {
		resumed := false
		p := sched.StartProcess("worker", func() {
			sched.Yield()
			resumed = true
		}, sched.ProcessOptions{})
		p.Stall(time.Minute)
		spins := 0
		for !resumed {
			sched.Yield()
			spins++
		}
		sched.Assertf(spins >= 48 && spins <= 52, "the stall ended after %d spins, want about 50", spins)
		sched.Assertf(sched.Since(sched.DefaultStart) == time.Minute, "clock at +%v, want +1m", sched.Since(sched.DefaultStart))
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
}

// TestInjectedFaults: with a budget the strategies crash, stall and
// restart processes; every fault is a decision, listed in Result.Faults
// in step order and in the report, and the run replays exactly.
func TestInjectedFaults(t *testing.T) {
	prog := func() {
		var ps []*sched.Process
		for i := range 2 {
			ps = append(ps, sched.StartProcess(fmt.Sprint("p", i), func() {
				for range 10 {
					sched.Sleep(100 * time.Millisecond)
					sched.Yield()
				}
			}, sched.ProcessOptions{Restart: i == 0}))
		}
		for _, p := range ps {
			p.Wait()
		}
	}
	for _, strategy := range []string{"random", "pct", "pos"} {
		t.Run(strategy, func(t *testing.T) {
			kinds := map[sched.FaultKind]int{}
			for seed := uint64(0); seed < 100; seed++ {
				cfg := sched.Config{Strategy: strategy, Seed: seed, Faults: 2, MaxStall: time.Second, ExpectedSteps: 60}
				res := mustRun(t, cfg, prog)
				if res.Failure != nil {
					t.Fatalf("seed %d: %v", seed, res.Failure)
				}
				var decided []string
				for _, d := range res.Trace.Decisions {
					if d.Kind == sched.FaultInjection {
						decided = append(decided, d.String())
					}
				}
				var listed []string
				injected := 0
				for i, f := range res.Faults {
					kinds[f.Kind]++
					if i > 0 && f.Step < res.Faults[i-1].Step {
						t.Fatalf("faults out of step order: %v", res.Faults)
					}
					if f.By == "strategy" {
						s := fmt.Sprintf("f %s %d", f.Kind, f.Process)
						if f.Kind == sched.Stall {
							s += " " + f.Duration.String()
						}
						listed = append(listed, s)
					}
					if f.Kind != sched.Restart {
						injected++
					}
				}
				if !reflect.DeepEqual(decided, listed) {
					t.Fatalf("seed %d: decisions %q, faults %q", seed, decided, listed)
				}
				if injected > 2 {
					t.Fatalf("seed %d: %d faults, budget 2", seed, injected)
				}
				if len(res.Faults) > 0 && !strings.Contains(res.Report(0), "--- faults") {
					t.Fatalf("report lists no faults:\n%s", res.Report(0))
				}
				rep := mustRun(t, sched.Config{Strategy: "replay", Replay: roundTrip(t, res.Trace)}, prog)
				if rep.Failure != nil || traceHash(t, rep) != traceHash(t, res) || !reflect.DeepEqual(rep.Faults, res.Faults) {
					t.Fatalf("seed %d: replay differs: %v", seed, rep.Failure)
				}
			}
			if kinds[sched.Crash] == 0 || kinds[sched.Stall] == 0 || kinds[sched.Restart] == 0 {
				t.Errorf("fault kinds over 100 seeds: %v, want crashes, stalls and restarts", kinds)
			}
		})
	}
}

// TestDurable: a scheduling point inside Durable is a Panic failure; a
// crash decided at Durable's scheduling point never runs f.
func TestDurable(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		sched.Durable("store", func() { sched.Yield() })
	})
	want := `panic in machine 0 "main" at step 2: sched: scheduling point or controlled primitive inside Durable`
	if res.Failure == nil || res.Failure.Error() != want {
		t.Fatalf("got  %v\nwant %s", res.Failure, want)
	}
	var store []int
	res = mustRun(t, sched.Config{}, func() {
		p := sched.StartProcess("writer", func() {
			for i := 0; ; i++ {
				sched.Durable(&store, func() { store = append(store, i) })
			}
		}, sched.ProcessOptions{})
		for range 5 {
			sched.Yield()
		}
		p.Crash()
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
	for i, v := range store {
		if v != i {
			t.Fatalf("store %v: not every write whole", store)
		}
	}
}

// TestProcessUncontrolled: outside a run a process is its body in a
// goroutine.
func TestProcessUncontrolled(t *testing.T) {
	ran := false
	p := sched.StartProcess("p", func() { ran = true }, sched.ProcessOptions{})
	p.Wait()
	if !ran || p.Restarts() != 0 || p.Crashed() || p.ID() != -1 || sched.CurrentProcess() != nil {
		t.Errorf("plain process: ran %v, restarts %d, crashed %v, id %d", ran, p.Restarts(), p.Crashed(), p.ID())
	}
	p.Crash() // nothing
}

// TestFaultPlan: SetFaults lowers the budget, makes every fault a stall
// and makes faults come in a burst whose stalls end together;
// ProcessOptions.NoFaults keeps the strategy's faults off a process.
// Each plan is drawn by the program, so a run replays exactly.
func TestFaultPlan(t *testing.T) {
	const window, spread = 10, 300 * time.Millisecond
	prog := func(plan sched.FaultPlan) func() {
		return func() {
			sched.SetFaults(plan)
			var ps []*sched.Process
			for i := range 3 {
				ps = append(ps, sched.StartProcess(fmt.Sprint("p", i), func() {
					for range 20 {
						sched.Sleep(100 * time.Millisecond)
						sched.Yield()
					}
				}, sched.ProcessOptions{Restart: true, NoFaults: i == 2}))
			}
			for _, p := range ps {
				p.Wait()
			}
		}
	}
	for _, c := range []struct {
		name  string
		plan  sched.FaultPlan
		check func(fs []sched.Fault) string
	}{
		{"budget", sched.FaultPlan{Budget: 1}, func(fs []sched.Fault) string {
			if n := injected(fs); n > 1 {
				return fmt.Sprintf("%d faults, budget 1", n)
			}
			return ""
		}},
		{"stalls only", sched.FaultPlan{Budget: 4, StallsOnly: true}, func(fs []sched.Fault) string {
			for _, f := range fs {
				if f.Kind == sched.Crash {
					return "a crash, want stalls only"
				}
			}
			return ""
		}},
		{"burst", sched.FaultPlan{Budget: 3, StallsOnly: true, Window: window, Spread: spread}, func(fs []sched.Fault) string {
			var first *sched.Fault
			for i, f := range fs {
				if f.By != "strategy" {
					continue
				}
				if first == nil {
					first = &fs[i]
					continue
				}
				// Each next fault within Window steps of the one before (a
				// point that finds no process to fault waits), and a stall
				// while the first lasts ends with it, give or take Spread.
				if f.At < first.At+first.Duration {
					if end, firstEnd := f.At+f.Duration, first.At+first.Duration; end < firstEnd-spread || end > firstEnd+spread {
						return fmt.Sprintf("stall ending at %v, the burst's first at %v: want within %v", end, firstEnd, spread)
					}
				}
			}
			return ""
		}},
	} {
		for _, strategy := range []string{"random", "pct", "pos"} {
			t.Run(c.name+"/"+strategy, func(t *testing.T) {
				faults, within := 0, 0
				for seed := uint64(0); seed < 60; seed++ {
					cfg := sched.Config{Strategy: strategy, Seed: seed, Faults: 4, MaxStall: time.Second, ExpectedSteps: 60}
					res := mustRun(t, cfg, prog(c.plan))
					if res.Failure != nil {
						t.Fatalf("seed %d: %v", seed, res.Failure)
					}
					for i, f := range res.Faults {
						if f.Process == 3 && f.Kind != sched.Restart {
							t.Fatalf("seed %d: fault %v of the process with NoFaults", seed, f)
						}
						if i > 0 && f.Kind != sched.Restart && f.Step-res.Faults[i-1].Step <= window {
							within++
						}
					}
					if msg := c.check(res.Faults); msg != "" {
						t.Fatalf("seed %d: %s: %v", seed, msg, res.Faults)
					}
					faults += injected(res.Faults)
					rep := mustRun(t, sched.Config{Strategy: "replay", Replay: roundTrip(t, res.Trace)}, prog(c.plan))
					if rep.Failure != nil || traceHash(t, rep) != traceHash(t, res) {
						t.Fatalf("seed %d: replay differs: %v", seed, rep.Failure)
					}
				}
				if faults == 0 {
					t.Errorf("no fault in 60 seeds")
				}
				if c.plan.Window > 0 && 2*within < faults-60 {
					t.Errorf("burst: %d of %d faults after a run's first within %d steps of the one before, want most", within, faults-60, window)
				}
				t.Logf("%d faults in 60 runs, %d within %d steps of the one before", faults, within, window)
			})
		}
	}
}

func injected(fs []sched.Fault) int {
	n := 0
	for _, f := range fs {
		if f.Kind != sched.Restart {
			n++
		}
	}
	return n
}

// TestFaultsSoFar: Faults, called by any machine at any step, lists
// exactly the faults of the steps before the caller's, as Result.Faults
// lists them at the end, in a run and in its lenient replay; it is the
// caller's copy; outside a run, and in a run without processes or a
// fault budget, it is nil.
func TestFaultsSoFar(t *testing.T) {
	if got := sched.Faults(); got != nil {
		t.Errorf("outside a run: Faults got %v, want nil", got)
	}
	res := mustRun(t, sched.Config{Seed: 1}, func() {
		sched.Go(func() { sched.Yield() })
		sched.Yield()
		if got := sched.Faults(); got != nil {
			sched.Assertf(false, "in a run without processes or faults: Faults got %v, want nil", got)
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}

	type snapshot struct {
		step   int64
		faults []sched.Fault
	}
	var snaps []snapshot
	look := func() {
		step, fs := sched.Step(), sched.Faults()
		snaps = append(snaps, snapshot{step, slices.Clone(fs)})
		if len(fs) > 0 {
			fs[0].Step = -1 // the caller's copy: Result.Faults must not change
		}
	}
	prog := func() {
		var ps []*sched.Process
		for i := range 2 {
			ps = append(ps, sched.StartProcess(fmt.Sprint("p", i), func() {
				for range 10 {
					look()
					sched.Sleep(100 * time.Millisecond)
					look()
					sched.Yield()
				}
			}, sched.ProcessOptions{Restart: i == 0}))
		}
		sched.GoDaemon("watcher", func() {
			for {
				look()
				sched.Yield()
				look()
				sched.Sleep(30 * time.Millisecond)
			}
		})
		for _, p := range ps {
			p.Wait()
		}
	}
	check := func(t *testing.T, res *sched.Result) (faulted bool) {
		t.Helper()
		if res.Failure != nil {
			t.Fatal(res.Failure)
		}
		for _, f := range res.Faults {
			if f.Step < 0 {
				t.Fatalf("Result.Faults changed through a copy Faults returned: %v", res.Faults)
			}
		}
		for _, s := range snaps {
			var want []sched.Fault
			for _, f := range res.Faults {
				if f.Step < s.step {
					want = append(want, f)
				}
			}
			if !slices.Equal(s.faults, want) {
				t.Fatalf("at step %d: Faults got %v, want %v", s.step, s.faults, want)
			}
		}
		return len(res.Faults) > 0
	}
	for _, strategy := range []string{"random", "pct", "pos"} {
		t.Run(strategy, func(t *testing.T) {
			faulted := 0
			for seed := uint64(0); seed < 40; seed++ {
				snaps = nil
				cfg := sched.Config{Strategy: strategy, Seed: seed, Faults: 2, MaxStall: time.Second, ExpectedSteps: 60}
				res := mustRun(t, cfg, prog)
				if check(t, res) {
					faulted++
				}
				snaps = nil
				rep := mustRun(t, sched.Config{Strategy: "lenient", Replay: res.Trace}, prog)
				check(t, rep)
				if !slices.Equal(rep.Faults, res.Faults) {
					t.Fatalf("seed %d: the lenient replay's faults %v, want %v", seed, rep.Faults, res.Faults)
				}
			}
			if faulted < 20 {
				t.Errorf("only %d of 40 runs had faults: the test looks at too few", faulted)
			}
		})
	}
}
