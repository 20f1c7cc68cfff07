package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// world is the state of one iteration: the backend tables, the
// reference table, the configuration service and everything the oracles
// record. Machines run one at a time, so world needs no locking of its
// own; its only blocking (waiting for the migration to advance) uses the
// scheduler's primitives.
type world struct {
	opts Options
	// wl is this iteration's workload: opts.Workload, or with Swarm the
	// shape drawn from it at the start of the run.
	wl Workload

	old, new, ref *spec.MemTable
	config        *mtable.MemConfig
	// cfg is the configuration table of the production world
	// (Workload.Leases), and stored the newest state written to it.
	cfg    *spec.MemTable
	stored mtable.State
	// next is, for each application, the number of its calls begun: a
	// restarted process goes on from there. runErrs are the failed Runs
	// of the migrator, and errFailures the failures of the production
	// world's error checks (CheckError, CheckMigrator: see explained),
	// each judged at the step it happened, switched off or not: both are
	// kept only for the test that compares the judgment in the run with
	// one made after it.
	next        []int
	runErrs     []runErr
	errFailures []*CheckFailure
	netFaults   []netFault
	// refused lists the requests a process's fence refused (at the
	// fence or at its link's send check: both errors wrap
	// leaseconfig.ErrFenced).
	refused []netFault
	// migUnder is the state each migrator process's requests are made
	// under: the one its Run read, then each it pushed.
	migUnder map[string]mtable.State
	// net carries late requests to the root's network (Options.lateBy,
	// FaultLate).
	net *sched.Chan[netReq]
	// faultAt lists the numbers of the requests the backend faults not
	// injected yet fall on, requests counts the requests so far, and
	// bfaults are the faults injected (see drawBackendFaults).
	faultAt  []int
	requests int
	bfaults  []*backendFault
	// outage counts, for each process's link to a table in an outage
	// (FaultOutage), the requests it still fails.
	outage map[outageKey]int

	// pushed is the highest state whose push has started; migrated is
	// set when the migrator returned.
	pushed   mtable.State
	migrated bool
	// started counts the calls begun; idle the application machines
	// that are finished or waiting for the migration (the migrator's
	// start delay waits on both).
	started, idle int
	migratorErr   error
	// roles is each application's plain-client role (Workload.Plain),
	// and plainOldLeft the number of applications that may still call
	// the old table directly: the migrator waits for none (waitPlainOld).
	roles        []plainRole
	plainOldLeft int
	// hotRow is the iteration's hot row key (Workload.HotRows), or -1.
	hotRow int
	// gate is what waiters for the migration or for calls wait on in
	// the production world; advanced, with advance, in the original.
	gate     *sched.WaitGroup
	advance  sched.Mutex
	advanced *sched.Cond

	// revs holds every revision of the reference table (oracle 3).
	revs []spec.Rows

	// calls is the history of virtual-table calls, in invocation order;
	// etagEvents the ETag-only changes of the virtual view (oracle 2).
	calls      []*callRecord
	etagEvents []etagEvent

	// clock orders the events oracle 2 records.
	clock int64
	// lin is what oracle 2 records from the backend tables alone.
	lin linRecord

	// choices logs the workload's choices that were decisions, and
	// appMachine holds each application machine's ID (for the
	// shrinker).
	choices    []choiceRec
	appMachine []int
	// callSteps[i][k] is the number of decisions taken when application
	// machine i began call k (before choosing it); its last entry, when
	// the machine has returned, the number when it did.
	callSteps [][]int
	// spans logs the decisions of backend calls on filler rows.
	spans []workSpan

	// failure is the first oracle failure of the iteration; checks
	// counts the failures of each oracle.
	failure *CheckFailure
	checks  map[string]int
	// stopped is set when the run ended at its first failure
	// (Options.stopAtFailure, see runWith).
	stopped bool
}

