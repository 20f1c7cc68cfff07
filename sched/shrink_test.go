package sched_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// sameKind is the test of a shrink that keeps the failure's kind.
func sameKind(t *testing.T, prog func(), kind sched.Kind) sched.ShrinkTest {
	return func(cfg sched.Config) (*sched.Result, bool) {
		res, err := sched.Run(cfg, prog)
		if err != nil {
			t.Errorf("Run: %v", err)
			return nil, false
		}
		return res, res.Failure != nil && res.Failure.Kind == kind
	}
}

// replayExact replays tr with the "replay" strategy and checks that the
// run makes exactly its decisions and fails with the same text.
func replayExact(t *testing.T, prog func(), tr *sched.Trace, want *sched.Failure) {
	t.Helper()
	res, err := sched.Run(sched.Config{Strategy: "replay", Replay: tr, NoEvents: true}, prog)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Trace.Decisions, tr.Decisions) {
		t.Fatalf("replay: decisions got %v, want %v", res.Trace.Decisions, tr.Decisions)
	}
	if res.Failure == nil || res.Failure.Error() != want.Error() {
		t.Fatalf("replay: failure got %v, want %v", res.Failure, want)
	}
}

// minimalFailing runs every schedule of prog of at most maxSteps steps
// (dfs) and returns the smallest size, in ShrinkSize order, of a run
// that fails with kind. Runs cut at maxSteps fail with StepBound: when
// the result has fewer steps than maxSteps, no longer run is smaller.
func minimalFailing(t *testing.T, prog func(), kind sched.Kind, maxSteps int) sched.ShrinkSize {
	t.Helper()
	ex, err := sched.NewExplorer(sched.Config{Strategy: "dfs", MaxSteps: maxSteps, NoEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	var best *sched.ShrinkSize
	for {
		res, err := ex.Next(prog)
		if errors.Is(err, sched.ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if res.Failure != nil && res.Failure.Kind == kind {
			if sz := sched.SizeOf(res); best == nil || sz.Less(*best) {
				best = &sz
			}
		}
	}
	if best == nil || best.Steps >= int64(maxSteps) {
		t.Fatalf("dfs found no failing schedule of fewer than %d steps", maxSteps)
	}
	return *best
}

// lostUpdateNProg is the lost update with 2, 3 or 4 incrementing
// machines, a choice of the program. Each logs its read and its write.
func lostUpdateNProg() {
	names := []string{"inc1", "inc2", "inc3", "inc4"}[:2+sched.Choose(3)]
	x := 0
	spawnAll(names, func(int) {
		v := x
		sched.Logf("read")
		sched.Yield()
		x = v + 1
		sched.Logf("write")
	})
	sched.Assertf(x == len(names), "counter is %d, want %d", x, len(names))
}

// readsAndWrites returns the "read" and "write" events of res as
// "read inc2", "write inc1", ...
func readsAndWrites(res *sched.Result) []string {
	var out []string
	for _, e := range res.Events {
		if e.Text == "read" || e.Text == "write" {
			out = append(out, e.Text+" "+e.Name)
		}
	}
	return out
}

// TestShrinkClassicBugs shrinks a failing run of each classic bug found
// from ten seeds (three with -short) of each randomized strategy.
// Minimal means: no failing schedule of the program is smaller in
// ShrinkSize order (fewest steps, then fewest preemptions), which dfs
// checks by running every schedule; the shrinker reaches that minimum
// from every run. The lost update of 2 to 4 machines shrinks to two
// machines that both read the counter before either writes it. The
// livelock's runs all end at the step bound, so dfs cannot run them all:
// its shrunk run must keep the failure with at most one preemption (p0
// raises its flag, is preempted, p1 raises its flag: then both spin), at
// a step bound lowered to MinShrinkBound (its trace records it). The
// shrunk trace replays exactly, and the shrink does not depend on
// Parallel.
func TestShrinkClassicBugs(t *testing.T) {
	cases := []struct {
		name string
		prog func() func()
		kind sched.Kind
		// machines is the number of machines of the shrunk run.
		machines int
		// dfsSteps bounds the runs dfs enumerates (see minimalFailing);
		// 0 for the livelock.
		dfsSteps int
	}{
		{"lost update", func() func() { return lostUpdateProg(false) }, sched.Assertion, 3, 500},
		// (All the runs of 2 to 4 machines take 10 s; those of up to 10
		// steps, 0.2 s.)
		{"lost update, 2 to 4 machines", func() func() { return lostUpdateNProg }, sched.Assertion, 3, 10},
		{"atomicity violation", func() func() { return atomicityProg(false) }, sched.Panic, 3, 500},
		{"order violation", func() func() { return orderProg(false) }, sched.Assertion, 3, 500},
		{"lock-order deadlock", func() func() { return lockOrderProg(false) }, sched.Deadlock, 3, 500},
		{"livelock", func() func() { return livelockProg(false) }, sched.StepBound, 3, 0},
	}
	seeds := 10
	if testing.Short() {
		seeds = 3
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prog := tc.prog()
			var want *sched.ShrinkSize
			if tc.dfsSteps > 0 {
				m := minimalFailing(t, prog, tc.kind, tc.dfsSteps)
				want = &m
			}
			shrunk := 0
			for _, strategy := range []string{"random", "pct", "pos"} {
				for seed := 1; seed <= seeds; seed++ {
					cfg := bugConfig(strategy)
					cfg.Seed = uint64(seed)
					res, err := sched.Run(cfg, prog)
					if err != nil {
						t.Fatal(err)
					}
					if res.Failure == nil {
						continue
					}
					if res.Failure.Kind != tc.kind {
						t.Fatalf("%s seed %d: failure %v, want kind %v", strategy, seed, res.Failure, tc.kind)
					}
					shrunk++
					sr, err := sched.Shrink(context.Background(), res.Trace, sameKind(t, prog, tc.kind), sched.ShrinkOptions{})
					if err != nil {
						t.Fatal(err)
					}
					got := sr.Shrunk
					if sr.Stopped != "" {
						t.Errorf("%s seed %d: stopped by its budget (%s) after %d runs", strategy, seed, sr.Stopped, sr.Runs)
					}
					if want != nil && (got.Steps != want.Steps || got.Preemptions != want.Preemptions) {
						t.Errorf("%s seed %d: shrunk from %v to %v (%v), want the minimum %v", strategy, seed, sr.Original, got, sr.Result.Trace.Decisions, *want)
					}
					if want == nil && (got.Steps != sched.MinShrinkBound || sr.Result.Trace.MaxSteps != sched.MinShrinkBound || got.Preemptions > 1) {
						t.Errorf("%s seed %d: shrunk from %v to %v at bound %d, want the bound lowered to %d and at most 1 preemption", strategy, seed, sr.Original, got, sr.Result.Trace.MaxSteps, sched.MinShrinkBound)
					}
					if got.Machines != tc.machines {
						t.Errorf("%s seed %d: shrunk to %d machines, want %d", strategy, seed, got.Machines, tc.machines)
					}
					if sr.Original != sched.SizeOf(res) || got != sched.SizeOf(sr.Result) {
						t.Errorf("%s seed %d: sizes got %v and %v, want those of the runs", strategy, seed, sr.Original, got)
					}
					replayExact(t, prog, sr.Result.Trace, sr.Result.Failure)
					if tc.name == "lost update, 2 to 4 machines" {
						// The minimal interleaving: both machines read
						// before either writes.
						again, _ := sched.Run(sched.Config{Strategy: "replay", Replay: sr.Result.Trace}, prog)
						rw := readsAndWrites(again)
						if len(rw) != 4 || !strings.HasPrefix(rw[0], "read") || !strings.HasPrefix(rw[1], "read") || rw[0] == rw[1] ||
							!strings.HasPrefix(rw[2], "write") || !strings.HasPrefix(rw[3], "write") || rw[2] == rw[3] {
							t.Errorf("%s seed %d: the shrunk run reads and writes %v, want two reads, then two writes, by two machines", strategy, seed, rw)
						}
					}
					par, err := sched.Shrink(context.Background(), res.Trace, sameKind(t, prog, tc.kind), sched.ShrinkOptions{Parallel: 4})
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(par.Result.Trace.Decisions, sr.Result.Trace.Decisions) || par.Runs != sr.Runs {
						t.Errorf("%s seed %d: Parallel 4 shrank to %v in %d runs, Parallel 1 to %v in %d runs", strategy, seed,
							par.Result.Trace.Decisions, par.Runs, sr.Result.Trace.Decisions, sr.Runs)
					}
				}
			}
			if shrunk == 0 {
				t.Fatalf("no seed found the bug")
			}
		})
	}
}

// TestShrinkTimingBugs shrinks the first failing run of each timing and
// crash bug under each randomized strategy: the shrunk run fails the
// same way, is no larger, keeps the one fault its bug needs (a stall that
// outlasts the lease, a crash between the two writes) and no other, and
// replays exactly.
func TestShrinkTimingBugs(t *testing.T) {
	for _, bc := range timingBugs {
		if bc.name == "real-clock retry" {
			continue // its failure is the watchdog's, on the wall clock
		}
		for _, strategy := range []string{"random", "pct", "pos"} {
			t.Run(bc.name+"/"+strategy, func(t *testing.T) {
				prog := bc.prog(false)
				cfg := bc.cfg
				cfg.Strategy, cfg.Seed, cfg.NoEvents = strategy, 2026, true
				ex, err := sched.NewExplorer(cfg)
				if err != nil {
					t.Fatal(err)
				}
				var res *sched.Result
				for i := 0; i < bc.iters && res == nil; i++ {
					r, err := ex.Next(prog)
					if err != nil {
						t.Fatal(err)
					}
					if r.Failure != nil {
						res = r
					}
				}
				if res == nil {
					t.Fatalf("not found in %d iterations", bc.iters)
				}
				sr, err := sched.Shrink(context.Background(), res.Trace, sameKind(t, prog, res.Failure.Kind), sched.ShrinkOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got, orig := sr.Shrunk, sr.Original
				if orig.Less(got) {
					t.Errorf("shrunk from %v to %v: larger", orig, got)
				}
				wantFaults := 0
				if bc.cfg.Faults > 0 {
					wantFaults = 1
				}
				if got.Faults != wantFaults {
					t.Errorf("shrunk from %v to %v, want %d fault", orig, got, wantFaults)
				}
				t.Logf("shrunk from %v to %v in %d runs: %v", orig, got, sr.Runs, sr.Result.Trace.Decisions)
				replayExact(t, prog, sr.Result.Trace, sr.Result.Failure)
			})
		}
	}
}

// lenientProg: two workers make choices and append them to a log; the
// assertion fails when the log's first entry is above 1.
func lenientProg() {
	var log []int
	spawnAll([]string{"a", "b"}, func(i int) {
		for range 2 {
			log = append(log, 10*i+sched.Choose(3))
			sched.Yield()
		}
	})
	sched.Assertf(log[0] <= 1, "log %v", log)
}

func TestLenientReplay(t *testing.T) {
	s := func(id int32) sched.Decision { return sched.Decision{Kind: sched.Schedule, Value: id} }
	c := func(v, n int32) sched.Decision { return sched.Decision{Kind: sched.Choice, Value: v, Bound: n} }
	// The exact run: main spawns a and b and waits; b chooses 2, a 1,
	// b 0, a 2.
	exact := []sched.Decision{s(0), s(0), s(0), s(0), s(2), c(2, 3), s(1), c(1, 3), s(2), c(0, 3), s(1), c(2, 3), s(2), s(1), s(0)}
	tests := []struct {
		name      string
		decisions []sched.Decision
		want      []sched.Decision
		stats     sched.LenientStats
		failing   bool
	}{
		{"exact", exact, exact, sched.LenientStats{Followed: 15}, true},
		{"a machine that is not enabled: the next schedule decision that applies",
			[]sched.Decision{s(0), s(0), s(0), s(0), s(7), c(2, 3), s(1), c(1, 3)},
			// Machine 7 does not exist: s 1, the next schedule decision,
			// is taken and s 7 dropped. The choice after s 7 was machine
			// 7's: unused. Then a's choice, and defaults: a goes on while
			// it can.
			[]sched.Decision{s(0), s(0), s(0), s(0), s(1), c(1, 3), s(1), c(0, 3), s(1), s(2), c(0, 3), s(2), c(0, 3), s(2), s(0)},
			sched.LenientStats{Followed: 6, Skipped: 1, Defaulted: 9, Unused: 1}, false},
		{"no machine enabled among the next: the default",
			[]sched.Decision{s(0), s(0), s(0), s(0), s(7), s(8)},
			// Neither 7 nor 8 exists, and main, which ran, waits: the
			// enabled machine with the lowest ID, a, runs instead, twice.
			[]sched.Decision{s(0), s(0), s(0), s(0), s(1), c(0, 3), s(1), c(0, 3), s(1), s(2), c(0, 3), s(2), c(0, 3), s(2), s(0)},
			sched.LenientStats{Followed: 4, Substituted: 2, Defaulted: 9}, false},
		{"choices are each machine's own: b's choices go to b",
			[]sched.Decision{s(0), s(0), s(0), s(0), s(1), c(1, 3), s(2), c(2, 3), s(1), c(0, 3), s(2), c(2, 3)},
			[]sched.Decision{s(0), s(0), s(0), s(0), s(1), c(1, 3), s(2), c(2, 3), s(1), c(0, 3), s(2), c(2, 3), s(2), s(1), s(0)},
			sched.LenientStats{Followed: 12, Defaulted: 3}, false},
		{"a choice out of range is 0; in range with another bound, taken",
			[]sched.Decision{s(0), s(0), s(0), s(0), s(2), c(5, 6), s(1), c(1, 2)},
			[]sched.Decision{s(0), s(0), s(0), s(0), s(2), c(0, 3), s(1), c(1, 3), s(1), c(0, 3), s(1), s(2), c(0, 3), s(2), s(0)},
			sched.LenientStats{Followed: 7, Substituted: 1, Defaulted: 7}, true},
		{"cut short: defaults", exact[:6],
			[]sched.Decision{s(0), s(0), s(0), s(0), s(2), c(2, 3), s(2), c(0, 3), s(2), s(1), c(0, 3), s(1), c(0, 3), s(1), s(0)},
			sched.LenientStats{Followed: 6, Defaulted: 9}, true},
		{"decisions left over are unused", append(append([]sched.Decision(nil), exact...), s(1), c(1, 3)), exact,
			sched.LenientStats{Followed: 15, Unused: 2}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &sched.Trace{Strategy: "random", Seed: 1, MaxSteps: 100, Decisions: tt.decisions}
			res, err := sched.Run(sched.Config{Strategy: "lenient", Replay: tr}, lenientProg)
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Trace.Decisions; !slices.Equal(got, tt.want) {
				t.Errorf("decisions got %v, want %v", got, tt.want)
			}
			if res.Lenient == nil || *res.Lenient != tt.stats {
				t.Errorf("stats got %+v, want %+v", res.Lenient, tt.stats)
			}
			if failed := res.Failure != nil; failed != tt.failing {
				t.Errorf("failed got %v (%v), want %v", failed, res.Failure, tt.failing)
			}
			// What a lenient run records replays exactly.
			again, err := sched.Run(sched.Config{Strategy: "replay", Replay: res.Trace}, lenientProg)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again.Trace.Decisions, res.Trace.Decisions) || fmt.Sprint(again.Failure) != fmt.Sprint(res.Failure) {
				t.Errorf("replay of the recorded trace: got %v (%v), want %v (%v)", again.Trace.Decisions, again.Failure, res.Trace.Decisions, res.Failure)
			}
		})
	}
}

