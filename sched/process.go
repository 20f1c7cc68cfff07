package sched

import (
	"fmt"
	"runtime"
	"slices"
	"time"
)

// ProcessOptions configure a process started by StartProcess.
type ProcessOptions struct {
	// Restart makes the process restartable: after a crash the scheduler
	// runs body again, in a fresh machine of the same process (see the
	// package documentation, "Processes and faults").
	Restart bool
	// Daemon makes the process's machines daemons (see GoDaemon): a
	// server loop that need not finish before the run ends.
	Daemon bool
	// NoFaults keeps the strategy from injecting faults into the
	// process (Process.Crash and Process.Stall still do): a program
	// that draws which of its processes fail (swarm testing) sets it on
	// the others.
	NoFaults bool
}

// Process is a named group of machines that share memory: the machines
// started by its body with Go, GoNamed or GoDaemon, and theirs. Faults
// (crashes and stalls) apply to a whole process. The root process holds
// main and every machine not started inside another process; it is
// never faulted.
type Process struct {
	name string
	p    *process      // under a run
	done chan struct{} // outside a run: closed when body returns
}

type procState uint8

const (
	procRunning procState = iota // its current incarnation has not crashed
	procDown                     // crashed, to be restarted
	procCrashed                  // crashed for good
)

type process struct {
	s      *scheduler
	id     int
	name   string
	body   *machine // the machine running the current incarnation's body
	run    func()
	opts   ProcessOptions
	daemon bool
	state  procState
	// bodyDone is set when the current incarnation's body has returned.
	bodyDone bool
	// A stalled process is not scheduled until the root clock reaches
	// stallEnd, or at step stallStep at the latest.
	stalled bool
	// (The small fields are together: the root process is part of the
	// scheduler, which must stay within its allocation size class.)
	offset     int64      // clock offset from the root clock, ns
	live       []*machine // unfinished machines in ID order (not kept for the root)
	waiters    waitQ
	restarts   int
	crashes    int
	stallEnd   int64
	stallStep  int64
	stallTimer *timerEntry
	handle     *Process
}

// StartProcess starts a process named name whose first machine runs
// body. Under a run the machine belongs to the new process (not to the
// caller's), is named name, and starting it is a scheduling point, as
// for Go; with Config.MaxClockSkew the process's clock offset is a
// decision taken here. Outside a run body runs in a plain goroutine.
func StartProcess(name string, body func(), opts ProcessOptions) *Process {
	m := current()
	if m == nil {
		p := &Process{name: name, done: make(chan struct{})}
		go func() {
			defer close(p.done)
			body()
		}()
		return p
	}
	s := m.enter()
	if body == nil {
		s.fail(m, Panic, fmt.Sprintf("sched: StartProcess(%q) with a nil body", name))
	}
	s.w()
	p := &process{s: s, id: len(s.procs), name: name, run: body, opts: opts, daemon: opts.Daemon, state: procRunning}
	p.handle = &Process{name: name, p: p}
	s.procs = append(s.procs, p)
	if s.cfg.MaxClockSkew > 0 && s.trace.Strategy != "dfs" {
		off, div := s.strat.offset(s, p)
		if div != "" {
			s.finish(&Failure{Kind: Divergence, Step: s.step + 1, Machine: m.id, MachineName: m.name, Message: div})
			s.mu.Unlock()
			runtime.Goexit()
		}
		if !s.stepBound() {
			s.mu.Unlock()
			runtime.Goexit()
		}
		s.trace.Decisions = append(s.trace.Decisions, Decision{Kind: ClockOffset, Value: int32(p.id), Duration: time.Duration(off)})
		p.offset = off
	}
	s.logf(m, "start process %d %q", p.id, name)
	s.startBody(p)
	if s.hb != nil {
		s.hb.spawn(m, p.body)
	}
	m.res = nil
	s.yield(m)
	return p.handle
}

// startBody starts a machine running the process's body.
func (s *scheduler) startBody(p *process) {
	nm := s.newMachine(p.name, p, false)
	p.body, p.bodyDone = nm, false
	s.spawn(nm, p.run)
}

