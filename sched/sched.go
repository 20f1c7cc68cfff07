package sched

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults applied by Run to zero Config fields.
const (
	DefaultMaxSteps      = 100000
	DefaultWatchdog      = 5 * time.Second
	DefaultDepth         = 3
	DefaultExpectedSteps = 100
)

// MaxDepth bounds Config.Depth. "pct" allocates a change point per level
// and "pct" and "pos" a time-advance point, so a larger depth only costs
// time and memory (and they need at most one per expected step; see
// Config.Depth); a "dfs" preemption bound this large is as good as none.
const MaxDepth = 10000

// DefaultStart is the instant the virtual clock of a run starts at when
// Config.Start is zero.
var DefaultStart = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Param is one key/value pair of the program's parameters, recorded in
// the trace header as "param key=value".
type Param struct {
	Key, Value string
}

// Config selects the strategy and bounds of one run.
type Config struct {
	// Strategy is one of "random", "pct", "pos", "dfs", "portfolio",
	// "replay", "lenient". Empty means "random".
	Strategy string
	// Seed seeds the strategy's random source. Use IterationSeed to derive
	// the seed of iteration i from a base seed.
	Seed uint64
	// Iteration is the iteration index; "portfolio" uses it to pick the
	// strategy of this run (see PortfolioStrategy).
	Iteration int
	// Depth is the PCT bug depth d (d-1 priority change points), and the
	// number of time-advance points of "pct" and "pos" (see MaxTimeStep).
	// Zero means DefaultDepth; it must be at most ExpectedSteps (the
	// points fall among the first ExpectedSteps steps) and at most
	// MaxDepth. For "dfs" it is the preemption bound that an Explorer
	// deepens to (see Explorer), at most MaxDepth; zero means no bound.
	Depth int
	// ExpectedSteps is the number of steps over which PCT spreads its
	// change points, PCT and POS their time-advance and fault points, and
	// POS samples priorities; after it both schedule uniformly at random
	// (fairly). Set it to about the length of a typical run. Zero means
	// DefaultExpectedSteps.
	ExpectedSteps int
	// MaxSteps bounds the steps of the run; exceeding it is a StepBound
	// failure. Zero means DefaultMaxSteps.
	MaxSteps int
	// LivenessSteps is how many fair steps a hot condition may persist
	// (see SetHot). Zero means MaxSteps/2; negative disables the check.
	LivenessSteps int
	// Watchdog is how long the running machine may go without reaching a
	// scheduling point before the run ends with UncontrolledBlocking.
	// Zero means DefaultWatchdog.
	Watchdog time.Duration
	// Params are recorded in the trace header.
	Params []Param
	// Replay is the trace to replay when Strategy is "replay" or
	// "lenient".
	Replay *Trace
	// LenientSeed, for "lenient", seeds the schedule decisions taken
	// where a recorded one does not apply or the schedule has run out:
	// the running machine goes on with probability 1/2 (if it is
	// enabled), else a machine drawn uniformly from the enabled ones
	// runs. Zero (the default) takes the deterministic default instead
	// (see the package documentation, "Lenient replay and shrinking").
	// Choose, time, faults and clock offsets keep their defaults
	// whatever the seed. The run's Trace records the decisions taken, so
	// it replays exactly without the seed.
	LenientSeed uint64

	// Start is the instant the virtual clock starts at. Zero means
	// DefaultStart.
	Start time.Time
	// MaxTimeStep, when positive, lets the strategy advance the virtual
	// clock at a scheduling point by up to MaxTimeStep (a recorded
	// decision). Zero (the default) moves the clock only when no machine
	// is enabled.
	MaxTimeStep time.Duration
	// MaxClockSkew bounds how far apart the clocks of two processes may
	// be: each process other than the root gets a clock offset in
	// [-MaxClockSkew/2, MaxClockSkew/2], a recorded decision. Zero (the
	// default) gives every process the root's clock.
	MaxClockSkew time.Duration
	// Faults is the fault budget: the most crashes and stalls the
	// strategy may inject into the run's processes. Zero (the default)
	// injects none.
	Faults int
	// MaxStall bounds the virtual duration of a stall; zero disables
	// stalls.
	MaxStall time.Duration
	// NoCrash disables crashes (the faults are then stalls only).
	NoCrash bool

	// NoEvents disables event recording: Logf does nothing and Tracing
	// reports false. Use it for throughput runs. (It sits beside NoCrash,
	// where it takes no room of its own: every run copies the Config.)
	NoEvents bool

	dfs  *dfsState    // set by Explorer for "dfs"
	plan *lenientPlan // set by Shrink for "lenient"
}

