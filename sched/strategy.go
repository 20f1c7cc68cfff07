package sched

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
)

// rng is SplitMix64: tiny, fast, and the same on every platform.
type rng struct{ s uint64 }

const golden = 0x9e3779b97f4a7c15

func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// intn returns a value in [0, n) (Lemire's multiply-shift; the bias is
// below 2^-50 for the small n used here).
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// IterationSeed derives the seed of iteration i from base (SplitMix64 of
// base + (i+1)·φ), so that iteration i gets the same seed however the
// iterations are spread over workers.
func IterationSeed(base uint64, i int) uint64 {
	return mix64(base + uint64(i+1)*golden)
}

var portfolio = [...]string{"random", "pct", "pos"}

// PortfolioStrategy returns the strategy that "portfolio" uses for
// iteration i: "random", "pct", "pos", repeating.
func PortfolioStrategy(i int) string {
	if i < 0 {
		i = -i
	}
	return portfolio[i%len(portfolio)]
}

// strategy makes the decisions of one run. Methods are called with s.mu
// held. A non-empty string result reports a divergence.
type strategy interface {
	spawned(s *scheduler, m *machine)
	pick(s *scheduler, en []*machine, cur *machine) (int, string)
	choose(s *scheduler, n int) (int, string)
	// env is called at every scheduling point when the run has a fault
	// budget or a MaxTimeStep; it returns a time advance or a fault to
	// apply before the schedule decision, or none (kind 0).
	env(s *scheduler) (envAction, string)
	// offset returns a new process's clock offset (Config.MaxClockSkew).
	offset(s *scheduler, p *process) (int64, string)
}

func newStrategy(cfg Config) strategy {
	switch cfg.Strategy {
	case "pct":
		return newPCT(cfg)
	case "pos":
		p := &posStrategy{r: rng{cfg.Seed}, k: int64(cfg.ExpectedSteps)}
		if cfg.MaxTimeStep > 0 || cfg.Faults > 0 {
			p.plan = newEnvPlan(cfg, &p.r)
		}
		return p
	case "dfs":
		d := cfg.dfs
		if d == nil {
			d = &dfsState{bound: -1}
		}
		d.pos, d.preemptions = 0, 0
		return d
	case "replay":
		return &replayStrategy{tr: cfg.Replay}
	case "lenient":
		return newLenient(cfg)
	}
	return &randomStrategy{r: rng{cfg.Seed}}
}

// Environment decisions of the randomized strategies.

// drawAdvance draws a clock advance: with probability 1/2 exactly to the
// earliest pending timed event when it is within MaxTimeStep (so that a
// timer fires while work is in progress), else uniformly in
// (0, MaxTimeStep].
func drawAdvance(r *rng, s *scheduler) envAction {
	max := int64(s.cfg.MaxTimeStep)
	if len(s.timers) > 0 && r.intn(2) == 0 {
		if d := s.timers[0].at - s.now; d > 0 && d <= max {
			return envAction{kind: TimeAdvance, d: d}
		}
	}
	return envAction{kind: TimeAdvance, d: 1 + int64(r.intn(int(max)))}
}

// drawFault draws a crash or a stall (uniformly among the kinds the
// config allows) of a uniformly chosen process that can take it, and a
// stall's duration uniformly in (0, MaxStall], or, for a stall of a
// burst while the burst's first stall lasts, to end within
// FaultPlan.Spread of it.
func drawFault(r *rng, s *scheduler) (envAction, bool) {
	kind := Crash
	switch {
	case s.cfg.NoCrash:
		kind = Stall
	case s.cfg.MaxStall > 0 && r.intn(2) == 1:
		kind = Stall
	}
	ps := s.faultTargets(kind == Stall)
	if len(ps) == 0 {
		return envAction{}, false
	}
	a := envAction{kind: FaultInjection, fault: kind, proc: ps[r.intn(len(ps))]}
	if kind == Stall {
		a.d = 1 + int64(r.intn(int(s.cfg.MaxStall)))
		if j := s.burstSpread; s.faultWindow > 0 && j > 0 && s.burstEnd > s.now {
			// A stall of a burst ends with the burst's first stall,
			// give or take the spread.
			end := s.burstEnd - j + int64(r.intn(int(2*j)+1))
			a.d = min(max(end-s.now, 1), int64(s.cfg.MaxStall))
		}
	}
	return a, true
}

func downProcesses(s *scheduler) []*process {
	var ps []*process
	for _, p := range s.procs {
		if p.state == procDown {
			ps = append(ps, p)
		}
	}
	return ps
}

