// Package sched is a deterministic scheduler for systematic concurrency
// testing of Go code, in the style of P#, Coyote and Shuttle, with a
// virtual clock and injected process faults in the style of FoundationDB's
// simulation.
//
// A test runs a program under Run. The program's goroutines become
// machines that the scheduler runs one at a time; at every scheduling
// point a strategy decides which machine runs next, and it may also let
// virtual time pass or crash, stall or restart a process. Every decision
// is recorded in a Trace, so a failing run can be written to a file and
// replayed exactly.
//
// The primitives keep the standard library's shapes (Mutex, RWMutex,
// Cond, WaitGroup, Once, channels, select, timers, contexts), and the
// drop-in packages sched/sync, sched/time, sched/context and
// sched/atomic export them under the names of sync, time, context and
// sync/atomic, with the rest of those packages. So porting code to sched
// changes its imports, its go statements (Go), its channel operations
// (Go's channel syntax cannot be redefined: see Chan) and the test's
// entry point. Outside a run every primitive is the plain Go primitive it
// stands for, so production code written against this package runs
// unchanged. To test code without editing it at all, the command
// sched/cmd/schedrewrite rewrites a package's channel syntax, selects, go
// statements and imports mechanically into a build overlay
// (go test -overlay=FILE), keeping the original files' line numbers in
// reports; only the test's entry point is written by hand.
//
// # Vocabulary
//
// A run is one execution of a program under Run. A machine is a
// goroutine of a run: main (machine 0) and every goroutine started by Go,
// GoNamed or GoDaemon from a machine. A process is a named group of
// machines that share memory; the root process holds main and every
// machine not started in another process (see StartProcess). A
// scheduling point is a call at which the scheduler may switch machines.
// A decision is one choice of the strategy: which machine runs next, a
// Choose value, a time advance, a fault, a clock offset. A step is one
// decision; steps are numbered from 1. A controlled wait is a machine
// blocked in a primitive of this package; only another machine, or the
// clock, ends it. Virtual time is the clock of a run, moved only by the
// scheduler. A fault is a crash, stall or restart of a process.
//
// # Machines
//
// Every function of this package finds the calling machine from the
// calling goroutine's identity: a table from goroutine ID to machine,
// read without locking, filled by each machine's goroutine when it
// starts. When no run is in progress in the process, each primitive takes
// the plain path after one atomic load; while runs are in progress, the
// lookup costs a few nanoseconds. The goroutine ID comes from
// github.com/petermattis/goid; the package checks it at init against the
// "goroutine N [" header of runtime.Stack on two goroutines and, if a Go
// release made them disagree, parses runtime.Stack instead (correct, but
// about 5 µs per call).
//
// Machine IDs are 0 for main and then 1, 2, ... in spawn order. Because
// exactly one machine runs at a time, spawn order, and with it every ID,
// is deterministic. Go names a machine "g" and its ID.
//
// A goroutine that is not a machine gets the plain primitives. A
// goroutine started with the go statement from a machine is not a
// machine: when it calls a primitive in use by a run in progress, the run
// ends with the Panic failure
//
//	panic in a goroutine that is not a machine at step 3: sched: Mutex.Unlock called from a goroutine that is not a machine of the run it belongs to (start goroutines with sched.Go, not the go statement)
//
// and the goroutine exits (runtime.Goexit). Functions that belong to no
// primitive (Yield, Choose, Now, Sleep, ...) take the plain path in such a
// goroutine. A primitive belongs to the run that last used it; its
// controlled state is reset when another run first uses it.
//
// # Scheduling
//
// Exactly one machine runs at a time; the others are parked. The running
// machine runs until it reaches a scheduling point, where the strategy
// picks the next machine among the enabled ones (possibly the same
// machine). Code between two scheduling points runs atomically with
// respect to the other machines. The scheduling points are: Go, GoNamed,
// GoDaemon and StartProcess (after the new machine is registered); Yield,
// YieldOn and Durable; every method of Mutex, RWMutex, Cond, Future
// (Resolve, Wait), WaitGroup.Wait, Once.Do and Process.Wait, Crash and
// Stall; Chan.Send, Recv, RecvOK (and each receive of All) and Close,
// and Select; Sleep; the operations of the sched/atomic types and
// functions and of Racy; and a machine's exit.
// WaitGroup.Add and Done, Timer and Ticker methods, context cancellation,
// Now, Logf and the like are not scheduling points.
//
// A scheduling point takes one or more decisions, each one step:
// possibly a time advance or a fault (see below), then the choice of the
// machine to run. Choose and Bool are decisions too, drawn from the same
// strategy, but the calling machine keeps running; a Select with several
// ready cases is a Choose among them. Step returns the number of the
// latest step.
//
// Logf records events tagged with the step and the machine; the
// scheduler adds its own ("spawn machine 3 \"app\"", "waits on
// Mutex.Lock", "exit", "clock jumps to +5s", "crash process 1 \"db\"",
// "run failed: ..."). They are returned in Result.Events (Tracing tells
// whether they are recorded, so callers can skip formatting), and
// Result.Report prints the failure with the events of the last steps.
//
// Strategies, selected by Config.Strategy:
//
//   - "random": uniform over the enabled machines, from a SplitMix64
//     source seeded with Config.Seed.
//   - "pct": probabilistic concurrency testing (Burckhardt et al.,
//     ASPLOS 2010) with Config.Depth d: random machine priorities and
//     d-1 priority change points among the first Config.ExpectedSteps
//     steps; after them it schedules uniformly at random. Set
//     ExpectedSteps to about the length of a typical run (Result.Steps):
//     change points beyond the end of a run are wasted.
//   - "pos": partial order sampling (Yuan et al., CAV 2018), with the
//     resource of each pending operation (a primitive, a channel, an
//     atomic variable, or a YieldOn or Durable key) deciding which
//     operations race; after Config.ExpectedSteps steps it too schedules
//     uniformly at random.
//   - "dfs": depth-first enumeration of all schedules and Choose values,
//     one per run; use an Explorer, which reports when the space is
//     exhausted and how many schedules it held. With Config.Depth D > 0
//     the Explorer deepens iteratively over preemption bounds 0, 1, ...,
//     D (see Explorer). dfs takes no time-advance or fault decision.
//   - "portfolio": iteration i uses PortfolioStrategy(i).
//   - "replay": the decisions of Config.Replay, a parsed Trace.
//   - "lenient": the decisions of Config.Replay where they still apply,
//     deterministic defaults where they do not (see Lenient replay and
//     shrinking).
//
// How "random", "pct" and "pos" take the decisions about the world is
// given under Virtual time and Processes and faults.
//
// An Explorer runs many iterations: iteration i has the seed
// IterationSeed(Config.Seed, i), so iterations can be spread over workers
// (each calling Run with that seed) without changing any schedule.
//
// # Blocking, deadlocks and leaks
//
// A controlled primitive that cannot proceed makes its machine blocked:
// it is not enabled until another machine releases it. The controlled
// waits are "Mutex.Lock", "RWMutex.Lock", "RWMutex.RLock", "Cond.Wait",
// "Future.Wait", "WaitGroup.Wait", "Once.Do", "Process.Wait",
// "Chan.Send", "Chan.Recv" and "Select"; a machine in "Sleep" (or in a
// Select on a timer or a context) waits on time, which the clock ends.
//
// A deadlock is a state in which no machine is enabled, no machine can be
// enabled by moving the clock or restarting a process, and main has not
// returned. The run then ends with a Deadlock failure listing every
// unfinished machine, what it waits on and, for a lock, what it waits
// for, in ID order: the machine holding the lock; for an RWMutex, the
// writer waiting for the readers to leave, behind which new readers and
// writers queue (it holds nothing yet); for that writer, the machines
// holding read locks:
//
//	deadlock at step 9: no machine enabled; machine 0 "main" waits on Mutex.Lock (x.go:20), held by machine 1 "x"; machine 1 "x" waits on Mutex.Lock (x.go:14), held by machine 0 "main"
//	deadlock at step 7: no machine enabled; machine 0 "main" waits on RWMutex.RLock "state", behind the pending Lock of machine 1 "w"; machine 1 "w" waits on RWMutex.Lock "state", read-locked by machine 0 "main"
//
// After main has returned the run goes on while machines are enabled; it
// passes when every machine has finished. A machine still blocked when
// nothing else can run is a leak, its own failure kind:
//
//	leak at step 12: machine 3 "w" still blocked on Chan.Recv (w.go:12) after main returned
//
// A daemon (GoDaemon, or a process started with ProcessOptions.Daemon) is
// a background loop that may be left behind: once main has returned and
// only daemons are left, the run ends (it passes, unless a hot condition
// is held) and the daemons are torn down. Machines left blocked while
// only daemons have run for ExpectedSteps scheduling points are leaks.
//
// # Reports
//
// Every primitive has an optional Name field (the zero value is usable).
// A report names a primitive `"name"`; an unnamed one waited on in a
// deadlock or a leak is named by the line at which the first of its
// waiters (in ID order) waits, "(file.go:12)", and one misused by the
// line of the misusing call. Nothing is recorded for this while a run
// goes well: the names come from the machines' stacks, captured (one
// runtime.Stack of all goroutines) only when the failure is reported.
// Failure.Blocked holds each blocked machine's stack at the blocking
// call, trimmed to user frames (no frames of the runtime or of this
// package), and Report prints them. Misuse is a Panic failure with the
// failing machine's trimmed stack: unlocking an unlocked Mutex or
// RWMutex, RUnlock without a read lock held, a negative WaitGroup
// counter, Cond.Wait with its lock unlocked, a send on a closed channel,
// a close of a closed or nil channel, a scheduling point inside Durable,
// a non-positive Ticker period. As with the sync types, a lock is not
// associated with a machine: unlocking a lock that another machine
// locked is no misuse.
//
//	panic in machine 1 "w" at step 5: sched: Mutex.Unlock of unlocked mutex (x.go:9)
//	panic in machine 0 "main" at step 3: sched: close of closed channel "jobs"
//
// # Channels and select
//
// Chan (made with NewChan) has Go's channel semantics, with a method for
// each piece of channel syntax (see Chan): Send (c <- v), Recv (<-c),
// RecvOK (v, ok := <-c), All (for v := range c), Close, Len and Cap. An
// unbuffered Send completes when a receive takes the value, a buffered
// one when the buffer has room; Close wakes every receiver with the zero
// value and ok false and makes every blocked or later sender fail; Len
// and Cap report the buffer. A nil *Chan is a nil channel. Select takes typed cases
// (Chan.RecvCase, Chan.SendCase, DoneCase for a context, Default), each
// with an optional function called when the case is taken, and returns
// the index of the case taken. Outside a run a Chan is a Go channel and
// Select is reflect.Select.
//
// # Virtual time
//
// Under a run, Now, Since, Until, Sleep, NewTimer, After, AfterFunc,
// NewTicker, WithTimeout and WithDeadline (and their Cause forms) use a
// virtual clock; outside a run they are the time and context package's
// functions. Packages sched/time and sched/context re-export them under
// the standard names, with the rest of those packages, so that ported
// code changes only its imports. The root clock
// starts at Config.Start (DefaultStart, 2026-01-01T00:00:00Z, when zero)
// and moves only by the scheduler:
//
//   - When no machine is enabled and some timed event is pending (a
//     sleep, a timer, a ticker whose channel has a receiver, an
//     AfterFunc, a context deadline, the end of a stall), the clock jumps
//     to the earliest and every event due then fires, in the order the
//     events were created; the machines they enable then race as usual.
//     A jump is not a decision (it follows from the decisions before it).
//     A ticker nobody receives from does not count: it cannot end a
//     deadlock.
//   - With Config.MaxTimeStep > 0, the strategy may let time pass at a
//     scheduling point, by a recorded TimeAdvance decision of at most
//     MaxTimeStep: with probability 1/2 exactly to the earliest pending
//     event when it is that close (so that a timer fires while work is in
//     progress), else by a uniform amount. "pct" and "pos" draw Depth
//     advance points among the first ExpectedSteps steps, as PCT draws
//     its change points; "random" advances at each scheduling point with
//     probability Depth/ExpectedSteps.
//
// Timers follow Go 1.23's semantics: a Timer's or Ticker's channel C
// (a *Chan) has Len and Cap 0, holds at most the last undelivered value,
// and after Stop or Reset no stale value is received; a tick that finds
// the previous one unreceived is dropped; AfterFunc runs f in a new
// machine named "afterfunc" in the caller's process. Stop and Reset are
// not scheduling points.
//
// WithTimeout, WithDeadline, WithTimeoutCause and WithDeadlineCause
// return virtual contexts that behave as standard ones: Done, Err (context.DeadlineExceeded or
// context.Canceled), Deadline, Value and context.Cause. Contexts derived
// from them with the context package (WithCancel, WithValue, its
// WithTimeout) are cancelled synchronously with them, through the
// AfterFunc method that package looks for, never by a background
// goroutine; except those it derives from its own WithValue of a virtual
// context (that has no AfterFunc method): derive values with WithValue,
// which keeps the method. A virtual context whose parent is a standard context that
// can be cancelled checks it when Done or Err is called and at every
// scheduling point. Wait for a context with DoneCase in a Select: a plain
// receive from Done blocks outside the scheduler's control.
//
// Each process other than the root has a clock offset, drawn when it
// starts (a recorded ClockOffset decision) uniformly in
// [-MaxClockSkew/2, MaxClockSkew/2] with Config.MaxClockSkew > 0, else
// 0. A machine reads its process's clock: the root clock plus the
// offset. So Now on machines of two processes differs by at most
// MaxClockSkew; a process's clock never goes backwards and runs at the
// same rate as every other; durations (Sleep, timers, WithTimeout) are
// the same on every clock; and an absolute instant (WithDeadline, Until)
// is read on the caller's clock. That is all a process can observe of
// skew.
//
// # Processes and faults
//
// StartProcess starts a process whose first machine runs body; Go from a
// machine of the process starts machines in it. With Config.Faults > 0
// the strategy may, at a scheduling point, inject a fault into a process
// other than the root that has a machine left, within the budget of
// Faults crashes and stalls per run: "pct" and "pos" draw Faults fault
// points among the first ExpectedSteps steps (a point with no process to
// fault waits for one); "random" injects a fault at each scheduling point
// with probability Faults/ExpectedSteps. The kind is crash or stall,
// uniformly among those allowed (Config.NoCrash disables crashes,
// Config.MaxStall 0 disables stalls), the process uniform among those
// that can take it, a stall's length uniform in (0, MaxStall]. Every
// fault is a FaultInjection decision in the trace, listed in
// Result.Faults and in the report, and logged as an event; a machine
// reads the faults of its run so far with Faults (an oracle that judges
// an error by the faults that explain it, at the step it happens).
// Process.Crash and Process.Stall inject the same faults at a point the
// program chooses: they are not decisions and not counted in the budget.
// A program that draws its own fault plan for each run (swarm testing)
// narrows the strategy's faults with SetFaults (a lower budget, stalls
// only, faults in a burst whose stalls end together) and keeps them off
// some processes with ProcessOptions.NoFaults.
//
// A crash: from the crash decision on, nothing the process's machines do
// has an effect outside the process. Each of them leaves every wait list
// of every primitive (a crashed machine waiting on a root Cond is never
// woken, a Signal goes to the next waiter), the process's timers are
// cancelled, and then its machines unwind one at a time, in ID order
// (the machine whose scheduling point took the decision, if it is one of
// them, last), never concurrently with another machine: their deferred
// functions run, and any scheduling point or controlled primitive they
// reach exits the goroutine at once and changes nothing. Plain memory
// writes in deferred functions cannot be stopped, so keep durable state
// (what must survive a crash: the test's stand-in for disks and
// databases) in the root process and change it only through Durable, or
// by the same rule: every durable operation begins with a scheduling
// point and then runs to completion without another one. A machine that
// crashes at that scheduling point never reaches the operation, and no
// crash leaves durable state half-updated or locked. A lock of the root
// held by a crashed machine stays held (a report names its holder "which
// has crashed").
//
// A process started with ProcessOptions.Restart restarts after a crash:
// its body runs again, in a fresh machine of the same process, and
// Process.Restarts, which the body can read through CurrentProcess, is
// one more. The restart is a decision of its own, taken at a later
// scheduling point ("pct" and "pos" at a step drawn within ExpectedSteps/4
// steps of the crash; "random" with probability 4/ExpectedSteps at each
// point), or made by the scheduler, before moving the clock, when no
// machine is enabled. Process.Wait returns when the latest incarnation's
// body has returned, or once a process that will not restart has crashed.
//
// A stall: the process's machines are not scheduled for the stall's
// length on the root clock, as under SIGSTOP or a long garbage
// collection pause; the clock and the other processes go on, and when
// the process resumes it reads the advanced clock. Its timers fire on
// time; their machines run when it resumes. If the other machines keep
// running without letting time reach the stall's end, the stall ends
// after ExpectedSteps steps and the clock moves forward to its end.
//
// # Liveness
//
// SetHot(name, true) marks a condition that must eventually become false
// (SetHot(name, false)), such as "migration incomplete". Only fair steps
// count towards Config.LivenessSteps: for "random" every step, for "pct"
// and "pos" the steps after Config.ExpectedSteps (before that they may
// starve a machine on purpose), for "dfs" none. A condition still hot
// when every machine has finished is a violation whatever the strategy.
// Every decision counts as a step, time advances and faults included; a
// clock jump is not a step, so a condition waiting for time costs no
// fair steps; the steps other machines make while a process is stalled
// count as usual.
//
// # Races
//
// A Racy variable stands for a plain shared variable of the code under
// test. Besides making its accesses scheduling points, the scheduler
// checks them for data races as the Go memory model defines them: two
// accesses to the same Racy, at least one a Store, that are not ordered
// by happens-before end the run with a Race failure naming both, with
// the machine and line of each:
//
//	data race at step 9: Store by machine 2 "b" at x.go:37 and Store by machine 1 "a" at x.go:37, on the same Racy, are not ordered by happens-before
//
// The order is that of the memory model, whatever the interleaving, so
// a race is found on the first schedule that makes both accesses, even
// one where they happen far apart. The check keeps a vector clock per
// machine, FastTrack style (Flanagan and Freund, PLDI 2009), from the
// run's first Racy access on; a run that uses no Racy pays a nil check
// per synchronising operation. The happens-before edges are those of
// the controlled primitives: program order; Go (and StartProcess, and a
// process's restart after its machines' last actions) before the new
// machine's first action; Mutex.Unlock before the next Lock, whichever
// machine unlocks; RWMutex.Unlock before the next RLock or Lock, RUnlock
// before the next Lock; WaitGroup.Done (Add with a negative delta)
// before the Wait it releases; the return of Once.Do's function before
// every Do that returns; Future.Resolve before Wait (and a Done that
// reports true); a send before the receive that takes its value, a
// receive before the send that completes because of it (the k-th
// receive from a channel of capacity C before the (k+C)-th send
// completes), Close before a receive that reports it, Select's cases
// alike; a write of a sched/atomic variable before a read of it; the
// return of a process's body (or its crash) before Process.Wait
// returns; NewTimer, AfterFunc, NewTicker and Reset before the timer's
// tick is received or its function starts; WithDeadline and the cancel
// function before a DoneCase of the context is taken. A DoneCase of a
// standard context, or of a virtual one whose standard parent was
// cancelled, whose canceller sched cannot see, is ordered after
// everything every machine did before it was taken. No other
// synchronisation is seen (uncontrolled primitives, a context's Err):
// accesses ordered only by it are reported.
//
// # Failures
//
// A run ends when every machine has finished (it passed) or at the
// first failure, a *Failure whose Kind is one of Assertion (Fail,
// Assertf), Deadlock, Leak, StepBound (more than Config.MaxSteps steps),
// Liveness, UncontrolledBlocking, Panic (with the machine's stack),
// Divergence (replay) and Race (a data race on a Racy). Failure.Error
// gives the exact texts listed on Failure.
//
// # What has no controlled form
//
// sync.Map, sync.Pool, Go's own channels and select, time.Sleep and the
// time package's timers, contexts with a real deadline (the context
// package's WithTimeout on a standard parent), context.AfterFunc (its
// function runs in a plain goroutine), and I/O (files, network, pipes)
// are outside the scheduler's control. Blocking on them while other
// machines are parked cannot be resolved by the scheduler. The watchdog
// detects it: when the running machine makes no scheduling point for
// Config.Watchdog of wall-clock time, the run ends with an
// UncontrolledBlocking failure
//
//	uncontrolled blocking in machine 1 "app" at step 12: no scheduling point for 5s (...)
//
// and Run returns instead of hanging. The stuck goroutine cannot be
// stopped; it exits as soon as it reaches the scheduler again. A long
// computation without a scheduling point looks the same to the
// watchdog: do heavy checking after Run returns, or raise the Watchdog.
//
// # Teardown
//
// When a run ends, in whatever state, every parked machine is resumed
// and exits by runtime.Goexit, running its deferred calls (a controlled
// primitive called from a deferred call of an ended run exits the
// goroutine again). Run returns only when every machine goroutine has
// exited, so runs do not accumulate goroutines or memory. The exceptions,
// counted in Result.Lingering, are a machine stuck in uncontrolled
// blocking and a machine whose deferred calls block outside the
// scheduler for longer than Config.Watchdog.
//
// # Traces and replay
//
// Result.Trace records the strategy, seed, bounds, the world (start,
// MaxTimeStep, MaxClockSkew, Faults, MaxStall, NoCrash), the program's
// parameters (Config.Params), the failure (as comments) and every
// decision, each self-describing (the machine or process it concerns).
// Trace.Write and Parse convert it to and from a versioned text file (see
// Trace); Parse also reads version 1 and 2 files. Running with
// Config{Strategy: "replay", Replay: t} makes the same decisions; if the
// program asks for a decision the trace does not hold (a machine that is
// not enabled, a different Choose bound, a fault a process cannot take,
// more or fewer decisions), or, when the trace names its machines,
// starts a machine under another name than the trace records for its
// ID, the run ends with a Divergence failure such as
//
//	schedule diverged at step 7: trace says schedule machine 2 ("s 2"), program has machines [0 1] enabled
//	schedule diverged at step 2: trace names machine 1 "a", program starts it as "b"
//
// A replay that ends before the trace's last decision, because the
// program finished or failed (a deadlock, a panic, a failed assertion,
// the step bound, ...), diverged too: the recorded run went on, so the
// failure is not the recorded one. The Divergence names the next
// recorded decision, how many more follow it, and how the program
// ended:
//
//	schedule diverged at step 2: trace says schedule machine 0 ("s 0"), program finished
//	schedule diverged at step 6: trace says schedule machine 2 ("s 2") and 344 more decisions, program failed: step bound exceeded at step 5: 5 steps without finishing (possible livelock)
//
// # Lenient replay and shrinking
//
// A "lenient" run follows a trace recorded from another version of the
// program, or edited, as far as it applies. Its schedule decisions and
// its decisions about the world (time advances, faults) are one stream,
// taken in order. Its choices (Choose and Select values, clock offsets)
// are each machine's own: the choices that follow a schedule decision of
// machine m in the trace are m's (Trace.Owners), and m's k-th Choose
// takes m's k-th recorded choice, whichever machines ran before. A
// machine of the run is the recorded machine of its name when the trace
// names its machines (Trace.Machines: each machine's name and its
// process's, which traces of version 3 hold): the n-th machine the run
// starts with a name follows the n-th recorded machine of that name
// (machines started by Go count as named ""), so a run that starts
// fewer machines, or in another order, gives each the decisions it
// took; a machine whose name the trace does not hold follows none.
// Without names (a trace of version 1 or 2), machine i follows recorded
// machine i. Likewise a recorded fault (a crash, stall or restart) is for
// the process of the recorded one's name when the trace names its
// processes (Trace.Processes): the first process of that name the run
// started, so a run that does not start a process, or starts them in
// another order, gives each the faults it took; without process names,
// for the process of its ID. (Trace.WithoutProcess edits a trace for a
// program without a process.) A
// recorded decision applies when its machine is enabled (a schedule),
// its value is below the Choose bound (the recorded bound may differ),
// its advance is at most MaxTimeStep, its process can take it (a crash
// or stall within the fault budget, a stall of at most MaxStall, a
// restart of a crashed process) or its offset is within MaxClockSkew/2.
// A program that names the stream of each choice with ChooseIn (by what
// the choice decides: a retry, a value) gets one stream per name and
// machine when the trace names them too (Trace.Streams, which lenient
// runs record in memory): a run that makes more or fewer choices of one
// stream than the recorded run keeps its other choices as they were.
// A schedule decision whose machine is not enabled gives way to the
// first of the next eight schedule decisions whose machine is (those
// before it are dropped): the run is a little ahead of or behind the
// recorded one. Where a decision does not apply, or its stream has run
// out, the run takes the default: the running machine goes on if it is
// enabled, else the enabled machine with the lowest ID runs; Choose takes
// 0; no time advance and no fault; a clock offset of 0. A run given a
// Config.LenientSeed other than 0 draws the schedule decisions it takes
// by default instead, from a source of that seed: the running machine
// goes on with probability 1/2 (if it is enabled), else a machine drawn
// uniformly from the enabled ones runs. Its other defaults stay: a
// Choose value, a fault or a time advance decides what the program does
// rather than when, and drawing one would change the work of a run of
// which only the schedule is missing; 0 and none are also the smallest
// values a shrinker can reach. Seeded runs let a shrinker look for a
// schedule of a changed program (a machine fewer, another world) whose
// recorded schedule no longer reaches the failure; the same seed gives
// the same run. A schedule
// decision that does not apply is used up; a time advance or fault that
// does not apply is dropped. A lenient run never diverges. Its Result.Trace records
// what it did, exactly (it replays with "replay"), and Result.Lenient
// counts the decisions followed, substituted and taken by default.
//
// A preemption is a schedule decision that switches away from the
// running machine while it is enabled; Result.Preemptions counts them.
//
// Shrink uses lenient runs to look for a smaller run that fails the same
// way as a recorded one: fewer steps, then fewer preemptions, faults,
// time advances, smaller Choose values and shorter stalls and advances
// (ShrinkSize.Less). The caller says what "the same way" is (a
// ShrinkTest) and bounds the search by runs, which keeps it
// deterministic, or by time. The classic bugs of this package's tests
// shrink to their smallest failing schedule: the lost update to its two
// machines reading the counter before either writes it. A run that
// failed at its step bound (a livelock) shrinks to a lower bound, down
// to MinShrinkBound steps, when its decisions fail at it and, run on at
// the original bound, still do (a correct run that is only long keeps
// its bound); the shrunk trace records its bound.
//
// # Determinism
//
// Given the same strategy, seed, Config and program, the decisions are
// the same at any GOMAXPROCS: nothing but the strategy's random source
// and the program decides them (the clock is virtual; maps are never
// iterated). The wall clock is used only by the watchdog.
package sched
