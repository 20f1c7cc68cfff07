package harness

import (
	"slices"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// TestWithoutProcessByName: the production world's traces name their
// processes (sched.Trace.Processes), so that the moves that take a
// process away edit a trace with sched.Trace.WithoutProcess; its
// decisions are those the edit by hand (each machine of the process
// taken out, then its faults and clock offset, the processes after it
// renumbered) gives a trace without names.
func TestWithoutProcessByName(t *testing.T) {
	want := 20 // traces with process faults
	if testing.Short() {
		want = 5
	}
	w := DefaultWorkload()
	faulted := 0
	for seed := uint64(1); seed <= 1000 && faulted < want; seed++ {
		scfg := sched.Config{Strategy: sched.PortfolioStrategy(int(seed)), Seed: seed, NoEvents: true}
		w.schedWorld(&scfg)
		it, err := RunOnce(Options{Workload: w}, scfg, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(it.Sched.Faults) > 0 {
			faulted++
		}
		tr := it.Sched.Trace
		procs := tr.Processes()
		if procs == nil {
			t.Fatalf("seed %d: the trace does not name its processes (faults %v)", seed, it.Sched.Faults)
		}
		for p := 1; p < len(procs); p++ {
			got, err := tr.WithoutProcess(procs[p])
			if err != nil {
				t.Fatal(err)
			}
			byHand := tr
			for m := len(tr.Machines) - 1; m >= 0; m-- {
				if tr.Machines[m].Process == procs[p] {
					byHand = byHand.WithoutMachine(m)
				}
			}
			want := withoutProcess(candidate{decisions: byHand.Decisions, streams: byHand.Streams}, p)
			if !slices.Equal(got.Decisions, want.decisions) || !slices.Equal(got.Machines, byHand.Machines) {
				t.Errorf("seed %d: without process %d %q: %d decisions, %d machines; by hand %d, %d", seed, p, procs[p],
					len(got.Decisions), len(got.Machines), len(want.decisions), len(byHand.Machines))
			}
		}
	}
	if faulted < want {
		t.Errorf("%d runs with process faults, want %d", faulted, want)
	}
}
