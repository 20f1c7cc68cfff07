package harness

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// quietKind says whether an event is quiet (see "Quiet steps" in the
// package documentation) and which kind of quiet it is.
type quietKind uint8

const (
	loud               quietKind = iota // shown
	quietWait                           // "waits on ..."
	quietSpawn                          // "spawn machine N \"name\"" of a machine that is not a main one
	quietExit                           // "exit" of a machine that is not a main one nor a lease machine
	quietConfigRead                     // a configuration read that found nothing new (renewals aside)
	quietClock                          // "clock jumps to +D"
	quietOwnRead                        // a migrator reads back the state it stored
	quietStart                          // the main machine starts a process (the run's setup)
	quietStore                          // a push's request stores the state it pushes
	quietRelease                        // a migrator reads its own lock to release it as its Run returns
	quietLockHeld                       // a migrator reads the lock another holds, as its "taking the lock" says next
	quietAcks                           // a pushing migrator reads the same leases, only their acknowledgements advanced
	quietMigratorLease                  // the lease poller of a migrator's process reads the state
	quietNoConfig                       // a read of the state before the configuration was created
)

// The texts of the events quietness is judged by: the scheduler's
// (sched's package documentation) and the harness's own log of the
// configuration table's reads (backend.QueryAtomic).
const (
	waitsPrefix      = "waits on "
	spawnPrefix      = "spawn machine "
	exitText         = "exit"
	clockJumpPrefix  = "clock jumps to +"
	configReadPrefix = "config.QueryAtomic("
	storedPrefix     = "configuration: "
	storedSuffix     = " stored"
	startPrefix      = "start process "
	pushPrefix       = "push "
	pushStartSuffix  = ": start"
	runReturned      = "migrator: Run returned: "
	lockHeldPrefix   = "migrator: taking the lock: leaseconfig: another migrator is running: "
	lockFilter       = "(PartitionKey eq 'mtable-config') and (RowKey eq 'migrator')"
)

// stateField is the state row's state, as a configuration read prints it.
var stateField = regexp.MustCompile(`[{ ]state=([0-9]+)[ }]`)

// stateFilter is the filter of a read of the configuration's state row.
const stateFilter = "(PartitionKey eq 'mtable-config') and (RowKey eq 'state')"

// configReads is what classify remembers of a run's configuration
// table so far: the latest result (renewals aside) of each query; for
// each machine whose request stored a new state, that state until the
// machine's next read of the table; for each machine in the middle of
// a push ("push S: start" logged, its "push S: done" not yet), S; and
// for each migrator that found the migration lock held by another
// since its last Run returned, what it said.
type configReads struct {
	last     map[string]string
	stored   map[int]mtable.State
	pushing  map[int]string
	lockHeld map[int]string
	created  bool // a read found the state row
}

func newConfigReads() *configReads {
	return &configReads{last: map[string]string{}, stored: map[int]mtable.State{}, pushing: map[int]string{}, lockHeld: map[int]string{}}
}