// TestLenientReplayOfItsOwnTrace: given the exact trace of a run, a
// lenient replay follows every decision: the same run, with time advances,
// faults and clock offsets.
func TestLenientReplayOfItsOwnTrace(t *testing.T) {
	type prog struct {
		name string
		f    func()
		cfg  sched.Config
	}
	var progs []prog
	for _, bc := range bugCases {
		progs = append(progs, prog{bc.name, bc.prog(false), bugConfig("")})
	}
	for _, bc := range timingBugs {
		if bc.name != "real-clock retry" {
			progs = append(progs, prog{bc.name, bc.prog(false), bc.cfg})
		}
	}
	// Two processes with skewed clocks: their offsets are decisions.
	progs = append(progs, prog{"clock offsets", func() {
		for _, n := range []string{"p", "q"} {
			sched.StartProcess(n, func() { sched.Sleep(time.Duration(sched.Choose(3)) * time.Second) }, sched.ProcessOptions{}).Wait()
		}
	}, sched.Config{MaxClockSkew: time.Second, Faults: 1, MaxStall: time.Second}})
	seeds := 20
	if testing.Short() {
		seeds = 5
	}
	for _, p := range progs {
		for _, strategy := range []string{"random", "pct", "pos"} {
			for seed := 1; seed <= seeds; seed++ {
				cfg := p.cfg
				cfg.Strategy, cfg.Seed, cfg.NoEvents = strategy, uint64(seed), true
				res, err := sched.Run(cfg, p.f)
				if err != nil {
					t.Fatal(err)
				}
				again, err := sched.Run(sched.Config{Strategy: "lenient", Replay: res.Trace, NoEvents: true}, p.f)
				if err != nil {
					t.Fatal(err)
				}
				n := len(res.Trace.Decisions)
				if !slices.Equal(again.Trace.Decisions, res.Trace.Decisions) || fmt.Sprint(again.Failure) != fmt.Sprint(res.Failure) ||
					*again.Lenient != (sched.LenientStats{Followed: n}) || again.Preemptions != res.Preemptions {
					t.Errorf("%s %s seed %d: lenient replay got %v (%v, %+v, %d preemptions), want %v (%v, %d preemptions)", p.name, strategy, seed,
						again.Trace.Decisions, again.Failure, *again.Lenient, again.Preemptions, res.Trace.Decisions, res.Failure, res.Preemptions)
				}
			}
		}
	}
}