// randomEnv: at each scheduling point, a fault with probability
// Faults/ExpectedSteps (the budget SetFaults set, if lower; while budget
// is left; after a fault of a run with a FaultPlan.Window, 2/Window), a restart of a crashed
// process with probability 4/ExpectedSteps, and a clock advance with
// probability Depth/ExpectedSteps: on average as many as "pct" and "pos"
// inject in their first ExpectedSteps steps, spread over the whole run.
func randomEnv(r *rng, s *scheduler) envAction {
	k := s.cfg.ExpectedSteps
	p := s.faultBudget
	if s.faultWindow > 0 && s.faultsLeft < s.faultBudget {
		// A burst (FaultPlan.Window): the next fault within about
		// Window steps.
		k, p = s.faultWindow, 2
	}
	if s.faultsLeft > 0 && r.intn(k) < p {
		if a, ok := drawFault(r, s); ok {
			return a
		}
	}
	k = s.cfg.ExpectedSteps
	if down := downProcesses(s); len(down) > 0 && r.intn(k) < 4 {
		return envAction{kind: FaultInjection, fault: Restart, proc: down[r.intn(len(down))]}
	}
	if s.cfg.MaxTimeStep > 0 && r.intn(k) < s.cfg.Depth {
		return drawAdvance(r, s)
	}
	return envAction{}
}

// drawOffset draws a process's clock offset uniformly in
// [-MaxClockSkew/2, MaxClockSkew/2].
func drawOffset(r *rng, s *scheduler) int64 {
	b := int64(s.cfg.MaxClockSkew)
	return int64(r.intn(int(b)+1)) - b/2
}

// envPlan draws the environment decisions of "pct" and "pos" up front,
// as PCT draws its change points: Depth clock-advance points and Faults
// fault points uniformly among the first ExpectedSteps steps. A fault
// point with no process to fault waits for one. A crashed process is
// restarted at a step drawn uniformly within ExpectedSteps/4 steps of
// the first scheduling point after its crash.
type envPlan struct {
	r         *rng
	time      []int64
	fault     []int64
	restartAt []int64 // by process ID; 0: not drawn
}

func newEnvPlan(cfg Config, r *rng) *envPlan {
	e := &envPlan{r: r}
	draw := func(n int) []int64 {
		pts := make([]int64, n)
		for i := range pts {
			pts[i] = 1 + int64(r.intn(cfg.ExpectedSteps))
		}
		sort.Slice(pts, func(a, b int) bool { return pts[a] < pts[b] })
		return pts
	}
	if cfg.MaxTimeStep > 0 {
		e.time = draw(cfg.Depth)
	}
	if cfg.Faults > 0 {
		e.fault = draw(cfg.Faults)
	}
	return e
}

// limit keeps n of the fault points not yet used, chosen uniformly
// (SetFaults): n points of a plan of n.
func (e *envPlan) limit(n int) {
	if n >= len(e.fault) {
		return
	}
	for i := 0; i < n; i++ {
		j := i + e.r.intn(len(e.fault)-i)
		e.fault[i], e.fault[j] = e.fault[j], e.fault[i]
	}
	e.fault = e.fault[:max(n, 0)]
	sort.Slice(e.fault, func(a, b int) bool { return e.fault[a] < e.fault[b] })
}

// cluster redraws the fault points not yet used as a burst
// (FaultPlan.Window): the first uniformly among the first ExpectedSteps
// steps, as before, each next one 1 to window steps after the one
// before.
func (e *envPlan) cluster(expected, window int) {
	if len(e.fault) == 0 {
		return
	}
	at := 1 + int64(e.r.intn(expected))
	for i := range e.fault {
		if i > 0 {
			at += 1 + int64(e.r.intn(window))
		}
		e.fault[i] = at
	}
}

func (e *envPlan) env(s *scheduler) envAction {
	step := s.step
	if len(e.fault) > 0 && e.fault[0] <= step && s.faultsLeft > 0 {
		if a, ok := drawFault(e.r, s); ok {
			e.fault = e.fault[1:]
			return a
		}
	}
	for _, p := range s.procs {
		if p.state != procDown {
			continue
		}
		for len(e.restartAt) <= p.id {
			e.restartAt = append(e.restartAt, 0)
		}
		if e.restartAt[p.id] == 0 {
			e.restartAt[p.id] = step + int64(e.r.intn(s.cfg.ExpectedSteps/4+1))
		}
		if e.restartAt[p.id] <= step {
			e.restartAt[p.id] = 0
			return envAction{kind: FaultInjection, fault: Restart, proc: p}
		}
	}
	if len(e.time) > 0 && e.time[0] <= step {
		e.time = e.time[1:]
		return drawAdvance(e.r, s)
	}
	return envAction{}
}