// callRecord is one virtual-table call as the oracles see it.
type callRecord struct {
	Machine string
	Proc    string // the process ("" in the original world)
	MID     int    // machine index (application machines 0..)
	Seq     int    // call number within the machine
	Call    Call
	// Plain is the table a plain client called directly (plainOld or
	// plainNew), or viaLibrary for a call of a MigratingTable.
	Plain string

	Invoke, Return int64 // scheduler steps; Return 0 while pending
	// InvokeAt and ReturnAt order the call's events among all the
	// iteration's events (a counter; several events can share a step).
	InvokeAt, ReturnAt int64
	Outcome            Outcome

	// Under is the state the call subscribed under (the production
	// world's fencing oracle), when HasUnder.
	Under    mtable.State
	HasUnder bool

	// NetFault is set when a request of the call was not sent because
	// its link delayed it past its deadline (a slow network).
	NetFault bool

	// oracle 1
	LPStep int64 // step of the linearization point, 0 if none yet
	Ref    *Outcome
	// cand is the linearization-point candidate the library announced
	// last, until its batch lands; landed is set when the reference
	// applied the call where its candidate landed unseen by the caller
	// (landCandidate), absorbed when the library then reported that
	// linearization point too.
	cand             *mtable.Candidate
	landed, absorbed bool

	// Answers are a streamed query's answers, AnswerSteps their steps.
	Answers     []linearizability.StreamAnswer
	AnswerSteps []int64
}

func (c *callRecord) String() string {
	return fmt.Sprintf("%s call %d %s", c.Machine, c.Seq, c.Call)
}

// etagEvent is an ETag-only change of the virtual view, observed from the
// backend tables (not from the library's annotations).
type etagEvent struct {
	Step int64
	At   int64 // event order, as callRecord.InvokeAt
	Key  spec.Key
	ETag spec.ETag
}

type callKey struct{}

func withCall(ctx context.Context, c *callRecord) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

func callFrom(ctx context.Context) *callRecord {
	c, _ := ctx.Value(callKey{}).(*callRecord)
	return c
}

func newWorld(opts Options) *world {
	w := &world{
		opts: opts,
		old:  spec.NewMemTable("old:"),
		new:  spec.NewMemTable("new:"),
		ref:  spec.NewMemTable("ref:"),
		cfg:  spec.NewMemTable("cfg:"),

		checks: map[string]int{},
		hotRow: -1,
	}
	w.config = mtable.NewMemConfig(mtable.UseOldHideMetadata)
	w.advanced = sched.NewCond(&w.advance)
	w.wl = opts.Workload
	// Until load runs, the tables are empty, and that is the initial
	// revision: a run that ends before it (a step bound of one step, a
	// replay that diverges in the workload's first draws) still has one
	// for the oracles and the history to start from.
	w.revs = []spec.Rows{{}}
	return w
}

// load fills the old table with the workload's initial rows, and the
// fillers of a wide partition; the reference takes the same rows with
// the same ETags: that is the virtual table's initial content. The
// backends page their atomic answers (PageLimit).
func (w *world) load() {
	w.old.SetPageLimit(PageLimit(w.wl.RowKeys))
	w.new.SetPageLimit(PageLimit(w.wl.RowKeys))
	for p := w.wl.EmptyPartitions; p < w.wl.Partitions; p++ {
		for _, r := range w.wl.InitialRows {
			e := spec.Entity{
				Key:   spec.Key{PartitionKey: partitionName(p), RowKey: strconv.Itoa(r)},
				Props: initialProps(r),
			}
			if _, err := w.old.ExecuteBatch(context.Background(), []spec.Op{{Kind: spec.Insert, Entity: e}}); err != nil {
				panic("harness: loading initial rows: " + err.Error())
			}
		}
	}
	if w.wl.WidePartition {
		var ops []spec.Op
		for i := 0; i < WideFillers(w.wl.RowKeys); i++ {
			ops = append(ops, spec.Op{Kind: spec.Insert, Entity: spec.Entity{
				Key:   spec.Key{PartitionKey: w.widePartition(), RowKey: fmt.Sprintf("%s%03d", fillerPrefix, i)},
				Props: spec.Props{"filler": spec.Int32(int32(i))},
			}})
		}
		if _, err := w.old.ExecuteBatch(context.Background(), ops); err != nil {
			panic("harness: loading filler rows: " + err.Error())
		}
	}
	w.ref.Load(w.old.Snapshot())
	w.revs = append(w.revs[:0], w.ref.Snapshot())
	w.lin.initial = w.viewAll()
}

func partitionName(p int) string { return "p" + strconv.Itoa(p) }

// fillerPrefix begins the RowKeys of filler rows: "~" sorts after the
// workload's row keys (digits) and the library's internal rows ("_").
const fillerPrefix = "~f"

