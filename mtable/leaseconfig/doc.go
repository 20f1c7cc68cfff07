// Package leaseconfig is the lease-based configuration service of
// MigratingTable: an mtable.ConfigService kept in a table, so that
// processes that share no memory share one migration state. It works
// over any spec.Table (for Azure Table storage, a table of package
// mtable/aztable) and contains no code of any particular service.
//
// Each process opens one Service (Open) and hands it to every
// mtable.Table it creates (mtable.New); the migrator process also takes
// the migration lock (LockMigrator) and runs mtable.NewMigrator with
// MigratorConfig. ReadStatus reports the stored configuration.
//
// # Rows
//
// In one partition (Options.Partition) of the configuration table: the
// row "state" holds the current mtable.State, a version that every push
// increments, and the pair of tables (Options.Old, Options.New) the
// configuration belongs to; it is only ever changed with If-Match. Each
// process holds a row "lease-<ClientID>.<instance>" that it renews every
// PollInterval and on which it records the latest version it has
// applied ("acked"). The row "migrator" is the migration lock.
//
// # Leases and acknowledgements
//
// A process learns of a new state by reading the state row every
// PollInterval (or by pushing it). It then applies it: new calls get it
// at once (Subscribe), every local mtable.Subscriber gets Apply, and the
// process waits until every subscription begun under an earlier state
// has been cancelled (a virtual call holds one for its whole duration)
// and every Subscriber has returned from Apply (mtable.Subscriptions),
// then until no write of the process whose outcome is unknown (timed out
// or cut off) can still take effect: MaxInFlight after it was sent. Only
// then is the version applied, and the next renewal acknowledges it.
//
// # Pushes
//
// Push first settles the current version (Settle): it waits until every
// lease in the partition has acknowledged it, treating as gone a lease
// that shows no renewal for LeaseTTL, as measured on the pushing
// process's own clock from the moment it first saw the lease's current
// version; it deletes such a lease with If-Match, so a renewal that
// races with the deletion wins. Then it writes the new state with
// If-Match on the state row it settled (a concurrent push makes it start
// over), applies it locally, and settles it in turn. A crashed client
// therefore delays a push by at most about LeaseTTL + PollInterval.
// States only advance: an earlier state is refused; pushing the current
// one again only settles it. A request of a push or of Settle (and the
// read of the state row in MigratorConfig's Subscribe) that fails with
// a transient error (spec.ErrNotApplied or spec.ErrOutcomeUnknown, not a
// fence's refusal) is tried again as the library retries a backend step,
// at most mtable.MaxBackendAttempts tries, waiting mtable.RetryBackoff
// and twice that and so on, while ctx is not done: reads apply nothing;
// the state write's If-Match turns a second try that meets the first's
// write into a 412, after which the state read again shows it; the
// deletion of an expired lease is tried again at the next look.
//
// # The migration lock
//
// The row "migrator" is a lease for one migrator, renewed every
// PollInterval, taken over (If-Match on the row watched) by another
// migrator once it has shown no renewal for LeaseTTL on that one's
// clock; it names the holder's ClientID and instance. The holder's
// requests go through the lock's fence (Lock.Fence, MigratorConfig), and
// while the lock is held its Service writes pushed states through it.
//
// # One pair of tables per configuration
//
// The state row records the Identities of the old and new tables when
// it is created; Open refuses, with ErrOtherTables, a process that names
// another pair (and, with Options.ConfigTable, a configuration table
// that is the old or the new table). The default partition is the same
// for every pair on purpose: two processes that spelled one table
// differently meet in the same partition and the second is refused,
// rather than each following a migration state of its own. A second
// migration that shares a configuration table names its own Partition.
//
// # Fencing
//
// Only durations measured by one clock are compared, never two
// processes' clocks. The holder of a lease (a process's lease, or the
// migration lock) counts it valid until LeaseTTL after the start of its
// last successful renewal, on its own clock; any other process
// considers it expired only after it has seen it unchanged for LeaseTTL
// on its clock, which begins after that renewal took effect. A request
// the holder sends at time t may take effect until t + MaxInFlight, and
// the holder's clock may run slow against the other's by ClockSkew over
// a lease. So the fence (Service.Fence, Lock.Fence) sends a request only
// while
//
//	now + MaxInFlight + ClockSkew < validUntil
//
// and every request it lets through takes effect before anyone can act
// on the lease's expiry. Requests are refused without being sent once
// the fence has closed, and cut off (outcome unknown) if still in flight
// when it closes; both errors wrap ErrFenced. Every request through a
// fence has a deadline of RequestTimeout on the caller's clock
// (sched.WithTimeout: virtual time under the scheduler). The fence is
// checked once more as the request goes out: its context carries the
// check (spec.WithSendCheck), which a network adapter calls as late as
// it can (the Azure adapter: as the request is handed to the transport
// and before each read of its body). That check cannot be atomic with
// the write to the network: a process stopped in the few instructions
// between the last check and that write, for longer than the fence's
// remaining time, still sends its request late.
//
// Close and Lock.Release close their fence for good, then wait until no
// request it let through can still take effect before deleting the
// lease: the next holder of a released lock starts at once.
//
// # The lease condition
//
// Open (and CheckOptions) refuse options that break
//
//	LeaseTTL > PollInterval + RequestTimeout + MaxInFlight + ClockSkew
//	MaxInFlight >= 2 × RequestTimeout
//
// naming the term to change, and a configuration table that reports
// (spec.RequestTimeouter) a longer request timeout than RequestTimeout;
// each fence refuses such a table too. The terms, and on whose clock
// each is measured:
//
//   - LeaseTTL: how long a lease lives without renewal. The holder
//     measures it on its clock from the send of its last successful
//     renewal (the fence); every other process on its own clock from its
//     first sight of the lease's current version (expiry). The same in
//     every process.
//   - PollInterval: the holder's renewal period, on its clock; also how
//     often states are read and leases watched.
//   - RequestTimeout: the longest any request of the process is waited
//     for, on its clock: each renewal is answered (or abandoned) within
//     it.
//   - MaxInFlight: the longest a request may take effect after it is
//     sent — an assumption about the backend, not a measurement. On
//     Azure a request can reach the service while the client waits for
//     it (RequestTimeout) and the service gives up on it after the
//     server-side timeout the adapter asks for (RequestTimeout again):
//     hence at least 2 × RequestTimeout. The fence charges it on the
//     holder's clock.
//   - ClockSkew: how much the holder's clock may run slow against another
//     process's over one LeaseTTL (rate drift; a machine suspended by its
//     host, which a monotonic clock does not count), an assumption. A
//     stopped process (SIGSTOP, a stall) is fine: its clock runs on. A
//     constant offset between clocks does not matter: only durations are
//     compared.
//
// # What the condition buys, and the proof sketch
//
// The property the protocol relies on (adjacent states coexist, states
// two apart do not): once a version v+2 has been written to the state
// row, no backend request made under version v or earlier is sent or
// takes effect. (A request is made under version u when the call that
// makes it subscribed while u was the process's newest state, or, for a
// Subscriber, after it acknowledged u.) This holds for any option
// values, given the two assumptions (MaxInFlight, ClockSkew). Sketch:
// the pusher P of v+2 settled v+1 first: it read the state row at
// version v+1, then the leases, and each lease then present had
// acknowledged v+1 or was deleted by P after P saw it unchanged for
// LeaseTTL. Take any process Q with a request R made under u <= v.
//
//  1. Q's lease had acknowledged a >= v+1. Q acknowledges a only after
//     every subscription begun under an earlier version was cancelled —
//     so every call under u had ended, and R had been sent — and after
//     every write of Q with an unknown outcome had passed its send +
//     MaxInFlight; calls that subscribe later get a version >= a. So R
//     was sent and took effect before the acknowledgement, which P read
//     before writing v+2.
//  2. P deleted Q's lease at instant d, having seen the version left by
//     Q's renewal sent at s unchanged for LeaseTTL on P's clock. The
//     deletion is conditioned on that version, so no later renewal of Q
//     took effect before d, and none can after: Q's validity is at most
//     s + LeaseTTL on Q's clock. Q's fence sent R at h only if h +
//     MaxInFlight + ClockSkew < s + LeaseTTL (Q's clock), so R took
//     effect by h + MaxInFlight, less than LeaseTTL - ClockSkew after s
//     on Q's clock, hence before LeaseTTL had passed after s on P's clock,
//     hence before d, before v+2 was written. After d Q's fence stays
//     closed.
//  3. Q's lease was not there. Either Q registered it after P's read of
//     the leases and read the state row afterwards, at version >= v+1, so
//     it never had u; or it had been deleted before, by an earlier pusher
//     (case 2) or by Q's Close, which closes the fence and waits until
//     everything it let through has landed before deleting the lease.
//
// A migrator's requests are made under the state it last pushed (or
// read when it started): it pushes the next state only once they have
// returned, those of unknown outcome drain before its own process
// acknowledges the next state (so before the one after can be written),
// and they go through the lock's fence, so that a migrator whose lock
// was taken over (case 2, for the lock) or released (Release waits as
// Close does) lands nothing after its successor starts.
//
// The inequality is not needed for that property; it is what makes the
// fence compatible with serving. A renewal sent at most PollInterval
// after the previous one and answered within RequestTimeout extends the
// lease before the fence, which closes MaxInFlight + ClockSkew before
// the lease's end, has closed: LeaseTTL > PollInterval + RequestTimeout
// + MaxInFlight + ClockSkew keeps the fence of a process that renews on
// schedule always open. It also keeps a lease renewed on schedule from
// being judged expired by any pusher, whose clock sees the lease's
// version change at least every PollInterval + RequestTimeout, plus up to
// ClockSkew. What breaks safety is options that understate the world: a
// backend that applies a request later than MaxInFlight after it was
// sent, or clocks that drift apart by more than ClockSkew over a lease.
// The defaults satisfy the condition with room for about 28 failed
// renewals in a row.
//
// # Crashes and stalls
//
// A process that crashes (its memory lost, its lease and lock rows left
// in the table) is waited for by pushes until its lease expires; its
// requests in flight land before that (case 2). A migrator that crashes
// holding the lock is replaced after LeaseTTL; mtable.Migrator.Run
// resumes from the stored state and settles it again, so a state written
// by the crashed migrator but not yet acknowledged everywhere is waited
// for. A process stalled (stopped, suspended, not scheduled) for less
// than its fence's margin notices nothing. One stalled longer finds its
// fence closed when it wakes (its clock has advanced): it sends nothing,
// its calls fail with an error wrapping ErrFenced; once a pusher has
// deleted its lease, its next renewal finds that out and Subscribe fails
// with ErrLeaseLost, and it must Open again. A stalled migrator's lock
// is taken over; its Lock.Context is cancelled when it notices. With a
// fair schedule and finitely many faults every push completes (each
// lease is acknowledged or expires), provided every call ends: a call
// that never returns holds its process's acknowledgement forever.
//
// # Under the scheduler
//
// The service waits only on package sched's primitives (Mutex, Chan,
// Select, WaitGroup, Once, timers, tickers, Sleep) and reads time only
// through it (sched.Now, sched.WithTimeout), so it runs unchanged in
// production (real time, real goroutines) and under the deterministic
// scheduler, where its loops are daemon machines of the calling process
// ("lease-renew", "lease-poll", "lease-apply", "lock-renew") and a
// process crash, stall or restart affects it as it would a real
// process. Its only durable state is the configuration table: a harness
// keeps that table in the root process and lets every request take
// effect atomically after a scheduling point, calling spec.CheckSend
// after it. The instance nonce is random outside a run and, under one,
// derived from the machine and the step, so runs are reproducible;
// nothing iterates a map.
//
// # Bug switches
//
// Options.Bug re-introduces one of the service's catalogued mistakes,
// for the verification (mtable.Bug.Lease): BugPushExpiresLeaseEarly
// (settling deletes a lease that has not acknowledged once it has seen
// it unrenewed at two looks, one PollInterval apart, instead of waiting
// out LeaseTTL), BugServeAfterLeaseExpiry (Subscribe does not check the
// lease and Fence lets every request through), BugMigratorLockNoIfMatch
// (a takeover of the lock overwrites whatever row is there),
// BugMigratorResumeFromCachedState (MigratorConfig's Subscribe returns
// the state this process last polled, not the stored one, so a migrator
// that takes the lock over after another advanced the state resumes from
// an earlier state, whose push is refused: found by the harness's
// production world), BugConfigNoRetry (a push, Settle and
// MigratorConfig's Subscribe give up at the first request to the
// configuration table that fails transiently, instead of retrying it
// as the library retries a backend step: found by the harness's backend
// faults). BugMigratorResumeFromMemory is the Migrator's
// (mtable).
package leaseconfig