// fairFrom returns the first step from which strategy name schedules
// fairly, for the liveness check.
func fairFrom(name string, cfg Config) int64 {
	switch name {
	case "pct", "pos":
		return int64(cfg.ExpectedSteps)
	case "dfs":
		return math.MaxInt64
	}
	return 0
}

// random: uniform over the enabled machines.
type randomStrategy struct{ r rng }

func (*randomStrategy) spawned(*scheduler, *machine) {}
func (g *randomStrategy) pick(_ *scheduler, en []*machine, _ *machine) (int, string) {
	if len(en) == 1 {
		return 0, ""
	}
	return g.r.intn(len(en)), ""
}
func (g *randomStrategy) choose(_ *scheduler, n int) (int, string) { return g.r.intn(n), "" }
func (g *randomStrategy) env(s *scheduler) (envAction, string)     { return randomEnv(&g.r, s), "" }
func (g *randomStrategy) offset(s *scheduler, _ *process) (int64, string) {
	return drawOffset(&g.r, s), ""
}

// pct: Burckhardt et al., "A randomized scheduler with probabilistic
// guarantees of finding bugs", ASPLOS 2010. Each machine gets a random
// initial priority when it is created (inserted at a uniformly random
// rank among the machines not yet lowered); the highest priority
// enabled machine runs. There are d-1 change points k_1..k_{d-1}, drawn
// uniformly among the first ExpectedSteps steps; at step k_j the machine
// about to run gets priority j, below every initial priority. After
// ExpectedSteps steps it schedules uniformly at random, which is fair.
type pctStrategy struct {
	r      rng
	plan   *envPlan
	order  []int // machine IDs: unlowered by rank, then lowered by priority, highest first
	low    []int // low[id] is the change-point priority of a lowered machine, 0 if not lowered
	nlow   int   // the last nlow entries of order are lowered
	change []pctChange
	k      int64
}

type pctChange struct {
	step int64
	prio int
}

func newPCT(cfg Config) *pctStrategy {
	p := &pctStrategy{r: rng{cfg.Seed}, k: int64(cfg.ExpectedSteps)}
	for j := 1; j < cfg.Depth; j++ {
		p.change = append(p.change, pctChange{step: 1 + int64(p.r.intn(cfg.ExpectedSteps)), prio: j})
	}
	sort.SliceStable(p.change, func(a, b int) bool { return p.change[a].step < p.change[b].step })
	if cfg.MaxTimeStep > 0 || cfg.Faults > 0 {
		p.plan = newEnvPlan(cfg, &p.r)
	}
	return p
}

func (p *pctStrategy) env(s *scheduler) (envAction, string) { return p.plan.env(s), "" }
func (p *pctStrategy) offset(s *scheduler, _ *process) (int64, string) {
	return drawOffset(&p.r, s), ""
}

func (p *pctStrategy) spawned(_ *scheduler, m *machine) {
	i := p.r.intn(len(p.order) - p.nlow + 1)
	p.order = append(p.order, 0)
	copy(p.order[i+1:], p.order[i:])
	p.order[i] = m.id
	p.low = append(p.low, 0)
}

func (p *pctStrategy) top(s *scheduler) int {
	for i, id := range p.order {
		if s.runnable(s.all[id]) {
			return i
		}
	}
	return -1
}

// lower gives the machine at order[i] the change-point priority prio.
func (p *pctStrategy) lower(i, prio int) {
	id := p.order[i]
	if p.low[id] == 0 {
		p.nlow++
	}
	p.low[id] = prio
	p.order = append(p.order[:i], p.order[i+1:]...)
	j := len(p.order) - p.nlow + 1 // first lowered position after removal
	for j < len(p.order) && p.low[p.order[j]] > prio {
		j++
	}
	p.order = append(p.order, 0)
	copy(p.order[j+1:], p.order[j:])
	p.order[j] = id
}

func (p *pctStrategy) pick(s *scheduler, en []*machine, _ *machine) (int, string) {
	if s.step > p.k {
		if len(en) == 1 {
			return 0, ""
		}
		return p.r.intn(len(en)), ""
	}
	i := p.top(s)
	for len(p.change) > 0 && p.change[0].step <= s.step {
		p.lower(i, p.change[0].prio)
		p.change = p.change[1:]
		i = p.top(s)
	}
	return indexOf(en, p.order[i]), ""
}

func (p *pctStrategy) choose(_ *scheduler, n int) (int, string) { return p.r.intn(n), "" }

