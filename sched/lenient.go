package sched

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Lenient replay: the decisions of a trace where they still apply, a
// deterministic default where they do not (see the package
// documentation, "Lenient replay").

// LenientStats says how a lenient replay used the decisions it was
// given. Every decision of the run is counted once as Followed,
// Substituted or Defaulted; Skipped and Unused count recorded decisions
// that were not used.
type LenientStats struct {
	// Followed counts decisions taken as recorded.
	Followed int
	// Substituted counts recorded decisions that did not apply (a
	// machine not enabled, a Choose value out of range, a clock offset
	// beyond MaxClockSkew/2): the default was taken instead and the
	// recorded decision consumed.
	Substituted int
	// Defaulted counts decisions taken by default because the recorded
	// ones had run out (of the schedule, or of the machine's choices).
	Defaulted int
	// Skipped counts recorded decisions dropped: time advances and
	// faults that did not apply (a process that cannot take the fault,
	// no fault budget left, a stall longer than MaxStall), schedule
	// decisions passed over for a later one whose machine was enabled,
	// and recorded clock offsets passed over by a Choose.
	Skipped int
	// Unused counts the recorded decisions never reached.
	Unused int
}

// goOn is a Schedule decision of the shrinker's plans (never of a trace):
// the running machine goes on as long as it is enabled; then the plan
// goes on with the decision after it.
var goOn = Decision{Kind: Schedule, Value: -1}

// lenientPlan is what a lenient replay follows: the schedule and the
// decisions about the world in one stream, in their recorded order, and
// each machine's choices (Choose values, clock offsets of the processes
// it started) in streams of its own, so that a machine gets its own
// choices whoever ran before it: one stream per name given to ChooseIn
// when the plan is labelled, else one.
//
// Machine IDs in the plan are the recorded run's. When the trace names
// its machines (Trace.Machines), a machine of the run follows the
// recorded decisions of the machine of its name (and process name): the
// n-th machine the run starts with a name takes the decisions of the
// n-th recorded machine with that name, whatever the machines started
// before it; a machine whose name the trace does not hold (or holds
// fewer times) follows no recorded decision. Without names, a machine
// follows the recorded machine of its ID.
type lenientPlan struct {
	global   []Decision
	choices  []map[string][]Decision // by recorded machine ID, by stream
	labelled bool
	// byName lists the recorded machines of each name in ID order; nil
	// when the trace names none.
	byName map[TraceMachine][]int
	// procs names the recorded processes by ID (Trace.Processes); nil
	// when the trace does not name them.
	procs []string
}

// ChooseIn is Choose(n) drawn from the calling machine's choice stream
// named stream. Outside a lenient run it is Choose(n). A lenient run
// given a trace that names the streams of its choices (Trace.Streams,
// which lenient runs record) takes each machine's k-th choice of a stream
// from its k-th recorded choice of that stream: a program that makes
// more or fewer choices of one stream than the recorded run (a retry
// loop's, say) keeps its other choices as they were. Name the streams
// by what the choices decide.
func ChooseIn(stream string, n int) int {
	if n <= 1 {
		return 0
	}
	m := current()
	if m == nil {
		return Choose(n)
	}
	s := m.enter()
	if n > math.MaxInt32 {
		s.fail(m, Panic, fmt.Sprintf("sched: ChooseIn(%q, %d): n above %d", stream, n, math.MaxInt32))
	}
	l, _ := s.strat.(*lenientStrategy)
	if l != nil {
		l.stream = stream
	}
	v := s.choose(m, n)
	if l != nil {
		l.stream = ""
	}
	s.mu.Unlock()
	return v
}

