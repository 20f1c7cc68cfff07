package harness

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// The lease timings of the production world, in virtual time. They
// satisfy the service's lease condition: LeaseTTL 6s > PollInterval 1s +
// RequestTimeout 1s + MaxInFlight 2s + ClockSkew 500ms. They are short
// so that a crashed process's lease expires within a few polls.
const (
	LeaseTTL       = 6 * time.Second
	PollInterval   = time.Second
	RequestTimeout = time.Second
	MaxInFlight    = 2 * RequestTimeout
	ClockSkew      = 500 * time.Millisecond
	// MaxStall is the longest stall a fault draws: two leases, so that
	// a stall can outlive the process's lease.
	MaxStall = 2 * LeaseTTL
	// MaxTimeStep is the most virtual time the strategy lets pass at one
	// scheduling point (sched.Config.MaxTimeStep), so timers fire while
	// work is in progress.
	MaxTimeStep = 200 * time.Millisecond
)

// LeaseExpectedSteps is about the length of a run of the production
// world (sched.Config.ExpectedSteps): PCT's change points and the
// faults fall among its first steps, and a stall that other machines
// outlast by that many steps is ended.
const LeaseExpectedSteps = 2_000

// FaultWindow is the window of a fault burst (Workload.FaultBurst), in
// steps: about what the production world runs in one PollInterval of
// virtual time (a run of about LeaseExpectedSteps steps spans some 40
// seconds).
const FaultWindow = 50

// The identities of the world's tables, as the configuration records
// them.
var (
	oldIdentity = leaseconfig.Identity{Endpoint: "mem://harness", Name: "old"}
	newIdentity = leaseconfig.Identity{Endpoint: "mem://harness", Name: "new"}
	cfgIdentity = leaseconfig.Identity{Endpoint: "mem://harness", Name: "config"}
)

// leaseOptions are the options of process client's configuration
// service.
func (w *world) leaseOptions(client string) leaseconfig.Options {
	return leaseconfig.Options{
		ClientID: client, Old: oldIdentity, New: newIdentity, ConfigTable: cfgIdentity,
		LeaseTTL: LeaseTTL, PollInterval: PollInterval, RequestTimeout: RequestTimeout,
		MaxInFlight: MaxInFlight, ClockSkew: ClockSkew, Bug: w.opts.Bug,
	}
}

// schedWorld sets the world settings of a scheduler configuration for
// the workload: with Leases, time steps, the fault budget and clock
// skew.
func (w Workload) schedWorld(c *sched.Config) {
	if !w.Leases {
		return
	}
	c.ExpectedSteps = LeaseExpectedSteps
	c.MaxTimeStep = MaxTimeStep
	c.Faults = w.Faults
	if w.Faults > 0 {
		c.MaxStall = MaxStall
	}
	if w.ClockSkew {
		c.MaxClockSkew = ClockSkew
	}
}

// link returns process proc's network link to table name ("old", "new"
// or "config").
func (w *world) link(proc, name string) *backend {
	mem := map[string]*spec.MemTable{"old": w.old, "new": w.new, "config": w.cfg}[name]
	return &backend{w: w, name: name, mem: mem, link: true, proc: proc}
}

// configWritten is called after every request that landed on the
// configuration table: the world follows the newest stored state.
func (w *world) configWritten() {
	e, ok := w.cfg.Snapshot().Get(spec.Key{PartitionKey: leaseconfig.DefaultPartition, RowKey: "state"})
	if !ok {
		return
	}
	if v, has := e.Props["state"]; has {
		if s := mtable.State(v.AsInt()); s > w.stored {
			w.stored = s
			sched.Logf("configuration: %s stored", s)
		}
	}
}

// openService opens process client's configuration service, retrying
// until it succeeds (a request of Open may fail in a stall).
func (w *world) openService(ctx context.Context, client string) *leaseconfig.Service {
	for {
		svc, err := leaseconfig.Open(ctx, w.link(client, "config"), w.leaseOptions(client))
		if err == nil {
			return svc
		}
		sched.Logf("%s: opening the configuration: %v", client, err)
		if errors.Is(err, leaseconfig.ErrOtherTables) {
			sched.Fail(fmt.Errorf("%s: Open: %w", client, err))
		}
		sched.Sleep(PollInterval)
	}
}

