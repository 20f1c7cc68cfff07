package sched

import (
	"fmt"
	"strings"
)

// Kind classifies a Failure.
type Kind int

// The failure kinds.
const (
	// Assertion: a machine called Fail or Assertf with a false condition.
	Assertion Kind = iota + 1
	// Deadlock: no machine is enabled while some have not finished.
	Deadlock
	// StepBound: the run took more than Config.MaxSteps steps.
	StepBound
	// Liveness: a hot condition persisted beyond Config.LivenessSteps fair
	// steps, or was still hot when every machine had finished.
	Liveness
	// UncontrolledBlocking: the running machine made no scheduling point
	// for Config.Watchdog.
	UncontrolledBlocking
	// Panic: a machine panicked (or misused the scheduler).
	Panic
	// Divergence: a replayed program made a decision its trace does not
	// hold.
	Divergence
)

var kindNames = [...]string{
	Assertion:            "assertion",
	Deadlock:             "deadlock",
	StepBound:            "step-bound",
	Liveness:             "liveness",
	UncontrolledBlocking: "uncontrolled-blocking",
	Panic:                "panic",
	Divergence:           "divergence",
}

// String returns the kind's name: "assertion", "deadlock", "step-bound",
// "liveness", "uncontrolled-blocking", "panic" or "divergence".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Blocked describes a machine that was waiting when a deadlock was
// detected.
type Blocked struct {
	Machine    int
	Name       string
	WaitsOn    string // e.g. "Mutex.Lock", "Future.Wait", "Cond.Wait", "WaitGroup.Wait"
	Holder     int    // machine holding the Mutex for "Mutex.Lock", else -1
	HolderName string
	HolderDone bool // the holder has finished without unlocking
}

func (b Blocked) String() string {
	s := fmt.Sprintf("machine %d %q waits on %s", b.Machine, b.Name, b.WaitsOn)
	if b.Holder >= 0 {
		s += fmt.Sprintf(" (held by machine %d %q", b.Holder, b.HolderName)
		if b.HolderDone {
			s += ", which has finished"
		}
		s += ")"
	}
	return s
}

// Failure is why a run failed. Its Error text is one of:
//
//	assertion failed in machine 1 "app" at step 12: <error>
//	deadlock at step 12: no machine enabled; machine 1 "a" waits on Mutex.Lock (held by machine 2 "b"); ...
//	step bound exceeded at step 1000: 1000 steps without finishing (possible livelock)
//	liveness violation at step 700: hot condition "x" held for more than 500 fair steps
//	liveness violation at step 90: hot condition "x" still held when every machine finished
//	uncontrolled blocking in machine 1 "app" at step 12: no scheduling point for 5s (...)
//	panic in machine 1 "app" at step 12: <value>
//	schedule diverged at step 12: trace says ..., program ...
type Failure struct {
	Kind Kind
	// Step is the step at which the failure was detected.
	Step int64
	// Machine is the ID of the machine that failed, -1 when the failure
	// is not one machine's (deadlock, step bound, liveness, divergence of
	// a schedule decision).
	Machine     int
	MachineName string
	// Message is the kind-specific detail (for Assertion, Err.Error()).
	Message string
	// Err is the error passed to Fail (Assertion only).
	Err error
	// Blocked lists every unfinished machine, in ID order (Deadlock only).
	Blocked []Blocked
	// Value and Stack are the panic value and the machine's stack (Panic
	// only).
	Value any
	Stack string
}

// Error returns the failure's one-line text (see Failure).
func (f *Failure) Error() string {
	switch f.Kind {
	case Assertion:
		return fmt.Sprintf("assertion failed in machine %d %q at step %d: %s", f.Machine, f.MachineName, f.Step, f.Message)
	case Deadlock:
		parts := make([]string, len(f.Blocked))
		for i, b := range f.Blocked {
			parts[i] = b.String()
		}
		return fmt.Sprintf("deadlock at step %d: no machine enabled; %s", f.Step, strings.Join(parts, "; "))
	case StepBound:
		return fmt.Sprintf("step bound exceeded at step %d: %s", f.Step, f.Message)
	case Liveness:
		return fmt.Sprintf("liveness violation at step %d: %s", f.Step, f.Message)
	case UncontrolledBlocking:
		return fmt.Sprintf("uncontrolled blocking in machine %d %q at step %d: %s", f.Machine, f.MachineName, f.Step, f.Message)
	case Panic:
		if f.Machine < 0 {
			return fmt.Sprintf("panic in a goroutine that is not a machine at step %d: %s", f.Step, f.Message)
		}
		return fmt.Sprintf("panic in machine %d %q at step %d: %s", f.Machine, f.MachineName, f.Step, f.Message)
	case Divergence:
		return fmt.Sprintf("schedule diverged at step %d: %s", f.Step, f.Message)
	}
	return fmt.Sprintf("%v failure at step %d: %s", f.Kind, f.Step, f.Message)
}

// Unwrap returns the error passed to Fail, if any.
func (f *Failure) Unwrap() error { return f.Err }
