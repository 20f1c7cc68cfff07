package sched_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// TestLenientSeed: where no recorded schedule decision applies, a run
// with a LenientSeed draws one. Given only main's first decisions, the
// lost update's increments run one after the other by default and the
// run passes; seeded, some seeds interleave them and the run fails.
// Every seeded run replays exactly, the same seed gives the same run at
// any GOMAXPROCS, recorded decisions that apply are still followed, and
// Choose keeps its default of 0.
func TestLenientSeed(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	s := func(id int32) sched.Decision { return sched.Decision{Kind: sched.Schedule, Value: id} }
	run := func(prog func(), tr *sched.Trace, seed uint64) *sched.Result {
		t.Helper()
		res, err := sched.Run(sched.Config{Strategy: "lenient", Replay: tr, LenientSeed: seed, NoEvents: true}, prog)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	prog := lostUpdateProg(false)
	short := &sched.Trace{Strategy: "random", MaxSteps: 100, Decisions: []sched.Decision{s(0), s(0)}}

	t.Run("seed 0 is the default", func(t *testing.T) {
		res := run(prog, short, 0)
		want := []sched.Decision{s(0), s(0), s(0), s(0), s(1), s(1), s(2), s(2), s(0)}
		if got := res.Trace.Decisions; !slices.Equal(got, want) || res.Failure != nil {
			t.Errorf("got %v (%v), want %v and no failure", got, res.Failure, want)
		}
	})

	t.Run("seeded runs draw, replay exactly and are deterministic", func(t *testing.T) {
		const seeds = 16
		failing := 0
		distinct := map[string]bool{}
		for seed := uint64(1); seed <= seeds; seed++ {
			runtime.GOMAXPROCS(1)
			res := run(prog, short, seed)
			if res.Failure != nil {
				failing++
			}
			distinct[fmt.Sprint(res.Trace.Decisions)] = true
			if res.Lenient.Followed != 2 || res.Lenient.Defaulted != len(res.Trace.Decisions)-2 {
				t.Errorf("seed %d: stats %+v, want 2 followed and the other %d taken by default", seed, *res.Lenient, len(res.Trace.Decisions)-2)
			}
			for _, procs := range []int{2, 8} {
				runtime.GOMAXPROCS(procs)
				if again := run(prog, short, seed); !slices.Equal(again.Trace.Decisions, res.Trace.Decisions) {
					t.Errorf("seed %d: GOMAXPROCS %d got %v, GOMAXPROCS 1 %v", seed, procs, again.Trace.Decisions, res.Trace.Decisions)
				}
			}
			again, err := sched.Run(sched.Config{Strategy: "replay", Replay: res.Trace, NoEvents: true}, prog)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(again.Trace.Decisions, res.Trace.Decisions) || fmt.Sprint(again.Failure) != fmt.Sprint(res.Failure) {
				t.Errorf("seed %d: replay got %v (%v), want %v (%v)", seed, again.Trace.Decisions, again.Failure, res.Trace.Decisions, res.Failure)
			}
		}
		if failing == 0 || failing == seeds {
			t.Errorf("%d of %d seeded runs failed, want some and not all (the draws interleave the increments, or run them in turn)", failing, seeds)
		}
		if len(distinct) < seeds/2 {
			t.Errorf("%d distinct runs of %d seeds, want at least %d", len(distinct), seeds, seeds/2)
		}
	})

	t.Run("recorded decisions that apply are followed", func(t *testing.T) {
		for seed := uint64(1); seed <= 5; seed++ {
			rec, err := sched.Run(sched.Config{Strategy: "random", Seed: seed, NoEvents: true}, lenientProg)
			if err != nil {
				t.Fatal(err)
			}
			res := run(lenientProg, rec.Trace, seed)
			if n := len(rec.Trace.Decisions); !slices.Equal(res.Trace.Decisions, rec.Trace.Decisions) || *res.Lenient != (sched.LenientStats{Followed: n}) {
				t.Errorf("seed %d: got %v (%+v), want %v, all followed", seed, res.Trace.Decisions, *res.Lenient, rec.Trace.Decisions)
			}
		}
	})

	t.Run("Choose keeps its default", func(t *testing.T) {
		// main spawns a and b; then b's choice of 2, and nothing more.
		cut := &sched.Trace{Strategy: "random", MaxSteps: 100, Decisions: []sched.Decision{s(0), s(0), s(0), s(0), s(2), {Kind: sched.Choice, Value: 2, Bound: 3}}}
		for seed := uint64(1); seed <= 8; seed++ {
			res := run(lenientProg, cut, seed)
			var values []int32
			for _, d := range res.Trace.Decisions[6:] {
				if d.Kind == sched.Choice {
					values = append(values, d.Value)
				}
			}
			if want := []int32{0, 0, 0}; !slices.Equal(values, want) {
				t.Errorf("seed %d: the choices after the recorded ones got %v, want %v (decisions %v)", seed, values, want, res.Trace.Decisions)
			}
		}
	})
}

// procProg starts processes "a" (with a) and "b", each yielding a few
// times, and waits for them.
func procProg(a bool) func() {
	return func() {
		names := []string{"b"}
		if a {
			names = []string{"a", "b"}
		}
		var ps []*sched.Process
		for _, n := range names {
			ps = append(ps, sched.StartProcess(n, func() {
				for range 6 {
					sched.Yield()
				}
			}, sched.ProcessOptions{}))
		}
		for _, p := range ps {
			p.Wait()
		}
	}
}

// TestLenientFaultsByProcessName: a run of "a" and "b" in which b
// crashes, replayed leniently by the program without a: the recorded
// crash of process 2 goes to b, now process 1, found by its name; so it
// does with a taken out of the trace (WithoutProcess, which renumbers
// b's decisions). Without the names, it would go to process 2, which the
// run does not have: the test checks that it would be dropped then.
func TestLenientFaultsByProcessName(t *testing.T) {
	crashOfB := func(res *sched.Result) bool {
		for _, f := range res.Faults {
			if f.Kind == sched.Crash && f.ProcessName == "b" {
				return true
			}
		}
		return false
	}
	for seed := uint64(1); seed <= 50; seed++ {
		rec, err := sched.Run(sched.Config{Strategy: "random", Seed: seed, Faults: 1, NoEvents: true}, procProg(true))
		if err != nil {
			t.Fatal(err)
		}
		if !crashOfB(rec) || len(rec.Faults) != 1 || rec.Faults[0].Process != 2 {
			continue
		}
		if got, want := rec.Trace.Processes(), []string{"root", "a", "b"}; !slices.Equal(got, want) {
			t.Fatalf("seed %d: Processes got %q, want %q", seed, got, want)
		}
		withoutA, err := rec.Trace.WithoutProcess("a")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := withoutA.Processes(), []string{"root", "b"}; !slices.Equal(got, want) {
			t.Errorf("seed %d: without a, Processes got %q, want %q", seed, got, want)
		}
		for i, d := range withoutA.Decisions {
			if d.Kind == sched.FaultInjection && d.Value != 1 {
				t.Errorf("seed %d: without a, decision %d is %v, want the faults of process 1", seed, i, d)
			}
		}
		anonymous := *rec.Trace
		anonymous.Machines = nil
		for _, tt := range []struct {
			name  string
			tr    *sched.Trace
			crash bool
		}{
			{"the trace as recorded", rec.Trace, true},
			{"without a", withoutA, true},
			{"without names", &anonymous, false},
		} {
			res, err := sched.Run(sched.Config{Strategy: "lenient", Replay: tt.tr, NoEvents: true}, procProg(false))
			if err != nil {
				t.Fatal(err)
			}
			if got := crashOfB(res); got != tt.crash || (got && res.Faults[0].Process != 1) {
				t.Errorf("seed %d, %s: faults %v, want a crash of b (process 1): %v", seed, tt.name, res.Faults, tt.crash)
			}
		}
		return
	}
	t.Fatal("no seed of 1..50 crashed b alone")
}

// TestTraceProcesses: a trace names its processes when its machines
// named after their process are its processes' starts and restarts.
func TestTraceProcesses(t *testing.T) {
	m := func(proc, name string) sched.TraceMachine { return sched.TraceMachine{Process: proc, Name: name} }
	fault := func(k sched.FaultKind, p int32) sched.Decision {
		return sched.Decision{Kind: sched.FaultInjection, Fault: k, Value: p}
	}
	s := sched.Decision{Kind: sched.Schedule}
	tests := []struct {
		name      string
		machines  []sched.TraceMachine
		decisions []sched.Decision
		want      []string
	}{
		{"not named", nil, []sched.Decision{s}, nil},
		{"no processes", []sched.TraceMachine{m("root", "main")}, []sched.Decision{s}, []string{"root"}},
		{"two, with a machine each and one more", []sched.TraceMachine{m("root", "main"), m("a", "a"), m("b", "b"), m("a", "w")}, []sched.Decision{s}, []string{"root", "a", "b"}},
		{"a restart recorded", []sched.TraceMachine{m("root", "main"), m("a", "a"), m("b", "b"), m("a", "a")},
			[]sched.Decision{fault(sched.Crash, 1), fault(sched.Restart, 1)}, []string{"root", "a", "b"}},
		{"two crashes: the scheduler restarted it between", []sched.TraceMachine{m("root", "main"), m("a", "a"), m("a", "a")},
			[]sched.Decision{fault(sched.Crash, 1), fault(sched.Crash, 1)}, []string{"root", "a"}},
		{"a crash the scheduler may have restarted after", []sched.TraceMachine{m("root", "main"), m("a", "a"), m("a", "a")},
			[]sched.Decision{fault(sched.Crash, 1)}, []string{"root", "a"}},
		{"two processes of one name", []sched.TraceMachine{m("root", "main"), m("a", "a"), m("a", "a")}, []sched.Decision{s}, nil},
		{"a fault of a process not named", []sched.TraceMachine{m("root", "main"), m("a", "a")}, []sched.Decision{fault(sched.Stall, 2)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &sched.Trace{Machines: tt.machines, Decisions: tt.decisions}
			if got := tr.Processes(); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWithoutProcessBadInput(t *testing.T) {
	rec, err := sched.Run(sched.Config{Strategy: "random", Seed: 1, NoEvents: true}, procProg(true))
	if err != nil {
		t.Fatal(err)
	}
	anonymous := *rec.Trace
	anonymous.Machines = nil
	for _, tt := range []struct {
		name, process string
		tr            *sched.Trace
		want          string
	}{
		{"not named", "a", &anonymous, `sched: trace does not name its processes (a trace of version 3 whose machines named after their process are its processes' starts and restarts)`},
		{"no such process", "c", rec.Trace, `sched: trace has no process "c" (it has a, b)`},
		{"the root", "root", rec.Trace, `sched: trace has no process "root" (it has a, b)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.tr.WithoutProcess(tt.process)
			if got != nil || err == nil || err.Error() != tt.want {
				t.Errorf("got %v, %v; want nil, %s", got, err, tt.want)
			}
		})
	}
}