// TestLenientReplaySkipsFaults: a recorded fault that does not apply
// (its process has not started yet) is dropped.
func TestLenientReplaySkipsFaults(t *testing.T) {
	s := func(id int32) sched.Decision { return sched.Decision{Kind: sched.Schedule, Value: id} }
	crash := sched.Decision{Kind: sched.FaultInjection, Fault: sched.Crash, Value: 1}
	tests := []struct {
		name      string
		decisions []sched.Decision
		failing   bool
		stats     sched.LenientStats
	}{
		// The mover takes item 1 from x, and crashes before it puts it
		// in y: the item is lost.
		{"applies", []sched.Decision{s(0), s(0), s(0), s(1), s(1), crash, s(2), s(2), s(2), s(2), s(2), s(2), s(0)}, true,
			sched.LenientStats{Followed: 13}},
		// Process 1 has not started: the crash is dropped, and the moves
		// complete.
		{"dropped", []sched.Decision{crash, s(0), s(0), s(0), s(1), s(1)}, false,
			sched.LenientStats{Followed: 5, Skipped: 1, Defaulted: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &sched.Trace{Strategy: "random", MaxSteps: 100, Faults: 1, Decisions: tt.decisions}
			res, err := sched.Run(sched.Config{Strategy: "lenient", Replay: tr}, twoStepProg(false))
			if err != nil {
				t.Fatal(err)
			}
			if failed := res.Failure != nil; failed != tt.failing {
				t.Errorf("failed got %v (%v), want %v", failed, res.Failure, tt.failing)
			}
			if *res.Lenient != tt.stats {
				t.Errorf("stats got %+v, want %+v (decisions %v)", *res.Lenient, tt.stats, res.Trace.Decisions)
			}
		})
	}
}

