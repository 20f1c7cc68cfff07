package harness

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// faultStats is what an exploration of the default workload did with
// its backend faults.
type faultStats struct {
	ran, failed int
	kinds       map[BackendFault]int // faults injected, by kind
	// landed counts the calls the reference applied where their
	// candidate landed unseen; unknown the calls that returned
	// mtable.ErrOutcomeUnknown; failed the calls that returned another
	// error that is not a table outcome.
	landed, unknown, definite int
	first                     *Iteration // the first failing iteration
}

func exploreFaults(t *testing.T, opts Options, n int) faultStats {
	t.Helper()
	st := faultStats{kinds: map[BackendFault]int{}}
	c := ExploreConfig{Options: opts, Strategy: "portfolio", Seed: 271828, Iterations: n, Parallel: 2, KeepGoing: true}
	c.OnIteration = func(it *Iteration) {
		st.ran++
		if it.Failure != nil {
			st.failed++
			if st.first == nil {
				st.first = it
			}
		}
		for _, f := range it.world.bfaults {
			if f.outage {
				st.kinds[FaultOutage]++
			} else {
				st.kinds[f.kind]++
			}
		}
		for _, call := range it.world.calls {
			if call.landed {
				st.landed++
			}
			if call.Outcome.Status == StatusNotTable && call.Return != 0 {
				if errors.Is(call.Outcome.err, mtable.ErrOutcomeUnknown) {
					st.unknown++
				} else {
					st.definite++
				}
			}
		}
	}
	if _, err := Explore(c); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestBackendFaultsJudged: in the default workload every kind of
// backend fault happens, calls take effect where their candidate landed
// unseen (oracle 1 applies them there), calls return
// mtable.ErrOutcomeUnknown, and the correct library passes every
// oracle. Then the same exploration with oracle 1 judging an unseen
// landing wrongly (the reference writing the batch with its own ETags
// instead of the Candidate's results) fails: the judgement is exact
// enough to be wrong.
func TestBackendFaultsJudged(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 400
	}
	opts := Options{Workload: DefaultWorkload(), Bug: mtable.NoBug}
	st := exploreFaults(t, opts, n)
	t.Logf("%d iterations: faults %v; %d calls took effect where their candidate landed unseen, %d returned ErrOutcomeUnknown, %d another error",
		st.ran, st.kinds, st.landed, st.unknown, st.definite)
	if st.failed > 0 {
		var b strings.Builder
		WriteReport(&b, st.first, "")
		t.Fatalf("the correct library failed %d of %d iterations with backend faults; the first:\n%s", st.failed, st.ran, b.String())
	}
	for _, k := range []BackendFault{FaultNotApplied, FaultApplied, FaultLate, FaultReadFails, FaultStreamFails, FaultOutage} {
		t.Run(k.String(), func(t *testing.T) {
			if st.kinds[k] == 0 {
				t.Errorf("no %s fault in %d iterations", k, st.ran)
			}
		})
	}
	if st.landed == 0 || st.unknown == 0 {
		t.Errorf("in %d iterations %d calls took effect where their candidate landed unseen and %d returned ErrOutcomeUnknown; want some of each", st.ran, st.landed, st.unknown)
	}

	opts.wrongLanding = true
	if wrong := exploreFaults(t, opts, n); wrong.failed == 0 {
		t.Errorf("oracle 1 applying unseen landings with the reference's own ETags: no failure in %d iterations (%d landings)", wrong.ran, wrong.landed)
	} else {
		t.Logf("the wrong judgement fails %d of %d iterations; the first: %s", wrong.failed, wrong.ran, strings.SplitN(wrong.first.Failure.Text, "\n", 2)[0])
	}
}