func indexOf(en []*machine, id int) int {
	i := sort.Search(len(en), func(i int) bool { return en[i].id >= id })
	return i
}

// pos: partial order sampling (Yuan et al., CAV 2018). Every machine's
// pending operation has a random priority; the highest priority enabled
// machine runs, and then the priorities of its operation and of every
// pending operation on the same resource (Mutex, Cond, Future,
// WaitGroup, or the key given to YieldOn) are drawn afresh. Operations
// with no known resource (Yield) race only with themselves. A machine
// spinning on Yield can starve a machine of low priority for long, so,
// as PCT, after ExpectedSteps steps it schedules uniformly at random.
type posStrategy struct {
	r    rng
	prio []uint64 // by machine ID
	k    int64
	plan *envPlan
}

func (p *posStrategy) env(s *scheduler) (envAction, string) { return p.plan.env(s), "" }
func (p *posStrategy) offset(s *scheduler, _ *process) (int64, string) {
	return drawOffset(&p.r, s), ""
}

func (p *posStrategy) spawned(_ *scheduler, m *machine) { p.prio = append(p.prio, p.r.next()) }

func (p *posStrategy) pick(s *scheduler, en []*machine, _ *machine) (int, string) {
	if s.step > p.k {
		if len(en) == 1 {
			return 0, ""
		}
		return p.r.intn(len(en)), ""
	}
	best := 0
	for i, m := range en[1:] {
		if p.prio[m.id] > p.prio[en[best].id] {
			best = i + 1
		}
	}
	b := en[best]
	p.prio[b.id] = p.r.next()
	if b.res != nil {
		for _, m := range s.live {
			if m != b && m.res == b.res {
				p.prio[m.id] = p.r.next()
			}
		}
	}
	return best, ""
}

func (p *posStrategy) choose(_ *scheduler, n int) (int, string) { return p.r.intn(n), "" }

// dfs: depth-first enumeration of every schedule (and every Choose
// value), one schedule per run, driven by an Explorer. With a preemption
// bound (bound >= 0), a schedule switches away from a machine that could
// have gone on at most bound times: once the bound is used up, a
// scheduling point whose machine is still enabled offers only that
// machine, and the exploration is marked pruned.
type dfsState struct {
	stack     []dfsFrame
	pos       int
	schedules int
	exhausted bool

	bound       int // -1: no bound
	preemptions int // in the current schedule
	pruned      bool
}

type dfsFrame struct{ choice, bound int }

func (d *dfsState) next(n int) (int, string) {
	if d.pos < len(d.stack) {
		f := d.stack[d.pos]
		if f.bound != n {
			return 0, fmt.Sprintf("dfs: program is not deterministic: this decision had %d options in an earlier schedule, %d now", f.bound, n)
		}
		d.pos++
		return f.choice, ""
	}
	d.stack = append(d.stack, dfsFrame{0, n})
	d.pos++
	return 0, ""
}

// advance moves to the next schedule after a run; it sets exhausted when
// there is none.
func (d *dfsState) advance() {
	d.stack = d.stack[:d.pos]
	d.pos = 0
	d.schedules++
	for len(d.stack) > 0 {
		top := &d.stack[len(d.stack)-1]
		if top.choice+1 < top.bound {
			top.choice++
			return
		}
		d.stack = d.stack[:len(d.stack)-1]
	}
	d.exhausted = true
}

func (*dfsState) spawned(*scheduler, *machine) {}
func (d *dfsState) pick(_ *scheduler, en []*machine, cur *machine) (int, string) {
	ci := -1
	if cur != nil {
		if j := indexOf(en, cur.id); j < len(en) && en[j] == cur {
			ci = j
		}
	}
	if ci >= 0 && d.bound >= 0 && d.preemptions >= d.bound {
		if len(en) > 1 {
			d.pruned = true
		}
		if _, div := d.next(1); div != "" {
			return 0, div
		}
		return ci, ""
	}
	i, div := d.next(len(en))
	if ci >= 0 && i != ci {
		d.preemptions++
	}
	return i, div
}
func (d *dfsState) choose(_ *scheduler, n int) (int, string)  { return d.next(n) }
func (*dfsState) env(*scheduler) (envAction, string)          { return envAction{}, "" }
func (*dfsState) offset(*scheduler, *process) (int64, string) { return 0, "" }

// replay: the decisions of a recorded trace. Every recorded decision
// names what it concerns (a machine ID, a process ID, a Choose bound), and
// each method reports, instead of a value, why the next recorded decision
// does not apply. A lenient replayer (for shrinking a trace) can wrap this
// strategy: where it reports a divergence, skip or substitute the
// recorded decision and fall back to another strategy, keeping the trace
// it records consistent with what actually ran.
type replayStrategy struct {
	tr *Trace
	// misnamed is the divergence of a machine started under another
	// name than the trace records for its ID, reported at the next
	// decision.
	misnamed string
}