func TestShrinkBadInput(t *testing.T) {
	prog := lostUpdateProg(false)
	res, err := sched.Run(sched.Config{Strategy: "random", Seed: 1}, lostUpdateProg(true))
	if err != nil {
		t.Fatal(err)
	}
	test := sameKind(t, prog, sched.Assertion)
	tests := []struct {
		name string
		tr   *sched.Trace
		test sched.ShrinkTest
		opts sched.ShrinkOptions
		want string
	}{
		{"no trace", nil, test, sched.ShrinkOptions{}, "sched: bad config: Shrink needs a trace and a test"},
		{"no test", res.Trace, nil, sched.ShrinkOptions{}, "sched: bad config: Shrink needs a trace and a test"},
		{"negative runs", res.Trace, test, sched.ShrinkOptions{MaxRuns: -1}, "sched: bad config: ShrinkOptions: MaxRuns and MaxTime must not be negative, Parallel must be in 0..256"},
		{"parallel", res.Trace, test, sched.ShrinkOptions{Parallel: 1000}, "sched: bad config: ShrinkOptions: MaxRuns and MaxTime must not be negative, Parallel must be in 0..256"},
		// The correct program's run passes: nothing to shrink.
		{"not failing", res.Trace, test, sched.ShrinkOptions{}, "sched: shrink: the trace's run does not fail the test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sched.Shrink(context.Background(), tt.tr, tt.test, tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestShrinkBudget: a shrink stops at its run budget, or when its context
// is cancelled, and says so; what it reached fails the same way, is no
// larger, and the progress reports count up to it.
func TestShrinkBudget(t *testing.T) {
	prog := livelockProg(false)
	res, err := sched.Run(bugConfig("random"), prog)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tests := []struct {
		name string
		ctx  context.Context
		opts sched.ShrinkOptions
		want string
		runs int
	}{
		{"runs", context.Background(), sched.ShrinkOptions{MaxRuns: 20}, "runs", 20},
		{"runs, parallel", context.Background(), sched.ShrinkOptions{MaxRuns: 20, Parallel: 3}, "runs", 20},
		{"cancelled", ctx, sched.ShrinkOptions{}, "cancelled", 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var last sched.ShrinkProgress
			calls := 0
			tt.opts.Progress = func(p sched.ShrinkProgress) {
				calls++
				if p.Runs < last.Runs || p.Accepted < last.Accepted {
					t.Errorf("progress went back: %+v after %+v", p, last)
				}
				last = p
				if tt.want == "cancelled" && p.Runs >= 30 {
					cancel()
				}
			}
			sr, err := sched.Shrink(tt.ctx, res.Trace, sameKind(t, prog, sched.StepBound), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if sr.Stopped != tt.want || sr.Runs != tt.runs {
				t.Errorf("stopped %q after %d runs, want %q after %d", sr.Stopped, sr.Runs, tt.want, tt.runs)
			}
			if calls == 0 || last.Runs != sr.Runs || last.Smallest != sr.Shrunk {
				t.Errorf("progress: %d calls, last %+v; result %d runs, %v", calls, last, sr.Runs, sr.Shrunk)
			}
			if sr.Result.Failure == nil || sr.Result.Failure.Kind != sched.StepBound || sr.Original.Less(sr.Shrunk) {
				t.Errorf("reached %v (%v) from %v", sr.Shrunk, sr.Result.Failure, sr.Original)
			}
		})
	}
}

func TestTraceWithoutMachine(t *testing.T) {
	s := func(id int32) sched.Decision { return sched.Decision{Kind: sched.Schedule, Value: id} }
	c := func(v, n int32) sched.Decision { return sched.Decision{Kind: sched.Choice, Value: v, Bound: n} }
	adv := sched.Decision{Kind: sched.TimeAdvance, Duration: time.Second}
	tr := &sched.Trace{Strategy: "random", Params: []sched.Param{{Key: "k", Value: "v"}},
		Decisions: []sched.Decision{s(0), c(1, 2), s(1), c(2, 3), adv, s(2), c(0, 2), s(3), s(1), s(0)}}
	if got, want := tr.Owners(), []int{0, 0, 1, 1, -1, 2, 2, 3, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("Owners got %v, want %v", got, want)
	}
	tests := []struct {
		m    int
		want []sched.Decision
	}{
		{1, []sched.Decision{s(0), c(1, 2), adv, s(1), c(0, 2), s(2), s(0)}},
		{2, []sched.Decision{s(0), c(1, 2), s(1), c(2, 3), adv, s(2), s(1), s(0)}},
		{3, []sched.Decision{s(0), c(1, 2), s(1), c(2, 3), adv, s(2), c(0, 2), s(1), s(0)}},
	}
	for _, tt := range tests {
		got := tr.WithoutMachine(tt.m)
		if !slices.Equal(got.Decisions, tt.want) {
			t.Errorf("WithoutMachine(%d): got %v, want %v", tt.m, got.Decisions, tt.want)
		}
		if got.Strategy != tr.Strategy || !slices.Equal(got.Params, tr.Params) {
			t.Errorf("WithoutMachine(%d): the header changed", tt.m)
		}
	}
	if len(tr.Decisions) != 10 {
		t.Errorf("WithoutMachine changed the trace it was called on")
	}
}

// retryProg: a worker retries an operation a chosen number of times, then
// chooses a value; the run fails when the value is 7.
func retryProg() {
	var v int
	spawnAll([]string{"w"}, func(int) {
		for sched.ChooseIn("retry", 2) == 1 {
			sched.Yield()
		}
		v = sched.ChooseIn("value", 10)
	})
	sched.Assertf(v != 7, "value %d", v)
}

// TestChooseInStreams: a lenient run keeps the choices of each named
// stream apart, so a run that retries fewer times than recorded still
// chooses the recorded value after its retries; without the streams it
// takes a retry's choice for the value.
func TestChooseInStreams(t *testing.T) {
	s := func(id int32) sched.Decision { return sched.Decision{Kind: sched.Schedule, Value: id} }
	c := func(v, n int32) sched.Decision { return sched.Decision{Kind: sched.Choice, Value: v, Bound: n} }
	// Two retries, then 7.
	exact := []sched.Decision{s(0), s(0), s(1), c(1, 2), s(1), c(1, 2), s(1), c(0, 2), c(7, 10), s(0)}
	streams := []string{"", "", "", "retry", "", "retry", "", "retry", "value", ""}
	tr := &sched.Trace{Strategy: "random", MaxSteps: 100, Decisions: exact}
	res, err := sched.Run(sched.Config{Strategy: "lenient", Replay: tr}, retryProg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failure == nil || !slices.Equal(res.Trace.Streams, streams) {
		t.Fatalf("lenient run of the exact trace: %v, streams %q, want the failure and %q", res.Failure, res.Trace.Streams, streams)
	}
	// No retry: the first retry choice is 0.
	fewer := slices.Clone(exact)
	fewer[3] = c(0, 2)
	for _, tt := range []struct {
		name    string
		streams []string
		failing bool
	}{
		{"with streams", streams, true},
		{"without", nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := &sched.Trace{Strategy: "random", MaxSteps: 100, Decisions: fewer, Streams: tt.streams}
			res, err := sched.Run(sched.Config{Strategy: "lenient", Replay: tr}, retryProg)
			if err != nil {
				t.Fatal(err)
			}
			if failed := res.Failure != nil; failed != tt.failing {
				t.Errorf("failed got %v (%v; decisions %v), want %v", failed, res.Failure, res.Trace.Decisions, tt.failing)
			}
		})
	}
	// Outside a lenient run, ChooseIn is Choose.
	for _, strategy := range []string{"random", "pct"} {
		a, _ := sched.Run(sched.Config{Strategy: strategy, Seed: 3}, retryProg)
		if a.Trace.Streams != nil {
			t.Errorf("%s: streams recorded: %q", strategy, a.Trace.Streams)
		}
		b, _ := sched.Run(sched.Config{Strategy: "replay", Replay: a.Trace}, retryProg)
		if !slices.Equal(a.Trace.Decisions, b.Trace.Decisions) {
			t.Errorf("%s: the replay differs", strategy)
		}
	}
}

// namedProg: main starts "a" (withA), which starts "a-helper", and then
// "b", "c" and two machines named "w"; each worker makes three choices,
// logging them, with a scheduling point after each.
func namedProg(withA bool) func() {
	return func() {
		var wg sched.WaitGroup
		work := func() {
			for range 3 {
				sched.Logf("chose %d", sched.Choose(10))
				sched.Yield()
			}
		}
		start := func(name string, f func()) {
			wg.Add(1)
			sched.GoNamed(name, func() {
				defer wg.Done()
				f()
			})
		}
		if withA {
			start("a", func() {
				start("a-helper", work)
				work()
			})
		}
		for _, n := range []string{"b", "c", "w", "w"} {
			start(n, work)
		}
		wg.Wait()
	}
}

// workOf returns the events of the workers other than a's, in order, each
// as "b#0: chose 3" (#k: the k-th machine of that name).
func workOf(res *sched.Result) []string {
	nth := map[int]int{}
	seen := map[string]int{}
	var out []string
	for _, e := range res.Events {
		if !strings.HasPrefix(e.Text, "chose") || strings.HasPrefix(e.Name, "a") {
			continue
		}
		k, ok := nth[e.Machine]
		if !ok {
			k = seen[e.Name]
			seen[e.Name]++
			nth[e.Machine] = k
		}
		out = append(out, fmt.Sprintf("%s#%d: %s", e.Name, k, e.Text))
	}
	return out
}

// TestLenientFollowsMachinesByName: a run recorded with machine "a" (and
// the helper it starts before main starts the others), written and
// parsed, replayed leniently by the program without a, with the trace
// without a's decisions: every other machine takes its own recorded
// choices and schedule, found by its name (the second "w" by being the
// second of its name), though its ID changed and the helper's decisions
// are still there. Without the names, a lenient run follows IDs, and the
// machines take each other's decisions: the test checks that it would
// fail then.
func TestLenientFollowsMachinesByName(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		res, err := sched.Run(sched.Config{Strategy: "random", Seed: seed}, namedProg(true))
		if err != nil {
			t.Fatal(err)
		}
		// Only runs in which a started its helper before main started
		// b: there the IDs of the others change when a goes.
		if res.Trace.Machines[2].Name != "a-helper" {
			continue
		}
		var text strings.Builder
		if err := res.Trace.Write(&text); err != nil {
			t.Fatal(err)
		}
		tr, err := sched.Parse(strings.NewReader(text.String()))
		if err != nil {
			t.Fatal(err)
		}
		// Without a's decisions, but with its helper's, whose machine
		// the program no longer starts (a caller editing a trace may not
		// know which machines a machine starts).
		without := tr.WithoutMachine(1)
		run := func(tr *sched.Trace) *sched.Result {
			r, err := sched.Run(sched.Config{Strategy: "lenient", Replay: tr}, namedProg(false))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		got, want := workOf(run(without)), workOf(res)
		if !slices.Equal(got, want) {
			t.Errorf("seed %d: without a, the others did\n%v\nwant\n%v", seed, got, want)
		}
		if both := run(tr.WithoutMachine(2).WithoutMachine(1)); !slices.Equal(workOf(both), want) || both.Lenient.Substituted+both.Lenient.Defaulted != 0 {
			t.Errorf("seed %d: without a and its helper: %v (%+v), want %v, no decision substituted or taken by default", seed, workOf(both), *both.Lenient, want)
		}
		anonymous := *without
		anonymous.Machines = nil
		if got := workOf(run(&anonymous)); slices.Equal(got, want) {
			t.Errorf("seed %d: without names the others also did as recorded: the test cannot fail", seed)
		}
		return
	}
	t.Fatal("no seed of 1..20 started a's helper before b")
}

// longRunProg is correct, and long when it chooses to be: a worker
// takes 260 steps, then chooses to take 300 more, which passes
// bugConfig's bound of 500.
func longRunProg() {
	sched.GoNamed("worker", func() {
		for range 260 {
			sched.Yield()
		}
		if sched.Choose(2) == 1 {
			for range 300 {
				sched.Yield()
			}
		}
	})
}

// longRunFailure is the first failing run of longRunProg from random
// seeds 1, 2, ...: a step-bound failure.
func longRunFailure(t *testing.T) *sched.Result {
	t.Helper()
	var res *sched.Result
	for seed := uint64(1); res == nil || res.Failure == nil; seed++ {
		cfg := bugConfig("random")
		cfg.Seed = seed
		var err error
		if res, err = sched.Run(cfg, longRunProg); err != nil {
			t.Fatal(err)
		}
	}
	return res
}

// TestShrinkBoundRefusesLongRun: the bound pass lowers the step bound
// of a livelock (TestShrinkClassicBugs), but not of a correct run that
// is only longer than the bound: its decisions fail at half the bound,
// yet run on at the original bound they finish (the choice to go on is
// not among them), so the shrunk run keeps its bound.
func TestShrinkBoundRefusesLongRun(t *testing.T) {
	res := longRunFailure(t)
	if res.Failure.Kind != sched.StepBound {
		t.Fatalf("the long run: %v, want a step-bound failure at %d", res.Failure, res.Trace.MaxSteps)
	}
	// What the bound pass's first candidate sees: a step-bound failure
	// at half the bound, and a run that passes when its decisions go on
	// at the original bound.
	half := *res.Trace
	half.MaxSteps /= 2
	low, err := sched.Run(sched.Config{Strategy: "lenient", Replay: &half, NoEvents: true}, longRunProg)
	if err != nil {
		t.Fatal(err)
	}
	again := *low.Trace
	again.MaxSteps = res.Trace.MaxSteps
	full, err := sched.Run(sched.Config{Strategy: "lenient", Replay: &again, NoEvents: true}, longRunProg)
	if err != nil {
		t.Fatal(err)
	}
	if low.Failure == nil || low.Failure.Kind != sched.StepBound || full.Failure != nil {
		t.Fatalf("at bound %d: %v; its decisions at bound %d: %v; want a step-bound failure, then a pass", half.MaxSteps, low.Failure, again.MaxSteps, full.Failure)
	}
	sr, err := sched.Shrink(context.Background(), res.Trace, sameKind(t, longRunProg, sched.StepBound), sched.ShrinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shrunk from %v to %v in %d runs", sr.Original, sr.Shrunk, sr.Runs)
	if got, want := sr.Result.Trace.MaxSteps, res.Trace.MaxSteps; got != want || sr.Shrunk.Steps != int64(want) {
		t.Errorf("shrunk to %v at bound %d, want the bound kept at %d", sr.Shrunk, got, want)
	}
	replayExact(t, longRunProg, sr.Result.Trace, sr.Result.Failure)
}

// TestShrinkBoundOption: a trace whose bound an earlier shrink lowered
// (a run that fails at half the bound it was found at, though its
// decisions pass at that one) is not shrunk further when
// ShrinkOptions.Bound names the bound it was found at; without it, the
// lowered bound is taken for the original and the bound pass goes on
// lowering. A Bound below the trace's is refused.
func TestShrinkBoundOption(t *testing.T) {
	res := longRunFailure(t)
	half := *res.Trace
	half.MaxSteps /= 2
	low, err := sched.Run(sched.Config{Strategy: "lenient", Replay: &half, NoEvents: true}, longRunProg)
	if err != nil {
		t.Fatal(err)
	}
	if low.Failure == nil || low.Failure.Kind != sched.StepBound {
		t.Fatalf("at bound %d: %v, want a step-bound failure", half.MaxSteps, low.Failure)
	}
	test := sameKind(t, longRunProg, sched.StepBound)
	with, err := sched.Shrink(context.Background(), low.Trace, test, sched.ShrinkOptions{Bound: res.Trace.MaxSteps})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := with.Result.Trace.MaxSteps, half.MaxSteps; got != want {
		t.Errorf("with Bound %d: shrunk to bound %d, want %d kept", res.Trace.MaxSteps, got, want)
	}
	without, err := sched.Shrink(context.Background(), low.Trace, test, sched.ShrinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := without.Result.Trace.MaxSteps; got >= half.MaxSteps {
		t.Errorf("without Bound: shrunk to bound %d, want below %d (else the test shows nothing)", got, half.MaxSteps)
	}
	_, err = sched.Shrink(context.Background(), res.Trace, test, sched.ShrinkOptions{Bound: res.Trace.MaxSteps - 1})
	if err == nil || !strings.Contains(err.Error(), "ShrinkOptions.Bound") {
		t.Errorf("a Bound below the trace's: err %v, want one naming ShrinkOptions.Bound", err)
	}
}