// TestExplainedByBackend: which errors the backend faults explain.
func TestExplainedByBackend(t *testing.T) {
	call := &callRecord{Machine: "app0", Proc: "app0", Call: Call{Kind: CallBatch}}
	stream := &callRecord{Machine: "app0", Proc: "app0", Call: Call{Kind: CallStream}}
	other := &callRecord{Machine: "app0", Proc: "app0", Call: Call{Kind: CallBatch}}
	plain := &callRecord{Machine: "app0", Proc: "app0", Call: Call{Kind: CallBatch}, Plain: plainOld}
	unknown := fmt.Errorf("x: %w", mtable.ErrOutcomeUnknown)
	definite := spec.WrapNotApplied(errors.New("503"))
	fenced := fmt.Errorf("x: %w", leaseconfig.ErrFenced)
	f := func(kind BackendFault, proc, table string, step int64, c *callRecord) *backendFault {
		return &backendFault{kind: kind, proc: proc, table: table, step: step, call: c}
	}
	n := func(k int, kind BackendFault) []*backendFault {
		var out []*backendFault
		for i := range k {
			out = append(out, f(kind, "app0", "old", int64(10+i), call))
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		faults  []*backendFault
		refused []netFault
		c       *callRecord
		err     error
		want    bool
	}{
		{"no fault", nil, nil, call, definite, false},
		{"unknown: applied-then-failed candidate", []*backendFault{f(FaultApplied, "app0", "new", 10, call)}, nil, call, unknown, true},
		{"unknown: late candidate", []*backendFault{f(FaultLate, "app0", "new", 10, call)}, nil, call, unknown, true},
		{"unknown: another call's fault", []*backendFault{f(FaultApplied, "app0", "new", 10, other)}, nil, call, unknown, false},
		{"unknown: a not-applied fault", []*backendFault{f(FaultNotApplied, "app0", "new", 10, call)}, nil, call, unknown, false},
		{"definite: one not-applied fault", n(1, FaultNotApplied), nil, call, definite, false},
		{"definite: MaxBackendAttempts-1 faults", n(mtable.MaxBackendAttempts-1, FaultNotApplied), nil, call, definite, false},
		{"definite: MaxBackendAttempts faults", n(mtable.MaxBackendAttempts, FaultNotApplied), nil, call, definite, true},
		{"definite: a late request meanwhile", []*backendFault{f(FaultLate, "app0", "old", 10, nil)}, nil, call, definite, true},
		{"definite: a late request of another process", []*backendFault{f(FaultLate, "app1", "old", 10, nil)}, nil, call, definite, false},
		{"definite: a late request after the call", []*backendFault{f(FaultLate, "app0", "old", 30, nil)}, nil, call, definite, false},
		{"definite: a failed stream, streamed query", []*backendFault{f(FaultStreamFails, "app0", "new", 10, nil)}, nil, stream, definite, true},
		{"definite: a failed stream, batch", []*backendFault{f(FaultStreamFails, "app0", "new", 10, nil)}, nil, call, definite, false},
		{"fenced: a config fault before", []*backendFault{f(FaultReadFails, "app0", "config", 2, nil)}, nil, call, fenced, true},
		{"fenced: a config fault of another process", []*backendFault{f(FaultReadFails, "app1", "config", 2, nil)}, nil, call, fenced, false},
		{"plain: a not-applied fault of its request", []*backendFault{f(FaultNotApplied, "app0", "old", 10, plain)}, nil, plain, definite, true},
		{"plain: an applied-then-failed fault of its request", []*backendFault{f(FaultApplied, "app0", "new", 10, plain)}, nil, plain, definite, true},
		{"plain: another call's faults", n(mtable.MaxBackendAttempts, FaultNotApplied), nil, plain, definite, false},
		{"definite: a try the fence refused and MaxBackendAttempts-1 faults", n(mtable.MaxBackendAttempts-1, FaultNotApplied),
			[]netFault{{proc: "app0", step: 6}}, call, definite, true},
		{"definite: a refusal of another process", n(mtable.MaxBackendAttempts-1, FaultNotApplied),
			[]netFault{{proc: "app1", step: 6}}, call, definite, false},
		{"definite: a refusal before the call", n(mtable.MaxBackendAttempts-1, FaultNotApplied),
			[]netFault{{proc: "app0", step: 4}}, call, definite, false},
		{"fenced: a data-table fault", []*backendFault{f(FaultReadFails, "app0", "old", 2, nil)}, nil, call, fenced, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{bfaults: tc.faults, refused: tc.refused}
			if got := w.explainedByBackend(tc.c, "app0", 5, 20, tc.err); got != tc.want {
				t.Errorf("explainedByBackend: got %v, want %v", got, tc.want)
			}
		})
	}
}
