package harness

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// Workload describes what the simulated application machines do. The
// zero value is not useful; start from DefaultWorkload.
type Workload struct {
	// Apps is the number of application machines.
	Apps int
	// CallsPerApp is how many virtual-table calls each application
	// machine makes.
	CallsPerApp int
	// AppCalls, when set, is how many calls each application machine
	// makes (one entry per machine), instead of CallsPerApp: a shrunk
	// workload keeps only the calls its failure needs. It needs Swarm
	// off.
	AppCalls []int
	// Partitions is the number of partitions ("p0", "p1", ...).
	Partitions int
	// RowKeys is the number of row keys per partition ("0" .. RowKeys-1).
	RowKeys int
	// InitialRows lists the row keys present at the start in every
	// partition of the old table except the first EmptyPartitions, each
	// at most once.
	InitialRows []int
	// EmptyPartitions is how many partitions (the first ones in key
	// order) start empty, so writers create partitions behind the
	// migrator's scan.
	EmptyPartitions int
	// MaxBatch is the largest batch an application writes.
	MaxBatch int
	// Weights of the call kinds: batch, atomic query, retrieve, streamed
	// query, each 0..1000. A kind with weight 0 never occurs.
	BatchWeight, QueryWeight, RetrieveWeight, StreamWeight int
	// FollowMigration makes each application machine, before each call,
	// choose a client state and wait until the migrator has pushed at
	// least that state (or finished), so calls land in every state and
	// during pushes whatever the strategy's bias.
	FollowMigration bool
	// MigratorDelay makes the migrator wait, before it starts, until a
	// chosen number (0 to half of all calls) of application calls have
	// begun, as when applications have been running for a while, and
	// each application's first call begins at once: calls are then in
	// flight in USE_OLD_HIDE_METADATA when the first push comes.
	MigratorDelay bool
	// SlowApp makes application machine 0 slow: each of its backend calls
	// takes up to 8 extra steps, so its calls stay in flight while
	// others run, across configuration pushes.
	SlowApp bool
	// Swarm makes each iteration draw its own shape (swarm testing): 1 to
	// Partitions partitions, of which at most one starts empty, 2 to Apps
	// application machines, a latency of 0 or Latency (at least 2),
	// whether the migrator waits for calls before it starts, and whether
	// one application machine is slow; with Leases, 1 to Migrators
	// migrators and the fault plan (see Faults); and plain clients and
	// hot rows as their fields say.
	// Different bugs need different shapes; a mixture reaches them all.
	Swarm bool
	// Latency, when positive (at most 100), makes each batch and atomic
	// query on a backend table take 0..Latency extra scheduling steps
	// (chosen by the strategy), as a slow round trip would.
	Latency int
	// WidePartition gives the last partition WideFillers(RowKeys) filler
	// rows: rows that no call names and no filter matches, more of them
	// than the backends' page limit (PageLimit), so that a library read
	// of the whole partition fails the run (as it fails on Azure with
	// more than 1,000 rows). An atomic query of that partition without an
	// isHappy filter asks for "RowKey lt '~'" (the fillers' keys begin
	// with '~').
	WidePartition bool
	// NarrowReads makes the library name one row per read
	// (mtable.WithKeysPerRead(1)) and lets batches hold up to three
	// operations, so that a batch's rows are read at several instants and
	// a semantic error must be confirmed by a probe, under the
	// scheduler's interleavings (the default, 14 rows a read, needs
	// batches larger than the workload's).
	NarrowReads bool

	// Leases runs the production world (see "The production world" in
	// the package documentation): the migrator and each application are
	// processes, each with its own client of the lease-based
	// configuration service (mtable/leaseconfig) over a configuration
	// table, and every backend request crosses a network link that takes
	// virtual time. Without it the world is the original one: machines
	// of one process sharing mtable.MemConfig.
	Leases bool
	// Faults is the budget of process faults per iteration, with Leases
	// (0..MaxFaults): crashes, which a restart follows, and stalls of up
	// to two leases (sched.Config.Faults). A swarm draws each
	// iteration's fault plan: a budget of 0 to Faults; with two faults
	// or more, one iteration in two a host's pause (FaultBurst, stalls
	// only), else one in three stalls only; and the processes faults
	// strike (FaultTargets: any, the migrators, the applications, one
	// in three each).
	Faults int
	// ClockSkew offsets each process's clock, with Leases, within the
	// ClockSkew the configuration service is told (sched.Config.MaxClockSkew).
	ClockSkew bool
	// FaultBurst, with Faults, makes the faults come in a burst
	// (sched.FaultPlan: Window FaultWindow, Spread PollInterval): each
	// fault after the first strikes within about a poll interval of the
	// one before, and a stall while the burst's first stall lasts ends
	// within a poll interval of it, as when a host's pause hits several
	// processes at once, so that the second fault lands while the
	// first one's effects (a lease running out, a lock held by a
	// stalled process) are still unfolding.
	FaultBurst bool
	// StallsOnly, with Faults, makes every fault a stall.
	StallsOnly bool
	// FaultTargets, with Faults, names the processes faults may strike:
	// "" (all), "migrators" or "apps". One kind of fault can hide a bug
	// that needs the other's processes to go on (swarm testing's
	// feature omission).
	FaultTargets string
	// BackendFaults is the budget of backend faults per iteration, with
	// Leases (0..MaxBackendFaults): requests to the old, new and
	// configuration tables that fail before they apply, apply and then
	// fail, land late, or, for reads and streams, fail (see BackendFault).
	// Each is a decision of the strategy.
	BackendFaults int
	// Migrators is the number of migrator processes, with Leases (1..3):
	// more than one contend for the migration lock, as when an operator
	// starts a second migration by mistake. A swarm draws 1 to
	// Migrators.
	Migrators int

	// Plain adds plain clients, the production procedure's first and
	// last steps (see "Plain clients" in the package documentation):
	// each application draws whether it first calls the old table
	// directly, before it is redeployed as a MigratingTable client (the
	// migrator's first push waits until every such process has been),
	// or goes over to calling the new table directly once the migration
	// is done. A swarm draws it in one iteration in two.
	Plain bool
	// HotRows makes most batch operations and retrieves touch one hot
	// row key, drawn for the iteration, in whichever partition the call
	// chose, so conflicting operations on one row race often. A swarm
	// draws it in one iteration in four.
	HotRows bool
}