// classify returns the quiet kind of e taken alone, after the events
// before it in the run, which it must be given in their order (it
// records in reads what they read and stored).
func classify(e sched.Event, reads *configReads) quietKind {
	switch {
	case e.Machine < 0:
		if strings.HasPrefix(e.Text, clockJumpPrefix) {
			return quietClock
		}
	case strings.HasPrefix(e.Text, waitsPrefix):
		return quietWait
	case e.Text == exitText:
		if !mainMachine(e.Name) && !leaseMachine(e.Name) {
			return quietExit
		}
	case strings.HasPrefix(e.Text, spawnPrefix):
		if name, ok := spawned(e.Text); ok && !mainMachine(name) {
			return quietSpawn
		}
	case strings.HasPrefix(e.Text, startPrefix):
		// The main machine starts the run's processes as it sets the run
		// up (a restart is the scheduler's own event, and shown).
		if e.Name == "main" {
			return quietStart
		}
	case strings.HasPrefix(e.Text, lockHeldPrefix):
		// A migrator that again finds the lock held by the same holder
		// (the same process and instance) learns nothing new.
		prev, seen := reads.lockHeld[e.Machine]
		reads.lockHeld[e.Machine] = e.Text
		if seen && prev == e.Text {
			return quietLockHeld
		}
	case strings.HasPrefix(e.Text, runReturned):
		delete(reads.lockHeld, e.Machine)
	case strings.HasPrefix(e.Text, pushPrefix):
		// "push S: start" and "push S: done (err=...)", logged by the
		// machine that pushes.
		if st, ok := strings.CutSuffix(strings.TrimPrefix(e.Text, pushPrefix), pushStartSuffix); ok {
			reads.pushing[e.Machine] = st
		} else {
			delete(reads.pushing, e.Machine)
		}
	case strings.HasPrefix(e.Text, storedPrefix) && strings.HasSuffix(e.Text, storedSuffix):
		// The world logs a newly stored state on the machine whose
		// request stored it.
		name := strings.TrimSuffix(strings.TrimPrefix(e.Text, storedPrefix), storedSuffix)
		for st := mtable.UseOldHideMetadata; st <= mtable.UseNewHideMetadata; st++ {
			if st.String() == name {
				reads.stored[e.Machine] = st
			}
		}
		if st, ok := reads.pushing[e.Machine]; ok && st == name {
			return quietStore
		}
	case strings.HasPrefix(e.Text, configReadPrefix):
		q, r, ok := splitConfigRead(e.Text)
		if !ok {
			return loud
		}
		r = withoutRenewals(r)
		if q == stateFilter && r != "rows []" && !strings.HasPrefix(r, "error ") {
			reads.created = true
		}
		prev, seen := reads.last[q]
		reads.last[q] = r
		own, stored := reads.stored[e.Machine]
		delete(reads.stored, e.Machine)
		_, pushing := reads.pushing[e.Machine]
		switch {
		case strings.HasPrefix(r, "error "):
		case q == stateFilter && r == "rows []" && !reads.created:
			return quietNoConfig
		case seen && prev == r:
			return quietConfigRead
		case seen && pushing && acksAdvanced(prev, r):
			return quietAcks
		case stored && strings.HasPrefix(e.Name, "migrator") && mainMachine(e.Name):
			if m := stateField.FindStringSubmatch(r); m != nil && m[1] == strconv.Itoa(int(own)) && strings.Count(r, "'state'") == 1 {
				return quietOwnRead
			}
		}
	}
	return loud
}

// acked matches a lease's acknowledgement in a read of the leases: the
// "acked" property, an Int64 formatted "acked=3L" (-1 before the first).
var acked = regexp.MustCompile(`acked=(-?[0-9]+)L ?`)

// acksAdvanced reports whether now, a read of the configuration table
// (renewals aside, see withoutRenewals), found the rows of prev, the
// previous result of the same query, with nothing changed but leases'
// acknowledgements, each the same or later: the same leases, none gone
// or new, acknowledging the versions a push waits for.
func acksAdvanced(prev, now string) bool {
	if !strings.Contains(now, "acked=") || acked.ReplaceAllString(prev, "") != acked.ReplaceAllString(now, "") {
		return false
	}
	a, b := acked.FindAllStringSubmatch(prev, -1), acked.FindAllStringSubmatch(now, -1)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, err1 := strconv.ParseInt(a[i][1], 10, 64)
		y, err2 := strconv.ParseInt(b[i][1], 10, 64)
		if err1 != nil || err2 != nil || y < x {
			return false
		}
	}
	return true
}