// owners returns the machine that took each decision of ds: for a
// Schedule decision the machine scheduled; for a Choice or ClockOffset
// the machine running then, which is the machine of the latest Schedule
// decision before it (0 before any); -1 for a time advance or a fault.
func owners(ds []Decision) []int {
	out := make([]int, len(ds))
	running := 0
	for i, d := range ds {
		switch d.Kind {
		case Schedule:
			running = int(d.Value)
			out[i] = running
		case Choice, ClockOffset:
			out[i] = running
		default:
			out[i] = -1
		}
	}
	return out
}

// Owners returns, for each decision of t, the machine that took it: for a
// Schedule decision the machine scheduled, for a Choice or a ClockOffset
// the machine that was running (the machine of the latest Schedule
// decision before it; only the running machine calls Choose, Select or
// StartProcess), and -1 for a time advance or a fault. This is how a
// lenient replay assigns choices to machines; a caller editing a trace
// uses it to find a machine's choices.
func (t *Trace) Owners() []int { return owners(t.Decisions) }

// planFrom splits decisions, with their owners, streams (nil: none
// named) and the names of the machines (nil: none), into a plan; it is
// labelled if a stream is named.
func planFrom(ds []Decision, own []int, streams []string, names []TraceMachine) *lenientPlan {
	p := &lenientPlan{labelled: len(streams) == len(ds) && slices.ContainsFunc(streams, func(s string) bool { return s != "" })}
	if len(names) > 0 {
		p.byName = make(map[TraceMachine][]int, len(names))
		for id, n := range names {
			p.byName[n] = append(p.byName[n], id)
		}
		p.procs = processNames(names, ds)
	}
	for i, d := range ds {
		switch d.Kind {
		case Choice, ClockOffset:
			m, st := own[i], ""
			if p.labelled && d.Kind == Choice {
				st = streams[i]
			}
			for len(p.choices) <= m {
				p.choices = append(p.choices, nil)
			}
			if p.choices[m] == nil {
				p.choices[m] = map[string][]Decision{}
			}
			p.choices[m][st] = append(p.choices[m][st], d)
		default:
			p.global = append(p.global, d)
		}
	}
	return p
}

type lenientStrategy struct {
	plan *lenientPlan
	g    int              // next decision of plan.global
	c    []map[string]int // next choice of each recorded machine's streams
	// recOf is the recorded machine each machine of the run follows (-1:
	// none), by ID; curOf the machine of the run that follows each
	// recorded one (-1: none started); started counts the machines
	// started with each name.
	recOf, curOf []int
	started      map[TraceMachine]int
	stats        LenientStats
	// streams records the stream of each choice taken, by decision
	// index (for Trace.Streams); stream is the stream of the Choose being
	// decided (ChooseIn).
	streams map[int]string
	stream  string
	// preemptAt holds the index in Trace.Decisions of each preemption,
	// for the shrinker.
	preemptAt []int32
	// draw, when seeded (Config.LenientSeed), draws the schedule
	// decisions taken where no recorded one applies.
	draw   rng
	seeded bool
}

func newLenient(cfg Config) *lenientStrategy {
	p := cfg.plan
	if p == nil {
		tr := cfg.Replay
		p = planFrom(tr.Decisions, tr.Owners(), tr.Streams, tr.Machines)
	}
	return &lenientStrategy{plan: p, c: make([]map[string]int, len(p.choices)), streams: map[int]string{}, started: map[TraceMachine]int{},
		draw: rng{mix64(cfg.LenientSeed)}, seeded: cfg.LenientSeed != 0}
}

// spawned matches the new machine m with the recorded machine it
// follows: by name when the plan has names, else by ID.
func (l *lenientStrategy) spawned(s *scheduler, m *machine) {
	rec := m.id
	if l.plan.byName != nil {
		n := s.trace.Machines[m.id]
		k := l.started[n]
		l.started[n] = k + 1
		rec = -1
		if ids := l.plan.byName[n]; k < len(ids) {
			rec = ids[k]
		}
	}
	for len(l.recOf) <= m.id {
		l.recOf = append(l.recOf, -1)
	}
	l.recOf[m.id] = rec
	if rec >= 0 {
		for len(l.curOf) <= rec {
			l.curOf = append(l.curOf, -1)
		}
		l.curOf[rec] = m.id
	}
}

