// Package mtable is MigratingTable: a spec.Table that migrates the data
// of an old backend table to a new one live, while application
// processes keep using it, with every call linearizable. PROTOCOL.md
// section 3 (in the design notes) is its specification; this comment
// states what users can rely on and the choices the specification left
// open.
//
// # Guarantees
//
// A *Table (see New) presents one virtual table whose content is the old
// and new backends overlaid. Every ExecuteBatch and QueryAtomic behaves
// as if it ran atomically at one instant between its call and its
// return, on a single ordinary table (linearizability), whatever the
// mix of client states, concurrent callers and the Migrator's progress.
// A streamed query (QueryStreamed) gives the weak guarantee of
// spec.Stream: each row reflects the virtual table at some instant
// between the start of the query and the row's return.
//
// Internal rows (IsInternalKey) and metadata properties (IsMetadataProperty)
// are never shown to callers, and callers cannot write them: a batch
// that targets a reserved RowKey or sets a reserved property, and a
// filter that mentions a reserved property, fail with a 400 *spec.Error
// saying so (see Reserved names). A virtual batch holds at most
// spec.MaxBatch-1 = 99 operations, because a PREFER_OLD writer prefixes
// the caller's batch with one protocol operation. Otherwise errors
// follow spec.Table: a caller's outcome (400, 404, 409, 412) is a
// *spec.Error with the index of the caller's failing operation; any
// other failure (a backend fault, an unexpected backend status) wraps no
// *spec.Error, and says whether the call may have taken effect (see
// Backend errors).
//
// # Reserved names
//
// The library reserves every RowKey and every property name that begins
// with MetadataPrefix, "_mtable_" (case-sensitive): the RowKeys
// MetaRowKey and PopulatedAssertionRowKey and the properties
// DeletedProperty and PartitionStateProperty are in use; the rest of the
// prefix is kept for future internal rows and metadata. A row of the
// old table that uses a reserved name cannot be migrated: a row with a
// reserved RowKey would be hidden and never copied, and a reserved
// property would be stripped or misread as metadata. Such rows must not
// exist when the migration starts; the Migrator does not look for them
// (it would skip or strip them), so check the old table first, as the
// command cmd/mtable does ("mtable migrate -check", and migrate itself
// before its first push). From then on every writer goes through a
// Table, which refuses reserved names.
//
// # The five client states
//
// The configuration service (ConfigService, e.g. MemConfig) distributes
// one State to every client; the Migrator advances it one step at a
// time, and a push returns only when every client has acknowledged it.
// Every virtual call holds a non-acknowledging subscription for its
// whole duration, so a push also waits for the calls begun under the
// previous state. Adjacent states coexist safely.
//
//   - UseOldHideMetadata: reads and writes go to the old table only;
//     internal rows are hidden. Coexists with plain use of the old
//     table, but only until the first push: every process that uses the
//     old table directly must have stopped, or been redeployed as a
//     Table client, before the Migrator starts (a plain write to a
//     partition already switched would not show in the virtual table).
//   - PreferOld: reads overlay the new table on the old for partitions
//     marked SWITCHED. A write first marks its partition POPULATED, then
//     runs on the old table behind a populated assertion; if the
//     partition was switched meanwhile, it takes the new-table path.
//   - PreferNew: reads as PreferOld. A write switches its partition,
//     copies its rows from the old table if they are not yet in the new
//     one, and runs on the new table, leaving tombstones for deletes.
//   - UseNewWithTombstones: reads the new table only; writes still
//     switch the partition and leave tombstones for PreferNew readers.
//   - UseNewHideMetadata: reads the new table only, hiding tombstones;
//     writes create no tombstones (see below) and cope with existing
//     ones. Once the Migrator has finished, it coexists with plain use of
//     the new table.
//
// # Metadata
//
// In the old table, a partition's meta row (MetaRowKey) holds its
// PartitionState; while POPULATED the row PopulatedAssertionRowKey
// exists too. In the new table a row with DeletedProperty=true is a
// tombstone: it shadows the old row with its key and means "absent".
//
// # Choices this package makes
//
//   - DeleteIfExists must be the only operation of its batch, as
//     spec.Table requires (a 400 otherwise, before anything is sent):
//     Azure cannot assert that a row is absent inside a multi-operation
//     transaction without writing it. Alone it is exact in every state:
//     in UseOldHideMetadata it goes to the old table as it is; in
//     PreferOld, on a partition not switched, it is sent after the
//     populated assertion as Delete "*", and a 404 on it is its success
//     (at that instant the assertion held and the row was absent); on
//     the new-table path a row read as absent in UseNewHideMetadata makes
//     the read the linearization point, and nothing is sent. The
//     original library dropped a DeleteIfExists of an absent row from the
//     translated batch, which is not linearizable among other operations
//     (a row inserted between the read and the batch survives it) and
//     sends an empty batch alone: BugDeleteIfExistsHideMetadata restores
//     that (reachable alone: the empty batch). An earlier version of
//     this package accepted DeleteIfExists among other operations and
//     asserted an absent row's absence in UseNewHideMetadata by inserting
//     a tombstone in the batch and deleting it right after, which a
//     plain client of the new table could see (and a plain Insert of
//     that key would get 409); BugDeleteIfExistsGuardTombstone restores
//     that.
//   - InsertOrMerge in UseNewHideMetadata is translated against the row
//     read (Insert, Replace of a tombstone, or Merge conditioned on the
//     ETag) so that no metadata is written after clean-up; earlier
//     states send InsertOrMerge with DeletedProperty=false, which revives a
//     tombstone it lands on.
//   - Writes in UseNewHideMetadata do not switch the partition: every
//     client reads only the new table by then, and the Migrator may be
//     emptying the old table, where a new meta row would be left behind.
//   - A streamed query reads the old table only while it is in
//     PreferOld or PreferNew: on applying UseNewWithTombstones it closes
//     its old-table stream and restarts its new-table stream at the
//     continuation key. PROTOCOL.md 3.5 does this on UseNewHideMetadata,
//     which is unsafe: once the stream has acknowledged
//     UseNewWithTombstones, clients in UseNewHideMetadata may delete
//     rows without tombstones before the stream hears of that state, and
//     the deleted rows' old versions would show through. Every old row
//     has been copied before UseNewWithTombstones is pushed, so the new
//     table alone is complete by then.
//   - The write path's retry loop (a translated batch, or a probe,
//     failing because a row changed since it was read) gives up after
//     MaxAttempts consecutive failures with an error, rather than
//     spinning forever when the backend keeps refusing the batch for
//     another reason.
//   - When no row of a batch needs copying from the old table, the read
//     of the new table made to decide that is also the read the batch is
//     translated against (PROTOCOL.md 3.3 reads the rows again).
//   - Clean-up rewrites only live rows that carry metadata.
//
// # What a call reads
//
// A call reads what it names, never a whole partition unless the caller
// asked for one, so that it works on partitions of any size. Azure
// accepts at most 15 comparisons in a filter (spec.MaxComparisons) and
// answers at most 1,000 rows a page; an atomic query of the backend must
// fit in one page (otherwise its error wraps spec.ErrMultiPage).
//
// A batch in USE_OLD_HIDE_METADATA, and in PREFER_OLD on a partition
// not yet switched, runs on the old table and reads nothing. On the
// new-table path it reads the partition's meta row (except in
// USE_NEW_HIDE_METADATA), then its rows from the new table, 14 at a time,
// with "PartitionKey eq 'p' and (RowKey eq 'r1' or ...)"; in PREFER_OLD
// and PREFER_NEW it reads each chunk of rows from the old table first, to
// copy those not yet in the new one. A batch of n operations thus costs
// about n/14 reads of the new table (twice that in PREFER_NEW), then the
// write. Up to 99 operations work in every state. WithKeysPerRead names
// fewer rows a read (with 1, every read of a batch's rows is a point
// query).
//
// Rows read in several chunks are read at several instants. A translated
// batch is conditioned on every row it depends on (the ETag read, or an
// Insert for a row read as absent), so its success linearizes the call
// whatever the chunking. A semantic error (404, 409 or 412 at caller
// operation i) is different: it is the caller's outcome only if at one
// instant operation i fails while operations 0..i-1 succeed. When the
// rows of every conditional operation (Insert, Replace, Merge, Delete)
// among 0..i came from one read, that read is the instant. Otherwise the
// error is confirmed by a probe: one batch on the new table holding, for
// each of those rows, an operation that succeeds exactly when the row is
// as read (a Merge with no properties If-Match its ETag; for a row read
// as absent, the Insert of a tombstone), then a Merge of the reserved
// row ProbeRowKey If-Match an ETag no service issues, which always fails.
// Nothing is applied. If the probe fails at its last operation, every
// row held as read at that instant, and the error is linearized there;
// if it fails earlier, a row changed and the batch reads its rows again.
//
// An atomic query in USE_OLD_HIDE_METADATA, USE_NEW_WITH_TOMBSTONES and
// USE_NEW_HIDE_METADATA is one query of one backend with the caller's
// filter. In PREFER_OLD and PREFER_NEW, with the filter "PartitionKey eq
// 'p' and g", it reads the old table with "PartitionKey eq 'p' and
// (RowKey eq MetaRowKey or g)". If the partition is not SWITCHED, that
// read is the answer. If it is, the old rows no longer change, and the
// new table is read with the caller's filter. A new row shadows its old
// twin even when it fails the filter, so each old row the answer could
// show must have its key settled: the read returned a row with that key
// (the twin exists then), or g names the key (g would have returned the
// twin), or the key is read by name. When the read with the caller's
// filter settles every key, as it does once the partition has been
// copied and while the rows still match, it is the linearization point,
// and the query costs one read of each table with (about) the caller's
// filter. Otherwise the new table is read again (the linearization
// point) with "PartitionKey eq 'p' and (g or RowKey eq 'k1' or ...)",
// naming only the unsettled keys: a key the first read returned stays
// present while any client reads the old table (deletes leave
// tombstones), so its old row stays shadowed. When the unsettled keys do
// not fit in the 15 comparisons, they are first looked up in the new
// table, 14 at a time, so that only the absent keys need naming, and
// when even those do not fit their old rows are copied to the new table
// first, as a writer would (the virtual content is unchanged; the rows
// get new ETags). In PREFER_NEW, a query whose g is a list of keys
// ("RowKey eq 'k1' or ...", a point query) reads the new table first,
// with the caller's filter: when that returns a row (or tombstone) for
// every key named, it is the answer and the linearization point, since
// a partition's rows reach the new table only once it is SWITCHED
// (writers and the Migrator switch it first, and the new table starts
// empty, as "mtable migrate" checks); otherwise the query goes
// on as above, one read dearer. A filter with all 15 comparisons leaves
// no room for the meta row: its meta row is read first, and on a partition not yet
// SWITCHED the old table's whole partition is read instead (which fails
// on a partition larger than a page), so keep atomic queries to 14
// comparisons.
//
// An atomic query whose answer genuinely spans more than one page fails
// with an error that wraps spec.ErrMultiPage, not a *spec.Error: a table
// cannot give such an answer at one instant. A caller that needs all of
// it uses QueryStreamed, which reads page after page with the weaker
// guarantee of a stream, or splits the filter (RowKey ranges) into
// queries that each fit in a page.
//
// A streamed query reads the old table with the caller's filter, and in
// PREFER_OLD and PREFER_NEW also every row of the new table from the
// continuation key on (of the caller's partition when the filter
// targets one, of the whole table otherwise), since a new row that fails
// the filter must still shadow its old twin. Its cost there is the rows
// of the new table it passes, not the rows it returns. Once it reads the
// new table alone (from USE_NEW_WITH_TOMBSTONES on), the caller's filter
// goes to the backend with the continuation key, when the two fit in 15
// comparisons (the filter then holds at most 10), so the cost is that of
// a plain streamed query.
//
// # Backend errors
//
// A backend call fails in the three ways of spec.Table (spec.Classify):
// refused (a *spec.Error), not applied (spec.ErrNotApplied), or with an
// unknown outcome (spec.ErrOutcomeUnknown, or any unclassified error).
// The library retries a step itself, at most MaxBackendAttempts tries in
// all, waiting RetryBackoff, then twice that, and so on between tries
// (sched.Sleep: virtual time under the deterministic scheduler), but only
// after a failure the backend classified (one that wraps
// spec.ErrNotApplied or spec.ErrOutcomeUnknown: the Azure adapter
// classifies all of its failures) and while the call's ctx is not done;
// an unclassified error (a fence's refusal, for instance) is not retried,
// and counts as an unknown outcome where that matters. It retries as
// follows:
//
//   - reads (every backend QueryAtomic, a meta row's retrieve): on a
//     not-applied or unknown failure (a read applies nothing); never on
//     spec.ErrMultiPage, a definite answer;
//   - marking a partition POPULATED (PREFER_OLD) and copying a row to
//     the new table: on either, since both are Inserts whose 409 means
//     "already there" (perhaps by our own earlier try);
//   - ensure-switched: after a failed write it reads the meta row again,
//     which shows whether the write applied, and decides again;
//   - the probe batch (it never applies): on either;
//   - the linearization-point candidate write (the USE_OLD_HIDE_METADATA
//     batch, the PREFER_OLD batch behind the populated assertion, the
//     translated batch of the new-table path): only when not applied.
//     The translated batch is then read and translated again (the rows
//     may have changed meanwhile); so it is after a 404, 409 or 412 that
//     a concurrent writer caused (at most MaxAttempts times in a row).
//
// The Migrator retries each of its steps the same way (see
// Migrator.Run) and returns only definite errors: a Run that failed at
// any point leaves the tables in a state that a later Run finishes.
//
// No retry can apply a write twice: the candidate is sent again only
// after a failure that certainly did not apply it, and every other write
// the library repeats is an Insert (a second try that meets the first's
// row gets 409, which is taken as done) or is decided again from a
// fresh read. Streamed queries (QueryStreamed, Stream.Next) are not
// retried: a failed page, which applied nothing, is returned to the
// caller, who may restart the query at the stream's Continuation.
//
// A call returns, besides its table outcome or success:
//
//   - an error wrapping ErrOutcomeUnknown (and spec.ErrOutcomeUnknown,
//     and the backend's error; spec.Classify: Unknown) exactly when its
//     linearization-point candidate write failed with an unknown outcome:
//     the call took effect there, once, or not at all; retrying it
//     blindly could apply it twice. Only ExecuteBatch returns it.
//   - any other error (a backend failure after the retries above, a
//     read that failed, a configuration service that failed, a fence
//     that refused to send): a definite error, spec.Classify NotApplied,
//     wrapping spec.ErrNotApplied and the backend's error (never a
//     backend *spec.Error, which is flattened into the text): the call
//     did not take effect. (Writes it made before failing, such as
//     copies and partition marks, do not change the virtual table.)
//
// A Monitor that implements CandidateMonitor can judge calls with
// unknown outcomes exactly: before each send of a candidate write it is
// told (AnnotateCandidate, with the backend batch and the mapping from
// its results to the caller's) that if that write applies, the virtual
// call takes effect there; after it, AnnotateBackendCall reports a
// linearization point (the write applied, or was refused with the
// call's table outcome), nothing (not applied: the call goes on or
// fails definitely), or an Annotation with OutcomeUnknown set (the call
// returns ErrOutcomeUnknown; it took effect exactly when that write
// applied, which an observer of the backend can know). A copy whose
// earlier try had an unknown outcome and then meets 409 reports its
// ETag change with ETag "" (unknown).
//
// # Fencing
//
// A ConfigService shared through leases (package mtable/leaseconfig) is valid
// in a process only while the process renews its lease; once the lease
// may have expired, other processes may treat the process as gone and
// move the migration on, and a request the process sends then could take
// effect in a state it no longer belongs to (a stalled migrator copying
// a row that clients have deleted since, for example). Such a service
// implements Fencer: New and NewMigrator pass their backends through
// its Fence, which sends a request only while the lease is surely valid
// and fails it, unsent, otherwise. To the caller of a virtual call, a
// request refused by the fence is a backend failure like any other (see
// Backend errors): a fence's refusal that wraps spec.ErrNotApplied is
// retried where not-applied failures are and otherwise ends the call
// with a definite error; one that does not is taken as an unknown
// outcome, so a refused candidate write makes the call return
// ErrOutcomeUnknown.
// MemConfig, whose clients share memory, has no fence. The
// subscription bookkeeping every service needs in a process (the
// subscriptions of its calls and streams, the delivery of a state to
// them) is Subscriptions, which MemConfig and leaseconfig share.
//
// # Monitoring
//
// After every backend call made on behalf of a virtual call or of the
// Migrator — every backend ExecuteBatch, QueryAtomic, QueryStreamed and
// Stream.Next, each try of a retried step included — the library calls
// Monitor.AnnotateBackendCall exactly once, with the ctx of the call. In
// each ExecuteBatch or QueryAtomic that returns a table outcome or
// success exactly one annotation has LinearizationPoint set; for a
// successful batch it carries the results the caller gets. Copies and
// clean-up rewrites report ETagChanges. A call refused before any
// backend call (a caller error found by validation: a 400) reports
// nothing. Streamed queries never report a linearization point. Annotations of a streamed query's reaction to a
// push carry the ctx of the machine delivering the push. A call whose
// linearization-point candidate failed with an unknown outcome reports
// no linearization point but an annotation with OutcomeUnknown, and a
// Monitor that is a CandidateMonitor also hears of each candidate before
// it is sent (see Backend errors). Without WithMonitor nothing is
// reported.
//
// # Waiting
//
// The package waits only through the controlled primitives of package
// sched (and starts goroutines only with sched.GoNamed), which find the
// running machine from the calling goroutine, so it runs unchanged under
// the deterministic scheduler; outside a scheduler they are ordinary Go
// primitives.
//
// # The production procedure
//
// Starting from a live application that uses the old table directly:
//
//  1. Provide the backends as spec.Table values (for Azure Table
//     storage, the adapter in mtable/aztable; the new table empty) and
//     a ConfigService that
//     every process shares: leaseconfig.Open keeps the state in a table
//     (any spec.Table), with a renewed lease per process on which it
//     acknowledges pushes (MemConfig serves processes that share memory). The command
//     cmd/mtable ("mtable migrate", "mtable status") runs steps 2 and 4
//     against Azure.
//  2. Set the configuration service to UseOldHideMetadata, the initial
//     state (for MemConfig: NewMemConfig(UseOldHideMetadata)).
//  3. Switch the application processes, one at a time, to
//     New(old, new, cfg) over the same tables and service. In the
//     initial state a *Table behaves as direct access to the old table,
//     so switched and unswitched processes coexist; all must be switched
//     before step 4.
//  4. In one migrator process, call NewMigrator(old, new, cfg).Run(ctx).
//     If the process dies, run it again: it resumes from the state the
//     configuration service holds. When Run returns nil, the new table
//     holds the data without metadata and the old table is empty.
//  5. Switch the application processes, one at a time, to direct access
//     to the new table (a *Table in UseNewHideMetadata coexists with
//     it), then delete the old table.
//
// # Bug switches
//
// WithBug re-introduces one of the catalogued mistakes (Bug, Bugs,
// ParseBug) so that the verification harness can show it catches it.
// BugQueryStreamedSaveNewConfig is believed benign: the stream's
// recorded state then stays at the one it started in, so every later
// push re-fires the branches of the push handler whose condition holds
// for that state. Each such branch re-opens the new-table stream at the
// continuation key (only re-reading rows not yet returned) or closes an
// already closed old-table stream; and since pushes arrive in order,
// every branch that must fire fires on the same push as without the bug.
//
// The lease bugs (13 to 16, 18 and 19, Bug.Lease) are mistakes of the lease-based
// configuration service (package mtable/leaseconfig, which its
// Options.Bug selects) and of a migrator that lost its lease and runs
// again: BugMigratorResumeFromMemory, selected here with WithBug for
// NewMigrator, makes a Migrator whose Run is called again go on from the
// state it last pushed instead of the configuration's. With MemConfig
// they change nothing.
package mtable
