// Package sched is a deterministic cooperative scheduler for systematic
// concurrency testing of Go code, in the style of P# and Coyote.
//
// A test runs a program under Run: the program's goroutines become
// machines that the scheduler runs one at a time, and at every
// scheduling point a strategy decides which machine runs next. Every
// decision is recorded in a Trace, so a failing run can be written to a
// file and replayed exactly.
//
// # Machines
//
// A machine is a goroutine started by Run (machine 0, named "main") or by
// Go or GoNamed from a machine. Every function of this package finds the
// calling machine from the calling goroutine's identity. A goroutine that
// is not a machine of a run in progress gets the plain Go primitive each
// stands for (Go is the go statement, Mutex is a sync.Mutex, Future is a
// channel closed once, Yield does nothing, Choose uses math/rand/v2), so
// production code written against this package runs unchanged, with real
// goroutines, outside tests.
//
// Machine IDs are 0 for main and then 1, 2, ... in spawn order. Because
// exactly one machine runs at a time, spawn order, and with it every ID,
// is deterministic.
//
// A goroutine started with the go statement from a machine is not a
// machine. When it calls a controlled primitive that is in use by a run
// in progress, the run ends with a Panic failure and the goroutine exits
// (runtime.Goexit).
//
// # Scheduling
//
// Exactly one machine runs at a time; the others are parked. The running
// machine runs until it reaches a scheduling point, where the strategy
// picks the next machine among the enabled ones (possibly the same
// machine). Scheduling points are: Go (after the new machine is
// registered), Yield and YieldOn, Mutex.Lock and Mutex.Unlock,
// Cond.Wait, Cond.Broadcast and Cond.Signal, Future.Resolve and
// Future.Wait, WaitGroup.Wait, and a machine's exit. Choose and Bool are
// decisions too, drawn from the same strategy, but the calling machine
// keeps running. Code between two scheduling points runs atomically with
// respect to the other machines.
//
// Each decision is one step; steps are numbered from 1, and Step returns
// the number of the latest one. Logf records events tagged with the step
// and the machine; the scheduler adds its own ("spawn machine 3 \"app\"",
// "waits on Mutex.Lock", "exit", "run failed: ..."). They are returned in
// Result.Events (Tracing tells
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
//     resource of each pending operation (a Mutex, Cond, Future,
//     WaitGroup or YieldOn key) deciding which operations race; after
//     Config.ExpectedSteps steps it too schedules uniformly at random.
//   - "dfs": depth-first enumeration of all schedules and choices, one
//     per run; use an Explorer, which reports when the space is
//     exhausted and how many schedules it held.
//   - "portfolio": iteration i uses PortfolioStrategy(i).
//   - "replay": the decisions of Config.Replay, a parsed Trace.
//
// An Explorer runs many iterations: iteration i has the seed
// IterationSeed(Config.Seed, i), so iterations can be spread over workers
// (each calling Run with that seed) without changing any schedule.
//
// Given the same strategy, seed and program, the decisions are the same
// at any GOMAXPROCS: nothing but the strategy's random source and the
// program decides them. The wall clock is used only by the watchdog (see
// below).
//
// # Blocking and deadlock
//
// A controlled primitive that cannot proceed (Mutex.Lock of a held
// mutex, Cond.Wait, Future.Wait of an unresolved future, WaitGroup.Wait
// with a positive counter) makes its machine blocked: it is not enabled
// until another machine releases it. Such a wait is a controlled wait,
// and it is described by the primitive's name ("Mutex.Lock",
// "Cond.Wait", "Future.Wait", "WaitGroup.Wait").
//
// A deadlock is a state in which no machine is enabled while some have
// not finished. The run then ends with a Deadlock failure listing every
// unfinished machine and what it waits on, in ID order:
//
//	deadlock at step 9: no machine enabled; machine 0 "main" waits on Mutex.Lock (held by machine 1 "x"); machine 1 "x" waits on Mutex.Lock (held by machine 0 "main")
//
// A machine may finish while holding a Mutex; machines waiting for it
// then stay blocked, and the deadlock report says the holder "has
// finished".
//
// Blocking outside the scheduler's control (a plain channel, a
// sync.Mutex, time.Sleep, I/O) while other machines are parked cannot be
// resolved by the scheduler. The watchdog detects it: when the running
// machine makes no scheduling point for Config.Watchdog of wall-clock
// time, the run ends with an UncontrolledBlocking failure
//
//	uncontrolled blocking in machine 1 "app" at step 12: no scheduling point for 5s (...)
//
// and Run returns instead of hanging. The stuck goroutine cannot be
// stopped; it exits as soon as it reaches the scheduler again. A long
// computation without a scheduling point looks the same to the
// watchdog: do heavy checking after Run returns, or raise the Watchdog.
//
// # Liveness
//
// SetHot(name, true) marks a condition that must eventually
// become false (SetHot(name, false)), such as "migration
// incomplete". Only fair steps count towards Config.LivenessSteps: for
// "random" every step, for "pct" and "pos" the steps after
// Config.ExpectedSteps (before that they may starve a machine on
// purpose), for "dfs" none. A condition still hot when every machine has
// finished is a violation whatever the strategy.
//
// # Failures
//
// A run ends when every machine has finished (it passed) or at the
// first failure, a *Failure whose Kind is one of Assertion (Fail,
// Assertf), Deadlock, StepBound (more than Config.MaxSteps steps),
// Liveness (a SetHot condition held for more than Config.LivenessSteps
// fair steps, or still hot when every machine finished), UncontrolledBlocking,
// Panic (with the machine's stack) and Divergence (replay). Failure.Error
// gives the exact texts listed on Failure.
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
// Result.Trace records the strategy, seed, bounds, program parameters
// (Config.Params), the failure (as comments) and every decision. Trace.Write
// and Parse convert it to and from a versioned text file (see Trace).
// Running with Config{Strategy: "replay", Replay: t} makes the same
// decisions; if the program asks for a decision the trace does not hold
// (a machine that is not enabled, a different Choose bound, more or
// fewer decisions) the run ends with a Divergence failure such as
//
//	schedule diverged at step 7: trace says schedule machine 2 ("s 2"), program has machines [0 1] enabled
package sched