// current returns the machine of the run that follows recorded machine
// rec, or -1.
func (l *lenientStrategy) current(rec int) int {
	if rec < 0 || rec >= len(l.curOf) {
		return -1
	}
	return l.curOf[rec]
}

// enabledIndex returns the index in en of the machine that follows
// recorded machine rec, or -1 if it is not enabled.
func (l *lenientStrategy) enabledIndex(en []*machine, rec int) int {
	id := l.current(rec)
	if id < 0 {
		return -1
	}
	if j := indexOf(en, id); j < len(en) && en[j].id == id {
		return j
	}
	return -1
}

// env applies the recorded time advances and faults that come next in
// the schedule stream, dropping those that do not apply; it takes none
// where the stream holds a schedule decision or has run out.
func (l *lenientStrategy) env(s *scheduler) (envAction, string) {
	for l.g < len(l.plan.global) {
		d := l.plan.global[l.g]
		switch d.Kind {
		case Schedule:
			if d.Value < 0 && (s.cur == nil || !s.runnable(s.cur)) {
				l.g++ // a goOn whose machine cannot go on: it has ended
				continue
			}
			return envAction{}, ""
		case TimeAdvance:
			l.g++
			if d.Duration > 0 && (s.cfg.MaxTimeStep == 0 || d.Duration <= s.cfg.MaxTimeStep) {
				l.stats.Followed++
				return envAction{kind: TimeAdvance, d: int64(d.Duration)}, ""
			}
		case FaultInjection:
			l.g++
			if p := l.faultTarget(s, d); p != nil {
				l.stats.Followed++
				return envAction{kind: FaultInjection, fault: d.Fault, proc: p, d: int64(d.Duration)}, ""
			}
		default:
			l.g++
		}
		l.stats.Skipped++
	}
	return envAction{}, ""
}

// process returns the run's process that recorded process v is, or nil:
// the first process the run started with v's name when the plan names
// the recorded processes, else the process of ID v.
func (l *lenientStrategy) process(s *scheduler, v int32) *process {
	if names := l.plan.procs; names != nil {
		if v < 1 || int(v) >= len(names) {
			return nil
		}
		for _, p := range s.procs[1:] {
			if p.name == names[v] {
				return p
			}
		}
		return nil
	}
	if v < 1 || int(v) >= len(s.procs) {
		return nil
	}
	return s.procs[v]
}

// faultTarget returns the process that the recorded fault d applies to,
// or nil if it does not apply now.
func (l *lenientStrategy) faultTarget(s *scheduler, d Decision) *process {
	p := l.process(s, d.Value)
	if p == nil {
		return nil
	}
	if p.opts.NoFaults && d.Fault != Restart {
		return nil
	}
	switch d.Fault {
	case Crash:
		if s.cfg.NoCrash || s.faultsLeft <= 0 || p.state != procRunning || len(p.live) == 0 {
			return nil
		}
	case Stall:
		if s.cfg.MaxStall == 0 || d.Duration <= 0 || d.Duration > s.cfg.MaxStall ||
			s.faultsLeft <= 0 || p.state != procRunning || len(p.live) == 0 || p.stalled {
			return nil
		}
	case Restart:
		if p.state != procDown {
			return nil
		}
	default:
		return nil
	}
	return p
}