// leaseMain is the main machine of the production world: it starts the
// migrator process and the application processes, each restarted after
// a crash, waits for them, and runs the end-of-run checks.
func (w *world) leaseMain(ctx context.Context, opts []mtable.Option) {
	sched.SetHot("migration incomplete", true)
	w.migUnder = map[string]mtable.State{}
	if w.opts.lateBy > 0 || w.wl.BackendFaults > 0 {
		w.net = sched.NewChan[netReq](0)
		sched.GoDaemon("network", w.network)
	}
	w.drawBackendFaults()
	var procs []*sched.Process
	for k := 0; k < w.wl.Migrators; k++ {
		name := "migrator"
		if k > 0 {
			name = fmt.Sprintf("migrator%d", k+1)
		}
		procs = append(procs, sched.StartProcess(name, func() { w.leaseMigrator(name, opts) }, sched.ProcessOptions{Restart: true, NoFaults: !w.wl.faultProne(true)}))
	}
	w.appMachine = make([]int, w.wl.Apps)
	w.callSteps = make([][]int, w.wl.Apps)
	w.next = make([]int, w.wl.Apps)
	for i := 0; i < w.wl.Apps; i++ {
		procs = append(procs, sched.StartProcess(fmt.Sprintf("app%d", i), func() { w.leaseApp(i, opts) }, sched.ProcessOptions{Restart: true, NoFaults: !w.wl.faultProne(false)}))
	}
	for _, p := range procs {
		p.Wait()
	}
	w.checkFinal(ctx)
}

// leaseApp is the body of application process i: it opens its own
// configuration client and MigratingTable and makes its remaining calls
// (a restart after a crash goes on after the call the crash
// interrupted, whose outcome stays unknown). When its lease is lost (a
// stall longer than the lease) it opens the service again.
func (w *world) leaseApp(i int, opts []mtable.Option) {
	ctx := context.Background()
	name := fmt.Sprintf("app%d", i)
	if sched.CurrentProcess().Restarts() == 0 {
		w.appMachine[i] = sched.MachineID()
	} else {
		// The crashed incarnation's call never returns.
		sched.SetHot(name+" call pending", false)
	}
	w.plainOldPhase(ctx, i, w.link(name, "old"))
	for {
		svc := w.openService(ctx, name)
		t := mtable.New(w.link(name, "old"), w.link(name, "new"), callConfig{svc, w, name}, opts...)
		lost := w.app(ctx, i, t, viaLibrary, w.roles[i].newFrom)
		svc.Close()
		if !lost {
			break
		}
		sched.Logf("%s: lease lost; opening the configuration again", name)
	}
	w.plainNewPhase(ctx, i, w.link(name, "new"))
	w.noteAppDone(ctx)
}

// pushNoter is the migrator's configuration service, which tells the
// world when a push begins, and records the state its requests are made
// under (the fencing oracle).
type pushNoter struct {
	w    *world
	proc string
	mtable.ConfigService
}

func (p pushNoter) Subscribe(ctx context.Context, sub mtable.Subscriber) (mtable.State, func(), error) {
	st, cancel, err := p.ConfigService.Subscribe(ctx, sub)
	if err == nil {
		p.w.migUnder[p.proc] = st
	}
	return st, cancel, err
}

func (p pushNoter) Push(ctx context.Context, s mtable.State) error {
	sched.Logf("push %s: start", s)
	p.w.notePush(ctx, s)
	err := p.ConfigService.Push(ctx, s)
	sched.Logf("push %s: done (err=%v)", s, err)
	if err == nil {
		p.w.migUnder[p.proc] = s
	}
	return err
}

// callConfig is an application's configuration service, which records
// the state each call subscribed under (the fencing oracle).
type callConfig struct {
	*leaseconfig.Service
	w    *world
	proc string
}

func (c callConfig) Fence(t spec.Table) spec.Table {
	return refusals{c.Service.Fence(t), c.w, c.proc}
}

func (c callConfig) Subscribe(ctx context.Context, sub mtable.Subscriber) (mtable.State, func(), error) {
	rec := callFrom(ctx)
	if rec != nil && sub != nil {
		sub = recSub{sub, rec}
	}
	st, cancel, err := c.Service.Subscribe(ctx, sub)
	if err == nil && rec != nil && !rec.HasUnder {
		rec.Under, rec.HasUnder = st, true
	}
	return st, cancel, err
}