// widePartition is the partition that holds the fillers of a wide
// partition: the last one.
func (w *world) widePartition() string { return partitionName(w.wl.Partitions - 1) }

// fail records an oracle's failure. The run goes on to its end, so that
// every oracle judges the whole history (and the report can say which
// ones caught the bug); the first failure recorded, which is the first
// by step (every oracle but 2 judges in the run), is the one reported.
// With Options.stopAtFailure the first failure ends the run instead.
func (w *world) fail(ctx context.Context, f *CheckFailure) {
	if !w.opts.enabled(oracleOf(f.Check)) {
		return // switched off: it always says ok
	}
	f.Step = sched.Step()
	f.Machine = sched.MachineName()
	sched.Logf("CHECK FAILED: %s: %s", f.Check, f.Message)
	w.checks[f.Check]++
	if w.failure != nil {
		return
	}
	w.failure = f
	if w.opts.stopAtFailure && sched.Controlled() {
		// Every later failure is recorded after this one, and a
		// scheduler failure or oracle 2 only counts without one, so
		// the iteration's failure is decided: end the run here (the
		// machine does not return; its deferred calls run).
		sched.Fail(errStopAtFailure)
	}
}

// errStopAtFailure is the scheduler failure with which a run of
// Options.stopAtFailure ends at its first failure.
var errStopAtFailure = errors.New("harness: the run stops at its first failure")

// The world's notes and waits are called from the machines of
// processes that may crash at any scheduling point. A crash must not
// leave a lock of the root held or a state changed without its waiters
// woken, so a note has no scheduling point at all: it changes the
// world's memory and opens the current gate (WaitGroup.Done is not a
// scheduling point), and a waiter checks its condition and takes the
// gate with no scheduling point in between.

// wake opens the gate every waiter waits on and sets up the next one.
func (w *world) wake() {
	if !w.wl.Leases {
		// The original world, whose recorded schedules (the seed corpus)
		// have the scheduling points of a Cond.
		w.advanced.Broadcast()
		return
	}
	g := w.gate
	w.gate = newGate()
	g.Done()
}

func newGate() *sched.WaitGroup {
	g := &sched.WaitGroup{}
	g.Add(1)
	return g
}

// waitUntil blocks until cond holds, re-checking it after each wake.
func (w *world) waitUntil(cond func() bool) {
	for !cond() {
		if !w.wl.Leases {
			w.advanced.Wait()
			continue
		}
		w.gate.Wait()
	}
}

// lock and unlock guard the notes in the original world (whose machines
// never crash); in the production world they do nothing.
func (w *world) lock() {
	if !w.wl.Leases {
		w.advance.Lock()
	}
}

func (w *world) unlock() {
	if !w.wl.Leases {
		w.advance.Unlock()
	}
}

// notePush records that a push of s has started and wakes machines
// waiting for the migration to advance.
func (w *world) notePush(ctx context.Context, s mtable.State) {
	w.lock()
	if s > w.pushed {
		w.pushed = s
	}
	w.wake()
	w.unlock()
}

func (w *world) noteMigrated(ctx context.Context, err error) {
	w.lock()
	w.migrated = true
	w.migratorErr = err
	w.wake()
	w.unlock()
}

// waitForState blocks until the migrator has started pushing s or has
// finished.
func (w *world) waitForState(ctx context.Context, s mtable.State) {
	w.lock()
	if w.pushed < s && !w.migrated {
		w.idle++
		w.wake()
		w.waitUntil(func() bool { return w.pushed >= s || w.migrated })
		w.idle--
	}
	w.unlock()
}

// noteCall records that an application machine begins a call.
func (w *world) noteCall(ctx context.Context) {
	w.lock()
	w.started++
	w.wake()
	w.unlock()
}

// noteAppDone records that an application machine has finished.
func (w *world) noteAppDone(ctx context.Context) {
	w.lock()
	w.idle++
	w.wake()
	w.unlock()
}

// waitForCalls blocks until n calls have begun or no application machine
// can begin one without the migration advancing.
func (w *world) waitForCalls(ctx context.Context, n int) {
	w.lock()
	w.waitUntil(func() bool { return w.started >= n || w.idle >= w.wl.Apps })
	w.unlock()
}

// tick returns the next event time.
func (w *world) tick() int64 {
	w.clock++
	return w.clock
}