// pick takes the next recorded schedule decision if its machine is
// enabled, else the first of the following lookAhead schedule decisions
// whose machine is (dropping those before it); otherwise (or when the
// schedule has run out) it takes the fallback.
func (l *lenientStrategy) pick(s *scheduler, en []*machine, cur *machine) (int, string) {
	ci := -1 // cur's index in en
	if cur != nil {
		if j := indexOf(en, cur.id); j < len(en) && en[j] == cur {
			ci = j
		}
	}
	for l.g < len(l.plan.global) {
		d := l.plan.global[l.g]
		if d.Kind == Schedule && d.Value >= 0 {
			break
		}
		if d.Kind == Schedule && ci >= 0 {
			// goOn: the running machine goes on while it can.
			l.stats.Followed++
			return ci, ""
		}
		l.g++ // a goOn that has ended, or a time advance or fault the run takes no decision about now
		if d.Kind != Schedule {
			l.stats.Skipped++
		}
	}
	recorded := l.g < len(l.plan.global)
	if recorded {
		rec := int(l.plan.global[l.g].Value)
		if l.enabledIndex(en, rec) < 0 {
			// The run is ahead of or behind the recorded one: take the
			// first enabled machine among the next schedule decisions,
			// dropping those before it.
			for k := l.g + 1; k < len(l.plan.global) && k <= l.g+lookAhead; k++ {
				d := l.plan.global[k]
				if d.Kind != Schedule || d.Value < 0 {
					break
				}
				if j := l.enabledIndex(en, int(d.Value)); j >= 0 {
					l.stats.Skipped += k - l.g
					l.g = k + 1
					l.stats.Followed++
					return j, ""
				}
			}
		}
		l.g++
		if j := l.enabledIndex(en, rec); j >= 0 {
			l.stats.Followed++
			return j, ""
		}
		l.stats.Substituted++
	} else {
		l.stats.Defaulted++
	}
	return l.fallback(en, ci), ""
}

// fallback is the schedule decision where no recorded one applies, given
// the enabled machines and the running one's index among them (-1: it is
// not enabled). Unseeded, the running machine goes on, else the enabled
// machine with the lowest ID runs; seeded, the running machine goes on
// with probability 1/2, else a uniformly drawn enabled machine runs.
func (l *lenientStrategy) fallback(en []*machine, ci int) int {
	if l.seeded {
		if ci >= 0 && l.draw.intn(2) == 0 {
			return ci
		}
		return l.draw.intn(len(en))
	}
	if ci >= 0 {
		return ci
	}
	return 0
}

// nextChoice returns the running machine's next recorded choice of kind
// k in stream st (passing over recorded clock offsets when k is Choice),
// or false.
func (l *lenientStrategy) nextChoice(s *scheduler, k DecisionKind, st string) (Decision, bool) {
	id := -1
	if s.cur.id < len(l.recOf) {
		id = l.recOf[s.cur.id]
	}
	if id < 0 || id >= len(l.plan.choices) || l.plan.choices[id] == nil {
		return Decision{}, false
	}
	if !l.plan.labelled || k == ClockOffset {
		st = ""
	}
	cs := l.plan.choices[id][st]
	if l.c[id] == nil {
		l.c[id] = map[string]int{}
	}
	for l.c[id][st] < len(cs) {
		d := cs[l.c[id][st]]
		if d.Kind == k {
			l.c[id][st]++
			return d, true
		}
		if k == ClockOffset {
			// A choice comes first: this process start was not recorded
			// here. Keep the choice for the Choose it belongs to.
			return Decision{}, false
		}
		l.c[id][st]++
		l.stats.Skipped++
	}
	return Decision{}, false
}

// choose takes the machine's next recorded choice of the stream if its
// value is in range (the bound may differ), else 0.
func (l *lenientStrategy) choose(s *scheduler, n int) (int, string) {
	if l.stream != "" {
		l.streams[len(s.trace.Decisions)] = l.stream
	}
	d, ok := l.nextChoice(s, Choice, l.stream)
	switch {
	case !ok:
		l.stats.Defaulted++
	case int(d.Value) < n:
		l.stats.Followed++
		return int(d.Value), ""
	default:
		l.stats.Substituted++
	}
	return 0, ""
}