// PageLimit is the page size of the harness's backend tables: an atomic
// query of more rows fails, as a query of Azure spanning two pages does.
// It is the most rows a partition holds without fillers: rowKeys
// workload rows, the meta row and the populated-assertion row.
func PageLimit(rowKeys int) int { return rowKeys + 2 }

// WideFillers is the number of filler rows of a wide partition.
func WideFillers(rowKeys int) int { return PageLimit(rowKeys) + 1 }

// DefaultWorkload is the workload of PROTOCOL.md section 5, extended so
// the general harness reaches every bug without a per-bug scenario. Each
// iteration draws its shape (Swarm): one or two partitions, of which one
// may start empty (so a writer can create a partition behind the
// migrator's scan); the others start with rows 0, 1, 3, 4 of row keys
// 0..5, each with a bool isHappy and a property of each other type a
// table stores (string, int32, int64, double, datetime, guid, binary).
// Two to four application machines make four calls each, every call
// drawn by the strategy: batches of one or two operations of the seven
// kinds on distinct rows, with If-Match "*", a wrong ETag or the row's
// current ETag (as the backend tables show it), each writing isHappy,
// the typed properties or both, and a property naming machine, call and
// operation (so merges show); atomic queries and retrieves; streamed
// queries; queries with filters drawn from the whole filter language
// (see genQueryFilter). Before each call a machine picks a client state and
// waits until the migration has reached it, so calls land in every state
// and while pushes are in progress. Backend calls may take extra steps
// (latency), and the migrator may start only after some calls began.
// One iteration in four has a wide partition (WidePartition), one in
// four narrow reads (NarrowReads), one in two plain clients (Plain), one
// in four a hot row (HotRows).
func DefaultWorkload() Workload {
	return Workload{
		Apps:            4,
		CallsPerApp:     4,
		Partitions:      2,
		RowKeys:         6,
		InitialRows:     []int{0, 1, 3, 4},
		MaxBatch:        2,
		BatchWeight:     5,
		QueryWeight:     2,
		RetrieveWeight:  1,
		StreamWeight:    2,
		FollowMigration: true,
		Latency:         2,
		Swarm:           true,
		Leases:          true,
		Faults:          DefaultFaults,
		BackendFaults:   DefaultBackendFaults,
		ClockSkew:       true,
		Migrators:       2,
		Plain:           true,
		HotRows:         true,
	}
}

// DefaultFaults is the default workload's fault budget, and MaxFaults
// the most Validate accepts.
const (
	DefaultFaults = 4
	MaxFaults     = 20
)

