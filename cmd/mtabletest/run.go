package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// Exit codes.
const (
	exitPass        = 0   // no failure found
	exitFailure     = 1   // a failure found (or reproduced)
	exitUsage       = 2   // bad usage or bad input
	exitInterrupted = 130 // stopped by SIGINT (128 + the signal's number, as a shell reports it)
)

// Defaults that -h states.
const (
	defaultIterations = 1000
	defaultSeed       = 314159
	defaultStrategy   = "portfolio"
	defaultOut        = "mtabletest-out"
	// maxTraceFiles bounds the failures whose traces one -keep-going run
	// writes (two files each when shrunk).
	maxTraceFiles = 10
	// maxShrinkRuns bounds -shrink-runs.
	maxShrinkRuns = 1_000_000
)

// config is the parsed command line.
type config struct {
	iterations int
	seed       uint64
	bug        mtable.Bug
	bugList    bool
	bugAll     bool
	strategy   string
	depth      int
	maxSteps   int
	parallel   int
	shard      int
	shards     int
	replay     string
	html       string
	out        string
	keepGoing  bool
	json       bool
	verbose    bool
	historyOut string
	histLimit  int64
	overwrite  bool
	seeds      string
	shrink     bool
	shrinkRuns int
	shrinkTime time.Duration
	leases     bool
	faults     int
	// backendFaults is the budget of backend faults (-backend-faults).
	backendFaults int
	plain         bool
	hotRows       bool
	// checkHistory is -check-history's file; oracleTable -oracle-table.
	checkHistory string
	oracleTable  bool

	set map[string]bool // flags given on the command line
}

// usagef reports bad usage or bad input (every error the command
// returns exits 2 with its text on one line).
func usagef(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// bugFlag parses -bug: a number, a name, "none" or "list".
type bugFlag struct {
	bug       *mtable.Bug
	list, all *bool
}

func (f bugFlag) String() string {
	if f.bug == nil || *f.bug == mtable.NoBug {
		return "none"
	}
	return strconv.Itoa(int(*f.bug))
}

func (f bugFlag) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "list":
		*f.list = true
		return nil
	case "all":
		*f.all = true
		return nil
	}
	b, err := mtable.ParseBug(s)
	if err != nil {
		bugs := mtable.Bugs()
		return fmt.Errorf("no bug %q: want a number 0..%d or a name (see -bug list), none, list or all",
			s, int(bugs[len(bugs)-1]))
	}
	*f.bug = b
	return nil
}

// shardFlag parses -shard K/N.
type shardFlag struct{ k, n *int }

func (f shardFlag) String() string {
	if f.n == nil || *f.n == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", *f.k, *f.n)
}

func (f shardFlag) Set(s string) error {
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("want K/N, e.g. 2/4")
	}
	if n < 1 || k < 1 || k > n {
		return fmt.Errorf("want K/N with 1 <= K <= N, got %d/%d", k, n)
	}
	*f.k, *f.n = k, n
	return nil
}