// Result is the outcome of one run.
type Result struct {
	// Failure is nil when the run passed.
	Failure *Failure
	// Steps is the number of decisions made by the run (see Decision).
	Steps int64
	// Trace records every decision; Trace.Write saves it for replay.
	Trace *Trace
	// Events are the scheduler's and the program's (Logf) events, in
	// step order.
	Events []Event
	// Machines is the number of machines the run created, main included.
	Machines int
	// Faults lists the crashes, stalls and restarts of the run's
	// processes, in step order.
	Faults []Fault
	// Elapsed is the virtual time the root process's clock advanced
	// during the run.
	Elapsed time.Duration
	// Preemptions counts the scheduling decisions that switched away
	// from a machine that could have gone on (the running machine,
	// still enabled, was not chosen).
	Preemptions int
	// Lenient says how a "lenient" run used its trace; nil for the other
	// strategies.
	Lenient *LenientStats
	// Lingering is the number of machine goroutines that had not exited
	// when Run returned: 0 unless a machine was stuck in uncontrolled
	// blocking, or blocked outside the scheduler in a deferred call
	// during teardown for longer than Config.Watchdog. They exit when
	// they next reach the scheduler.
	Lingering int

	// preemptAt holds the index in Trace.Decisions of each preemption
	// (lenient runs only).
	preemptAt []int32
}

// Event is one line of a run's event log.
type Event struct {
	Step    int64  // the step during which it happened
	Machine int    // machine ID, -1 for the scheduler itself
	Name    string // machine name, "" for the scheduler
	Text    string
}

// String formats e as "step 12 [3 app]: text".
func (e Event) String() string {
	if e.Machine < 0 {
		return fmt.Sprintf("step %d [sched]: %s", e.Step, e.Text)
	}
	return fmt.Sprintf("step %d [%d %s]: %s", e.Step, e.Machine, e.Name, e.Text)
}

// Tail returns the events of the last n steps of the run.
func (r *Result) Tail(n int64) []Event {
	from := r.Steps - n
	i := sort.Search(len(r.Events), func(i int) bool { return r.Events[i].Step > from })
	return r.Events[i:]
}

type machine struct {
	s    *scheduler
	id   int
	name string
	proc *process
	gid  int64 // goroutine ID, set by the machine's goroutine
	wake chan struct{}
	// waiting is "" when the machine is enabled, otherwise what it waits
	// on (a controlled wait, "Sleep" or "Select"); wres names the
	// resource and holder is the holder for lock waits.
	waiting string
	wres    any
	holder  *machine
	done    bool
	// dead is set when the machine's process crashed: it unwinds and
	// nothing it does has an effect.
	dead bool
	// daemon machines do not keep a run alive once main has returned.
	daemon bool
	// res is the resource of the machine's pending operation (POS).
	res any
	// The registrations of the current wait, removed when the machine
	// dies: a primitive's wait list, a channel or select wait, a sleep.
	wq    *waitQ
	sel   *selState
	sleep *timerEntry
	// inDurable is set inside Durable.
	inDurable bool
}

func (m *machine) String() string { return fmt.Sprintf("machine %d %q", m.id, m.name) }

// runnable reports whether the strategy may schedule m.
func (s *scheduler) runnable(m *machine) bool {
	return !m.done && !m.dead && m.waiting == "" && (!s.stalls() || !m.proc.stalled)
}

type hotCond struct {
	name  string
	since int64
}

type scheduler struct {
	mu       sync.Mutex
	cfg      Config
	strat    strategy
	fairFrom int64
	liveness int64
	all      []*machine
	live     []*machine // unfinished, not crashed machines in ID order
	enabled  []*machine // scratch
	cur      *machine
	step     int64
	trace    *Trace
	events   []Event
	hot      []hotCond
	failure  *Failure
	finished bool
	// mainDone is set when machine 0 has returned; env when the
	// strategy takes time-advance or fault decisions.
	mainDone, env bool
	aborted       atomic.Bool
	done          chan struct{}
	// goroutines counts machine goroutines not yet exited; the last
	// one to exit closes exited.
	goroutines atomic.Int64
	exited     chan struct{}
	// holders counts Run and the machine goroutines; see release.
	holders atomic.Int64

	// nonDaemon counts the live machines that keep the run going;
	// daemonSteps the scheduling points at which only daemons ran since
	// main returned.
	nonDaemon   int
	daemonSteps int64

	// now is the root clock in nanoseconds since cfg.Start (see
	// time.go); root is the root process.
	now  int64
	root process

	// preemptions: see Result.
	preemptions int

	// The state of timers, contexts and processes, made by the first
	// timed event, watched context, process or fault of the run (nil in
	// a run of machines and locks only, which then allocates less).
	*world

	// hb is the happens-before state, made by the first Racy access.
	hb *hbState
}

type world struct {
	// timers holds the pending timed events.
	timers   timerHeap
	timerSeq uint64
	// watched are virtual contexts whose parent is a standard context
	// that can be cancelled: polled at every decision. polled are select
	// cases waiting on such a standard context.
	watched []*vctx
	polled  []polledCase
	// procs[0] is the root.
	procs      []*process
	faultsLeft int
	// faultBudget is the run's fault budget: Config.Faults, or less
	// after SetFaults. faultWindow is its FaultPlan.Window (0: faults
	// independent).
	faultBudget int
	faultWindow int
	// burstSpread is the FaultPlan.Spread of a burst, burstEnd the end
	// (root clock) of the burst's first stall while it lasts.
	burstSpread int64
	burstEnd    int64
	faults      []Fault
	stalled     []*process
	// A crashed running machine unwinds itself after the decision that
	// crashed it; then it hands control to afterUnwind. Another crashed
	// machine is driven by the scheduler: unwound is closed when
	// unwinding has exited.
	selfUnwinding, afterUnwind *machine
	unwinding                  *machine
	unwound                    chan struct{}
}