// bodyReturned notes that the incarnation's body returned and wakes
// Process.Wait.
func (p *process) bodyReturned(s *scheduler) {
	p.bodyDone = true
	p.waiters.wakeAll(s)
}

// CurrentProcess returns the calling machine's process, or nil outside a
// run. The methods of a nil *Process report the root's values outside a
// run: Name "", Restarts 0.
func CurrentProcess() *Process {
	m := current()
	if m == nil {
		return nil
	}
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.proc.handle == nil { // the root's, made on demand
		m.proc.handle = &Process{name: m.proc.name, p: m.proc}
	}
	return m.proc.handle
}

func (p *Process) resName() string { return p.name }

// Name returns the process's name ("root" for the root process).
func (p *Process) Name() string {
	if p == nil {
		return ""
	}
	return p.name
}

// ID returns the process's ID: 0 for the root, then 1, 2, ... in start
// order; -1 outside a run.
func (p *Process) ID() int {
	if p == nil || p.p == nil {
		return -1
	}
	return p.p.id
}

// Restarts returns how many times the process has been restarted after a
// crash: a body that finds it positive is running again and may need to
// recover its durable state.
func (p *Process) Restarts() int {
	if p == nil || p.p == nil {
		return 0
	}
	s := p.p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return p.p.restarts
}

// Crashed reports whether the process has crashed and will not be
// restarted.
func (p *Process) Crashed() bool {
	if p == nil || p.p == nil {
		return false
	}
	s := p.p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	return p.p.state == procCrashed
}

// Wait blocks until the process's body has returned (in its latest
// incarnation, when it is restartable) or the process has crashed for
// good. Under a run it is a scheduling point and a controlled wait
// ("Process.Wait"). Outside a run it waits for body to return.
func (p *Process) Wait() {
	me := current()
	if me == nil || p.p == nil {
		if p.done != nil {
			<-p.done
		}
		return
	}
	s := me.enter()
	me.res = p
	s.yield(me)
	for {
		s = me.enter()
		if p.p.bodyDone || p.p.state == procCrashed {
			if s.hb != nil {
				s.hb.acquire(me, p.p)
			}
			s.mu.Unlock()
			return
		}
		me.res = p
		p.p.waiters.wait(s, me, "Process.Wait", resource{name: p.name, key: p}, nil)
	}
}

// Durable runs f as one atomic operation on durable state (state that
// survives crashes, kept outside every process that may crash): a
// scheduling point on key (as YieldOn) and then f, which must not reach
// a scheduling point or a controlled primitive (that is a Panic failure;
// Fail and Assertf, which end the run, are allowed). A machine whose process crashes at the scheduling point
// never runs f, so a crash can never leave durable state half-updated.
// Outside a run Durable calls f and nothing else.
func Durable(key any, f func()) {
	m := current()
	if m == nil {
		f()
		return
	}
	s := m.enter()
	m.res = key
	s.yield(m)
	m.inDurable = true
	defer func() { m.inDurable = false }()
	f()
}

// FaultKind is the kind of a fault injected into a process.
type FaultKind uint8

// The fault kinds.
const (
	// Crash: the process's machines die; its memory is lost.
	Crash FaultKind = iota + 1
	// Stall: the process is not scheduled for a virtual duration.
	Stall
	// Restart: a crashed restartable process runs its body again.
	Restart
)