// recSub is a call's Subscriber (a streamed query's), whose requests are
// made under each state it has applied (acknowledged) since.
type recSub struct {
	mtable.Subscriber
	rec *callRecord
}

func (s recSub) Apply(ctx context.Context, st mtable.State) error {
	err := s.Subscriber.Apply(ctx, st)
	if err == nil && s.rec.HasUnder && st > s.rec.Under {
		s.rec.Under = st
	}
	return err
}

// checkFence is the fencing oracle, at the instant a request of process
// proc lands on a data table: no request made under a state lands once
// the state two steps later has been stored. The state a request is
// made under is its call's subscription (for the migrator, the state it
// read or last pushed); the newest state is read from the configuration
// table, not from any process.
func (b *backend) checkFence(ctx context.Context, what string) {
	w := b.w
	var under mtable.State
	c := callFrom(ctx)
	switch {
	case c != nil && c.HasUnder:
		under = c.Under
	case c == nil:
		s, ok := w.migUnder[b.proc]
		if !ok {
			return
		}
		under = s
	default:
		return
	}
	if w.stored >= under+2 {
		call := ""
		if c != nil {
			call = c.String()
		}
		w.fail(ctx, &CheckFailure{Check: CheckFencing, Call: call,
			Message: fmt.Sprintf("%s of %s on the %s table, made under %s, landed while %s was the newest stored state", what, b.proc, b.name, under, w.stored)})
	}
}

func (p pushNoter) Fence(t spec.Table) spec.Table {
	return refusals{p.ConfigService.(mtable.Fencer).Fence(t), p.w, p.proc}
}

// refusals is a fenced table that notes each request its fence refused
// (an error wrapping leaseconfig.ErrFenced): a try of a step that failed
// as surely as a faulted one (see world.explainedByBackend).
type refusals struct {
	spec.Table
	w    *world
	proc string
}

func (r refusals) note(err error) {
	if errors.Is(err, leaseconfig.ErrFenced) {
		r.w.refused = append(r.w.refused, netFault{proc: r.proc, step: sched.Step()})
		if sched.Tracing() {
			sched.Logf("the fence of %s refused a request: %v", r.proc, err)
		}
	}
}

func (r refusals) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	res, err := r.Table.ExecuteBatch(ctx, ops)
	r.note(err)
	return res, err
}

func (r refusals) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	rows, err := r.Table.QueryAtomic(ctx, f)
	r.note(err)
	return rows, err
}

func (r refusals) QueryStreamed(ctx context.Context, f spec.Filter) (spec.Stream, error) {
	s, err := r.Table.QueryStreamed(ctx, f)
	r.note(err)
	return s, err
}

// leaseMigrator is the body of the migrator process: it opens its
// configuration client, takes the migration lock and runs the Migrator
// under it, retrying a Run that fails (the lock lost or fenced after a
// stall) with the same Migrator; a restarted migrator resumes from the
// configuration table. It returns once the migration has finished.
func (w *world) leaseMigrator(name string, opts []mtable.Option) {
	ctx := context.Background()
	delete(w.migUnder, name) // a new incarnation has made no request yet
	if w.wl.MigratorDelay && sched.CurrentProcess().Restarts() == 0 {
		n := w.choose(w.wl.totalCalls()/2+1, chDelay, -1, -1, -1)
		sched.Logf("migrator waits for %d calls to begin", n)
		w.waitForCalls(ctx, n)
	}
	w.waitPlainOld(ctx)
	var svc *leaseconfig.Service
	var m *mtable.Migrator
	for {
		if svc == nil {
			svc = w.openService(ctx, name)
			m = mtable.NewMigrator(w.link(name, "old"), w.link(name, "new"), pushNoter{w, name, svc.MigratorConfig()}, opts...)
		}
		start := sched.Step()
		lock, err := svc.LockMigrator(ctx)
		if err != nil {
			sched.Logf("migrator: taking the lock: %v", err)
			if !errors.Is(err, leaseconfig.ErrMigratorRunning) {
				svc.Close()
				svc = nil
			}
			sched.Sleep(PollInterval)
			continue
		}
		err = m.Run(lock.Context())
		lock.Release()
		sched.Logf("migrator: Run returned: %v", err)
		if err == nil {
			break
		}
		r := runErr{proc: name, from: start, to: sched.Step(), err: err}
		w.runErrs = append(w.runErrs, r)
		w.judgeRunError(ctx, r)
		if errors.Is(err, leaseconfig.ErrLeaseLost) {
			svc.Close()
			svc = nil
		}
		sched.Sleep(PollInterval)
	}
	svc.Close()
	w.noteMigrated(ctx, nil)
	sched.SetHot("migration incomplete", false)
}

