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
	// Leak: main has returned and machines are left that no machine or
	// timed event can ever enable.
	Leak
	// Race: two accesses to a Racy, at least one a Store, are not
	// ordered by happens-before (see the package documentation, "Races").
	Race
)

var kindNames = [...]string{
	Assertion:            "assertion",
	Deadlock:             "deadlock",
	StepBound:            "step-bound",
	Liveness:             "liveness",
	UncontrolledBlocking: "uncontrolled-blocking",
	Panic:                "panic",
	Divergence:           "divergence",
	Leak:                 "leak",
	Race:                 "race",
}

// String returns the kind's name: "assertion", "deadlock", "step-bound",
// "liveness", "uncontrolled-blocking", "panic", "divergence", "leak" or
// "race".
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Blocked describes a machine that was waiting when a deadlock or a leak
// was detected.
type Blocked struct {
	Machine int
	Name    string
	// WaitsOn is the operation: "Mutex.Lock", "Chan.Recv", "Select", ...
	WaitsOn string
	// Resource names what it waits on: `"name"` for a primitive with a
	// Name, else "(file.go:12)", the line at which the first machine (in
	// ID order) waiting on the same primitive waits (for a Select or a
	// Sleep, where this machine waits); "" if unknown.
	Resource string
	// Holder is the machine holding the lock for lock waits, else -1.
	// With Pending it holds nothing yet: it is the writer waiting in
	// RWMutex.Lock for the readers to leave, behind which this machine
	// (a reader, or a later writer) is queued.
	Holder     int
	HolderName string
	Pending    bool
	// HolderDone: the holder has finished without unlocking;
	// HolderCrashed: its process crashed while it held the lock.
	HolderDone, HolderCrashed bool
	// Readers are the machines holding read locks of the RWMutex that
	// this machine, the pending writer, waits for, in the order they
	// took them (a lock released by RUnlock in a machine that held none
	// is taken to be the earliest).
	Readers []Reader
	// Stack is the machine's stack at the blocking call, trimmed to
	// user frames.
	Stack string
}

// Reader is a machine that holds a read lock of an RWMutex.
type Reader struct {
	Machine int
	Name    string
	// Done: it has finished without unlocking; Crashed: its process
	// crashed while it held the lock.
	Done, Crashed bool
}

// String formats b as `machine 1 "x" waits on Mutex.Lock (x.go:12), held
// by machine 0 "main"`, and for an RWMutex as `machine 2 "r" waits on
// RWMutex.RLock (x.go:20), behind the pending Lock of machine 1 "w"` or
// `machine 1 "w" waits on RWMutex.Lock (x.go:14), read-locked by
// machine 0 "main" and machine 3 "s" (finished)`.
func (b Blocked) String() string {
	return fmt.Sprintf("machine %d %q waits on %s%s%s", b.Machine, b.Name, b.WaitsOn, b.res(), b.held())
}

func (b Blocked) res() string {
	if b.Resource != "" {
		return " " + b.Resource
	}
	return ""
}

func (b Blocked) held() string {
	s := ""
	if b.Holder >= 0 {
		if b.Pending {
			s += fmt.Sprintf(", behind the pending Lock of machine %d %q", b.Holder, b.HolderName)
		} else {
			s += fmt.Sprintf(", held by machine %d %q", b.Holder, b.HolderName)
		}
		switch {
		case b.HolderDone:
			s += ", which has finished"
		case b.HolderCrashed:
			s += ", which has crashed"
		}
	}
	for i, r := range b.Readers {
		switch {
		case i == 0:
			s += ", read-locked by "
		case i == len(b.Readers)-1:
			s += " and "
		default:
			s += ", "
		}
		s += fmt.Sprintf("machine %d %q", r.Machine, r.Name)
		switch {
		case r.Done:
			s += " (finished)"
		case r.Crashed:
			s += " (crashed)"
		}
	}
	return s
}

// Failure is why a run failed. Its Error text is one of:
//
//	assertion failed in machine 1 "app" at step 12: <error>
//	deadlock at step 12: no machine enabled; machine 1 "a" waits on Mutex.Lock (a.go:7), held by machine 2 "b"; ...
//	deadlock at step 12: no machine enabled; machine 0 "main" waits on RWMutex.RLock (a.go:9), behind the pending Lock of machine 1 "w"; machine 1 "w" waits on RWMutex.Lock (a.go:4), read-locked by machine 0 "main"
//	leak at step 12: machine 3 "w" still blocked on Chan.Recv (w.go:12) after main returned; ...
//	step bound exceeded at step 1000: 1000 steps without finishing (possible livelock)
//	liveness violation at step 700: hot condition "x" held for more than 500 fair steps
//	liveness violation at step 90: hot condition "x" still held when every machine finished
//	uncontrolled blocking in machine 1 "app" at step 12: no scheduling point for 5s (...)
//	panic in machine 1 "app" at step 12: <value>
//	panic in a goroutine that is not a machine at step 12: <message>
//	schedule diverged at step 12: trace says ..., program ...
//	schedule diverged at step 12: trace says ... and 5 more decisions, program failed: <failure>
//	data race at step 12: Store by machine 2 "b" at x.go:9 and Load by machine 1 "a" at x.go:14, on the same Racy, are not ordered by happens-before
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
	// Blocked lists every unfinished machine, in ID order (Deadlock), or
	// every unfinished machine but the daemons (Leak).
	Blocked []Blocked
	// Value is the panic value (Panic only).
	Value any
	// Stack is the failing machine's stack: the panicking goroutine's
	// whole stack for a panic of the program, trimmed to user frames for
	// a misuse of a primitive.
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
	case Leak:
		parts := make([]string, len(f.Blocked))
		for i, b := range f.Blocked {
			parts[i] = fmt.Sprintf("machine %d %q still blocked on %s%s after main returned%s", b.Machine, b.Name, b.WaitsOn, b.res(), b.held())
		}
		return fmt.Sprintf("leak at step %d: %s", f.Step, strings.Join(parts, "; "))
	case Race:
		return fmt.Sprintf("data race at step %d: %s", f.Step, f.Message)
	}
	return fmt.Sprintf("%v failure at step %d: %s", f.Kind, f.Step, f.Message)
}

// Unwrap returns the error passed to Fail, if any.
func (f *Failure) Unwrap() error { return f.Err }
