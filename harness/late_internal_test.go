package harness

import (
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// lateTrace is the committed trace of one iteration of the world that
// lands requests later than MaxInFlight, in which the fencing oracle
// fails (TestLateLandingTrace replays it; mtabletest -replay shows it).
const lateTrace = "testdata/late-landing.trace"

var updateLate = flag.Bool("update-late", false, "TestLateLandingBeyondMaxInFlight writes its first fencing violation's trace to "+lateTrace)

// TestLateLandingBeyondMaxInFlight: a network that lands requests later
// than the MaxInFlight the service was told (a configuration that
// violates the service's assumptions; no option could express it, so
// the world itself is forced past it) is found by the fencing oracle: a
// write lands two states behind the newest. The same world landing
// requests late but within MaxInFlight never trips it. (Oracles 1 and 5
// are not asked: without the library's announcement of the request
// that would be a timed-out call's effect, they cannot follow a write
// that lands after its caller gave up.)
func TestLateLandingBeyondMaxInFlight(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 300
	}
	run := func(late time.Duration, stopAtFirst bool) (fencing int, first *Iteration, ran int) {
		opts := Options{Workload: DefaultWorkload(), Bug: mtable.NoBug, lateBy: late}
		c := ExploreConfig{Options: opts, Strategy: "portfolio", Seed: 314159, Iterations: n, Parallel: 2, KeepGoing: true}
		c.OnIteration = func(it *Iteration) {
			ran++
			if it.Checks[CheckFencing] > 0 {
				fencing++
				// The first whose report is the fencing failure (an error
				// of a call the forced delay timed out, which no fault
				// explains, may come first by step), else the first.
				if first == nil || it.Failure.Check.Check == CheckFencing && first.Failure.Check.Check != CheckFencing {
					first = it
				}
			}
		}
		if _, err := Explore(c); err != nil {
			t.Fatal(err)
		}
		return fencing, first, ran
	}
	if got, first, ran := run(MaxInFlight+time.Second, true); got == 0 {
		t.Errorf("requests landing %v after they were sent (MaxInFlight %v): no fencing violation in %d iterations", MaxInFlight+time.Second, MaxInFlight, ran)
	} else {
		var b strings.Builder
		WriteReport(&b, first, "")
		t.Logf("landing %v late: %d of %d iterations violate fencing; the first that reports it (iteration %d):\n%s\ntrace:\n%s",
			MaxInFlight+time.Second, got, ran, first.Index, firstFenceFailure(first), traceText(first))
		if *updateLate {
			if err := os.WriteFile(lateTrace, []byte(traceText(first)), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", lateTrace)
		}
	}
	// A request is sent at most RequestTimeout after its fence admitted
	// it (its deadline), and MaxInFlight counts from the admission: a
	// request that lands MaxInFlight - RequestTimeout after it was sent
	// is within the assumption.
	if got, first, ran := run(MaxInFlight-RequestTimeout, false); got != 0 {
		t.Errorf("requests landing within MaxInFlight: %d of %d iterations violate fencing; the first: %s", got, ran, firstFenceFailure(first))
	}
}

func firstFenceFailure(it *Iteration) string {
	for _, e := range it.Sched.Events {
		if strings.Contains(e.Text, "CHECK FAILED: "+CheckFencing) {
			return e.String()
		}
	}
	if it.Failure != nil {
		return it.Failure.Text
	}
	return "(no event log)"
}

func traceText(it *Iteration) string {
	var b strings.Builder
	if err := it.Sched.Trace.Write(&b); err != nil {
		return err.Error()
	}
	return b.String()
}

// TestLateLandingTrace replays the committed trace of a fencing
// violation in the world forced past MaxInFlight (written by
// TestLateLandingBeyondMaxInFlight -update-late): its options come back
// from the trace, late-by included, and the replay fails the fencing
// oracle with the failure the trace records.
func TestLateLandingTrace(t *testing.T) {
	f, err := os.Open(lateTrace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := sched.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := OptionsFromTrace(tr)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := opts.lateBy, MaxInFlight+time.Second; got != want {
		t.Errorf("late-by from the trace: got %v, want %v", got, want)
	}
	it, err := Replay(opts, tr, 0)
	if err != nil {
		t.Fatal(err)
	}
	if it.Failure == nil {
		t.Fatalf("replay of %s passed, want a fencing violation", lateTrace)
	}
	if it.Failure.Sched != nil && it.Failure.Sched.Kind == sched.Divergence {
		t.Fatalf("replay of %s diverged (regenerate it: go test ./harness -run TestLateLandingBeyondMaxInFlight -update-late): %s", lateTrace, it.Failure.Text)
	}
	if it.Checks[CheckFencing] == 0 || it.Failure.Check == nil || it.Failure.Check.Check != CheckFencing {
		t.Errorf("replay of %s: the failure reported is not a fencing violation: %s", lateTrace, it.Failure.Text)
	}
	if got, want := strings.TrimRight(it.Failure.Text, "\n"), strings.Join(tr.Comment, "\n"); got != want {
		t.Errorf("replay of %s: failure got\n%s\nwant (the trace's)\n%s", lateTrace, got, want)
	}
	t.Logf("%s: %s", lateTrace, firstFenceFailure(it))

	// A trace's late-by that is not a usable delay is refused.
	for _, bad := range []string{"0s", "-1s", "soon", "1h"} {
		t.Run("late-by="+bad, func(t *testing.T) {
			tr2 := *tr
			tr2.Params = nil
			for _, p := range tr.Params {
				if p.Key == "late-by" {
					p.Value = bad
				}
				tr2.Params = append(tr2.Params, p)
			}
			if _, err := OptionsFromTrace(&tr2); err == nil || !strings.Contains(err.Error(), "late-by") {
				t.Errorf("got error %v, want one about late-by", err)
			}
		})
	}
}