// w returns the run's world, making it on first use.
func (s *scheduler) w() *world {
	if s.world == nil {
		s.world = &world{procs: []*process{&s.root}, faultsLeft: s.cfg.Faults, faultBudget: s.cfg.Faults}
	}
	return s.world
}

// stalls reports whether some process is stalled.
func (s *scheduler) stalls() bool { return s.world != nil && len(s.stalled) > 0 }

// Errors returned by Run and NewExplorer for a bad Config.
var (
	ErrUnknownStrategy = errors.New("sched: unknown strategy")
	ErrBadConfig       = errors.New("sched: bad config")
)

func (c Config) withDefaults() (Config, error) {
	if c.Strategy == "" {
		c.Strategy = "random"
	}
	switch c.Strategy {
	case "random", "pct", "pos", "dfs", "portfolio", "replay", "lenient":
	default:
		return c, fmt.Errorf("%w %q (want random, pct, pos, dfs, portfolio, replay or lenient)", ErrUnknownStrategy, c.Strategy)
	}
	if c.Depth < 0 || c.ExpectedSteps < 0 || c.MaxSteps < 0 || c.Watchdog < 0 || c.Iteration < 0 {
		return c, fmt.Errorf("%w: Depth, ExpectedSteps, MaxSteps, Watchdog and Iteration must not be negative", ErrBadConfig)
	}
	if c.MaxTimeStep < 0 || c.MaxClockSkew < 0 || c.Faults < 0 || c.MaxStall < 0 {
		return c, fmt.Errorf("%w: MaxTimeStep, MaxClockSkew, Faults and MaxStall must not be negative", ErrBadConfig)
	}
	if c.Faults > 0 && c.NoCrash && c.MaxStall == 0 {
		return c, fmt.Errorf("%w: Faults %d with NoCrash and no MaxStall: no fault is possible", ErrBadConfig, c.Faults)
	}
	if (c.Strategy == "replay" || c.Strategy == "lenient") && c.Replay == nil {
		return c, fmt.Errorf("%w: strategy %s needs Config.Replay", ErrBadConfig, c.Strategy)
	}
	if c.Strategy == "portfolio" {
		c.Strategy = PortfolioStrategy(c.Iteration)
	}
	if c.Strategy == "replay" || c.Strategy == "lenient" {
		tr := c.Replay
		// Bounds, fairness rules and the world come from the recorded
		// run.
		if c.MaxSteps == 0 {
			c.MaxSteps = tr.MaxSteps
		}
		if c.LivenessSteps == 0 {
			c.LivenessSteps = tr.LivenessSteps
		}
		if c.ExpectedSteps == 0 {
			c.ExpectedSteps = tr.ExpectedSteps
		}
		if c.Depth == 0 {
			c.Depth = tr.Depth
		}
		if c.Params == nil {
			c.Params = tr.Params
		}
		if c.Start.IsZero() {
			c.Start = tr.Start
		}
		c.MaxTimeStep, c.MaxClockSkew, c.Faults, c.MaxStall, c.NoCrash = tr.MaxTimeStep, tr.MaxClockSkew, tr.Faults, tr.MaxStall, tr.NoCrash
		c.Seed = tr.Seed
	}
	for _, p := range c.Params {
		if err := checkParamKey(p.Key); err != nil {
			return c, fmt.Errorf("%w: %v", ErrBadConfig, err)
		}
	}
	dfs := c.Strategy == "dfs" || ((c.Strategy == "replay" || c.Strategy == "lenient") && c.Replay.Strategy == "dfs")
	if c.Depth == 0 && !dfs {
		c.Depth = DefaultDepth
	}
	if c.ExpectedSteps == 0 {
		c.ExpectedSteps = DefaultExpectedSteps
	}
	switch {
	case c.Depth > MaxDepth:
		return c, fmt.Errorf("%w: Depth %d above MaxDepth %d", ErrBadConfig, c.Depth, MaxDepth)
	case !dfs && c.Depth > c.ExpectedSteps:
		return c, fmt.Errorf("%w: Depth %d above ExpectedSteps %d (the depth's points fall among the first ExpectedSteps steps)", ErrBadConfig, c.Depth, c.ExpectedSteps)
	}
	if c.MaxSteps == 0 {
		c.MaxSteps = DefaultMaxSteps
	}
	if c.LivenessSteps == 0 {
		c.LivenessSteps = c.MaxSteps / 2
	}
	if c.Watchdog == 0 {
		c.Watchdog = DefaultWatchdog
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.Start = c.Start.UTC()
	return c, nil
}

// Run runs main as machine 0 ("main") under the strategy of cfg until
// every machine has finished or the run fails, then tears the run down:
// when Run returns, every machine goroutine of the run has exited, except
// those counted in Result.Lingering (a machine stuck in uncontrolled
// blocking, or one whose deferred calls block outside the scheduler for
// longer than cfg.Watchdog). The error is non-nil only for a bad Config;
// failures of the program are in Result.Failure.
func Run(cfg Config, main func()) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if main == nil {
		return nil, fmt.Errorf("%w: main is nil", ErrBadConfig)
	}
	s := &scheduler{cfg: cfg, done: make(chan struct{}), exited: make(chan struct{})}
	activeRuns.Add(1)
	s.holders.Store(1)
	defer s.release()
	origStrategy := cfg.Strategy
	if cfg.Strategy == "replay" || cfg.Strategy == "lenient" {
		origStrategy = cfg.Replay.Strategy
	}
	s.trace = &Trace{
		Version:       TraceVersion,
		Strategy:      origStrategy,
		Seed:          cfg.Seed,
		Depth:         cfg.Depth,
		ExpectedSteps: cfg.ExpectedSteps,
		MaxSteps:      cfg.MaxSteps,
		LivenessSteps: cfg.LivenessSteps,
		Start:         cfg.Start,
		MaxTimeStep:   cfg.MaxTimeStep,
		MaxClockSkew:  cfg.MaxClockSkew,
		Faults:        cfg.Faults,
		MaxStall:      cfg.MaxStall,
		NoCrash:       cfg.NoCrash,
		Params:        append([]Param(nil), cfg.Params...),
	}
	s.strat = newStrategy(cfg)
	s.fairFrom = fairFrom(origStrategy, cfg)
	s.liveness = int64(cfg.LivenessSteps)
	s.env = cfg.MaxTimeStep > 0 || cfg.Faults > 0
	if cfg.Strategy == "replay" || cfg.Strategy == "lenient" {
		s.trace.Decisions = make([]Decision, 0, len(cfg.Replay.Decisions))
	} else {
		s.trace.Decisions = make([]Decision, 0, 128)
	}
	s.enabled = make([]*machine, 0, 8)
	s.root = process{s: s, name: "root", state: procRunning}
	root := &s.root
	if s.env || cfg.MaxClockSkew > 0 {
		s.w()
	}

	m0 := s.newMachine("main", root, false)
	s.spawn(m0, main)
	s.mu.Lock()
	next := s.decide(nil)
	if next != nil {
		s.cur = next
	}
	s.mu.Unlock()
	if next != nil {
		next.wake <- struct{}{}
	}

	s.watch()
	s.mu.Lock()
	res := &Result{Failure: s.failure, Steps: s.step, Trace: s.trace, Events: s.events, Machines: len(s.all),
		Elapsed: time.Duration(s.now), Preemptions: s.preemptions, preemptAt: s.lenientPreemptions()}
	if l, ok := s.strat.(*lenientStrategy); ok {
		st := l.stats
		st.Unused = l.unused()
		res.Lenient = &st
		l.recordStreams(s.trace)
	}
	if s.world != nil {
		res.Faults = s.faults
	}
	s.mu.Unlock()
	res.Lingering = int(s.goroutines.Load())
	if s.failure != nil {
		s.trace.Comment = strings.Split(s.failure.Error(), "\n")
		if s.failure.Stack != "" {
			s.trace.Comment = append(s.trace.Comment, strings.Split(strings.TrimRight(s.failure.Stack, "\n"), "\n")...)
		}
	}
	return res, nil
}

