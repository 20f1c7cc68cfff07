// Command mtabletest runs the MigratingTable verification harness: it
// explores many schedules of application machines and the migrator over
// MigratingTable under the deterministic scheduler, checks every run
// with the harness's oracles, and writes a replayable trace file for
// each failure.
//
// Usage:
//
//	mtabletest [flags]                      explore schedules
//	mtabletest -replay FILE [-html OUT]     replay a trace file (and draw it)
//	mtabletest -bug list                    list the bug switches
//	mtabletest -bug all                     the correct library, then each bug
//	mtabletest -seeds DIR                   regenerate the seed corpus
//	mtabletest -check-history FILE          judge a -history-out file again, offline
//	mtabletest -oracle-table                which oracle catches each bug: a table
//	mtabletest merge [-json] [-out DIR] SHARD.json ...
//	                                        merge the summaries of a run's shards
//
// # Exploring
//
// Iteration i (0 <= i < -iterations) runs one schedule whose seed is
// derived from -seed and i alone, so a run's outcome, its first failure
// and its -json summary (but for the timing fields) do not depend on
// -parallel, and -shard K/N runs exactly the iterations i with
// i % N == K-1: the shards of a run together run the same iterations as
// the run itself. Unless -keep-going, the run stops at the first (lowest
// numbered) failing iteration.
//
// The run opens with a banner listing the seed, the strategy, the
// iteration space, the bug switch and every workload parameter. While it
// runs, and only when standard error is a terminal, one line on standard
// error is redrawn at most ten times a second with the iterations done,
// the rate, the failures so far and the estimated time left. At the end
// it prints a summary; on a failure, the harness's report (the failing
// check, what each oracle said, the steps up to the check) and the
// command that replays it. With -json, the human-readable output goes to
// standard error and standard output holds only the JSON summary.
//
// # Shrinking
//
// Unless -shrink=false, a failing iteration is shrunk before it is
// reported (harness.Shrink): the command looks for a smaller run, with
// fewer application machines, calls, rows, partitions and initial rows,
// smaller batches, fewer faults, no latency and fewer preemptions, that
// fails the same check (the same failure kind, and for an oracle's
// assertion the same oracle). The report shows the shrunk run first, with
// every step up to the failing check when at most 40 steps logged
// something, then "shrunk from N steps / M calls / K machines / F faults
// to ...", and the commands that replay the shrunk run and the run as
// found. Each shrink is bounded by -shrink-runs runs (default 3000), which
// keeps it deterministic: the same failure shrinks to the same run at any
// -parallel; -shrink-time adds a wall-clock bound (not deterministic). A
// shrink that reaches -shrink-runs while its report would still show more
// than 40 steps goes on, once, for as many runs again. A shrink stopped
// by its budget reports the smallest run it reached. On a
// terminal a status line shows the shrink's progress. Without
// -keep-going the first failure is shrunk after the exploration, -parallel
// runs at a time; with -keep-going every failure is shrunk in the worker
// that found it, and the summary groups the failures by signature and
// shrunk shape (the failing check; the kinds of the calls the shrunk run
// needs, the failing one marked "*"; its faults), with counts.
//
// # Trace files
//
// Each failing iteration is saved in -out as a trace file named for the
// bug and the iteration, e.g.
// bug-7-EnsurePartitionSwitchedFromPopulated-it42.trace (nobug-it42.trace
// for the correct library), and its shrunk run beside it as
// bug-7-EnsurePartitionSwitchedFromPopulated-it42-shrunk.trace, a
// self-contained trace of the shrunk workload. The file holds the scheduler's decisions, the
// run's parameters (so it is self-contained) and, as comment lines, the
// failure kind and text. Nothing in -out is ever written over: if a
// regular file of the same name holds the same trace it is reused;
// anything else under that name (another file, a link, a FIFO, a
// directory) is left alone and the next free name (…-it42-2.trace, …)
// is taken. -out is created, with its parents, if missing.
//
// # Replay
//
// -replay FILE re-runs the recorded schedule decision for decision, with
// the options recorded in the file, and prints the same report. The file
// is checked first: a malformed file, or parameters this harness refuses
// (an unknown bug, a workload out of range), is a one-line error. If the
// program does not make the recorded decisions (the code changed since
// the file was written, or the file was edited), that is, if the replay
// asks for a decision the file does not hold or ends before its last
// decision, the replay says that the schedule diverged, and where, and
// exits 2 even if a check failed on the way: its report is not of the
// recorded run. -html OUT writes the replayed run as a self-contained HTML page:
// one lane per machine, each event at its step, backend calls,
// configuration pushes and linearization points marked, the failing
// check and the calls it names highlighted, and the failure text on top;
// OUT.html#step-N opens it at step N.
//
// # Histories
//
// -history-out FILE writes the recorded history of every iteration run
// (of the replayed run with -replay) as a JSON array of harness.History,
// in iteration order, for an external linearizability checker; each is
// written as its iteration completes. A history holds everything oracle
// 2 judged and its verdict:
//
//	{"iteration":0,"seed":10836521001213627720,"strategy":"random","verdict":"ok","record":["tracked",
//	 "initial 'p1'/'0' \"old:1\" {isHappy=true name='ann' …}", …, "op 2 3 4 batch[DeleteIfExists 'p0'/'5'] -> ok [\"\"]", …,
//	 "change 17 'p0'/'1'@\"new:3\" {…}", …, "final 'p0' ['p0'/'1'@\"new:3\" {…}]", …, "plain 'p0' [...]", …]}
//
// "verdict" is oracle 2's: "ok", "illegal", "unknown" (its search ran
// out of budget) or "off" (switched off), with "explanation" unless
// ok. "record" is a linearizability.TableRecord in the line-based text
// form documented in package linearizability (FormatTableRecord), one
// line per element: the initial rows; every call with its invocation,
// return and outcome (client i is application machine i), streamed
// queries with each answer's time; the ETag-only changes and every
// content change of the view of the backend tables (client -1); and the
// end-of-run read: each partition's final content, and after a
// completed migration the new table read plainly and the rows left in
// the old table. Another checker can judge the file from this alone.
//
// -check-history FILE (- for standard input) judges every history of a
// -history-out file again with package linearizability alone, as oracle
// 2 did during the run, and prints one line for each history that is
// not linearizable or whose verdict differs from the recorded one. It
// exits 0 when every history is linearizable, 1 when one is not, 2 when
// the file is bad input (a line it cannot parse names the element) or a
// verdict is unknown.
//
// Before a history would take the file past -history-limit (default 1
// GiB, about 200,000 iterations of the default workload; 0 for none),
// recording stops, with a line on standard error; the run goes on. When
// recording stopped early, at the limit or on SIGINT, the array's last
// element is a note instead of a history, an object without the
// "iteration" field every history has:
//
//	{"note":"this file holds the histories of 812 iterations; recording stopped at ...","histories":812,"truncated":true,"limitBytes":4194304}
//
// The array is always closed: the file is valid JSON.
//
// # Oracles
//
// -oracle-table runs, for the correct library and each bug, -iterations
// iterations (3000 unless given) with every oracle and -keep-going, and
// prints as a Markdown table how many iterations each oracle failed and
// the first of them (README's table). The oracles only observe, so an
// oracle alone (the others switched off) fails exactly these
// iterations. It exits 1 if the correct library failed or a bug but the
// benign one was caught by no oracle.
//
// # Files written
//
// -html, -history-out and -seeds' files follow one set of rules, checked
// before the run starts. A missing file is created (its directory must
// exist). An existing regular file is refused unless -overwrite is given
// (-seeds replaces its own bug-N-Name.trace files, its purpose); it is
// then replaced whole, through a temporary file beside it renamed over
// it when complete, so it is never seen half written and a failed run
// leaves it as it was. A character device or a FIFO (/dev/null, a
// terminal, a named pipe, the pipe of bash's >(...)) is written through,
// not replaced. A symbolic link is followed only to a character device
// or FIFO (so /dev/stdout and /dev/fd/N work); a link to a regular file,
// a directory or nothing is refused: name the file itself. Directories,
// block devices and sockets are refused, and so is an output naming
// another output or the trace being replayed.
//
// # Interrupting
//
// On SIGINT no iteration starts any more; the ones running finish (each
// takes milliseconds), and the command prints the report of the first
// failure among the iterations run, if any, and the summary of what ran,
// marked interrupted, writes the -json summary ("interrupted": true) and
// closes -history-out as for a complete run, then exits 130. SIGINT
// while the first failure is being shrunk stops the shrink: the report
// shows the smallest run it had reached (its -json "shrink" says
// "stopped": "cancelled"), and the command exits 130. -bug all and
// -seeds stop after the bug being explored; a replay, which cannot stop
// halfway, reports and exits 130. A second SIGINT ends the process at
// once.
//
// # The bug table
//
// -bug all runs the correct library for -iterations, then each bug
// switch until its first failure (at most -iterations each), and prints
// one line per run: found or not, the first failing iteration, its
// strategy and the time to it, the shrunk sizes (steps, calls and
// machines, as found -> shrunk, and the shrink's time) and the trace
// written (the shrunk run's; the run as found beside it). It exits 1 if the
// correct library failed or a bug other than the believed-benign 4
// (QueryStreamedSaveNewConfig) was not found. The lease bugs (13 to 16,
// 18 and 19, mtable.Bug.Lease: mistakes of the lease-based configuration
// service, package mtable/leaseconfig) need the production world (the
// default): with -leases=false they are listed as "no leases" and not
// run, since that world uses mtable.MemConfig, where they change
// nothing. -seeds and -oracle-table skip them likewise.
//
// # Shards and merge
//
// mtabletest merge combines the -json summaries of the N shards of a
// run (mtabletest -shard K/N -json for K = 1..N, with the same other
// flags) into the summary the run itself would have printed: the same
// -json summary but for the timings and the directory of the trace files
// (merge -json), the same report of the first failure (replayed from its
// trace files) and the same summary lines. It checks that the shards are
// those of one run (seed, strategy, bug, -iterations, -depth, -max-steps,
// -keep-going and shrink settings; every K once) and refuses anything
// else. Trace files are looked for where each summary names them, then
// (a relative path) from the summary's directory, then beside the
// summary; with -out DIR, those of the merged summary are
// copied there under the names the run would have given them. A shard
// interrupted by SIGINT makes the merged summary interrupted (exit 130).
//
// # Seed corpus
//
// -seeds DIR explores each bug switch (or only -bug) with the other
// flags (-iterations defaults to 5000 here) and writes its first failing
// trace, as found (not shrunk), to DIR/bug-N-Name.trace, replacing the file deliberately (a
// regular file only; see Files written). The corpus in testdata/seeds is
// replayed by this package's tests, and is the seed corpus of its fuzz
// tests over trace files.
//
// # Exit status
//
// 0: no failure found (or the replayed run passed); 1: a failure was
// found (or the replayed failure reproduced); for merge, as the merged
// run; 2: bad usage or bad input:
// an unknown flag or flag value, an unknown bug, an unreadable or
// corrupt trace file, a replay whose schedule diverged, or a file that
// could not or must not be written; 130: interrupted by SIGINT. Errors
// are one line on standard error, starting "mtabletest: ". A panic of
// the command itself (a bug) is reported the same way, as
// "mtabletest: internal error ...", with exit 2. (go run prints a
// non-zero status as "exit status N" and then exits 1 itself; scripts
// that need the code run the built binary.)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	// The first SIGINT cancels the run's context: the run stops as the
	// usage text says. stop then restores the default action, so a
	// second SIGINT ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	noted := make(chan struct{})
	stopNote := context.AfterFunc(ctx, func() {
		defer close(noted)
		stop()
		if isTerminal(os.Stderr) {
			fmt.Fprint(os.Stderr, "\r\x1b[K") // over the progress line
		}
		fmt.Fprintf(os.Stderr, "mtabletest: interrupted: finishing the iterations in flight (interrupt again to quit at once)\n")
	})
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if !stopNote() {
		<-noted // the note is being written: not cut off by the exit
	}
	stop()
	os.Exit(code)
}