// offset takes the starting machine's next recorded clock offset if it is
// within MaxClockSkew/2, else 0.
func (l *lenientStrategy) offset(s *scheduler, _ *process) (int64, string) {
	d, ok := l.nextChoice(s, ClockOffset, "")
	half := s.cfg.MaxClockSkew / 2
	switch {
	case !ok:
		l.stats.Defaulted++
	case d.Duration >= -half && d.Duration <= half:
		l.stats.Followed++
		return int64(d.Duration), ""
	default:
		l.stats.Substituted++
	}
	return 0, ""
}

// unused counts the recorded decisions never reached.
func (l *lenientStrategy) unused() int {
	n := len(l.plan.global) - l.g
	for id, streams := range l.plan.choices {
		for st, cs := range streams {
			n += len(cs) - l.c[id][st]
		}
	}
	return n
}

// recordStreams sets tr.Streams from the streams the run's choices were
// drawn from, if any was named.
func (l *lenientStrategy) recordStreams(tr *Trace) {
	if len(l.streams) == 0 {
		return
	}
	tr.Streams = make([]string, len(tr.Decisions))
	for i := range tr.Streams {
		tr.Streams[i] = l.streams[i]
	}
}

// notePreemption counts a switch away from cur, which could have gone on,
// to next; a lenient run also records the decision's index, for the
// shrinker.
func (s *scheduler) notePreemption() {
	s.preemptions++
	if l, ok := s.strat.(*lenientStrategy); ok {
		l.preemptAt = append(l.preemptAt, int32(len(s.trace.Decisions)))
	}
}

// lenientPreemptions returns the decision index of each preemption of a
// lenient run, nil for the other strategies.
func (s *scheduler) lenientPreemptions() []int32 {
	if l, ok := s.strat.(*lenientStrategy); ok {
		return l.preemptAt
	}
	return nil
}

// Processes returns the names of the processes of t's run by ID (the
// root, "root", first), or nil when t does not tell them apart by name:
// a trace of version 1 or 2, or one whose machines named after their
// process are more or fewer than its processes' starts and restarts. (A
// process's first machine, its body, is named after it and made when
// the process starts or restarts; processes are numbered in the order
// they start. Each restart is a recorded decision, or follows a
// recorded crash that has none, when the scheduler restarts a process
// because no machine is enabled: so two processes of one name show as
// a machine too many, unless the trace holds such a crash.)
func (t *Trace) Processes() []string { return processNames(t.Machines, t.Decisions) }

// processNames is Trace.Processes of a trace with machines names and
// decisions ds.
func processNames(names []TraceMachine, ds []Decision) []string {
	if len(names) == 0 {
		return nil
	}
	procs := []string{rootName}
	seen := map[string]bool{}
	bodies := 0
	for _, n := range names {
		if n.Process == rootName {
			continue
		}
		if !seen[n.Process] {
			seen[n.Process] = true
			procs = append(procs, n.Process)
		}
		if n.Name == n.Process {
			bodies++
		}
	}
	// restarts counts the restarts: recorded, or made by the scheduler
	// between two recorded crashes of a process; down holds the processes
	// crashed and not restarted by a decision since, which the scheduler
	// may have restarted.
	restarts := 0
	down := map[int32]bool{}
	for _, d := range ds {
		if d.Kind != FaultInjection && d.Kind != ClockOffset {
			continue
		}
		if d.Value < 1 || int(d.Value) >= len(procs) {
			return nil
		}
		switch {
		case d.Kind == FaultInjection && d.Fault == Restart:
			restarts++
			down[d.Value] = false
		case d.Kind == FaultInjection && d.Fault == Crash:
			if down[d.Value] {
				restarts++ // it ran again: the scheduler restarted it
			}
			down[d.Value] = true
		}
	}
	maybe := 0
	for _, v := range down {
		if v {
			maybe++
		}
	}
	if want := len(procs) - 1 + restarts; bodies < want || bodies > want+maybe {
		return nil
	}
	return procs
}