// mainMachine reports whether name is the harness's name of the main
// machine, a migrator's or an application's: "main", "migrator",
// "migratorN", "appN".
func mainMachine(name string) bool {
	digits := func(s string) bool {
		if s == "" {
			return false
		}
		for _, c := range s {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	switch {
	case name == "main" || name == "migrator":
		return true
	case strings.HasPrefix(name, "migrator"):
		return digits(name[len("migrator"):])
	case strings.HasPrefix(name, "app"):
		return digits(name[len("app"):])
	}
	return false
}

// leaseMachine reports whether name is one of the machines of the lease
// service and the migration lock (package leaseconfig: "lease-renew",
// "lease-poll", "lease-apply", "lock-renew"). Their spawns are routine,
// but one ends only when its service is closed or its lease or lock is
// lost, and the event does not say which: a lease that expires early is
// the story of a lease bug, so their exits are shown.
func leaseMachine(name string) bool {
	switch name {
	case "lease-renew", "lease-poll", "lease-apply", "lock-renew":
		return true
	}
	return false
}

// renewal matches what a renewal changes in a row of the configuration
// table, a lease's or the migration lock's: its ETag and its heartbeat
// (the "beat" property, an Int64 formatted "beat=12L").
var renewal = regexp.MustCompile(` etag="[^"]*"|beat=[0-9]+L ?`)

// withoutRenewals is the result of a configuration read as it compares
// with an earlier one: without the ETags and heartbeats of its rows, so
// that a read that found the same leases with the same acknowledgements
// and the same lock owner, only renewed, found nothing new. (An ETag
// changes with every write; a write that changed more than the
// heartbeat changed a property that stays in the comparison.)
func withoutRenewals(result string) string {
	return renewal.ReplaceAllString(result, "")
}

// spawned returns the name of the machine a "spawn machine N \"name\""
// event starts.
func spawned(text string) (string, bool) {
	rest := strings.TrimPrefix(text, spawnPrefix)
	id, quoted, ok := strings.Cut(rest, " ")
	if !ok {
		return "", false
	}
	if _, err := strconv.Atoi(id); err != nil {
		return "", false
	}
	name, err := strconv.Unquote(quoted)
	if err != nil {
		return "", false
	}
	return name, true
}

// splitConfigRead splits "config.QueryAtomic(FILTER) -> RESULT" into its
// filter and result. The filter's end is its closing parenthesis,
// counting parentheses outside quoted literals ('...', a quote inside
// doubled), so a literal holding ") -> " does not mislead it.
func splitConfigRead(text string) (query, result string, ok bool) {
	rest := strings.TrimPrefix(text, configReadPrefix)
	depth, quoted := 1, false
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				r, found := strings.CutPrefix(rest[i+1:], " -> ")
				return rest[:i], r, found
			}
		}
	}
	return "", "", false
}

// quietEvents returns the quiet kind of each event of it (indexed like
// it.Sched.Events; loud for one shown): classify's, except the
// events of the machine that failed in the last TailSteps steps that
// logged something up to the failing check and, when the run failed by
// the scheduler's verdict (a deadlock, a livelock, a step bound: no
// oracle's check), each machine's last event up to it (where it was
// left).
func quietEvents(it *Iteration) []quietKind {
	evs := it.Sched.Events
	last := failureStep(it)
	reads := newConfigReads()
	quiet := make([]quietKind, len(evs))
	for i, e := range evs {
		quiet[i] = classify(e, reads)
	}
	migratorLeases(it, quiet)
	closingExits(it, quiet)
	runEnds(it, quiet)
	lockHeld(it, quiet)
	if it.Failure == nil {
		return quiet
	}
	name := ""
	if cf := it.Failure.Check; cf != nil {
		name = cf.Machine
	} else if s := it.Failure.Sched; s != nil && s.Machine >= 0 {
		name = s.MachineName
	}
	if name != "" {
		since, n := int64(0), 0
		for i := len(evs) - 1; i >= 0 && n < TailSteps; i-- {
			if s := evs[i].Step; s <= last && s != since {
				since, n = s, n+1
			}
		}
		for i, e := range evs {
			if e.Step >= since && e.Step <= last && e.Machine >= 0 && e.Name == name && tellsItsWork(quiet[i]) {
				quiet[i] = loud
			}
		}
	}
	if it.Failure.Check == nil {
		seen := map[int]bool{}
		for i := len(evs) - 1; i >= 0; i-- {
			if e := evs[i]; e.Step <= last && e.Machine >= 0 && !seen[e.Machine] {
				seen[e.Machine] = true
				quiet[i] = loud
			}
		}
	}
	return quiet
}

// closingExits marks quiet the exits of a process's lease machines
// when the process is ending: the next event of the process after the
// exit, other lease machines' exits and waits aside, is its main
// machine's own exit (the application or migrator closed its client
// and its lease with it). A lease machine that exits while its process
// goes on (its lease lost or expired) is shown, and so is one with a
// crash, stall or restart of the process between. It needs the
// processes of the run's machines (Trace.Machines); without them every
// such exit is shown.
func closingExits(it *Iteration, quiet []quietKind) {
	if it.Sched == nil || it.Sched.Trace == nil {
		return
	}
	proc := processOf(it)
	evs := it.Sched.Events
	for i, e := range evs {
		if e.Text != exitText || !leaseMachine(e.Name) {
			continue
		}
		p, ok := proc(e.Machine)
		if !ok || p == "" {
			continue
		}
	next:
		for _, f := range evs[i+1:] {
			if f.Machine < 0 {
				if strings.Contains(f.Text, " process ") && strings.Contains(f.Text, strconv.Quote(p)) {
					break // a crash, stall or restart of the process
				}
				continue
			}
			if q, ok := proc(f.Machine); !ok || q != p {
				continue
			}
			switch {
			case f.Text == exitText && leaseMachine(f.Name), strings.HasPrefix(f.Text, waitsPrefix):
				continue
			case f.Text == exitText && mainMachine(f.Name):
				quiet[i] = quietExit
			}
			break next
		}
	}
}

