// Package linearizability decides whether a concurrent history of calls
// is linearizable with respect to a sequential model, and provides a
// model of spec.Table.
//
// The checker needs no annotations from the system under test: it only
// sees each call's invocation and response. It is the Wing & Gong search
// as improved by Lowe (a list of call and return events, with
// memoization of visited configurations), split into independent parts
// by P-compositionality (Horn and Kroening), in the style of Porcupine.
//
// # Vocabulary
//
// A history is a list of operations. An operation is one call made by
// a client: its input, its output, and two times, Call and Return, in
// any int64 unit that orders events (this project uses the scheduler's
// step numbers). Call == Return is allowed: the operation is an
// instantaneous event, such as a change recorded by a test harness.
//
// An operation a precedes an operation b when a.Return < b.Call.
// Operations of which neither precedes the other are concurrent; in
// particular operations touching at one instant (a.Return == b.Call)
// are concurrent. The events of a history are ordered by time, a call
// before a return at the same time (ties among calls, or among returns,
// broken by position in the history).
//
// A pending operation is one that never returned: its Return is
// Pending (the largest int64) and its output is unknown. It may or may
// not have taken effect.
//
// A linearization of a history is a sequence holding every operation
// that returned and any subset of the pending ones, in which each
// operation comes after every operation that precedes it, and which the
// model accepts when the operations are applied one after another from
// its initial state (Model.Step for returned operations, with their
// recorded outputs; Model.StepPending, when set, for pending ones). A
// history is linearizable when it has a linearization.
//
// The prefix of a history at one of its events holds the operations
// called before that event, with their recorded outputs; those that
// return after it are optional, like pending ones (a linearization of
// the prefix may include them or not). A prefix is linearizable when it
// has such a linearization; every prefix of a linearizable history is
// linearizable.
//
// # Results
//
// Check returns a Report whose Result is one of:
//
//   - Ok: the history is linearizable.
//   - Illegal: it is not. The report gives the shortest violating
//     prefix: Failed, the operation whose return is the first event at
//     which the prefix is not linearizable (the prefix just before that
//     return is linearizable, and none of its linearizations can be
//     followed by Failed); Prefix, one linearization of the prefix just
//     before it, with the model state after each operation; and
//     Explanation, both as text.
//   - Unknown: the budget ran out first (see Budget and Partitions).
//
// # Budget
//
// The budget is a number of search steps, never wall time, so a verdict
// is reproducible. A search step is one visit of an event by the
// search: trying to linearize an operation next (one call to Step or
// StepPending, plus a memoization lookup when the model accepts), or
// reaching a return that forces a backtrack. A linearizable history
// with little concurrency needs about one step per event; the search is
// exponential only in the number of mutually concurrent operations
// (pending ones included: a pending operation is concurrent with every
// operation called after it).
//
// # Partitions
//
// When the model has a Partition function, the history is split into
// parts that are checked separately, each from the initial state (which
// is sound when the parts act on disjoint pieces of state, as the
// partitions of a table do). The history is Ok when every part is, and
// Illegal when some part is.
//
// The steps of the parts are counted in lockstep order: round 1 holds
// the first step of each part, in Partition's order, round 2 the second
// step of each part that is still undecided, and so on. The check ends
// at the first of these steps:
//
//   - the step that proves a part illegal: the result is Illegal, and
//     the report describes that part (the one proved illegal in the
//     fewest steps, the lowest index among equals), whatever the others
//     would have shown;
//   - step Options.MaxSteps: the result is Unknown, and Undecided lists
//     the parts not decided by then;
//   - the last step, every part linearizable: the result is Ok.
//
// So a part whose search is hard neither spends the budget of the
// others (each part gets at least MaxSteps/Parts steps, and the steps a
// part that finished early did not need go to the others) nor hides a
// violation that another part shows in fewer steps. Report.Steps is the
// position of the last step in that order.
//
// Parts are searched in parallel by Options.Workers goroutines (by
// default GOMAXPROCS), each part's search advancing in chunks; a part
// runs only as far as the lockstep order needs. So the model's
// functions may be called concurrently, for different parts.
//
// # Determinism
//
// The search of a part visits events in the order above and operations
// in a fixed order, and never iterates over a map, so the same model,
// history and MaxSteps give the same Report, Steps included, whatever
// the number of workers and however the scheduler interleaves them.
//
// # The table model
//
// TableModel specifies spec.Table with spec's own sequential semantics
// (spec.ApplyBatch, spec.Matches): ExecuteBatch, QueryAtomic, Retrieve,
// and ETag-change events recorded by a harness when a backend write
// gives a row a new ETag without changing its content. It partitions by
// PartitionKey. ETags are not predictable, so a successful write's new
// ETag is taken from its recorded result and then checked against what
// later calls observe. The ETags a pending batch wrote are unknown: the
// model keeps what later calls reveal about them (a value a read
// returned or an If-Match passed, values a 412 excluded), so it accepts
// a history exactly when some choice of those ETags explains it (see
// TableModel).
//
// To record a table history, build each operation with Batch, Query,
// Retrieve or Stream when the call returns (or, for calls that never
// returned, with Return set to Pending), passing the call's results and
// error unchanged: an error that is not a *spec.Error makes the call
// pending. Filters must not compare Timestamp: the model does not know
// the Timestamps of rows written during the history (a write reports
// only its ETag), so CheckTable refuses them.
// Record an ETagChange at the step of every backend write that changes
// the ETag a reader of the table would see for a row without changing
// the row's properties (for MigratingTable: a migrator's copy, a
// clean-up). CheckTable validates the history and checks it.
//
// # Calls
//
// TableCall is a call on a spec.Table (a batch, an atomic query, a
// retrieve, a streamed query) or an ETag-change event. String prints it
// in a form ParseTableCall reads back, e.g.
//
//	batch[Insert 'p'/'1' {a=1}, Replace 'p'/'2' if-match "e1" {b=true}, DeleteIfExists 'p'/'3']
//	query((PartitionKey eq 'p') and (a gt 5))
//	retrieve('p'/'1')
//	stream((RowKey ge '2') and (not (d eq 1.5)))
//	etag-change('p'/'1', "e9")
//
// and this one form is used by the harness's reports and workload, by
// explanations, and by recorded histories.
//
// # Recorded runs
//
// A TableRecord is everything recorded about one run: the initial
// content, the calls (atomic calls and streamed queries) and ETag-change
// events, every change of the table's content (when Tracked), and the
// content at the end (Final), with what a plain reader of the backing
// store sees then (Plain) and rows that must not remain (Stray).
// CheckTableRecord judges it without trusting anything else: the search
// above over the atomic calls, with a closing read of each Final
// partition after every other event (so an acknowledged write that was
// lost is caught even when no call read it again); each streamed query
// against the revisions of the content since it began (spec.Stream's
// guarantee: every row a version of that row matching the filter
// in one of them, no key skipped that matched in all of them,
// continuation keys moving forward); the ETag each successful write
// reports against the changes made during the call; and the end state.
// Its verdict is Illegal when any of these fails, Unknown when only the
// search ran out of budget.
//
// FormatTableRecord prints a record in a line-based text form that
// ParseTableRecord reads back, so a run can be saved and judged again,
// here or by another checker; the files in testdata/ are re-checked on
// every test run. The lines, in the order printed (comments start with
// '#'):
//
//	tracked                                       Changes lists every change of the content
//	initial 'p'/'1' "e1" {isHappy=false}          a row at the start: key, ETag, properties
//	op CLIENT CALL RETURN CALLTEXT -> OUTCOME     an operation; RETURN is "pending" if it never returned
//	change AT 'p'/'1'@"e2" {isHappy=true}         the content's row becomes this version at time AT
//	change AT 'p'/'1' absent                      the row is removed at time AT
//	final 'p' [ROW, ...]                          partition 'p' at the end, rows in key order
//	plain 'p' [ROW, ...]                          a plain read of the backing store's partition at the end
//	stray [ROW, ...]                              rows that remain at the end and must not
//
// A ROW prints as 'p'/'1'@"e1" {name=literal ...}. CALLTEXT is
// TableCall.String's form; an ETag change has no "-> OUTCOME". An
// OUTCOME is "?" (pending), a failure ("412 at 0", "400": status and
// failing index; code and message are not kept), "ok [ETAG, ...]" for a
// successful batch, or [ROW, ...] for a query or retrieve. A streamed
// query's OUTCOME lists its answers, each with its time, then a ROW or
// "end", then optionally "cont" and the continuation key reported right
// after it, and may end with a failure:
//
//	op 4 8 12 stream(isHappy eq true) -> [10 'p'/'1'@"e2" {isHappy=true} cont 'p'/'2', 11 end]
//
// Times are integers that order all events (the harness uses one
// counter for calls, returns, answers and changes); keys print as
// spec.Key.String, values as spec.Value.Literal, ETags as Go-quoted
// strings. FormatTableHistory and ParseTableHistory are the same form
// limited to initial and op lines.
package linearizability