func enabledIDs(en []*machine) string {
	b := []byte{'['}
	for i, m := range en {
		if i > 0 {
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "%d", m.id)
	}
	return string(append(b, ']'))
}

// spawned checks the new machine's name against the trace's, when it
// names its machines.
func (g *replayStrategy) spawned(s *scheduler, m *machine) {
	if len(g.tr.Machines) == 0 || g.misnamed != "" {
		return
	}
	got := s.trace.Machines[m.id]
	switch {
	case m.id >= len(g.tr.Machines):
		g.misnamed = fmt.Sprintf("trace names %d machines, program starts machine %d %q", len(g.tr.Machines), m.id, got.String())
	case got != g.tr.Machines[m.id]:
		g.misnamed = fmt.Sprintf("trace names machine %d %q, program starts it as %q", m.id, g.tr.Machines[m.id].String(), got.String())
	}
}

func (g *replayStrategy) pick(s *scheduler, en []*machine, _ *machine) (int, string) {
	if g.misnamed != "" {
		return 0, g.misnamed
	}
	i := len(s.trace.Decisions)
	if i >= len(g.tr.Decisions) {
		return 0, fmt.Sprintf("trace says end of schedule, program schedules one of machines %s", enabledIDs(en))
	}
	d := g.tr.Decisions[i]
	if d.Kind != Schedule {
		return 0, fmt.Sprintf("trace says %s, program schedules one of machines %s", d.describe(), enabledIDs(en))
	}
	j := indexOf(en, int(d.Value))
	if j == len(en) || en[j].id != int(d.Value) {
		return 0, fmt.Sprintf("trace says %s, program has machines %s enabled", d.describe(), enabledIDs(en))
	}
	return j, ""
}

func (g *replayStrategy) next(s *scheduler) (Decision, bool) {
	i := len(s.trace.Decisions)
	if i >= len(g.tr.Decisions) {
		return Decision{}, false
	}
	return g.tr.Decisions[i], true
}

func (g *replayStrategy) env(s *scheduler) (envAction, string) {
	if g.misnamed != "" {
		return envAction{}, g.misnamed
	}
	d, ok := g.next(s)
	if !ok {
		return envAction{}, ""
	}
	switch d.Kind {
	case TimeAdvance:
		return envAction{kind: TimeAdvance, d: int64(d.Duration)}, ""
	case FaultInjection:
		if int(d.Value) >= len(s.procs) {
			return envAction{}, fmt.Sprintf("trace says %s, program has processes 0..%d", d.describe(), len(s.procs)-1)
		}
		p := s.procs[int(d.Value)]
		switch d.Fault {
		case Crash, Stall:
			if p.state != procRunning || len(p.live) == 0 || (d.Fault == Stall && p.stalled) {
				return envAction{}, fmt.Sprintf("trace says %s, process %d %q cannot take it now", d.describe(), p.id, p.name)
			}
		case Restart:
			if p.state != procDown {
				return envAction{}, fmt.Sprintf("trace says %s, process %d %q has not crashed", d.describe(), p.id, p.name)
			}
		}
		return envAction{kind: FaultInjection, fault: d.Fault, proc: p, d: int64(d.Duration)}, ""
	}
	return envAction{}, ""
}

func (g *replayStrategy) offset(s *scheduler, p *process) (int64, string) {
	d, ok := g.next(s)
	if !ok || d.Kind != ClockOffset || int(d.Value) != p.id {
		what := "end of schedule"
		if ok {
			what = d.describe()
		}
		return 0, fmt.Sprintf("trace says %s, program starts process %d %q", what, p.id, p.name)
	}
	return int64(d.Duration), ""
}

func (g *replayStrategy) choose(s *scheduler, n int) (int, string) {
	if g.misnamed != "" {
		return 0, g.misnamed
	}
	i := len(s.trace.Decisions)
	if i >= len(g.tr.Decisions) {
		return 0, fmt.Sprintf("trace says end of schedule, program calls Choose(%d)", n)
	}
	d := g.tr.Decisions[i]
	if d.Kind != Choice {
		return 0, fmt.Sprintf("trace says %s, program calls Choose(%d)", d.describe(), n)
	}
	if int(d.Bound) != n {
		return 0, fmt.Sprintf("trace says %s, program calls Choose(%d)", d.describe(), n)
	}
	return int(d.Value), ""
}