// migratorLeases marks quiet the configuration reads of a migrator
// process's lease poller ("lease-poll"): how the lease service tells
// the migrator's own client the states it and others push. The migrator
// acts on what it reads itself, which is shown. An application's
// poller's reads are shown (when an application learns a state is part
// of its story), and so are the reads of a migrator's lease renewer and
// lock renewer (a lease or the lock lost is the story of a lease bug).
func migratorLeases(it *Iteration, quiet []quietKind) {
	proc := processOf(it)
	for i, e := range it.Sched.Events {
		if quiet[i] != loud || e.Name != "lease-poll" || !strings.HasPrefix(e.Text, configReadPrefix) {
			continue
		}
		if p, ok := proc(e.Machine); ok && strings.HasPrefix(p, "migrator") && mainMachine(p) {
			if _, r, ok := splitConfigRead(e.Text); ok && !strings.HasPrefix(r, "error ") {
				quiet[i] = quietMigratorLease
			}
		}
	}
}

// tellsItsWork reports whether a quiet event of kind k, of the machine
// that failed in its last steps, is shown all the same: what it read of
// the configuration and what it stored are what it acted on last. Its
// waits, spawns and the clock's jumps are not, nor what a shown event of
// its says again (its lock found held, its lock released).
func tellsItsWork(k quietKind) bool {
	switch k {
	case quietConfigRead, quietOwnRead, quietStore, quietAcks, quietExit:
		return true
	}
	return false
}

// processOf returns the function that maps a machine of it to its
// process (Trace.Machines), ok false for a machine it does not know.
func processOf(it *Iteration) func(id int) (string, bool) {
	var ms []sched.TraceMachine
	if it.Sched != nil && it.Sched.Trace != nil {
		ms = it.Sched.Trace.Machines
	}
	return func(id int) (string, bool) {
		if id < 0 || id >= len(ms) {
			return "", false
		}
		return ms[id].Process, true
	}
}

// runEnds marks quiet how a migrator's Run releases its migration lock
// as it returns: going back from the migrator's "migrator: Run
// returned", over the events of the migrator and its process's
// lock-renew machines (its other machines', the lease service's, aside):
// waits, its reads of the lock row that find the lock its own (the
// owner is its process) and lock-renew exits, up to anything else. A
// lock found another's, or a lock-renew machine that ended while the
// Run went on (its lock lost), is shown.
func runEnds(it *Iteration, quiet []quietKind) {
	proc := processOf(it)
	evs := it.Sched.Events
	for i, e := range evs {
		if !strings.HasPrefix(e.Text, runReturned) || !mainMachine(e.Name) {
			continue
		}
		p, ok := proc(e.Machine)
		if !ok || p == "" {
			continue
		}
	back:
		for j := i - 1; j >= 0; j-- {
			f := evs[j]
			if q, ok := proc(f.Machine); !ok || q != p || (f.Machine != e.Machine && f.Name != "lock-renew") {
				continue
			}
			switch {
			case strings.HasPrefix(f.Text, waitsPrefix):
			case f.Text == exitText && f.Name == "lock-renew":
				quiet[j] = quietExit
			case f.Machine == e.Machine && lockReadOf(f.Text, p):
				quiet[j] = quietRelease
			default:
				break back
			}
		}
	}
}

