package harness

import (
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
)

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
				if first == nil {
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
		t.Logf("landing %v late: %d of %d iterations violate fencing; the first (iteration %d):\n%s\ntrace:\n%s",
			MaxInFlight+time.Second, got, ran, first.Index, firstFenceFailure(first), traceText(first))
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