// Bounds of Validate beyond those of the shape: a weight or a latency
// past them only slows a run down (and their sum could overflow).
const (
	maxWeight  = 1000
	maxLatency = 100
)

func inRange(n, lo, hi int) bool { return lo <= n && n <= hi }

// Validate reports the first unusable parameter.
func (w Workload) Validate() error {
	switch {
	case w.Apps < 0 || w.Apps > 16:
		return fmt.Errorf("workload: apps %d out of range 0..16", w.Apps)
	case w.CallsPerApp < 0 || w.CallsPerApp > 1000:
		return fmt.Errorf("workload: calls per app %d out of range 0..1000", w.CallsPerApp)
	case w.AppCalls != nil && len(w.AppCalls) != w.Apps:
		return fmt.Errorf("workload: app calls lists %d machines, apps is %d", len(w.AppCalls), w.Apps)
	case w.AppCalls != nil && w.Swarm:
		return fmt.Errorf("workload: app calls need swarm off (a swarm draws the number of apps)")
	case w.Partitions < 1 || w.Partitions > 26:
		return fmt.Errorf("workload: partitions %d out of range 1..26", w.Partitions)
	case w.RowKeys < 1 || w.RowKeys > 100:
		return fmt.Errorf("workload: row keys %d out of range 1..100", w.RowKeys)
	case w.EmptyPartitions < 0 || w.EmptyPartitions > w.Partitions:
		return fmt.Errorf("workload: empty partitions %d out of range 0..%d (partitions)", w.EmptyPartitions, w.Partitions)
	case w.MaxBatch < 1 || w.MaxBatch > w.RowKeys:
		return fmt.Errorf("workload: max batch %d out of range 1..%d (row keys)", w.MaxBatch, w.RowKeys)
	case !inRange(w.BatchWeight, 0, maxWeight) || !inRange(w.QueryWeight, 0, maxWeight) ||
		!inRange(w.RetrieveWeight, 0, maxWeight) || !inRange(w.StreamWeight, 0, maxWeight) ||
		w.BatchWeight+w.QueryWeight+w.RetrieveWeight+w.StreamWeight == 0:
		return fmt.Errorf("workload: call weights must be in 0..%d and not all 0", maxWeight)
	case !inRange(w.Latency, 0, maxLatency):
		return fmt.Errorf("workload: latency %d out of range 0..%d", w.Latency, maxLatency)
	case !inRange(w.Faults, 0, MaxFaults):
		return fmt.Errorf("workload: faults %d out of range 0..%d", w.Faults, MaxFaults)
	case !inRange(w.BackendFaults, 0, MaxBackendFaults):
		return fmt.Errorf("workload: backend faults %d out of range 0..%d", w.BackendFaults, MaxBackendFaults)
	case !w.Leases && (w.Faults > 0 || w.ClockSkew || w.BackendFaults > 0):
		return fmt.Errorf("workload: faults, backend faults and clock skew need the production world (leases)")
	case (w.FaultBurst || w.StallsOnly || w.FaultTargets != "") && w.Faults == 0:
		return fmt.Errorf("workload: fault-burst, stalls-only and fault-targets need faults")
	case !slices.Contains(faultTargets, w.FaultTargets):
		return fmt.Errorf("workload: fault targets %q: want migrators, apps or nothing (all processes)", w.FaultTargets)
	case w.Leases && !inRange(w.Migrators, 1, 3):
		return fmt.Errorf("workload: migrators %d out of range 1..3", w.Migrators)
	}
	for _, n := range w.AppCalls {
		if n < 0 || n > 1000 {
			return fmt.Errorf("workload: app calls %d out of range 0..1000", n)
		}
	}
	seen := map[int]bool{}
	for _, r := range w.InitialRows {
		if r < 0 || r >= w.RowKeys {
			return fmt.Errorf("workload: initial row %d out of range 0..%d", r, w.RowKeys-1)
		}
		if seen[r] {
			return fmt.Errorf("workload: initial row %d listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

// Params lists the workload and bug as ordered key/value pairs for the
// banner and trace header.
func (w Workload) Params() [][2]string {
	rows := joinInts(w.InitialRows)
	ps := [][2]string{
		{"apps", strconv.Itoa(w.Apps)},
		{"calls-per-app", strconv.Itoa(w.CallsPerApp)},
	}
	if w.AppCalls != nil {
		ps = append(ps, [2]string{"app-calls", joinInts(w.AppCalls)})
	}
	ps = append(ps, [][2]string{
		{"partitions", strconv.Itoa(w.Partitions)},
		{"row-keys", strconv.Itoa(w.RowKeys)},
		{"initial-rows", rows},
		{"empty-partitions", strconv.Itoa(w.EmptyPartitions)},
		{"max-batch", strconv.Itoa(w.MaxBatch)},
		{"weights", fmt.Sprintf("batch=%d,query=%d,retrieve=%d,stream=%d", w.BatchWeight, w.QueryWeight, w.RetrieveWeight, w.StreamWeight)},
		{"follow-migration", strconv.FormatBool(w.FollowMigration)},
		{"latency", strconv.Itoa(w.Latency)},
		{"migrator-delay", strconv.FormatBool(w.MigratorDelay)},
		{"slow-app", strconv.FormatBool(w.SlowApp)},
		{"swarm", strconv.FormatBool(w.Swarm)},
		{"wide-partition", strconv.FormatBool(w.WidePartition)},
		{"narrow-reads", strconv.FormatBool(w.NarrowReads)},
		{"leases", strconv.FormatBool(w.Leases)},
		{"faults", strconv.Itoa(w.Faults)},
		{"clock-skew", strconv.FormatBool(w.ClockSkew)},
		{"migrators", strconv.Itoa(w.Migrators)},
		{"fault-burst", strconv.FormatBool(w.FaultBurst)},
		{"stalls-only", strconv.FormatBool(w.StallsOnly)},
		{"fault-targets", w.FaultTargets},
		{"backend-faults", strconv.Itoa(w.BackendFaults)},
		{"plain", strconv.FormatBool(w.Plain)},
		{"hot-rows", strconv.FormatBool(w.HotRows)},
	}...)
	return ps
}

func joinInts(ns []int) string {
	var b strings.Builder
	for i, n := range ns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// callsOf is the number of calls application machine i makes.
func (w Workload) callsOf(i int) int {
	if w.AppCalls != nil {
		return w.AppCalls[i]
	}
	return w.CallsPerApp
}

// totalCalls is the number of calls all application machines make.
func (w Workload) totalCalls() int {
	n := 0
	for i := range w.Apps {
		n += w.callsOf(i)
	}
	return n
}

// Describe prints the shape of the workload on one line.
func (w Workload) Describe() string {
	var b strings.Builder
	for i, kv := range w.Params() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[0] + "=" + kv[1])
	}
	return b.String()
}

// draw picks this iteration's shape for a Swarm workload, with the
// choices of the world wd.
func (w Workload) draw(wd *world) Workload {
	d := w
	d.Swarm = false
	d.Partitions = 1 + wd.choose(w.Partitions, chDraw, -1, -1, -1)
	d.EmptyPartitions = 0
	if d.Partitions > 1 {
		d.EmptyPartitions = wd.choose(2, chDraw, -1, -1, -1)
	}
	if w.Apps > 2 {
		d.Apps = 2 + wd.choose(w.Apps-1, chDraw, -1, -1, -1)
	}
	d.Latency = 0
	if wd.chooseBool(chDraw, -1, -1, -1) {
		d.Latency = max(w.Latency, 2)
	}
	d.MigratorDelay = wd.chooseBool(chDraw, -1, -1, -1)
	d.SlowApp = wd.chooseBool(chDraw, -1, -1, -1)
	d.WidePartition = wd.choose(4, chDraw, -1, -1, -1) == 0
	d.NarrowReads = wd.choose(4, chDraw, -1, -1, -1) == 0
	if d.NarrowReads {
		d.MaxBatch = max(d.MaxBatch, min(3, d.RowKeys))
	}
	if w.Leases && w.Migrators > 1 {
		d.Migrators = 1 + wd.choose(w.Migrators, chDraw, -1, -1, -1)
	}
	if w.Leases && w.Faults > 0 {
		d.Faults = wd.choose(w.Faults+1, chDraw, -1, -1, -1)
		d.FaultBurst, d.StallsOnly, d.FaultTargets = false, false, ""
		if d.Faults > 0 {
			// With two faults or more, one iteration in two is a host's
			// pause (a burst of stalls); else one in three stalls only.
			if d.Faults > 1 && wd.chooseBool(chDraw, -1, -1, -1) {
				d.FaultBurst, d.StallsOnly = true, true
			} else {
				d.StallsOnly = wd.choose(3, chDraw, -1, -1, -1) == 0
			}
			d.FaultTargets = faultTargets[wd.choose(len(faultTargets), chDraw, -1, -1, -1)]
		}
	}
	// Drawn last, and only when asked for, so that a trace recorded
	// before these parameters existed replays its draw unchanged.
	if w.Plain {
		d.Plain = wd.chooseBool(chDraw, -1, -1, -1)
	}
	if w.HotRows {
		d.HotRows = wd.choose(4, chDraw, -1, -1, -1) == 0
	}
	return d
}

// faultTargets are the values of Workload.FaultTargets.
var faultTargets = []string{"", "migrators", "apps"}

// faultPlan is the scheduler's fault plan of the workload (see
// sched.SetFaults).
func (w Workload) faultPlan() sched.FaultPlan {
	p := sched.FaultPlan{Budget: w.Faults, StallsOnly: w.StallsOnly}
	if w.FaultBurst {
		p.Window, p.Spread = FaultWindow, PollInterval
	}
	return p
}

// faultProne reports whether faults may strike a process of the kind
// (migrator or application).
func (w Workload) faultProne(migrator bool) bool {
	switch w.FaultTargets {
	case "migrators":
		return migrator
	case "apps":
		return !migrator
	}
	return true
}

// Options configures one iteration.
type Options struct {
	Workload Workload
	// Bug is the library bug switched on (mtable.NoBug for the correct
	// library).
	Bug mtable.Bug
	// OraclesOff is the set of oracles switched off, each replaced by one
	// that always says ok; zero: every oracle judges. The oracles only
	// observe, so switching some off changes no schedule: an oracle
	// alone fails exactly the iterations it fails among all of them.
	OraclesOff Oracles

	// happyFilters makes the workload draw the original filters only
	// (none, isHappy eq false, isHappy eq true), which name no row and
	// whose reads do not depend on how many rows match (set by a test of
	// the shrinker's moves that needs that).
	happyFilters bool

	// lateBy, when positive, makes the network of the production world
	// land a chosen half of the batches sent to the old and new tables
	// that long after they were sent, while their callers time out (a
	// test's world that breaks the service's MaxInFlight assumption when
	// longer than MaxInFlight). A trace records it as "late-by", so
	// that OptionsFromTrace replays such a run (mtabletest -replay of
	// harness/testdata/late-landing.trace).
	lateBy time.Duration

	// wrongLanding makes oracle 1 judge a candidate that landed unseen
	// leniently (the reference runs the batch itself instead of applying
	// the library's results), for the test that shows the judgement can
	// fail.
	wrongLanding bool

	// noPlainGate lets the migrator start while plain clients still call
	// the old table (a test's world that breaks the procedure's rule, to
	// show that the plain-client oracle sees it).
	noPlainGate bool

	// track makes a run log what the shrinker edits: its choices and
	// where each call began (set by Shrink for its runs only: an
	// exploration does without).
	track bool

	// stopAtFailure ends the run right after the world records its first
	// failure in a machine (an oracle's check, see world.fail), the
	// shrinker's candidates' option: the signature is the first
	// failure's, so the steps after it are run for nothing. The
	// iteration's Failure is the same as without it (Kind, Check, Text),
	// but with no scheduler failure beside the check (Sched is nil), and
	// oracle 2, which judges the whole run, is not run: Lin is Ok and
	// Checks counts the first failure only.
	stopAtFailure bool
}

// OptionsFromTrace rebuilds the options a trace was recorded with from
// its parameters, so a trace file is self-contained.
func OptionsFromTrace(tr *sched.Trace) (Options, error) {
	opts := Options{Workload: DefaultWorkload(), Bug: mtable.NoBug}
	get := func(key string) (string, error) {
		v, ok := tr.Param(key)
		if !ok {
			return "", fmt.Errorf("trace has no %q parameter: was it written by mtabletest?", key)
		}
		return v, nil
	}
	atoi := func(key string, dst *int) error {
		v, err := get(key)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("trace parameter %s=%q: not an integer", key, v)
		}
		*dst = n
		return nil
	}
	// boolean reads a bool parameter into dst; an optional one that the
	// trace does not have (written before it existed) is false.
	boolean := func(key string, dst *bool, optional bool) error {
		if _, ok := tr.Param(key); !ok && optional {
			*dst = false
			return nil
		}
		v, err := get(key)
		if err != nil {
			return err
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("trace parameter %s=%q: %v", key, v, err)
		}
		*dst = b
		return nil
	}
	bug, err := get("bug")
	if err != nil {
		return opts, err
	}
	if bug != "none" {
		num, _, _ := strings.Cut(bug, ":")
		if opts.Bug, err = mtable.ParseBug(num); err != nil {
			return opts, fmt.Errorf("trace parameter bug=%q: %v", bug, err)
		}
	}
	w := &opts.Workload
	for _, p := range []struct {
		key string
		dst *int
	}{
		{"apps", &w.Apps}, {"calls-per-app", &w.CallsPerApp}, {"partitions", &w.Partitions},
		{"row-keys", &w.RowKeys}, {"empty-partitions", &w.EmptyPartitions}, {"max-batch", &w.MaxBatch},
		{"latency", &w.Latency},
	} {
		if err := atoi(p.key, p.dst); err != nil {
			return opts, err
		}
	}
	ints := func(key, list string) ([]int, error) {
		var out []int
		if list != "" {
			for _, f := range strings.Split(list, ",") {
				n, err := strconv.Atoi(f)
				if err != nil {
					return nil, fmt.Errorf("trace parameter %s=%q: %q is not an integer", key, list, f)
				}
				out = append(out, n)
			}
		}
		return out, nil
	}
	rows, err := get("initial-rows")
	if err != nil {
		return opts, err
	}
	if w.InitialRows, err = ints("initial-rows", rows); err != nil {
		return opts, err
	}
	// app-calls is written only for a shrunk workload.
	if calls, ok := tr.Param("app-calls"); ok {
		if w.AppCalls, err = ints("app-calls", calls); err != nil {
			return opts, err
		}
		if w.AppCalls == nil {
			w.AppCalls = []int{}
		}
	}
	weights, err := get("weights")
	if err != nil {
		return opts, err
	}
	if _, err := fmt.Sscanf(weights, "batch=%d,query=%d,retrieve=%d,stream=%d", &w.BatchWeight, &w.QueryWeight, &w.RetrieveWeight, &w.StreamWeight); err != nil {
		return opts, fmt.Errorf("trace parameter weights=%q: %v", weights, err)
	}
	for _, p := range []struct {
		key string
		dst *bool
	}{
		{"follow-migration", &w.FollowMigration}, {"migrator-delay", &w.MigratorDelay}, {"slow-app", &w.SlowApp},
		{"swarm", &w.Swarm}, {"wide-partition", &w.WidePartition}, {"narrow-reads", &w.NarrowReads},
	} {
		if err := boolean(p.key, p.dst, false); err != nil {
			return opts, err
		}
	}
	// A trace written before the production world has none of its
	// parameters: it ran the original world.
	w.Leases, w.Faults, w.ClockSkew, w.BackendFaults = false, 0, false, 0
	if _, ok := tr.Param("leases"); ok {
		if err := boolean("leases", &w.Leases, false); err != nil {
			return opts, err
		}
		if err := atoi("faults", &w.Faults); err != nil {
			return opts, err
		}
		if err := boolean("clock-skew", &w.ClockSkew, false); err != nil {
			return opts, err
		}
		if err := atoi("migrators", &w.Migrators); err != nil {
			return opts, err
		}
		// The fault plan's parameters are written since the swarm drew
		// them.
		if err := boolean("fault-burst", &w.FaultBurst, true); err != nil {
			return opts, err
		}
		if err := boolean("stalls-only", &w.StallsOnly, true); err != nil {
			return opts, err
		}
		w.FaultTargets, _ = tr.Param("fault-targets")
		// A trace written before backend faults has none.
		if _, ok := tr.Param("backend-faults"); ok {
			if err := atoi("backend-faults", &w.BackendFaults); err != nil {
				return opts, err
			}
		}
	}
	if v, ok := tr.Param("late-by"); ok {
		if opts.lateBy, err = time.ParseDuration(v); err != nil || opts.lateBy <= 0 {
			return opts, fmt.Errorf("trace parameter late-by=%q: want a positive duration", v)
		}
	}
	// Likewise plain clients and hot rows: a trace without them ran
	// without them.
	if err := boolean("plain", &w.Plain, true); err != nil {
		return opts, err
	}
	if err := boolean("hot-rows", &w.HotRows, true); err != nil {
		return opts, err
	}
	return opts, opts.Check()
}

// maxLateBy bounds Options.lateBy: a request landing later than a few
// leases only makes the run longer.
const maxLateBy = 10 * LeaseTTL
