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
	loud            quietKind = iota // shown
	quietWait                        // "waits on ..."
	quietSpawn                       // "spawn machine N \"name\"" of a machine that is not a main one
	quietExit                        // "exit" of a machine that is not a main one nor a lease machine
	quietConfigRead                  // a configuration read that found nothing new (renewals aside)
	quietClock                       // "clock jumps to +D"
	quietOwnRead                     // a migrator reads back the state it stored
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
)

// stateField is the state row's state, as a configuration read prints it.
var stateField = regexp.MustCompile(`[{ ]state=([0-9]+)[ }]`)

// configReads is what classify remembers of a run's configuration
// table so far: the latest result (renewals aside) of each query, and,
// for each machine whose request stored a new state, that state until
// the machine's next read of the table.
type configReads struct {
	last   map[string]string
	stored map[int]mtable.State
}

func newConfigReads() *configReads {
	return &configReads{last: map[string]string{}, stored: map[int]mtable.State{}}
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
	case strings.HasPrefix(e.Text, storedPrefix) && strings.HasSuffix(e.Text, storedSuffix):
		// The world logs a newly stored state on the machine whose
		// request stored it.
		name := strings.TrimSuffix(strings.TrimPrefix(e.Text, storedPrefix), storedSuffix)
		for st := mtable.UseOldHideMetadata; st <= mtable.UseNewHideMetadata; st++ {
			if st.String() == name {
				reads.stored[e.Machine] = st
			}
		}
	case strings.HasPrefix(e.Text, configReadPrefix):
		q, r, ok := splitConfigRead(e.Text)
		if !ok {
			return loud
		}
		r = withoutRenewals(r)
		prev, seen := reads.last[q]
		reads.last[q] = r
		own, stored := reads.stored[e.Machine]
		delete(reads.stored, e.Machine)
		switch {
		case strings.HasPrefix(r, "error "):
		case seen && prev == r:
			return quietConfigRead
		case stored && strings.HasPrefix(e.Name, "migrator") && mainMachine(e.Name):
			if m := stateField.FindStringSubmatch(r); m != nil && m[1] == strconv.Itoa(int(own)) && strings.Count(r, "'state'") == 1 {
				return quietOwnRead
			}
		}
	}
	return loud
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
	closingExits(it, quiet)
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
			if e.Step >= since && e.Step <= last && e.Machine >= 0 && e.Name == name {
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
	ms := it.Sched.Trace.Machines
	proc := func(id int) (string, bool) {
		if id < 0 || id >= len(ms) {
			return "", false
		}
		return ms[id].Process, true
	}
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

// loggedStep is a step's events and their quiet kinds.
type loggedStep struct {
	events []sched.Event
	kinds  []quietKind
}

// quiet reports whether every event of s is quiet.
func (s loggedStep) quiet() bool { return !slices.Contains(s.kinds, loud) }

// quietRun is a run of quiet steps a report folds into one line.
type quietRun struct {
	from, to int64 // its first and last step
	steps    int
	machines []string // the machines concerned, in the order they appear
	kinds    [quietOwnRead + 1]bool
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
		quietOwnRead: "a migrator reading back the state it stored"} {
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