// watch waits for the run to finish, ending it with UncontrolledBlocking
// when no step is made for cfg.Watchdog, and then for every machine
// goroutine to exit, giving up after cfg.Watchdog if they do not (a
// machine stuck in uncontrolled blocking, or in a deferred call that
// blocks outside the scheduler).
func (s *scheduler) watch() {
	tick := s.cfg.Watchdog / 4
	if tick <= 0 {
		tick = 1
	}
	t := time.NewTimer(tick)
	defer t.Stop()
	last, stale := int64(-1), 0
	for {
		select {
		case <-s.done:
			if s.failure != nil && s.failure.Kind == UncontrolledBlocking {
				return // the stuck machine will not exit now
			}
			t.Reset(s.cfg.Watchdog)
			select {
			case <-s.exited:
			case <-t.C:
			}
			return
		case <-t.C:
		}
		s.mu.Lock()
		if s.finished {
			s.mu.Unlock()
			continue
		}
		if s.step != last {
			last, stale = s.step, 0
		} else {
			stale++
		}
		if stale >= 4 {
			f := &Failure{Kind: UncontrolledBlocking, Step: s.step, Machine: -1,
				Message: fmt.Sprintf("no scheduling point for %v (blocked on a plain channel, sync primitive, sleep or I/O, or computing)", s.cfg.Watchdog)}
			if s.cur != nil {
				f.Machine, f.MachineName = s.cur.id, s.cur.name
			}
			s.finish(f)
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		t.Reset(tick)
	}
}

// newMachine creates a machine of process p. A machine without a name
// (Go) is called "gID"; the trace names it "" (its ID is not a name a
// run with other machines would give it).
func (s *scheduler) newMachine(name string, p *process, daemon bool) *machine {
	m := &machine{s: s, id: len(s.all), name: name, proc: p, daemon: daemon || p.daemon, wake: make(chan struct{}, 1)}
	s.all = append(s.all, m)
	s.trace.Machines = append(s.trace.Machines, TraceMachine{Process: p.name, Name: name})
	if name == "" {
		m.name = "g" + strconv.Itoa(m.id)
	}
	if s.hb != nil {
		s.hb.added(m)
	}
	s.live = append(s.live, m)
	if p.id != 0 { // the root never crashes: its machines need no list
		p.live = append(p.live, m)
	}
	if !m.daemon {
		s.nonDaemon++
	}
	s.strat.spawned(s, m)
	return m
}

// spawn starts m's goroutine running f.
func (s *scheduler) spawn(m *machine, f func()) {
	s.goroutines.Add(1)
	s.holders.Add(1)
	go s.start(m, f)
}

// release drops one hold on the run: Run itself and every machine
// goroutine hold it; the last release ends the run's count in
// activeRuns.
func (s *scheduler) release() {
	if s.holders.Add(-1) == 0 {
		activeRuns.Add(-1)
	}
}

// start is the body of a machine goroutine.
func (s *scheduler) start(m *machine, f func()) {
	m.gid = currentGoid()
	register(m.gid, m)
	defer func() {
		unregister(m.gid)
		if s.goroutines.Add(-1) == 0 {
			close(s.exited)
		}
		s.release()
	}()
	<-m.wake
	if s.aborted.Load() {
		return
	}
	if m.dead {
		s.exitDead(m)
		return
	}
	normal := false
	defer func() {
		if m.dead {
			recover() // a panic while a crashed machine unwinds has no effect
			s.exitDead(m)
			return
		}
		if normal {
			s.exit(m)
			return
		}
		r := recover()
		s.mu.Lock()
		if s.finished {
			s.mu.Unlock()
			return
		}
		if r != nil {
			s.finish(&Failure{Kind: Panic, Step: s.step, Machine: m.id, MachineName: m.name,
				Message: fmt.Sprint(r), Value: r, Stack: string(debug.Stack())})
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.exit(m) // the machine called runtime.Goexit itself
	}()
	f()
	normal = true
}

// removeLive removes m from the live lists of the run and its process.
func (s *scheduler) removeLive(m *machine) {
	s.live = removeMachine(s.live, m)
	if m.proc.id != 0 {
		m.proc.live = removeMachine(m.proc.live, m)
	}
	if !m.daemon {
		s.nonDaemon--
	}
}

func removeMachine(l []*machine, m *machine) []*machine {
	for i, x := range l {
		if x == m {
			copy(l[i:], l[i+1:])
			l[len(l)-1] = nil
			return l[:len(l)-1]
		}
	}
	return l
}

// exit retires m and hands control to the next machine.
func (s *scheduler) exit(m *machine) {
	s.mu.Lock()
	if s.finished {
		s.mu.Unlock()
		return
	}
	s.retire(m)
	next := s.decide(m)
	if next == nil {
		s.mu.Unlock()
		return
	}
	s.cur = next
	s.mu.Unlock()
	next.wake <- struct{}{}
}

// retire marks m finished. It is kept out of exit's frame: the last
// machine of a run ends it from exit, at the bottom of a stack that must
// stay small (see finishPassed).
//
//go:noinline
func (s *scheduler) retire(m *machine) {
	m.done = true
	if !s.cfg.NoEvents {
		s.events = append(s.events, Event{Step: s.step, Machine: m.id, Name: m.name, Text: "exit"})
	}
	s.removeLive(m)
	if m.id == 0 {
		s.mainDone = true
	}
	if p := m.proc; p.body == m {
		if s.hb != nil {
			s.hb.release(m, p)
		}
		p.bodyReturned(s)
	}
}

// exitDead retires a crashed machine whose goroutine has unwound.
func (s *scheduler) exitDead(m *machine) {
	s.mu.Lock()
	m.done = true
	var next *machine
	var unwound chan struct{}
	if s.world != nil {
		if s.selfUnwinding == m {
			next = s.afterUnwind
			s.selfUnwinding, s.afterUnwind = nil, nil
		}
		if s.unwinding == m {
			unwound, s.unwinding = s.unwound, nil
		}
	}
	finished := s.finished
	s.mu.Unlock()
	if unwound != nil {
		close(unwound)
	} else if next != nil && !finished {
		next.wake <- struct{}{}
	}
}

// enter locks s.mu on behalf of machine m, which must be the running
// machine. It does not return if the run is over or m's process has
// crashed.
func (m *machine) enter() *scheduler {
	s := m.s
	s.mu.Lock()
	if s.finished || m.dead {
		s.mu.Unlock()
		runtime.Goexit()
	}
	if m.inDurable {
		m.inDurable = false
		s.fail(m, Panic, "sched: scheduling point or controlled primitive inside Durable")
	}
	if s.cur != m {
		// Only the running machine executes user code; a parked
		// machine's goroutine is inside the scheduler.
		panic("sched: internal error: a parked machine called a controlled primitive")
	}
	return s
}

// yield is a scheduling point for cur, called with s.mu held; it returns
// with s.mu released once cur runs again.
func (s *scheduler) yield(cur *machine) {
	next := s.decide(cur)
	if next == nil {
		s.mu.Unlock()
		runtime.Goexit()
	}
	if cur.dead {
		// The decision crashed cur's process: cur unwinds, then next
		// runs.
		s.cur = next
		s.selfUnwinding, s.afterUnwind = cur, next
		s.mu.Unlock()
		runtime.Goexit()
	}
	if next == cur {
		s.mu.Unlock()
		return
	}
	s.cur = next
	s.mu.Unlock()
	next.wake <- struct{}{}
	<-cur.wake
	if s.aborted.Load() || cur.dead {
		runtime.Goexit()
	}
}

// block makes cur wait on what (a controlled wait) on resource r and
// yields.
func (s *scheduler) block(cur *machine, what string, r resource, holder *machine) {
	cur.waiting, cur.wres, cur.holder = what, r.key, holder
	if !s.cfg.NoEvents {
		s.events = append(s.events, Event{Step: s.step, Machine: cur.id, Name: cur.name, Text: "waits on " + what})
	}
	s.yield(cur)
}

// unblock enables m, which waited.
func (s *scheduler) unblock(m *machine) {
	m.waiting, m.wres, m.holder, m.wq, m.sel, m.sleep = "", nil, nil, nil, nil, nil
}

// decide takes the decisions of the next scheduling point, with s.mu
// held, and returns the machine to run. It returns nil when the run is
// over.
func (s *scheduler) decide(cur *machine) *machine {
	for {
		if s.finished {
			return nil
		}
		if len(s.live) == 0 || (s.mainDone && s.nonDaemon == 0) {
			s.finishPassed()
			return nil
		}
		if s.world != nil {
			if len(s.timers) > 0 && s.timers[0].at <= s.now {
				s.advanceTo(s.now) // events made due now (zero delays)
			}
			if len(s.watched) > 0 || len(s.polled) > 0 {
				s.poll()
			}
			if len(s.stalled) > 0 {
				s.endLongStalls()
			}
		}
		s.step++
		if s.step > int64(s.cfg.MaxSteps) {
			s.step--
			s.finish(&Failure{Kind: StepBound, Step: s.step, Machine: -1,
				Message: fmt.Sprintf("%d steps without finishing (possible livelock)", s.cfg.MaxSteps)})
			return nil
		}
		if len(s.hot) > 0 && s.liveness >= 0 {
			for _, h := range s.hot {
				since := max(h.since, s.fairFrom)
				if s.step-since > s.liveness {
					s.finish(&Failure{Kind: Liveness, Step: s.step, Machine: -1,
						Message: fmt.Sprintf("hot condition %q held for more than %d fair steps", h.name, s.liveness)})
					return nil
				}
			}
		}
		en := s.enabled[:0]
		if !s.stalls() {
			for _, m := range s.live {
				if m.waiting == "" {
					en = append(en, m)
				}
			}
		} else {
			for _, m := range s.live {
				if m.waiting == "" && !m.proc.stalled {
					en = append(en, m)
				}
			}
		}
		s.enabled = en
		if len(en) == 0 {
			s.step--
			if s.forced() {
				continue
			}
			s.finish(s.stuck())
			return nil
		}
		if s.mainDone && s.leakCheck(en) {
			s.step--
			s.finish(s.stuck())
			return nil
		}
		if s.env {
			// A decision about the world (a time advance or a fault)
			// takes this step; then the scheduling point starts over.
			a, div := s.strat.env(s)
			if div != "" {
				s.finish(&Failure{Kind: Divergence, Step: s.step, Machine: -1, Message: div})
				return nil
			}
			if a.kind != 0 {
				s.apply(a)
				continue
			}
		}
		i, div := s.strat.pick(s, en, cur)
		if div != "" {
			s.finish(&Failure{Kind: Divergence, Step: s.step, Machine: -1, Message: div})
			return nil
		}
		next := en[i]
		if cur != nil && next != cur && s.runnable(cur) {
			s.notePreemption()
		}
		s.trace.Decisions = append(s.trace.Decisions, Decision{Kind: Schedule, Value: int32(next.id)})
		return next
	}
}

// stepBound counts one more step for a decision that is not a schedule,
// ending the run when it exceeds MaxSteps.
func (s *scheduler) stepBound() bool {
	s.step++
	if s.step > int64(s.cfg.MaxSteps) {
		s.step--
		s.finish(&Failure{Kind: StepBound, Step: s.step, Machine: -1,
			Message: fmt.Sprintf("%d steps without finishing (possible livelock)", s.cfg.MaxSteps)})
		return false
	}
	return true
}

// forced makes the changes that are not decisions when no machine is
// enabled: it restarts a crashed process that is to be restarted (the
// lowest ID first), or moves the clock to the earliest pending timed
// event and fires what is due. It reports whether it changed anything.
func (s *scheduler) forced() bool {
	if s.world == nil {
		return false
	}
	for _, p := range s.procs {
		if p.state == procDown {
			s.restart(p, "scheduler")
			return true
		}
	}
	if at, ok := s.nextUsefulTimer(); ok {
		if !s.cfg.NoEvents {
			s.events = append(s.events, Event{Step: s.step, Machine: -1, Text: "clock jumps to +" + time.Duration(at).String()})
		}
		s.advanceTo(at)
		return true
	}
	return false
}

// leakCheck counts, once main has returned, the consecutive scheduling
// points at which only daemon machines are enabled; after ExpectedSteps
// of them the machines left blocked are leaks (only daemons keep the run
// going, and they have not released them).
func (s *scheduler) leakCheck(en []*machine) bool {
	for _, m := range en {
		if !m.daemon {
			s.daemonSteps = 0
			return false
		}
	}
	s.daemonSteps++
	return s.daemonSteps > int64(s.cfg.ExpectedSteps)
}

// stuck describes the state in which no machine is enabled and nothing
// can change it: a deadlock, or a leak once main has returned.
func (s *scheduler) stuck() *Failure {
	f := &Failure{Kind: Deadlock, Step: s.step, Machine: -1}
	if s.mainDone {
		f.Kind = Leak
	}
	var blocked []*machine
	for _, m := range s.live {
		if f.Kind == Leak && m.daemon {
			continue
		}
		blocked = append(blocked, m)
	}
	stacks := machineStacks(blocked)
	// An unnamed resource is named by the line at which the first of its
	// waiters (in ID order) waits.
	labels := map[any]string{}
	for i, m := range blocked {
		if k := m.wres; k != nil && resName(k) == "" {
			if _, ok := labels[k]; !ok {
				labels[k] = topUserFrame(stacks[i])
			}
		}
	}
	for i, m := range blocked {
		b := Blocked{Machine: m.id, Name: m.name, WaitsOn: m.waiting, Resource: resource{name: resName(m.wres), key: m.wres}.label(labels), Holder: -1, Stack: stacks[i]}
		if m.proc.stalled {
			b.WaitsOn = "the end of its process's stall"
		}
		holder := m.holder
		if rw, ok := m.wres.(*RWMutex); ok {
			holder = rw.describeWait(m, &b)
		}
		if holder != nil {
			b.Holder, b.HolderName = holder.id, holder.name
			b.HolderDone, b.HolderCrashed = holder.done && !holder.dead, holder.dead
		}
		if b.Resource == "" {
			b.Resource = topUserFrame(b.Stack)
		}
		f.Blocked = append(f.Blocked, b)
	}
	return f
}

// finishPassed ends a run in which every machine has finished. It runs
// at the bottom of the last machine's stack (start, exit, decide): the
// rare checks are kept out of line so that the frames there stay small
// and the run's end does not grow the goroutine's stack.
func (s *scheduler) finishPassed() {
	s.finish(s.endCheck())
}

// endCheck returns the failure of a run in which every machine has
// finished: a replay that had decisions left, or a hot condition.
//
//go:noinline
func (s *scheduler) endCheck() *Failure {
	if s.cfg.Strategy == "replay" && len(s.trace.Decisions) < len(s.cfg.Replay.Decisions) {
		return s.leftOver("program finished")
	}
	if len(s.hot) > 0 && s.liveness >= 0 {
		return &Failure{Kind: Liveness, Step: s.step, Machine: -1,
			Message: fmt.Sprintf("hot condition %q still held when every machine finished", s.hot[0].name)}
	}
	return nil
}

// endedEarly turns the failure f of a replay that has decisions of its
// trace left into a Divergence: the recorded run went on, so f is not
// the recorded run's failure.
//
//go:noinline
func (s *scheduler) endedEarly(f *Failure) *Failure {
	return s.leftOver("program failed: " + f.Error())
}

// leftOver is the Divergence of a replay that ended, as what says, with
// decisions of its trace left.
func (s *scheduler) leftOver(what string) *Failure {
	done, all := len(s.trace.Decisions), len(s.cfg.Replay.Decisions)
	more := ""
	if n := all - done - 1; n > 0 {
		more = fmt.Sprintf(" and %d more decision", n)
		if n > 1 {
			more += "s"
		}
	}
	return &Failure{Kind: Divergence, Step: int64(done) + 1, Machine: -1,
		Message: fmt.Sprintf("trace says %s%s, %s", s.cfg.Replay.Decisions[done].describe(), more, what)}
}

// finish ends the run with f (nil: passed) and releases every parked
// machine so that it exits. Called with s.mu held.
func (s *scheduler) finish(f *Failure) {
	if s.finished {
		return
	}
	if f != nil && f.Kind != Divergence && s.cfg.Strategy == "replay" && len(s.trace.Decisions) < len(s.cfg.Replay.Decisions) {
		f = s.endedEarly(f)
	}
	s.finished = true
	s.failure = f
	s.aborted.Store(true)
	for _, m := range s.live {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
	if f != nil && !s.cfg.NoEvents {
		s.failedEvent(f)
	}
	close(s.done)
}

//go:noinline
func (s *scheduler) failedEvent(f *Failure) {
	s.events = append(s.events, Event{Step: s.step, Machine: -1, Text: "run failed: " + f.Error()})
}

func (s *scheduler) choose(m *machine, n int) int {
	s.step++
	if s.step > int64(s.cfg.MaxSteps) {
		s.step--
		s.finish(&Failure{Kind: StepBound, Step: s.step, Machine: -1,
			Message: fmt.Sprintf("%d steps without finishing (possible livelock)", s.cfg.MaxSteps)})
		s.mu.Unlock()
		runtime.Goexit()
	}
	v, div := s.strat.choose(s, n)
	if div != "" {
		s.finish(&Failure{Kind: Divergence, Step: s.step, Machine: m.id, MachineName: m.name, Message: div})
		s.mu.Unlock()
		runtime.Goexit()
	}
	s.trace.Decisions = append(s.trace.Decisions, Decision{Kind: Choice, Value: int32(v), Bound: int32(n)})
	return v
}

// fail ends the run with a failure of m, with m's stack trimmed to user
// frames, and stops m's goroutine. Called with s.mu held.
func (s *scheduler) fail(m *machine, kind Kind, msg string) {
	s.finish(&Failure{Kind: kind, Step: s.step, Machine: m.id, MachineName: m.name, Message: msg, Stack: ownStack()})
	s.mu.Unlock()
	runtime.Goexit()
}

func (s *scheduler) logf(m *machine, format string, args ...any) {
	if s.cfg.NoEvents {
		return
	}
	e := Event{Step: s.step, Machine: -1, Text: fmt.Sprintf(format, args...)}
	if m != nil {
		e.Machine, e.Name = m.id, m.name
	}
	s.events = append(s.events, e)
}

// event records a scheduler event (machine -1).
func (s *scheduler) event(format string, args ...any) {
	if !s.cfg.NoEvents {
		s.events = append(s.events, Event{Step: s.step, Machine: -1, Text: fmt.Sprintf(format, args...)})
	}
}

// Report formats the result for a person, in sections: a banner with the
// strategy, seed, bounds and params; the failure (with the stacks of the
// machines involved); the faults injected; and the events of the last
// lastSteps steps.
func (r *Result) Report(lastSteps int64) string {
	var b strings.Builder
	t := r.Trace
	fmt.Fprintf(&b, "=== sched run: strategy %s, seed %d (depth %d, expected-steps %d, max-steps %d, liveness-steps %d), %d steps, %d machines\n",
		t.Strategy, t.Seed, t.Depth, t.ExpectedSteps, t.MaxSteps, t.LivenessSteps, r.Steps, r.Machines)
	if t.MaxTimeStep > 0 || t.MaxClockSkew > 0 || t.Faults > 0 {
		fmt.Fprintf(&b, "world: max-time-step %v, max-clock-skew %v, faults %d (max-stall %v, crashes %v), virtual time elapsed %v\n",
			t.MaxTimeStep, t.MaxClockSkew, t.Faults, t.MaxStall, !t.NoCrash, r.Elapsed)
	}
	if len(t.Params) > 0 {
		b.WriteString("params:")
		for _, p := range t.Params {
			v := p.Value
			if needsQuote(v) {
				v = fmt.Sprintf("%q", v)
			}
			fmt.Fprintf(&b, " %s=%s", p.Key, v)
		}
		b.WriteString("\n")
	}
	if f := r.Failure; f == nil {
		b.WriteString("--- passed\n")
	} else {
		fmt.Fprintf(&b, "--- failure (%v)\n%s\n", f.Kind, f.Error())
		if f.Stack != "" {
			if f.Kind == Panic {
				fmt.Fprintf(&b, "--- stack of the panicking machine\n%s", f.Stack)
			} else {
				fmt.Fprintf(&b, "--- stack of machine %d %q\n%s", f.Machine, f.MachineName, f.Stack)
			}
			if !strings.HasSuffix(f.Stack, "\n") {
				b.WriteString("\n")
			}
		}
		for _, bl := range f.Blocked {
			if bl.Stack == "" {
				continue
			}
			fmt.Fprintf(&b, "--- machine %d %q, blocked on %s\n%s", bl.Machine, bl.Name, bl.WaitsOn, bl.Stack)
			if !strings.HasSuffix(bl.Stack, "\n") {
				b.WriteString("\n")
			}
		}
	}
	if len(r.Faults) > 0 {
		fmt.Fprintf(&b, "--- faults (%d)\n", len(r.Faults))
		for _, f := range r.Faults {
			b.WriteString(f.String())
			b.WriteString("\n")
		}
	}
	tail := r.Tail(lastSteps)
	fmt.Fprintf(&b, "--- events of the last %d steps (%d events)\n", lastSteps, len(tail))
	for _, e := range tail {
		b.WriteString(e.String())
		b.WriteString("\n")
	}
	return b.String()
}