func newFlagSet(c *config) *flag.FlagSet {
	fs := flag.NewFlagSet("mtabletest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&c.iterations, "iterations", defaultIterations, "run `N` iterations (schedules), numbered 0..N-1")
	fs.Uint64Var(&c.seed, "seed", defaultSeed,
		"base `seed`; iteration i runs with a seed derived from it and i. The fixed default\n"+
			"makes CI runs reproducible; vary it to explore more schedules")
	c.bug = mtable.NoBug
	fs.Var(bugFlag{&c.bug, &c.bugList, &c.bugAll}, "bug",
		"switch on bug `N|name` of the catalogue (default none: the correct library); -bug list\n"+
			"prints the catalogue; -bug all runs the correct library and then each bug, prints the\n"+
			"table of time to first failure, and fails unless the library is clean and every bug\n"+
			"but the benign 4 is found; the lease bugs (13 to 16, 18, 19) need -leases")
	fs.BoolVar(&c.leases, "leases", true,
		"explore the production world: the migrator and the applications are processes, each\n"+
			"with its own client of the lease-based configuration service, over network links that\n"+
			"take virtual time, with crashes, restarts, stalls and clock skew (-faults); -leases=false\n"+
			"explores the original world of machines sharing an in-memory configuration")
	fs.IntVar(&c.faults, "faults", harness.DefaultFaults,
		fmt.Sprintf("fault budget `N`, 0..%d, with -leases: each iteration draws its own budget 0..N of\n"+
			"crashes (each followed by a restart) and stalls of up to two leases, and whether they come\n"+
			"in a burst; 0 turns faults and clock skew off", harness.MaxFaults))
	fs.IntVar(&c.backendFaults, "backend-faults", harness.DefaultBackendFaults,
		fmt.Sprintf("backend fault budget `N` per iteration, 0..%d, with -leases: table requests that fail\n"+
			"before they apply, apply and then fail (outcome unknown), land late, or (reads and\n"+
			"streams) fail; 0 turns them off", harness.MaxBackendFaults))
	fs.BoolVar(&c.plain, "plain", true,
		"add plain clients (drawn in one iteration in two): processes that call the old table\n"+
			"directly before the migration starts and the new table directly once it is done,\n"+
			"judged by the same oracles and by the plain-client check")
	fs.BoolVar(&c.hotRows, "hot-rows", true,
		"let one iteration in four draw a hot row key that most batch operations and retrieves\n"+
			"touch, so conflicting operations on one row race often")
	fs.StringVar(&c.strategy, "strategy", defaultStrategy,
		"scheduling `strategy`: random, pct, pos, dfs (bounded exhaustive, one worker, no shards)\n"+
			"or portfolio (random, pct and pos in turn by iteration)")
	fs.IntVar(&c.depth, "depth", 0,
		fmt.Sprintf("`depth` 0..%d: for pct (and portfolio's pct iterations) the bug depth d, d-1 priority\n"+
			"change points among the first %d steps (0 means the scheduler's default, %d); for dfs\n"+
			"the preemption bound, explored by iterative deepening over bounds 0, 1, ..., depth\n"+
			"(0 means no bound); random and pos ignore it", harness.MaxDepth, harness.ExpectedSteps, sched.DefaultDepth))
	fs.IntVar(&c.maxSteps, "max-steps", 0,
		fmt.Sprintf("bound each iteration to `N` scheduling steps, 0..%d (a step-bound failure past it);\n"+
			"0 means %d (%d with -leases)", harness.MaxStepsLimit, harness.DefaultMaxSteps, harness.DefaultLeaseMaxSteps))
	fs.IntVar(&c.parallel, "parallel", 0,
		fmt.Sprintf("run on `P` workers, 0..%d; 0 means GOMAXPROCS (here %d). Results do not depend\n"+
			"on P, so the default simply uses every core", harness.MaxParallel, runtime.GOMAXPROCS(0)))
	fs.Var(shardFlag{&c.shard, &c.shards}, "shard",
		"run only the iterations i with i % N == K-1 (`K/N`, 1 <= K <= N); the N shards of a\n"+
			"run together run exactly its iterations, so a long run can be spread over a CI matrix")
	fs.StringVar(&c.replay, "replay", "", "replay the trace `FILE` step for step and print its report")
	fs.StringVar(&c.html, "html", "", "with -replay: write the replayed run as a timeline page to `OUT.html` (see Files)")
	fs.StringVar(&c.out, "out", defaultOut, "write failing traces to `DIR` (created if missing; nothing in it is ever written over:\n"+
		"see Files)")
	fs.BoolVar(&c.overwrite, "overwrite", false,
		"let -html and -history-out replace an existing regular file (never a link, device or\n"+
			"directory); without it they refuse one")
	fs.BoolVar(&c.keepGoing, "keep-going", false,
		fmt.Sprintf("run every iteration and count all failures instead of stopping at the first\n"+
			"(traces are written for the first %d)", maxTraceFiles))
	fs.BoolVar(&c.json, "json", false,
		"print a JSON summary on stdout (the human-readable output goes to stderr)")
	fs.BoolVar(&c.verbose, "v", false, "print the full step trace of the failing (or replayed) run")
	fs.StringVar(&c.historyOut, "history-out", "",
		"write the recorded history of every iteration run (or of the replayed run) to `FILE`\n"+
			"(see Files): a JSON array for an external linearizability checker, written as the\n"+
			"iterations complete; if recording stopped early (-history-limit, SIGINT), its last\n"+
			"element is a note: an object with \"note\" and no \"iteration\" field")
	c.histLimit = defaultHistoryLimit
	fs.Var(sizeFlag{&c.histLimit}, "history-limit",
		"stop recording -history-out before the file grows past `SIZE` (e.g. 500M, 2G, or bytes;\n"+
			"0: no limit), with a note in the file and on stderr; the run goes on")
	fs.BoolVar(&c.shrink, "shrink", true,
		"shrink each failing iteration before reporting it: look for a smaller run (fewer machines,\n"+
			"calls, rows, partitions, faults, latency steps and preemptions) that fails the same check,\n"+
			"report it first and write its trace beside the original's; -shrink=false reports the run as is")
	fs.IntVar(&c.shrinkRuns, "shrink-runs", harness.DefaultShrinkRuns,
		fmt.Sprintf("bound each shrink to `N` runs, 1..%d: the same failure shrinks to the same run at any\n"+
			"-parallel; a shrink that reaches it while its report would show more than 40 steps goes on,\n"+
			"once, for N runs more; one that reaches the bound reports what it reached", maxShrinkRuns))
	fs.DurationVar(&c.shrinkTime, "shrink-time", 0,
		"also bound each shrink's wall-clock time (e.g. 30s; 0: no bound). A shrink it stops depends on\n"+
			"the machine's speed, so it is off by default")
	fs.StringVar(&c.seeds, "seeds", "",
		"regenerate the seed corpus in `DIR`: explore each bug (or only -bug) for up to -iterations\n"+
			"(here 5000 unless given) and write its first failing trace to DIR/bug-N-Name.trace,\n"+
			"replacing that file if it is a regular file (see Files)")
	fs.StringVar(&c.checkHistory, "check-history", "",
		"judge the histories of a -history-out `FILE` again, offline, with the linearizability\n"+
			"checker alone (- reads standard input): exit 0 if every one is linearizable, 1 if\n"+
			"one is not, 2 for bad input or an unknown verdict")
	fs.BoolVar(&c.oracleTable, "oracle-table", false,
		"for the correct library and each bug, run -iterations (here 3000 unless given) with\n"+
			"every oracle and print which oracles fail how many iterations, and the first: the\n"+
			"table of the README (an oracle alone fails exactly the iterations it fails here)")
	return fs
}

const usageHead = `mtabletest explores schedules of MigratingTable under the deterministic
scheduler and checks every run with the harness's oracles.

Usage:
  mtabletest [flags]                    explore -iterations schedules
  mtabletest -replay FILE [-html OUT]   replay a trace file (and draw its timeline)
  mtabletest -bug list                  list the bug switches
  mtabletest -bug all                   the correct library, then every bug: a table
  mtabletest -seeds DIR                 regenerate the seed corpus
  mtabletest -check-history FILE        judge a -history-out file again, offline
  mtabletest -oracle-table              which oracle catches each bug: a table
  mtabletest merge SHARD.json ...       merge the -json summaries of a run's shards
                                        (mtabletest merge -h for its flags)

Examples:
  go run ./cmd/mtabletest -iterations 1000 -seed 314159
  go run ./cmd/mtabletest -bug 7
  go run ./cmd/mtabletest -replay mtabletest-out/bug-7-EnsurePartitionSwitchedFromPopulated-it3.trace -html t.html

Flags:
`

const usageTail = `
Exit status: 0 no failure found (or the replayed run passed); 1 a failure
found (or the replayed failure reproduced); 2 bad usage or bad input (a bad
flag value, an unknown bug, an unreadable, corrupt or diverging trace file, a
file that could not be written); 130 interrupted. Note that go run prints a
non-zero status as "exit status N" and then exits 1 itself: scripts that need
the code run the built binary (go build ./cmd/mtabletest).

SIGINT (Ctrl-C): no iteration starts after it; the ones running finish, and
the report of the first failure among the iterations run, the summary and the
-json and -history-out output (closed, valid JSON) are written as for a
complete run, marked interrupted; then the command exits 130. A second SIGINT
exits at once.

`

func writeUsage(w io.Writer, fs *flag.FlagSet) {
	io.WriteString(w, usageHead)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	io.WriteString(w, usageTail)
	io.WriteString(w, fileRules)
}

// parseArgs parses the command line. It returns flag.ErrHelp for -h.
func parseArgs(args []string, stdout io.Writer) (*config, error) {
	c := &config{set: map[string]bool{}}
	fs := newFlagSet(c)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(stdout, fs)
			return nil, err
		}
		return nil, usagef("%v (run mtabletest -h for usage)", err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q: every option is a flag (run mtabletest -h for usage)", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { c.set[f.Name] = true })
	return c, c.check()
}

// check rejects flag values and combinations that make no sense, and
// every file the run would write that it must not, before anything is
// run or written.
func (c *config) check() error {
	switch {
	case c.iterations < 0:
		return usagef("-iterations %d: want a count >= 0", c.iterations)
	case c.depth < 0 || c.depth > harness.MaxDepth:
		return usagef("-depth %d: want a depth 0..%d (PCT's change points fall among the first %d steps)", c.depth, harness.MaxDepth, harness.ExpectedSteps)
	case c.faults < 0 || c.faults > harness.MaxFaults:
		return usagef("-faults %d: want a budget 0..%d", c.faults, harness.MaxFaults)
	case c.backendFaults < 0 || c.backendFaults > harness.MaxBackendFaults:
		return usagef("-backend-faults %d: want a budget 0..%d", c.backendFaults, harness.MaxBackendFaults)
	case c.maxSteps < 0 || c.maxSteps > harness.MaxStepsLimit:
		return usagef("-max-steps %d: want a bound 0..%d", c.maxSteps, harness.MaxStepsLimit)
	case c.parallel < 0 || c.parallel > harness.MaxParallel:
		return usagef("-parallel %d: want a number of workers 0..%d", c.parallel, harness.MaxParallel)
	case c.set["history-limit"] && c.historyOut == "":
		return usagef("-history-limit needs -history-out FILE")
	case c.html != "" && c.replay == "":
		return usagef("-html needs -replay FILE: the timeline shows a replayed run")
	case c.replay != "" && c.seeds != "":
		return usagef("-replay and -seeds cannot be combined")
	case c.seeds != "" && (c.historyOut != "" || c.json || c.keepGoing || c.shards > 0):
		// They would be ignored: -seeds writes no history and no JSON,
		// and keeps the first failure of the whole iteration space.
		return usagef("-seeds cannot be combined with -history-out, -json, -keep-going or -shard")
	case c.bugAll && (c.replay != "" || c.seeds != "" || c.shards > 0 || c.keepGoing || c.historyOut != ""):
		return usagef("-bug all cannot be combined with -replay, -seeds, -shard, -keep-going or -history-out")
	case c.checkHistory != "" && len(c.set) > 1:
		return usagef("-check-history takes no other flag: it judges the file's histories as recorded")
	case c.oracleTable && (c.replay != "" || c.seeds != "" || c.shards > 0 || c.keepGoing || c.historyOut != "" || c.bugAll || c.set["bug"] || c.json):
		return usagef("-oracle-table cannot be combined with -replay, -seeds, -shard, -keep-going, -history-out, -bug or -json")
	case c.strategy == "dfs" && c.shards > 1:
		return usagef("-strategy dfs cannot be sharded: its schedules are enumerated in sequence")
	case c.shrinkRuns < 1 || c.shrinkRuns > maxShrinkRuns:
		return usagef("-shrink-runs %d: want a number of runs 1..%d", c.shrinkRuns, maxShrinkRuns)
	case c.shrinkTime < 0:
		return usagef("-shrink-time %v: want a duration >= 0", c.shrinkTime)
	case !c.shrink && (c.set["shrink-runs"] || c.set["shrink-time"]):
		return usagef("-shrink-runs and -shrink-time bound the shrink that -shrink=false turns off")
	case c.replay != "" && (c.set["shrink"] || c.set["shrink-runs"] || c.set["shrink-time"]):
		return usagef("-shrink, -shrink-runs and -shrink-time cannot be used with -replay: a replay reports the recorded run")
	case c.seeds != "" && (c.set["shrink"] || c.set["shrink-runs"] || c.set["shrink-time"]):
		return usagef("-seeds cannot be combined with -shrink, -shrink-runs or -shrink-time: the corpus keeps each first failure as run")
	}
	switch c.strategy {
	case "random", "pct", "pos", "dfs", "portfolio":
	default:
		return usagef("-strategy %q: want random, pct, pos, dfs or portfolio", c.strategy)
	}
	if c.replay != "" {
		// A trace file records how it was run: flags that choose a run
		// would be silently ignored, so reject them.
		for _, name := range []string{"iterations", "seed", "bug", "strategy", "depth", "max-steps", "parallel", "shard", "out", "keep-going"} {
			if c.set[name] {
				return usagef("-%s cannot be used with -replay: the trace file records its run", name)
			}
		}
	}
	if c.parallel == 0 {
		c.parallel = min(runtime.GOMAXPROCS(0), harness.MaxParallel)
	}
	return c.checkFiles()
}

// checkFiles checks every file and directory the run would write.
func (c *config) checkFiles() error {
	if c.bugList || c.checkHistory != "" {
		return nil
	}
	if c.html != "" && c.historyOut != "" && sameFile(c.html, c.historyOut) {
		return usagef("-html and -history-out name the same file, %s", c.html)
	}
	for _, o := range []struct{ flag, path string }{{"-html", c.html}, {"-history-out", c.historyOut}} {
		if o.path != "" && c.replay != "" && sameFile(o.path, c.replay) {
			return usagef("%s %s is the trace file -replay reads", o.flag, o.path)
		}
	}
	if c.html != "" {
		if _, err := checkOutput("-html", c.html, c.overwrite); err != nil {
			return err
		}
	}
	if c.historyOut != "" {
		if _, err := checkOutput("-history-out", c.historyOut, c.overwrite); err != nil {
			return err
		}
	}
	switch {
	case c.seeds != "":
		return checkOutDir("-seeds", c.seeds)
	case c.replay == "":
		return checkOutDir("-out", c.out)
	}
	return nil
}

// run is the command: it parses args, does the work and returns the exit
// code. Human-readable output goes to stdout (stderr with -json); errors
// and the progress display go to stderr. Cancelling ctx (main does on
// SIGINT) stops the run as the usage text says.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		// The last line of defence: bad input is refused with its own
		// message before it can panic, and a panic here is a bug of the
		// command. Still one line and exit 2, not a crash and a stack.
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "mtabletest: internal error (a bug of mtabletest, please report it with the command line): %s\n",
				oneLine(fmt.Sprintf("panic: %v%s", r, panicSite())))
			code = exitUsage
		}
	}()
	if len(args) > 0 && args[0] == "merge" {
		code, err := runMerge(ctx, args[1:], stdout, stderr)
		if err == nil {
			return code
		}
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		fmt.Fprintf(stderr, "mtabletest: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	c, err := parseArgs(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitPass
	}
	if err == nil {
		code, err = c.dispatch(ctx, stdout, stderr)
		if err == nil {
			return code
		}
	}
	// Every error is bad usage or bad input (including a file that could
	// not be written): exit 2 with one line.
	fmt.Fprintf(stderr, "mtabletest: %s\n", oneLine(err.Error()))
	return exitUsage
}

