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
