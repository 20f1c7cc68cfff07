// Package harness is the verification of MigratingTable: it runs the
// unmodified library under the deterministic scheduler of package sched
// against in-memory tables and judges every run with independent
// oracles.
//
// # An iteration
//
// One iteration is one schedule of this program: a main machine loads
// the old table with the workload's initial rows and starts a migrator
// machine, running mtable.Migrator, and application machines, each
// calling its own mtable.Table. The backend tables (old and new) are
// spec.MemTables wrapped so that every call is a scheduling point,
// executed atomically and logged; the configuration service is
// mtable.MemConfig, whose deliveries are machines of their own. Like
// Azure, the backends refuse a filter of more than 15 comparisons and an
// atomic query longer than a page (PageLimit rows, the most a partition
// holds without fillers), and one swarm iteration in four gives a
// partition more filler rows than that (Workload.WidePartition), so a
// library read of a whole partition fails the run. One in four reads
// one row at a time (Workload.NarrowReads), so that batches span several
// reads. Every
// choice of the workload (which call, which rows, which ETag, which
// state to wait for) is a decision of the scheduler's strategy, so an
// iteration is reproduced exactly by its trace.
//
// The original P# harness had a tables machine that owned the old, new
// and reference tables and served every backend call, one at a time, by
// message. Here the tables are owned by the iteration's world (the
// backend wrappers, the reference monitor and the oracles), and since
// exactly one machine runs at a time, a backend call runs atomically in
// the calling machine right after its scheduling point: the same
// interleavings, without a round trip through another machine.
//
// # The production world
//
// With Workload.Leases (the default workload) an iteration runs the
// world production lives in. The old, new and configuration tables
// (spec.MemTables) and the oracles' records are durable state of the
// root process. The migrator and each application are processes
// (sched.StartProcess, restarted after a crash): each opens its own
// client of the lease-based configuration service (mtable/leaseconfig,
// with short virtual-time leases: LeaseTTL, PollInterval, RequestTimeout,
// MaxInFlight, ClockSkew) over the configuration table. The migrator
// takes the migration lock and runs mtable.Migrator through
// MigratorConfig, retrying a Run that fails (its lock lost or fenced)
// with the same Migrator; a restarted migrator resumes from the
// configuration table. With Workload.Migrators > 1 (a swarm draws 1 to
// 3) several migrator processes contend for the lock. An application
// makes its calls through its own MigratingTable; after a crash it opens
// the service again and goes on with its remaining calls (the call the
// crash interrupted keeps an unknown outcome); when its lease is lost
// (a stall longer than the lease) it opens the service again.
//
// Every backend request of a process crosses its link to the table (a
// backend with link set): a scheduling point, then the latency as
// virtual time (0 to Latency units of 20ms, chosen), then a last
// scheduling point, after which the request is not sent if its context
// has ended or its send check (spec.CheckSend: the lease's fence)
// refuses it, and otherwise lands atomically. Under the fault budget
// (Workload.Faults, sched.Config.Faults) the scheduler crashes and
// restarts processes and stalls them for up to two leases (MaxStall).
// A swarm draws each iteration's fault plan (sched.SetFaults): a budget
// of 0 to Faults; with two faults or more, one iteration in two a
// host's pause (Workload.FaultBurst: stalls that begin within
// FaultWindow steps of one another and end within a PollInterval of
// the first one's end, so that a lease runs out or a lock is let go
// while another process is still stalled), else one in three stalls
// only; and which processes faults may strike (any, the migrators, the
// applications: sched.ProcessOptions.NoFaults on the others). With
// Workload.ClockSkew each process's clock is offset within the
// service's ClockSkew; the strategy may also let time pass at any
// scheduling point (MaxTimeStep). Each fault is a decision in the trace
// and listed in the report.
//
// Backend faults (Workload.BackendFaults, a budget per iteration, 3 in
// the default workload; mtabletest -backend-faults) make the tables fail
// as Azure's do. At the start of the run the main machine draws, for
// each fault of the budget, the request it falls on among the first
// ExpectedRequests requests of the run to the old, new and configuration
// tables (counted in the order they pass their last scheduling point);
// when that request comes, it takes a fault its kind can take (see
// BackendFault): a batch fails before it applies (FaultNotApplied, an
// error wrapping spec.ErrNotApplied), is applied and then fails
// (FaultApplied: spec.ErrOutcomeUnknown), or is sent and lands late
// (FaultLate: the root's network lands it 250ms to lateMost after it was
// sent, within the service's MaxInFlight, whether or not its caller,
// whose request deadline may pass first, still waits); an atomic query
// (a retrieve) fails (FaultReadFails); a streamed query's request or the
// request for a stream's next page fails (FaultStreamFails); or the
// table is unavailable to the process (FaultOutage): this request and
// its next mtable.MaxBackendAttempts-1 requests to the table fail before
// they apply, enough to exhaust the library's retries of a step. Every draw
// is a Choose of the stream "fault", so the faults are in the trace,
// replay exactly, and are listed in the failure report with the process
// faults.
//
// The world's notes and waits (how far the migration has come, how many
// calls have begun) have no scheduling point in the note and wake
// waiters through a WaitGroup's Done, so a crash at any scheduling point
// leaves no lock of the root held and no waiter asleep.
//
// A call of a crashed process never returns: oracle 2 treats it as
// pending (it may take effect at any point after its invocation, or not
// at all). Oracle 1 stays exact: a request whose caller hears of it
// lands in the same atomic step as the library's annotation of it, so
// a call either reached its linearization point, which the reference
// applied, or did not. The harness is a mtable.CandidateMonitor: it
// keeps the candidate each call announces, and when a batch lands
// unseen by its caller (FaultApplied, FaultLate) and is the call's
// candidate and applied, the reference applies the call there, with
// the Candidate's Results mapping (a late answer that still reaches the
// caller then reports a linearization point already applied); the call,
// which returns mtable.ErrOutcomeUnknown if its caller gave up, took
// effect exactly once. A batch that landed unseen and was not a
// candidate (a migrator's copy) changes rows' ETags only; the reference
// takes those ETags from the backend tables, as it does when the
// library reports a copy's ETag as unknown (""). A call that returns an
// error other than a table outcome (a request not sent because its
// deadline passed or the fence closed, the lease lost, an injected
// backend fault the library did not absorb) is judged at the step it
// returns (CheckError), with the faults recorded by then (every fact
// the judgment reads is of that step or before: sched.Faults, and the
// harness's record of backend faults, link delays and fence refusals):
// a stall or crash of its process while it ran, or, for
// an error that wraps leaseconfig.ErrFenced or ErrLeaseLost, a stall of
// its process or a fault of one of its requests to the configuration
// table before, must explain it; or the backend faults of the call: an
// error wrapping mtable.ErrOutcomeUnknown only a FaultApplied or
// FaultLate of one of the call's batches; any other error a late
// request of its process meanwhile (a deadline passed), a failed stream
// request of its process (for a streamed query, which the library does
// not retry), or at least mtable.MaxBackendAttempts faults of its
// process meanwhile (the library tries each step that often). A call
// the harness did not fault must not fail. Likewise a failed Run of a
// migrator (CheckMigrator), judged when Run returns. Such calls are
// pending for oracle 2. Judged in the run, such a failure has the step
// it happened at, is ordered with the other oracles' failures by step
// (the first is reported), ends a run of Options.stopAtFailure there,
// and says ok when OracleErrors is switched off.
//
// The fencing oracle (CheckFencing, the property the service's doc
// proves): no request lands on the old or new table under a state two
// steps behind the newest state stored in the configuration table. The
// state a request is made under is read from the process's own client:
// the state a call's Subscribe returned (an application's service is
// wrapped to record it), or the state a migrator's Run read or it last
// pushed; the newest state is read from the configuration table's state
// row as each request lands. It is OracleFencing: switched off, it says
// ok.
//
// # Plain clients
//
// With Workload.Plain (the default workload; a swarm draws it in one
// iteration in two) the procedure's first and last steps are part of the
// run. Each application draws its role at its start: one in two is a
// MigratingTable client throughout; one in four is first a plain client
// of the old table, making its first 1 to all calls on the old table
// directly (a plain spec.Table through its link, no MigratingTable), and
// is then redeployed as a MigratingTable client for the rest; one in
// four makes its calls through MigratingTable up to a chosen call, then
// waits until a migrator has finished and makes the rest on the new
// table directly. The procedure's rule is the migrator's gate
// (waitPlainOld): a migrator starts its first push only when no process
// calls the old table directly any more, each having finished or been
// redeployed; a plain process waits for nothing while it is plain, so
// the gate cannot deadlock. With plain clients a MigratingTable call may
// also wait for the migration to be done (a state past the last), so
// that calls in USE_NEW_HIDE_METADATA mix with plain calls of the new
// table.
//
// A plain call is recorded like any other and judged by the same
// oracles. Its linearization point is its backend request itself, which
// the harness annotates for oracle 1 as it lands (batches mirrored with
// the backend's ETags); oracle 2 and the streamed-query oracle need
// nothing more. The plain-client oracle (CheckPlain) judges each plain
// request as it lands, against the refinement-mapping view at that
// instant: a batch must succeed or fail (status and index) as the same
// batch on the view's rows would, so a plain Insert gets no 409 for a
// row the virtual table does not hold; an atomic query or retrieve must
// read exactly the view's rows that match its filter (no internal row,
// no metadata property, no tombstone, none missing); each row a stream
// reads must be the view's row. It also checks the procedure: a plain
// request lands on the old table only before the first push, and on
// the new table only after a migrator has finished.
//
// # Hot rows
//
// With Workload.HotRows (a swarm draws it in one iteration in four) the
// iteration draws a hot row key; three batch operations and retrieves
// in four then take it instead of the row they drew (in the partition
// the call chose), so conflicting writes, and DeleteIfExists of a row a
// concurrent Insert creates, race on one row often.
//
// Liveness in this world: "migration incomplete" is hot until a
// migrator finishes, so with a fair schedule and finitely many faults
// (process and backend faults) every push must complete and the
// migration finish; virtual time counts (a crashed process's lease
// expires after LeaseTTL). After the migration the new table must equal
// the reference (oracle 5) whatever faults happened.
//
// # Oracles
//
// Each oracle can fail an iteration on its own; a failure names the
// check, the machine, the call and the step, with a diff. An oracle's
// failure does not stop the run, so every oracle judges the whole
// history and a report says which of them caught the problem.
//
//  1. Annotations (CheckAnnotations): at each linearization point the
//     library reports, the same call runs on a reference MemTable
//     (batches mirrored with the virtual table's ETags, ETag-only changes
//     applied); each call's outcome must equal the reference's, and
//     every completed call must report exactly one point.
//  2. Linearizability (CheckLinearizability): the whole run, judged by
//     package linearizability (CheckTableRecord) from the calls'
//     invocations and responses and the backend tables alone. The view
//     (the refinement mapping: a live new-table row, metadata stripped,
//     shadows the old row, a tombstone hides it, internal rows do not
//     exist, and once USE_NEW_HIDE_METADATA is pushed the old table no
//     longer counts) is recomputed after every backend write and push;
//     each change is a revision. Atomic calls are searched for a
//     linearization, partitioned by PartitionKey, with the view's
//     ETag-only changes (a migrator's copy or clean-up) as events; each
//     streamed query's rows and end must be valid next answers over the
//     revisions since it began, its continuation keys never going back
//     (oracle 3's rule); every ETag a write reports must be the one the
//     view shows for the row; the history closes with a read of each
//     partition's content from the view, so a write acknowledged and
//     then lost is caught even when no later call read it; and after a
//     completed migration the new table read plainly must be the view
//     exactly (no metadata, tombstones or internal rows) and the old
//     table empty. The workload's If-Match ETags come from the view too.
//  3. Streamed queries (CheckStream): every row returned, and the end of
//     the stream, must be a valid next answer given the reference table's
//     revisions since the query began; continuation keys never go back.
//  4. Liveness: deadlock, the step bound, and hot conditions ("migration
//     incomplete", "call pending") held beyond the bound under a fair
//     schedule fail the run (the original harness counted "all blocked"
//     as a pass).
//  5. End of run (CheckFinalState): after the migration the new table
//     equals the reference exactly (no metadata, no tombstones) and the
//     old table is empty.
//  6. Plain clients (CheckPlain): each request of a plain client of the
//     old or new table behaves as the same call on the virtual table at
//     that instant (see "Plain clients").
//
// In the original world a call that fails with an error other than a
// table outcome is its own failure (CheckError), as is a migrator that
// fails (CheckMigrator): the backends there fail only where Azure would
// refuse the request the library sent (a malformed batch or filter, an
// atomic query past a page), so such an error is the library's. In the
// production world such an error must be explained by a fault, of the
// process or of the backend (see above).
//
// What each oracle trusts besides spec's semantics and the scheduler:
//
//  1. the library's linearization-point annotations, its candidates' Results mappings and the ETags it reports (the reference table follows them);
//  2. nothing of the library: the refinement mapping view of the backend tables (harness code), and the calls' invocations and responses;
//  3. the reference table of oracle 1, so the annotations;
//  4. the scheduler's fairness and the hot conditions the harness sets;
//  5. the reference table of oracle 1, so the annotations;
//  6. nothing of the library: the refinement mapping view of the backend tables, and the plain requests' backend outcomes;
//
// and the errors oracle, that the in-memory backends refuse exactly the
// requests Azure would refuse, and the harness's record of the faults
// it injected.
//
// Options.OraclesOff switches oracles off (OracleList: the five above,
// the errors oracle, the plain-client oracle and the fencing oracle),
// each replaced by one that always says ok. The oracles only observe (a stream is read to its end
// whatever oracle 3 says), so switching some off changes no schedule:
// an oracle alone fails exactly the iterations it fails among all of
// them, and Iteration.Flagged says which failed. The meta-tests
// (oracles_meta_test.go) hold, for each oracle, bugs it alone must
// catch within a budget, and check that the same test fails with that
// oracle switched off.
//
// # Shrinking
//
// Shrink takes a failing iteration and looks for a smaller run that
// fails the same check. Two failures are the same when they have the same
// Signature: the failure kind (IterationFailure.Kind: "assertion" for an
// oracle, "deadlock", "liveness", "step-bound", "panic",
// "linearizability", ...) and, for an oracle's assertion, the oracle
// (CheckFailure.Check: "streamed-query validity", ...). Every candidate is
// a variant of the smallest failing run found so far: a workload and the
// decisions to replay with it leniently, with the names of the machines
// they are for (sched's "lenient" strategy, which finds a machine's
// decisions by its name, each kind of workload choice a named stream of
// its machine, see sched.ChooseIn), so the calls a candidate keeps are
// drawn as they were.
// A candidate becomes the smallest when it fails with the signature and
// is smaller: a smaller workload (fewer applications, calls, partitions,
// row keys and initial rows, lower row keys, smaller batches, less
// latency, no slow application, migrator delay or waiting for states,
// fewer faults in the budget, fewer migrators, no clock skew, the
// original world; a swarm workload is larger than any shape it draws),
// else the same workload and a smaller run in sched's order (fewer
// steps, then preemptions, faults, Choose values).
//
// The moves, each a function that proposes smaller workloads with the
// decisions edited to match (a new workload parameter needs one more):
// the swarm's drawn shape fixed; an application machine dropped (its
// decisions with it); a call dropped (its choices, and its machine's decisions while it ran);
// the migrator's start delay, the slow application, the wide partition,
// the narrow reads, the plain clients (the roles' choices with them),
// the hot row (its choices with it) and the latency dropped; a wide
// partition that holds only its fillers turned into as many initial rows
// as row keys; a partition dropped, or one more left empty; an initial
// row dropped; the rows used renumbered 0,
// 1, ...; a row key fewer (and with it a filler row); a batch operation
// dropped; the largest batch smaller; the waits for states dropped; in
// the production world, the original world instead (Leases off, with
// the decisions of the machines both worlds have: main, each process's
// first machine, the pushes), a migrator process fewer (its machines'
// decisions, faults and clock offset with it), a fault budget of the
// faults the run took, else one crash (with its restart) or stall
// fewer, no clock skew, and the backend faults dropped (with their
// choices) or their budget one lower. (An application dropped in the production
// world takes its process's machines, faults and clock offset with it.)
// The moves that change the world the schedule was recorded in (an
// application fewer, the original world, a migrator fewer) propose,
// after their candidates, each again with sched.Config.LenientSeed 1 to
// 8, seed by seed: where a recorded schedule decision does not apply,
// the run draws one instead of taking the scheduler's default, which
// often replays the recorded schedule into a passing run. They propose
// the seeded candidates once for each workload the smallest run has:
// those of a workload where they failed are not run again.
// After the first round of moves, the shrink explores smaller workloads
// afresh, once: at most two applications of one call each (none, one,
// two; with none, also without initial rows, which are then only the
// migrator's to copy), in the original world (not for a lease bug,
// mtable.Bug.Lease, which changes nothing there; nor does the move to
// the original world try it), with one migrator process or as many as
// the run has, smallest first, each for up to 200 runs whose schedules
// are drawn as an exploration draws them (portfolio), not replayed. A
// replay of a recorded schedule in a world with an application or a
// migrator fewer rarely fails again where machines wait on virtual time
// (leases, polls, renewals), while fresh schedules of the smaller
// workload fail about as often as the exploration's did. The first run
// that fails the same way, in the order of its workloads and iterations,
// is run again leniently (which names its choices' streams for the
// moves) and becomes the smallest; the moves go on from it.
// The shorter stalls are the scheduler's passes'. A
// move that takes rows away (the wide partition's fillers, an initial
// row, a partition's rows) proposes first the decisions without those
// of the work on them: a shrinking run logs the decisions each backend
// call took, and the migrator's reads and writes of the rows and the
// streams' reads of them go (until an application writes the row), so
// the migrator does not run ahead of the applications with the
// decisions it no longer needs; then the decisions as they are. A move
// that takes filler rows away also proposes, with the migrator's work
// on them gone, an application's stream without its decisions for the
// first rows it read (each read and what it did until the next), so
// that it stops as many rows before the end as it did. They
// run to a fixpoint; then sched.Shrink
// works on the schedule (preemptions, choices, blocks of decisions) until
// it has accepted a few candidates, and the moves run again. When
// the moves find nothing after it, and the failure is an oracle's
// assertion, the shrink explores afresh the smallest run's own workload
// and its neighbours, the smaller workloads the moves proposed for it
// (every other run one of them, in turn): schedules drawn as an
// exploration draws them, bounded by the smallest run's steps (a run
// cut there fails otherwise and costs no more), as many as the
// exploration took to find the failure (at least 200, at most a quarter
// of the run budget and half of what is left). The scheduler's passes
// shorten a run a few decisions at a time, and where machines wait on
// virtual time most of their candidates no longer fail, while a fresh
// schedule of the same workload is often far shorter, and one of a
// workload whose moves' replays no longer fail (an initial row, an
// application or the latency fewer) often fails again (bug 16 from base
// seed 2, latency and initial row dropped: about one fresh run in 200);
// the first that fails the same way, no longer than the smallest run,
// is run again leniently and becomes the smallest run. A workload whose
// own fresh runs found nothing is not explored again, its neighbours
// are, with new schedules, each time the moves stall. And so on, until
// nothing is accepted or the budget (ShrinkConfig: runs, and steps,
// each run reckoned at the length up to its failure of the smallest run
// it was a variant of, at most the failing run's, both deterministic, so
// a run that hit the step bound gets fewer runs, more as a shorter one
// is found; optionally time) is spent. A shrink that spends its run or
// step budget with a smallest run whose report would show more than
// ShortRun steps goes on, once, for as many runs and steps again: the
// report is what the user reads, and the rare failures of the production
// world (bug 18 from base seed 7 is found at iteration 1,910) shrink
// more slowly. A candidate's run ends right after its
// first failure in a machine (an oracle's check): the signature is the
// first failure's, so the steps after it would be run for nothing
// (oracle 2's failure, found after the schedule, needs the run to its
// end, and the scheduler's own failures end the run anyway; an error
// the faults do not explain is judged in the run, and stops it there).
// The smallest run is then run once more leniently to its end, as a
// replay runs it (past its recorded decisions, with the lenient
// defaults), and that run, which fails first where the stopped run
// stopped, is the shrunk trace. Candidates run Parallel at a time,
// but are taken in a fixed order and runs are counted as if
// sequential, so a failure shrinks to the same run at any Parallel.
//
// The shrunk run is replayed exactly (strategy "replay") with its event
// log for the report (WriteShrunkReport): its trace records the shrunk
// workload, including the calls of each application ("app-calls"), and
// replays the failure decision for decision. A report shows every step
// up to the failing check when at most ShortRun of them logged
// something, a repeated run of steps (a retry loop) folded into one note
// and, in the production world, each run of quiet steps into one line
// (see Quiet steps).
//
// With ExploreConfig.Shrink an exploration shrinks its failures, and its
// Summary groups them (Groups) by signature and shrunk shape
// (ShrinkResult.ShapeKey: the kinds of the calls of the shrunk run, the
// failing one marked, and its faults), so that many failures of a few
// causes make a few groups.
//
// # Quiet steps
//
// In the production world a report folds the machinery that keeps
// leases and the configuration alive: each maximal run of consecutive
// steps (of those that logged something) all of whose events are quiet
// becomes one line naming its steps, how many they are, the machines
// concerned, what they did and, if the clock jumped in the run, the
// clock at its end:
//
//	(steps 134-211: 15 quiet steps of migrator, lease-poll, lock-renew: waits, configuration reads that found nothing new; clock +3s)
//
// A run of quiet steps that logged one event in all is printed as it is
// (its line says more than a fold line would). An event is quiet when
// it is one of:
//
//   - a machine waiting: the scheduler's "waits on ...";
//   - the scheduler's "spawn machine N \"name\"" of a machine that is
//     not the main machine, a migrator's or an application's (the
//     machines named "main", "migrator", "migratorN" and "appN");
//   - the scheduler's "exit" of a machine that is none of those and not
//     a machine of the lease service or the migration lock
//     ("lease-renew", "lease-poll", "lease-apply", "lock-renew"): those
//     end when their service is closed or their lease or lock is lost,
//     and the event does not say which, so their exits are shown (a
//     push machine's, "config-push-...", is quiet), unless the process
//     is ending: the next event of its machines after the exit (other
//     lease machines' exits and waits aside, and with no crash, stall
//     or restart of the process between) is its application's or
//     migrator's own exit, which closed the client and its lease;
//   - a read of the configuration table, the harness's
//     "config.QueryAtomic(FILTER) -> RESULT", whose RESULT (not an
//     error) is that of the previous read of the same FILTER in the run,
//     by any machine, but for renewals: the rows' ETags and heartbeats
//     (a lease's or the lock's "beat") aside, exactly the same (the same
//     leases with the same acknowledgements, the same lock owner, the
//     same state): it found nothing new; and a migrator's read of the
//     state row right after its own request stored a new state (the
//     report's "configuration: S stored", on that machine), which finds
//     S: it reads back what the report has just said;
//   - the scheduler's "clock jumps to +D": a jump inside a run of quiet
//     steps is folded with it, and the fold line names the clock at the
//     run's end. (A strategy's "clock advances by ...", a decision that
//     can fire a timer in the middle of work, is shown.)
//   - the main machine's "start process N \"name\"": the run's setup (a
//     restart is the scheduler's own event, and shown);
//   - "configuration: S stored" on a machine in the middle of its push
//     of S (its "push S: start" logged, its "push S: done" not yet): the
//     push did what its first line said it would;
//   - a pushing migrator's read of the leases that found the leases of
//     the previous read of them, none gone and none new, with nothing
//     changed but acknowledgements, each the same or later: the push
//     waiting for the versions it needs (its final read, on the step of
//     its "done", is shown with it);
//   - how a migrator's Run releases its lock as it returns: going back
//     from its "migrator: Run returned", over its waits, its reads of
//     the lock row that find the lock its own and its process's
//     lock-renew exits, up to anything else of the migrator's;
//   - a migrator's reads of the lock row that find it held by the
//     process its next "migrator: taking the lock: ... another migrator
//     is running: \"P\" ..." names (going back from that event over its
//     waits), and that event itself when it says word for word what the
//     migrator's previous one did since its last Run returned (the same
//     holder, the same instance);
//   - a read of the state row by a migrator process's lease poller
//     ("lease-poll"): how the lease service tells the migrator's own
//     client the states pushed (an application's poller is shown: when
//     an application learns a state is part of its story; so are a
//     migrator's lease and lock renewers, whose reads show a lease or
//     the lock lost);
//   - a read of the state row that found no row before any read found
//     one: a process waiting for the run's setup to create the
//     configuration;
//
// Never quiet, whatever their text: the events of the machine that
// failed (the failing check's machine, or the scheduler's failing
// machine) in the last TailSteps steps that logged something up to the
// failure, but for its waits, spawns and the clock's jumps and what a
// shown event of its says again (its lock found held, its lock
// released): what it read and stored is what it acted on last; and when the scheduler ended the run (a deadlock, a livelock,
// a step bound: no oracle's check) each machine's last event up to it,
// where it was left. Everything else is shown: calls and their returns,
// requests to the old and new tables, writes, a state stored other than
// by the push of it, a push's start and end, leases lost, fence
// refusals, faults, crashes, stalls, restarts, "CHECK FAILED", and any
// event not recognised above. The original world (no leases) folds no
// quiet step.
//
// In either world two more things shorten a listing without hiding an
// event: a step that only opened a stream ("old.QueryStreamed(...)")
// and the next step that logged something, when that begins with the
// same machine's first read of the stream finding its end, are one
// line, "old.QueryStreamed(...) -> end, no rows (opened at step N)"; and
// a retry loop's steps that differ only in how far the clock jumped
// repeat (the note of repetition names the clock at the loop's end), in
// the production world over the quiet steps of other machines between
// them too, which the note counts: "(the step above repeats 2 more
// times, to step 474, 1 quiet step folded; clock +5.525s)".
//
// In the production world a migrator's push with nothing shown between
// its "push S: start" and its "push S: done (...)" but its own reads of
// the configuration is one line, at the done's step:
//
//	step 106 [2 migrator]: push PREFER_OLD, steps 34-106: found USE_OLD_HIDE_METADATA (version 0); stored at step 39; leases at step 106: migrator acked 1, migrator2 acked 1; 22 quiet steps of migrator, lease-renew folded; clock +1s; done (err=<nil>)
//
// It says what the lines it stands for said, less the rows' ETags and
// heartbeats: the state the push found first, where it stored its
// state, the acknowledgements of the leases it read last (what it
// waited for; a lease missing there is a lease it did not wait for),
// and its first read of them too when a lease came or went in between,
// the quiet steps it folds, the clock, and the push's outcome. A push
// with other machines' lines shown between its start and its done
// (another push among them, summarised in its turn) leaves those lines,
// and the quiet steps around them, in place: its own start,
// configuration reads and the events of its done's step become one line
// at the done's step, with the step of each fact:
//
//	step 128 [1 migrator]: push PREFER_OLD, steps 37-128: found USE_OLD_HIDE_METADATA (version 0) at step 38; stored at step 42; leases at step 39: migrator acked 0, migrator2 acked 0; at step 128: migrator acked 1; done (err=<nil>)
//
// Any other event of the pushing machine between keeps the push as it
// is, line by line.
//
// ShownSteps counts the lines of steps a report shows up to the check:
// a step counting one however many events it logged, a fold line one, a
// push summary one (with the events of its step after it), a note of
// repetition none; when there are more than ShortRun, a report
// of the production world shows the last TailSteps of them. The full
// event log (mtabletest -v) is never folded.
//
// # Exploring
//
// Explore runs iterations 0..N-1; iteration i runs with seed
// sched.IterationSeed(Seed, i), so results, and the first failure
// reported, do not depend on the number of workers or on sharding.
// ExploreContext stops starting iterations when its context is
// cancelled and summarises the ones run, a prefix, as Interrupted.
// Validate (and Workload.Validate, which OptionsFromTrace applies to a
// trace file's parameters) refuses every value that could not run or
// would only exhaust the machine, so bad input is an error, not a panic.
// A failing iteration is replayed with its event log on for the report
// (WriteReport). OptionsFromTrace rebuilds the options from a trace file
// and Replay reruns it.
package harness
