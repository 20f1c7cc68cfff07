package harness

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// TestPlainClients: with plain clients (the default workload draws them
// in one iteration in two) the correct library is clean in both worlds;
// plain clients call the old table and the new table directly, and in
// the production world plain calls of the new table overlap calls of
// MigratingTable clients still in USE_NEW_HIDE_METADATA.
func TestPlainClients(t *testing.T) {
	n := 600
	if testing.Short() {
		n = 150
	}
	original := DefaultWorkload()
	original.Leases, original.Faults, original.BackendFaults, original.ClockSkew = false, 0, 0, false
	for _, c := range []struct {
		name string
		wl   Workload
	}{{"production", DefaultWorkload()}, {"original", original}} {
		t.Run(c.name, func(t *testing.T) {
			old, new, mixed := 0, 0, 0
			sum, err := Explore(ExploreConfig{
				Options:  Options{Workload: c.wl, Bug: mtable.NoBug},
				Strategy: "portfolio", Seed: 271828, Iterations: n, Parallel: 2, KeepGoing: true,
				OnIteration: func(it *Iteration) {
					for _, p := range it.world.calls {
						switch p.Plain {
						case plainOld:
							old++
						case plainNew:
							new++
							for _, m := range it.world.calls {
								if m.Plain == viaLibrary && m.HasUnder && m.Under == mtable.UseNewHideMetadata &&
									m.InvokeAt < p.ReturnAt && p.InvokeAt < m.ReturnAt {
									mixed++
									break
								}
							}
						}
					}
				},
				OnFailure: func(it *Iteration) {
					var b strings.Builder
					WriteReport(&b, it, "")
					t.Errorf("correct library failed with plain clients:\n%s", b.String())
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Failures != 0 || old == 0 || new == 0 || c.wl.Leases && mixed == 0 {
				t.Fatalf("got %d failures, %d plain calls of the old table, %d of the new (%d overlapping a MigratingTable call in USE_NEW_HIDE_METADATA); want 0 failures and some of each",
					sum.Failures, old, new, mixed)
			}
			t.Logf("%d iterations clean: %d plain calls of the old table, %d of the new, %d of them beside MigratingTable calls in USE_NEW_HIDE_METADATA", n, old, new, mixed)
		})
	}
}

// TestPlainGate: without the migrator's gate (a plain process still
// calls the old table when the first push begins) the plain-client
// oracle alone sees a plain request land on the old table after the
// push; with every oracle on, the others see what that breaks.
func TestPlainGate(t *testing.T) {
	wl := DefaultWorkload()
	wl.Swarm, wl.Partitions, wl.Migrators = false, 1, 1
	wl.BackendFaults = 0 // the gate's test: backend faults only blur it
	n := 300
	for _, off := range []Oracles{AllOracles &^ OraclePlain, 0} {
		lin := 0 // iterations oracle 2 flagged
		sum, err := Explore(ExploreConfig{
			Options:  Options{Workload: wl, Bug: mtable.NoBug, noPlainGate: true, OraclesOff: off},
			Strategy: "portfolio", Seed: 271828, Iterations: n, Parallel: 2, KeepGoing: true,
			OnFailure: func(it *Iteration) {
				if it.Flagged&OracleLinearizability != 0 {
					lin++
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if off != 0 {
			if sum.First == nil || !strings.Contains(sum.First.Failure.Text, "landed on the old table after the push") {
				t.Fatalf("without the gate, the plain-client oracle alone: got %v, want a plain request landing on the old table after the push", sum.First)
			}
			continue
		}
		if lin == 0 {
			t.Errorf("without the gate: failures by check %s, none flagged by oracle 2; want oracle 2 among them", SortedCounts(sum.ByCheck))
		}
		t.Logf("without the gate: %d of %d iterations fail (by check %s), %d flagged by oracle 2", sum.Failures, n, SortedCounts(sum.ByCheck), lin)
	}
}

// TestPlainRolesDrawn: every role occurs, and a shrunk workload without
// plain clients draws none.
func TestPlainRolesDrawn(t *testing.T) {
	wl := DefaultWorkload()
	wl.Swarm = false
	roles := map[string]int{}
	_, err := Explore(ExploreConfig{
		Options:  Options{Workload: wl, Bug: mtable.NoBug},
		Strategy: "random", Seed: 1, Iterations: 40, Parallel: 2, KeepGoing: true,
		OnIteration: func(it *Iteration) {
			for i, r := range it.world.roles {
				switch {
				case r.old > 0:
					roles["old"]++
				case r.newFrom < it.Workload.callsOf(i):
					roles["new"]++
				default:
					roles["library"]++
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if roles["old"] == 0 || roles["new"] == 0 || roles["library"] == 0 {
		t.Errorf("roles drawn: %v; want each of old, new and library", roles)
	}
	wl.Plain = false
	_, err = Explore(ExploreConfig{
		Options:  Options{Workload: wl, Bug: mtable.NoBug},
		Strategy: "random", Seed: 1, Iterations: 10, Parallel: 2,
		OnIteration: func(it *Iteration) {
			for _, c := range it.world.calls {
				if c.Plain != viaLibrary {
					t.Errorf("iteration %d: plain call %s without Workload.Plain", it.Index, fmt.Sprint(c))
				}
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPlainParams: plain and hot-rows round-trip through a trace's
// parameters; a trace without them (recorded before they existed) ran
// without them; a value that is not a bool is a clear error.
func TestPlainParams(t *testing.T) {
	w := DefaultWorkload()
	w.Swarm, w.Plain, w.HotRows = false, true, false
	params := Params(Options{Workload: w, Bug: mtable.NoBug})
	back, err := OptionsFromTrace(&sched.Trace{Params: params})
	if err != nil || !back.Workload.Plain || back.Workload.HotRows {
		t.Errorf("round trip: got plain=%v hot-rows=%v, %v; want true, false, nil", back.Workload.Plain, back.Workload.HotRows, err)
	}
	var old []sched.Param
	for _, p := range params {
		if p.Key != "plain" && p.Key != "hot-rows" {
			old = append(old, p)
		}
	}
	back, err = OptionsFromTrace(&sched.Trace{Params: old})
	if err != nil || back.Workload.Plain || back.Workload.HotRows {
		t.Errorf("trace without them: got plain=%v hot-rows=%v, %v; want false, false, nil", back.Workload.Plain, back.Workload.HotRows, err)
	}
	for _, key := range []string{"plain", "hot-rows"} {
		bad := slices.Clone(params)
		for i := range bad {
			if bad[i].Key == key {
				bad[i].Value = "sometimes"
			}
		}
		_, err := OptionsFromTrace(&sched.Trace{Params: bad})
		if want := fmt.Sprintf("trace parameter %s=%q", key, "sometimes"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=sometimes: got %v, want an error containing %s", key, err, want)
		}
	}
}