// runErr is an error of the migrator's Run, to be explained by a fault
// of its process (see explained).
type runErr struct {
	proc     string
	from, to int64
	err      error
}

// noteNetFault records that a request of process proc was not sent
// because its deadline passed while the link delayed it (see delay).
func (w *world) noteNetFault(ctx context.Context, proc string) {
	if c := callFrom(ctx); c != nil {
		c.NetFault = true
	}
	w.netFaults = append(w.netFaults, netFault{proc: proc, step: sched.Step()})
}

// netFault is a request of a process that its link delayed past its
// deadline.
type netFault struct {
	proc string
	step int64
}

// explained reports whether a fault of process proc explains err,
// returned by a call (c set) or a migrator's Run (c nil) of the process
// between steps from and to, the step it returned: an error that wraps
// leaseconfig.ErrFenced or ErrLeaseLost (the lease may have expired:
// nothing was sent, or a request was cut off) by a stall of the process
// at any time before; any other (a request's deadline passed) by a stall
// or crash of the process while the call ran (for a migrator: since it
// began to take the lock), or by a request of the process that its link
// delayed past its deadline meanwhile (a slow network); or by its
// backend faults (see explainedByBackend), or by a backend fault of the
// process while the call ran after a stall of the process before (the
// fence refused the first tries of a step, and the fault the last).
//
// It is called at step to, by the machine that returned, before that
// machine's next scheduling point, and every fact it reads is in by
// then: each is recorded by the machine that ran at the step it names
// (the scheduler's faults by the decision that took that step), so every
// fact of a step up to to has been recorded, and it reads none of a
// later step. The facts tied to the call rather than to a step (a
// backend fault of the call's request) are recorded while the request is
// made, before the call returns. So the judgment is the one the whole
// run's record would give (the test of that runs it against the
// judgment after the run).
func (w *world) explained(c *callRecord, proc string, from, to int64, err error) bool {
	if w.explainedByBackend(c, proc, from, to, err) {
		return true
	}
	for _, n := range w.netFaults {
		if n.proc == proc && from <= n.step && n.step <= to {
			return true
		}
	}
	leaseErr := errors.Is(err, leaseconfig.ErrFenced) || errors.Is(err, leaseconfig.ErrLeaseLost)
	// A stall before the call may leave the lease too short for the
	// fence to send its first tries (each a retry, not logged as a
	// fault); with a backend fault of the process meanwhile, the
	// retries of a step can run out.
	faulted := w.backendFaultIn(proc, from, to)
	for _, f := range sched.Faults() {
		if f.ProcessName != proc || f.Kind == sched.Restart || f.Step > to {
			continue
		}
		if leaseErr || f.Step >= from || f.Kind == sched.Stall && faulted {
			return true
		}
	}
	return false
}

// judgeCallError is the production world's check of call c of process
// proc, which has just returned an error that is not a table outcome:
// unless a fault of its process explains it (explained), the library
// failed (CheckError), at the step it returned.
func (w *world) judgeCallError(ctx context.Context, c *callRecord) {
	if !w.explained(c, c.Proc, c.Invoke, c.Return, c.Outcome.err) {
		w.failUnexplained(ctx, &CheckFailure{Check: CheckError, Machine: c.Machine, Step: c.Return, Call: c.String(),
			Message: "call failed with an error that is not a table outcome, and no fault of its process explains it: " + c.Outcome.Err})
	}
}

// judgeRunError is the same check of a migrator's Run that failed
// (CheckMigrator).
func (w *world) judgeRunError(ctx context.Context, r runErr) {
	if !w.explained(nil, r.proc, r.from, r.to, r.err) {
		w.failUnexplained(ctx, &CheckFailure{Check: CheckMigrator, Machine: sched.MachineName(), Step: r.to,
			Message: "the migrator's Run failed, and no fault of its process explains it: " + r.err.Error()})
	}
}

// failUnexplained records f, an error no fault explains, in errFailures
// (switched off or not) and fails the run with it.
func (w *world) failUnexplained(ctx context.Context, f *CheckFailure) {
	w.errFailures = append(w.errFailures, f)
	w.fail(ctx, f)
}
