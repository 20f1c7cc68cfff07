// Package check runs the test programs' entry points under sched: the
// lines a user of the rewriter writes by hand, shared by the programs.
package check

import (
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// Budget is the number of schedules each check runs.
const Budget = 300

func config(timeStep time.Duration) sched.Config {
	return sched.Config{Strategy: "portfolio", Seed: 314159, ExpectedSteps: 60, MaxSteps: 2000, MaxTimeStep: timeStep, NoEvents: true}
}

// Finds runs f under sched's portfolio of strategies until a schedule
// fails with a failure of kind want, which must replay from its trace to
// the same failure, and fails t if none does within Budget schedules or
// one fails otherwise. timeStep is
// Config.MaxTimeStep: bugs that need time to pass while machines run
// need it.
func Finds(t *testing.T, want sched.Kind, timeStep time.Duration, f func()) {
	t.Helper()
	ex, err := sched.NewExplorer(config(timeStep))
	if err != nil {
		t.Fatal(err)
	}
	for i := range Budget {
		res, err := ex.Next(f)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failure == nil {
			continue
		}
		if res.Failure.Kind != want {
			t.Fatalf("schedule %d: got a %v failure, want %v: %v", i+1, res.Failure.Kind, want, res.Failure)
		}
		again, err := sched.Run(sched.Config{Strategy: "replay", Replay: res.Trace, MaxTimeStep: timeStep, NoEvents: true}, f)
		if err != nil {
			t.Fatal(err)
		}
		if again.Failure == nil || again.Failure.Error() != res.Failure.Error() {
			t.Fatalf("replay of schedule %d: got %v, want %v", i+1, again.Failure, res.Failure)
		}
		t.Logf("found on schedule %d, and replayed: %v", i+1, res.Failure)
		return
	}
	t.Errorf("no %v failure in %d schedules", want, Budget)
}

// Clean runs f under sched for Budget schedules and fails t on any
// failure.
func Clean(t *testing.T, timeStep time.Duration, f func()) {
	t.Helper()
	ex, err := sched.NewExplorer(config(timeStep))
	if err != nil {
		t.Fatal(err)
	}
	for i := range Budget {
		res, err := ex.Next(f)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failure != nil {
			t.Fatalf("schedule %d: %v", i+1, res.Failure)
		}
	}
	t.Logf("%d schedules clean", Budget)
}