// lockHeld marks quiet a migrator's reads of the migration lock that
// its next "migrator: taking the lock: ... another migrator is running:
// "P" (instance ...) holds the migration lock and renews it" sums up:
// going back from that event, over the migrator's waits, its reads of
// the lock row that find it held by P, up to anything else of the
// migrator's.
func lockHeld(it *Iteration, quiet []quietKind) {
	evs := it.Sched.Events
	for i, e := range evs {
		rest, ok := strings.CutPrefix(e.Text, lockHeldPrefix)
		if !ok || !mainMachine(e.Name) {
			continue
		}
		holder, err := strconv.QuotedPrefix(rest)
		if err != nil {
			continue
		}
		holder, _ = strconv.Unquote(holder)
	back:
		for j := i - 1; j >= 0; j-- {
			f := evs[j]
			if f.Machine != e.Machine {
				continue
			}
			switch {
			case strings.HasPrefix(f.Text, waitsPrefix):
			case lockReadOf(f.Text, holder):
				quiet[j] = quietLockHeld
			default:
				break back
			}
		}
	}
}

// lockReadOf reports whether text is a read of the migration lock's row
// that found it, held by process p.
func lockReadOf(text, p string) bool {
	if !strings.HasPrefix(text, configReadPrefix) {
		return false
	}
	q, r, ok := splitConfigRead(text)
	return ok && q == lockFilter && strings.Count(r, "'mtable-config'/") == 1 && ownedBy(r, p)
}

// ownedBy reports whether a read of the lock row found it held by
// process p: its "client" property is p.
func ownedBy(result, p string) bool {
	client := "client='" + strings.ReplaceAll(p, "'", "''") + "'"
	for _, sep := range [...]string{"{", " "} {
		for _, end := range [...]string{" ", "}"} {
			if strings.Contains(result, sep+client+end) {
				return true
			}
		}
	}
	return false
}

// loggedStep is a step's events and their quiet kinds, and the quiet
// steps the push summaries among them fold.
type loggedStep struct {
	events []sched.Event
	kinds  []quietKind
	folded int
}

// quiet reports whether every event of s is quiet.
func (s loggedStep) quiet() bool { return !slices.Contains(s.kinds, loud) }

// quietRun is a run of quiet steps a report folds into one line.
type quietRun struct {
	from, to int64 // its first and last step
	steps    int
	machines []string // the machines concerned, in the order they appear
	kinds    [quietNoConfig + 1]bool
	clock    string // the clock after the run's last jump; "" if none
}

// foldRun summarises steps, each a step's events, all quiet.
func foldRun(steps []loggedStep) *quietRun {
	r := &quietRun{from: steps[0].events[0].Step, to: steps[len(steps)-1].events[0].Step, steps: len(steps)}
	name := func(n string) {
		for _, m := range r.machines {
			if m == n {
				return
			}
		}
		r.machines = append(r.machines, n)
	}
	for _, s := range steps {
		for i, e := range s.events {
			k := s.kinds[i]
			r.kinds[k] = true
			if k == quietClock {
				r.clock = strings.TrimPrefix(e.Text, "clock jumps to ")
				continue
			}
			name(e.Name)
			if n, ok := spawned(e.Text); ok {
				name(n)
			}
		}
	}
	return r
}

// String is the fold line: "(steps 59-121: 14 quiet steps of
// lease-renew, lease-poll: waits, configuration reads that found
// nothing new; clock +2s)".
func (r *quietRun) String() string {
	var b strings.Builder
	if r.from == r.to {
		fmt.Fprintf(&b, "(step %d: ", r.from)
	} else {
		fmt.Fprintf(&b, "(steps %d-%d: ", r.from, r.to)
	}
	b.WriteString(plural(r.steps, "quiet step"))
	var what []string
	for k, s := range [...]string{quietWait: "waits", quietSpawn: "spawns", quietExit: "exits", quietConfigRead: "configuration reads that found nothing new",
		quietOwnRead: "a migrator reading back the state it stored", quietStart: "process starts", quietStore: "a push storing its state",
		quietRelease: "a migrator releasing its lock", quietLockHeld: "a migrator finding the lock held",
		quietAcks: "a push reading the leases' acknowledgements", quietMigratorLease: "a migrator's lease poller reading the state",
		quietNoConfig: "reads before the configuration was created"} {
		if s != "" && r.kinds[k] {
			what = append(what, s)
		}
	}
	if len(r.machines) > 0 {
		fmt.Fprintf(&b, " of %s: %s", strings.Join(r.machines, ", "), strings.Join(what, ", "))
	}
	if r.clock != "" {
		if len(r.machines) > 0 {
			b.WriteString(";")
		} else {
			b.WriteString(":")
		}
		fmt.Fprintf(&b, " clock %s", r.clock)
	}
	b.WriteString(")")
	return b.String()
}
