package sched

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
	// Skipped counts recorded time advances and faults that were
	// dropped because they did not apply (a process that cannot take the
	// fault, no fault budget left, a stall longer than MaxStall), and
	// recorded clock offsets passed over by a Choose.
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
// it started) in a stream of its own, so that a machine gets its own
// choices whoever ran before it.
type lenientPlan struct {
	global  []Decision
	choices [][]Decision // by machine ID
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

// planFrom splits decisions, with their owners, into a plan.
func planFrom(ds []Decision, own []int) *lenientPlan {
	p := &lenientPlan{}
	for i, d := range ds {
		switch d.Kind {
		case Choice, ClockOffset:
			m := own[i]
			for len(p.choices) <= m {
				p.choices = append(p.choices, nil)
			}
			p.choices[m] = append(p.choices[m], d)
		default:
			p.global = append(p.global, d)
		}
	}
	return p
}

type lenientStrategy struct {
	plan  *lenientPlan
	g     int   // next decision of plan.global
	c     []int // next choice of each machine
	stats LenientStats
}

func newLenient(cfg Config) *lenientStrategy {
	p := cfg.plan
	if p == nil {
		p = planFrom(cfg.Replay.Decisions, cfg.Replay.Owners())
	}
	return &lenientStrategy{plan: p, c: make([]int, len(p.choices))}
}

func (*lenientStrategy) spawned(*scheduler, *machine) {}

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

// faultTarget returns the process that the recorded fault d applies to,
// or nil if it does not apply now.
func (l *lenientStrategy) faultTarget(s *scheduler, d Decision) *process {
	if d.Value < 1 || int(d.Value) >= len(s.procs) {
		return nil
	}
	p := s.procs[d.Value]
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
// enabled; otherwise (or when the schedule has run out) the running
// machine goes on if it can, else the enabled machine with the lowest ID.
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
		id := int(l.plan.global[l.g].Value)
		l.g++
		if j := indexOf(en, id); j < len(en) && en[j].id == id {
			l.stats.Followed++
			return j, ""
		}
		l.stats.Substituted++
	} else {
		l.stats.Defaulted++
	}
	if ci >= 0 {
		return ci, ""
	}
	return 0, ""
}

// nextChoice returns the running machine's next recorded choice of kind
// k (passing over recorded clock offsets when k is Choice), or false.
func (l *lenientStrategy) nextChoice(s *scheduler, k DecisionKind) (Decision, bool) {
	id := s.cur.id
	if id >= len(l.plan.choices) {
		return Decision{}, false
	}
	cs := l.plan.choices[id]
	for l.c[id] < len(cs) {
		d := cs[l.c[id]]
		if d.Kind == k {
			l.c[id]++
			return d, true
		}
		if k == ClockOffset {
			// A choice comes first: this process start was not recorded
			// here. Keep the choice for the Choose it belongs to.
			return Decision{}, false
		}
		l.c[id]++
		l.stats.Skipped++
	}
	return Decision{}, false
}

// choose takes the machine's next recorded choice if its value is in
// range (the bound may differ), else 0.
func (l *lenientStrategy) choose(s *scheduler, n int) (int, string) {
	d, ok := l.nextChoice(s, Choice)
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
	d, ok := l.nextChoice(s, ClockOffset)
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
	for id, cs := range l.plan.choices {
		n += len(cs) - l.c[id]
	}
	return n
}

// notePreemption counts a switch away from cur, which could have gone on,
// to next; a lenient run also records the decision's index, for the
// shrinker.
func (s *scheduler) notePreemption() {
	s.preemptions++
	if _, ok := s.strat.(*lenientStrategy); ok {
		s.preemptAt = append(s.preemptAt, int32(len(s.trace.Decisions)))
	}
}

// WithoutMachine returns a copy of t without the decisions of machine m
// (the schedule decisions of m and the choices m took, see Owners), with
// the machines above m renumbered down by one: a trace for a lenient
// replay of the program without that machine. It fits when the machines
// started after m keep their order and m started none of them.
func (t *Trace) WithoutMachine(m int) *Trace {
	c := *t
	own := t.Owners()
	c.Decisions = make([]Decision, 0, len(t.Decisions))
	for i, d := range t.Decisions {
		if own[i] == m {
			continue
		}
		if d.Kind == Schedule && int(d.Value) > m {
			d.Value--
		}
		c.Decisions = append(c.Decisions, d)
	}
	c.Params = append([]Param(nil), t.Params...)
	c.Comment = append([]string(nil), t.Comment...)
	return &c
}