// String returns "crash", "stall" or "restart".
func (k FaultKind) String() string {
	switch k {
	case Crash:
		return "crash"
	case Stall:
		return "stall"
	case Restart:
		return "restart"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault records one fault of a run (see Result.Faults).
type Fault struct {
	Kind        FaultKind
	Process     int
	ProcessName string
	// Step is the step of the decision (for a restart forced because no
	// machine was enabled, the step after which it happened).
	Step int64
	// At is the virtual time of the root clock since the start.
	At time.Duration
	// Duration is the stall's length (Stall only).
	Duration time.Duration
	// By is "strategy" for a decision, "program" for Process.Crash and
	// Process.Stall, and "scheduler" for a restart made because no
	// machine was enabled.
	By string
}

// String formats f as "step 12 (+1.5s): stall process 1 "db" for 3s".
func (f Fault) String() string {
	s := fmt.Sprintf("step %d (+%v): %s process %d %q", f.Step, f.At, f.Kind, f.Process, f.ProcessName)
	if f.Kind == Stall {
		s += " for " + f.Duration.String()
	}
	switch f.By {
	case "program":
		s += " (by the program)"
	case "scheduler":
		s += " (by the scheduler: no machine was enabled)"
	}
	return s
}

// Faults returns the faults of the caller's run so far: the crashes,
// stalls and restarts injected before the call, in step order, the same
// values Result.Faults lists at the end (a lenient run's too). It is a
// copy the caller may keep and change. Every fault of a step before the
// caller's (Step) is in it. Of the caller's own step only those the
// caller injected itself (Process.Crash, Process.Stall) can be: a fault
// the strategy injects is a decision, a step of its own, and a restart
// the scheduler forces because no machine was enabled is listed with the
// step after which it happened, once the machine that ran it has
// yielded. It is not a scheduling point and not a decision. Outside a run, and in
// a run of a program that has no processes and no fault budget (whose
// Result.Faults is nil), it returns nil.
func Faults() []Fault {
	m := current()
	if m == nil {
		return nil
	}
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.world == nil {
		return nil
	}
	return slices.Clone(s.faults)
}

// Crash crashes the process now, as a crash decision would (see the
// package documentation, "Processes and faults"): a scripted fault, not
// a decision, and not counted against Config.Faults. It is a scheduling
// point; a machine that crashes its own process does not return. The
// root process cannot crash (a Panic failure); a process that has no
// machine left is not affected. Outside a run Crash does nothing.
func (p *Process) Crash() {
	me := current()
	if me == nil || p.p == nil {
		return
	}
	s := me.enter()
	if p.p.id == 0 {
		s.fail(me, Panic, "sched: Crash of the root process")
	}
	if p.p.state == procRunning && len(p.p.live) > 0 {
		s.crash(p.p, "program")
	}
	me.res = nil
	s.yield(me)
}

// Stall stalls the process for d of the root clock, as a stall decision
// would: a scripted fault, not a decision. It is a scheduling point. The
// root process cannot stall (a Panic failure); stalling a stalled
// process or one without machines does nothing. Outside a run Stall does
// nothing.
func (p *Process) Stall(d time.Duration) {
	me := current()
	if me == nil || p.p == nil {
		return
	}
	s := me.enter()
	if p.p.id == 0 {
		s.fail(me, Panic, "sched: Stall of the root process")
	}
	if p.p.state == procRunning && len(p.p.live) > 0 && !p.p.stalled && d > 0 {
		s.stall(p.p, int64(d), "program")
	}
	me.res = nil
	s.yield(me)
}

// FaultPlan narrows the faults the strategy injects in a run (see
// SetFaults). Its zero value changes nothing.
type FaultPlan struct {
	// Budget, when below the run's fault budget (Config.Faults), lowers
	// it to Budget faults in all, those already injected included. The
	// faults kept are spread as under a budget of Budget: "pct" and
	// "pos" keep Budget of their fault points not yet used, chosen
	// uniformly; "random" injects a fault with probability
	// Budget/ExpectedSteps at each scheduling point.
	Budget int
	// StallsOnly makes every fault a stall (as Config.NoCrash), when the
	// run's MaxStall allows stalls.
	StallsOnly bool
	// Window, when positive, makes the faults come in a burst, as a
	// fault that hits several processes at once does (a host's pause, a
	// network partition): under "pct" and "pos" the fault points not yet
	// used are drawn again, the first uniformly among the first
	// ExpectedSteps steps as before, each next one 1 to Window steps
	// after the one before; under "random", once a fault has been
	// injected, each scheduling point injects the next with probability
	// 2/Window.
	Window int
	// Spread, with Window, makes the stalls of a burst end together, as
	// the processes of a paused host resume together: a stall drawn
	// while the burst's first stall lasts ends within Spread of it
	// (its length within (0, MaxStall]).
	Spread time.Duration
}

// SetFaults narrows the run's faults to plan: a program that draws its
// own fault plan for each run (as swarm testing draws a run's shape)
// calls it once, early, before it starts processes, with the plan drawn
// by Choose, so that a replay makes the same call. It is not a
// scheduling point and not a decision. A run without a fault budget is
// left as it is; outside a run SetFaults does nothing.
func SetFaults(plan FaultPlan) {
	me := current()
	if me == nil {
		return
	}
	s := me.enter()
	defer s.mu.Unlock()
	if s.world == nil || s.faultBudget == 0 {
		return
	}
	if n := max(plan.Budget, 0); n < s.faultBudget {
		used := s.faultBudget - s.faultsLeft
		s.faultBudget = n
		s.faultsLeft = max(n-used, 0)
	}
	if plan.StallsOnly && s.cfg.MaxStall > 0 {
		s.cfg.NoCrash = true
	}
	if plan.Window > 0 {
		s.faultWindow = plan.Window
		s.burstSpread = int64(max(plan.Spread, 0))
	}
	var ep *envPlan
	switch st := s.strat.(type) {
	case *pctStrategy:
		ep = st.plan
	case *posStrategy:
		ep = st.plan
	}
	if ep != nil {
		ep.limit(s.faultsLeft)
		if plan.Window > 0 {
			ep.cluster(s.cfg.ExpectedSteps, plan.Window)
		}
	}
}

// envAction is a decision about the world rather than the machines: a
// time advance or a fault.
type envAction struct {
	kind  DecisionKind // TimeAdvance or Fault; 0 for none
	fault FaultKind
	proc  *process
	d     int64
}

// apply records and applies an environment decision (its step is
// counted already).
func (s *scheduler) apply(a envAction) {
	d := Decision{Kind: a.kind, Fault: a.fault, Duration: time.Duration(a.d)}
	if a.proc != nil {
		d.Value = int32(a.proc.id)
	}
	s.trace.Decisions = append(s.trace.Decisions, d)
	switch {
	case a.kind == TimeAdvance:
		s.event("clock advances by %v to +%v", time.Duration(a.d), time.Duration(s.now+a.d))
		s.advanceTo(s.now + a.d)
	case a.fault == Crash:
		s.faultsLeft--
		s.crash(a.proc, "strategy")
	case a.fault == Stall:
		s.faultsLeft--
		if s.burstEnd <= s.now {
			s.burstEnd = s.now + a.d // the first stall of a burst
		}
		s.stall(a.proc, a.d, "strategy")
	case a.fault == Restart:
		s.restart(a.proc, "strategy")
	}
}

func (s *scheduler) noteFault(p *process, kind FaultKind, d int64, by string) {
	s.faults = append(s.faults, Fault{Kind: kind, Process: p.id, ProcessName: p.name, Step: s.step,
		At: time.Duration(s.now), Duration: time.Duration(d), By: by})
}

// faultTargets returns the processes that may crash (running, with a
// machine alive) or, with stall set, be stalled (also not stalled).
func (s *scheduler) faultTargets(stall bool) []*process {
	var ps []*process
	for _, p := range s.procs[1:] {
		if p.state == procRunning && len(p.live) > 0 && !(stall && p.stalled) && !p.opts.NoFaults {
			ps = append(ps, p)
		}
	}
	return ps
}

// crash kills process p: from now on nothing its machines do has an
// effect outside it. Every machine of p leaves the wait lists it is on;
// p's timers are cancelled; then the machines unwind one at a time in ID
// order (their deferred calls run; any scheduling point or controlled
// primitive they reach exits at once). A machine running the decision
// (the current one) unwinds last, after decide returns.
func (s *scheduler) crash(p *process, by string) {
	s.w()
	p.crashes++
	s.noteFault(p, Crash, 0, by)
	s.event("crash process %d %q", p.id, p.name)
	dead := append([]*machine(nil), p.live...)
	for _, m := range dead {
		if s.hb != nil {
			// What the process did before the crash happens before
			// Process.Wait returns and before its restart.
			s.hb.release(m, p)
		}
		m.dead = true
		s.unwait(m)
		s.removeLive(m)
	}
	s.timers.removeOwned(p)
	s.setStalled(p, false)
	if p.opts.Restart {
		p.state = procDown
	} else {
		p.state = procCrashed
		p.waiters.wakeAll(s)
	}
	for i, m := range dead {
		if m == s.cur {
			continue
		}
		unwound := make(chan struct{})
		s.unwinding, s.unwound = m, unwound
		s.mu.Unlock()
		m.wake <- struct{}{}
		select {
		case <-unwound:
		case <-s.done:
		}
		s.mu.Lock()
		if s.finished {
			// The run ended (the watchdog) while m unwound: the machines
			// not driven yet are in no live list; let them exit.
			for _, d := range dead[i+1:] {
				if d != s.cur {
					select {
					case d.wake <- struct{}{}:
					default:
					}
				}
			}
			return
		}
	}
}

// unwait removes m from whatever it waits on.
func (s *scheduler) unwait(m *machine) {
	if m.wq != nil {
		*m.wq = removeMachine(*m.wq, m)
		if rw, ok := m.wres.(*RWMutex); ok {
			// A writer that waited for the readers to leave no longer
			// holds back the readers queued behind it.
			rw.admit(s)
		}
	}
	if m.sel != nil {
		m.sel.dequeueAll(s)
	}
	if m.sleep != nil {
		s.timers.remove(m.sleep)
	}
	s.unblock(m)
	m.waiting = "crashed"
}

// restart runs p's body again in a fresh machine.
func (s *scheduler) restart(p *process, by string) {
	p.restarts++
	p.state = procRunning
	s.noteFault(p, Restart, 0, by)
	s.event("restart process %d %q (restart %d)", p.id, p.name, p.restarts)
	s.startBody(p)
	if s.hb != nil {
		s.hb.acquire(p.body, p)
	}
}

// stall pauses p for d nanoseconds of the root clock.
func (s *scheduler) stall(p *process, d int64, by string) {
	s.w()
	s.noteFault(p, Stall, d, by)
	s.event("stall process %d %q for %v", p.id, p.name, time.Duration(d))
	p.stallEnd = s.now + d
	p.stallStep = s.step + int64(s.cfg.ExpectedSteps)
	p.stallTimer = s.addTimer(p.stallEnd, &timerEntry{kind: timerStallEnd, stalled: p})
	s.setStalled(p, true)
}

func (s *scheduler) setStalled(p *process, on bool) {
	if p.stalled == on {
		return
	}
	p.stalled = on
	if on {
		s.stalled = append(s.stalled, p)
		return
	}
	if p.stallTimer != nil {
		s.timers.remove(p.stallTimer)
		p.stallTimer = nil
	}
	for i, x := range s.stalled {
		if x == p {
			s.stalled = append(s.stalled[:i], s.stalled[i+1:]...)
			break
		}
	}
}

// endStall resumes a stalled process whose stall has run out.
func (s *scheduler) endStall(p *process) {
	p.stallTimer = nil
	s.setStalled(p, false)
	s.event("process %d %q resumes", p.id, p.name)
}

// endLongStalls ends the stalls that have lasted ExpectedSteps steps
// without the clock reaching their end (other machines kept running
// without letting time pass): the clock moves forward to the stall's
// end, so the process still observes the whole stall.
func (s *scheduler) endLongStalls() {
	for i := 0; i < len(s.stalled); i++ {
		p := s.stalled[i]
		if s.step >= p.stallStep {
			s.event("stall of process %d %q ends after %d steps", p.id, p.name, s.cfg.ExpectedSteps)
			s.advanceTo(max(s.now, p.stallEnd))
			if p.stalled {
				s.endStall(p)
			}
			i = -1 // the list changed
		}
	}
}