// WithoutMachine returns a copy of t without the decisions of machine m
// (the schedule decisions of m and the choices m took, see Owners), with
// the machines above m renumbered down by one and m's name gone from
// Machines: a trace for a lenient replay of the program without that
// machine. When t names its machines, a lenient replay finds the others
// by their names; else by their IDs, which fits when the machines started
// after m keep their order and m started none of them. (To take a whole
// process away, use WithoutProcess.)
func (t *Trace) WithoutMachine(m int) *Trace {
	c := *t
	own := t.Owners()
	c.Decisions = make([]Decision, 0, len(t.Decisions))
	c.Streams = nil
	labelled := len(t.Streams) == len(t.Decisions)
	for i, d := range t.Decisions {
		if own[i] == m {
			continue
		}
		if d.Kind == Schedule && int(d.Value) > m {
			d.Value--
		}
		c.Decisions = append(c.Decisions, d)
		if labelled {
			c.Streams = append(c.Streams, t.Streams[i])
		}
	}
	c.Params = append([]Param(nil), t.Params...)
	c.Machines = slices.Clone(t.Machines)
	if m >= 0 && m < len(c.Machines) {
		c.Machines = slices.Delete(c.Machines, m, m+1)
	}
	c.Comment = append([]string(nil), t.Comment...)
	return &c
}

// WithoutProcess returns a copy of t without process name: without its
// machines and their decisions (as WithoutMachine), its faults and its
// clock offset, the other machines and processes renumbered: a trace
// for a lenient replay of the program that does not start the process.
// The error says why not when t does not name its processes (see
// Processes) or has no process of that name. A lenient replay finds a
// recorded fault's process by its name when the trace names its
// processes, so a trace need not be edited for a program that does not
// start a process; a shrinker that takes a process away edits the trace
// with WithoutProcess, so that what remains is a recorded run.
func (t *Trace) WithoutProcess(name string) (*Trace, error) {
	procs := t.Processes()
	if procs == nil {
		return nil, fmt.Errorf("sched: trace does not name its processes (a trace of version 3 whose machines named after their process are its processes' starts and restarts)")
	}
	k := int32(slices.Index(procs, name))
	if k < 1 {
		return nil, fmt.Errorf("sched: trace has no process %q (it has %s)", name, strings.Join(procs[1:], ", "))
	}
	own := t.Owners()
	// newID is each machine's ID without the process's machines, -1
	// for those.
	newID := make([]int32, len(t.Machines))
	c := *t
	c.Machines = nil
	for id, n := range t.Machines {
		newID[id] = -1
		if n.Process != name {
			newID[id] = int32(len(c.Machines))
			c.Machines = append(c.Machines, n)
		}
	}
	gone := func(m int) bool { return m >= 0 && m < len(newID) && newID[m] < 0 }
	c.Decisions = make([]Decision, 0, len(t.Decisions))
	c.Streams = nil
	labelled := len(t.Streams) == len(t.Decisions)
	for i, d := range t.Decisions {
		if gone(own[i]) {
			continue
		}
		switch d.Kind {
		case Schedule:
			if d.Value >= 0 && int(d.Value) < len(newID) {
				d.Value = newID[d.Value]
			}
		case FaultInjection, ClockOffset:
			if d.Value == k {
				continue
			}
			if d.Value > k {
				d.Value--
			}
		}
		c.Decisions = append(c.Decisions, d)
		if labelled {
			c.Streams = append(c.Streams, t.Streams[i])
		}
	}
	c.Params = append([]Param(nil), t.Params...)
	c.Comment = append([]string(nil), t.Comment...)
	return &c, nil
}

// lookAhead is how many schedule decisions after one whose machine is
// not enabled a lenient run looks at for one whose machine is. (Measured
// on the harness's shrinks: with 8, a third fewer runs and smaller
// results than with none; more changes little.)
const lookAhead = 8
