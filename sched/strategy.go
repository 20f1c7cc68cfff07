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
}

func newStrategy(cfg Config) strategy {
	switch cfg.Strategy {
	case "pct":
		return newPCT(cfg)
	case "pos":
		return &posStrategy{r: rng{cfg.Seed}, k: int64(cfg.ExpectedSteps)}
	case "dfs":
		d := cfg.dfs
		if d == nil {
			d = &dfsState{}
		}
		d.pos = 0
		return d
	case "replay":
		return &replayStrategy{tr: cfg.Replay}
	}
	return &randomStrategy{r: rng{cfg.Seed}}
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
	return p
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
		if m := s.all[id]; !m.done && m.waiting == "" {
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
// value), one schedule per run, driven by an Explorer.
type dfsState struct {
	stack     []dfsFrame
	pos       int
	schedules int
	exhausted bool
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
func (d *dfsState) pick(_ *scheduler, en []*machine, _ *machine) (int, string) {
	return d.next(len(en))
}
func (d *dfsState) choose(_ *scheduler, n int) (int, string) { return d.next(n) }

// replay: the decisions of a recorded trace.
type replayStrategy struct{ tr *Trace }

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

func (*replayStrategy) spawned(*scheduler, *machine) {}

func (g *replayStrategy) pick(s *scheduler, en []*machine, _ *machine) (int, string) {
	i := len(s.trace.Decisions)
	if i >= len(g.tr.Decisions) {
		return 0, fmt.Sprintf("trace says end of schedule, program schedules one of machines %s", enabledIDs(en))
	}
	d := g.tr.Decisions[i]
	if d.Kind != Schedule {
		return 0, fmt.Sprintf("trace says %s, program schedules one of machines %s", d.describe(), enabledIDs(en))
	}
	j := indexOf(en, d.Value)
	if j == len(en) || en[j].id != d.Value {
		return 0, fmt.Sprintf("trace says %s, program has machines %s enabled", d.describe(), enabledIDs(en))
	}
	return j, ""
}

func (g *replayStrategy) choose(s *scheduler, n int) (int, string) {
	i := len(s.trace.Decisions)
	if i >= len(g.tr.Decisions) {
		return 0, fmt.Sprintf("trace says end of schedule, program calls Choose(%d)", n)
	}
	d := g.tr.Decisions[i]
	if d.Kind != Choice {
		return 0, fmt.Sprintf("trace says %s, program calls Choose(%d)", d.describe(), n)
	}
	if d.Bound != n {
		return 0, fmt.Sprintf("trace says %s, program calls Choose(%d)", d.describe(), n)
	}
	return d.Value, ""
}
