package harness

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/sched"
)

// afterRunErrors is the reference for the production world's error
// checks: the judgment made after the schedule, with the whole run's
// record (the scheduler's faults as Result.Faults lists them, and every
// backend fault, link delay and fence refusal of the run), as the
// harness made it before the checks were made in the run. It returns
// one line for each unexplained error, as errorLines formats the
// failures judged in the run. A mutant other than mutantNone drops one
// clause of the explanation (the test that shows a wrong judgment is
// told apart).
func afterRunErrors(w *world, faults []sched.Fault, mutant int) []string {
	explained := func(c *callRecord, proc string, from, to int64, err error) bool {
		if mutant != mutantNoBackend && w.explainedByBackend(c, proc, from, to, err) {
			return true
		}
		if mutant != mutantNoLink {
			for _, n := range w.netFaults {
				if n.proc == proc && from <= n.step && n.step <= to {
					return true
				}
			}
		}
		leaseErr := errors.Is(err, leaseconfig.ErrFenced) || errors.Is(err, leaseconfig.ErrLeaseLost)
		faulted := w.backendFaultIn(proc, from, to)
		for _, f := range faults {
			if f.ProcessName != proc || f.Kind == sched.Restart || f.Step > to {
				continue
			}
			if leaseErr || f.Step >= from && mutant != mutantNoFaultDuring || f.Kind == sched.Stall && faulted {
				return true
			}
		}
		return false
	}
	var out []string
	for _, c := range w.calls {
		if c.Outcome.Status != StatusNotTable || c.Return == 0 {
			continue
		}
		if !explained(c, c.Proc, c.Invoke, c.Return, c.Outcome.err) {
			out = append(out, errorLine(CheckError, c.Machine, c.Return, c.String(), c.Outcome.Err))
		}
	}
	for _, r := range w.runErrs {
		if !explained(nil, r.proc, r.from, r.to, r.err) {
			out = append(out, errorLine(CheckMigrator, r.proc, r.to, "", r.err.Error()))
		}
	}
	slices.Sort(out)
	return out
}

// The reference's mutants: each drops one clause of the explanation.
const (
	mutantNone          = iota
	mutantNoBackend     // the backend faults explain nothing
	mutantNoLink        // nor do the requests the link delayed past their deadline
	mutantNoFaultDuring // nor a crash or stall while the call ran
	mutants
)

var mutantNames = [...]string{mutantNoBackend: "no backend faults", mutantNoLink: "no link delays", mutantNoFaultDuring: "no fault during the call"}

func errorLine(check, machine string, step int64, call, err string) string {
	return fmt.Sprintf("step %d: %s: %s %s: %s", step, check, machine, call, err)
}

// errorLines lists the failures of the error checks judged in the run
// (world.errFailures), as afterRunErrors does.
func errorLines(w *world) []string {
	var out []string
	for _, f := range w.errFailures {
		// The error is the message's tail, after the explanation.
		_, err, _ := cutLast(f.Message, "explains it: ")
		out = append(out, errorLine(f.Check, f.Machine, f.Step, f.Call, err))
	}
	slices.Sort(out)
	return out
}

func cutLast(s, sep string) (before, after string, found bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return s, "", false
}