// panicSite returns " at file:line" of the function that panicked,
// called from a deferred function during the panic.
func panicSite() string {
	pc := make([]uintptr, 32)
	frames := runtime.CallersFrames(pc[:runtime.Callers(3, pc)])
	for {
		f, more := frames.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf(" at %s:%d", f.File, f.Line)
		}
		if !more {
			return ""
		}
	}
}

func (c *config) dispatch(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	switch {
	case c.bugList:
		writeBugList(stdout)
		return exitPass, nil
	case c.bugAll:
		return c.runAll(ctx, stdout, stderr)
	case c.checkHistory != "":
		return c.runCheckHistory(ctx, stdout, stderr)
	case c.oracleTable:
		return c.runOracleTable(ctx, stdout, stderr)
	case c.replay != "":
		return c.runReplay(ctx, stdout, stderr)
	case c.seeds != "":
		return c.runSeeds(ctx, stdout, stderr)
	}
	return c.runExplore(ctx, stdout, stderr)
}

func writeBugList(w io.Writer) {
	fmt.Fprintf(w, "%3s  %-38s %s\n", "-1", "none", mtable.NoBug.Description())
	for _, b := range mtable.Bugs() {
		fmt.Fprintf(w, "%3d  %-38s %s\n", int(b), b.String(), b.Description())
	}
}

// oneLine joins a multi-line message so errors stay one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && termIsTerminal(int(f.Fd()))
}

// bugName is the trace-file and banner name of b.
func bugName(b mtable.Bug) string {
	if b == mtable.NoBug {
		return "none"
	}
	return fmt.Sprintf("%d:%s", int(b), b)
}