// TestErrorsJudgedInRun: the production world judges each error that is
// not a table outcome (a call's, a migrator's Run's) at the step it is
// returned, with the facts known then; that judgment finds exactly the
// unexplained errors the judgment after the run finds with the whole
// run's record (afterRunErrors), over the default production world
// (faults, backend faults, plain clients, swarm) with the correct
// library and the bugs that such errors catch, or catch among others.
// The same comparison with a reference that drops one clause of the
// explanation tells the two apart, so the test can fail.
func TestErrorsJudgedInRun(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 60
	}
	bugs := []mtable.Bug{mtable.NoBug, 13, 14, 15, 16, 18, 19}
	var errs, unexplained, iterations int
	var differs [mutants]int
	for _, bug := range bugs {
		t.Run(fmt.Sprint("bug ", int(bug)), func(t *testing.T) {
			errs0, unexplained0 := errs, unexplained
			opts := Options{Workload: DefaultWorkload(), Bug: bug}
			c := ExploreConfig{Options: opts, Strategy: "portfolio", Seed: 2718, Iterations: n, Parallel: 2, KeepGoing: true}
			c.OnIteration = func(it *Iteration) {
				iterations++
				w := it.world
				for _, cr := range w.calls {
					if cr.Outcome.Status == StatusNotTable && cr.Return != 0 {
						errs++
					}
				}
				errs += len(w.runErrs)
				got, want := errorLines(w), afterRunErrors(w, it.Sched.Faults, mutantNone)
				if !slices.Equal(got, want) {
					t.Errorf("iteration %d (seed %d): judged in the run:\n%q\nafter the run:\n%q", it.Index, it.Seed, got, want)
				}
				unexplained += len(want)
				for m := mutantNone + 1; m < mutants; m++ {
					if !slices.Equal(got, afterRunErrors(w, it.Sched.Faults, m)) {
						differs[m]++
					}
				}
				if n := it.Checks[CheckError] + it.Checks[CheckMigrator]; n != len(got) {
					t.Errorf("iteration %d: Checks counts %d failures of the error checks, want %d", it.Index, n, len(got))
				}
			}
			if _, err := Explore(c); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d errors judged, %d unexplained", errs-errs0, unexplained-unexplained0)
		})
	}
	t.Logf("%d iterations: %d errors that are not table outcomes judged, %d unexplained (the same in the run and after it)", iterations, errs, unexplained)
	for m := mutantNone + 1; m < mutants; m++ {
		t.Logf("a reference with %s differs in %d iterations", mutantNames[m], differs[m])
		if differs[m] == 0 && m != mutantNoLink {
			// (The link's delays explain an error rarely: the other
			// clauses explain most of them too.)
			t.Errorf("a reference with %s differs in no iteration: the comparison proves nothing", mutantNames[m])
		}
	}
	if unexplained == 0 {
		t.Errorf("no unexplained error: the comparison proves nothing")
	}
}

// TestErrorsOracleOff: with the errors oracle switched off, an error no
// fault explains is still judged (errFailures) but fails nothing: no
// iteration counts or reports CheckError or CheckMigrator (the judgment
// after the run recorded them whatever Options.OraclesOff said).
func TestErrorsOracleOff(t *testing.T) {
	n := 150
	if testing.Short() {
		n = 40
	}
	for _, bug := range []mtable.Bug{mtable.BugPushExpiresLeaseEarly, mtable.BugConfigNoRetry} {
		t.Run(fmt.Sprint(int(bug), "-", bug), func(t *testing.T) {
			opts := Options{Workload: DefaultWorkload(), Bug: bug, OraclesOff: OracleErrors}
			judged := 0
			c := ExploreConfig{Options: opts, Strategy: "portfolio", Seed: 314159, Iterations: n, Parallel: 2, KeepGoing: true}
			c.OnIteration = func(it *Iteration) {
				judged += len(it.world.errFailures)
				if k := it.Checks[CheckError] + it.Checks[CheckMigrator]; k != 0 {
					t.Errorf("iteration %d: Checks counts %d failures of the errors oracle, switched off", it.Index, k)
				}
				if f := it.Failure; f != nil && f.Check != nil && oracleOf(f.Check.Check) == OracleErrors {
					t.Errorf("iteration %d: the errors oracle, switched off, failed it: %s", it.Index, f.Text)
				}
			}
			if _, err := Explore(c); err != nil {
				t.Fatal(err)
			}
			if judged == 0 {
				t.Errorf("no unexplained error in %d iterations: the test shows nothing", n)
			}
			t.Logf("%d unexplained errors in %d iterations, none of them a failure", judged, n)
		})
	}
}
