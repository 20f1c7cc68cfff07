package harness

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// A push summary is one line for a migrator's push of a state: from its
// "push S: start" to its "push S: done (...)", every event of the
// pushing machine between is quiet or its own read of the configuration
// table. When nothing else is shown in the middle, the line stands for
// the whole span, at the done's step, in its place:
//
//	step 106 [2 migrator]: push PREFER_OLD, steps 34-106: found USE_OLD_HIDE_METADATA (version 0); stored at step 39; leases at step 106: migrator acked 1, migrator2 acked 1; 22 quiet steps of migrator, lease-renew folded; clock +1s; done (err=<nil>)
//
// It says what the push read of the state first, where it stored its
// state, the acknowledgements of the leases it read last (what it waited
// for; and those it read first, when a lease came or went in between),
// the quiet steps it folds and the push's outcome: what the lines it
// replaces said, less the rows' ETags and heartbeats. When other
// machines' lines are shown in the middle, they stay in place, as do the
// quiet steps (folded as any); the push's start, its configuration reads
// and its events at the done's step go, and the summary at the done
// gives each fact its step.

const pushDonePrefix = ": done "

// pushSummary is a push summarised: the event that stands for it and the
// quiet steps it folds.
type pushSummary struct {
	event  sched.Event
	folded int
}

// summarisePushes returns evs (with kinds, indexed alike) with each push
// that can be summarised replaced by its summary's event, loud, and for
// each summary's index in the result the quiet steps it folds.
func summarisePushes(evs []sched.Event, kinds []quietKind) ([]sched.Event, []quietKind, map[int]int) {
	drop := make([]bool, len(evs))
	summaries := map[int]pushSummary{} // by the index of the push's done
	for i := 0; i < len(evs); i++ {
		j, mixed, ok := pushSpan(evs, kinds, i)
		if !ok {
			continue
		}
		if mixed {
			// Other machines' lines in the middle stay where they are
			// (another push among them is summarised in turn), and so
			// do the quiet steps, folded as any; the push's own start,
			// configuration reads and events at its done's step go into
			// the summary at its done.
			for k := i; k < j; k++ {
				if evs[k].Machine == evs[i].Machine && (kinds[k] == loud || evs[k].Step == evs[j].Step) {
					drop[k] = true
				}
			}
			summaries[j] = summarise(evs[i:j+1], kinds[i:j+1], true)
			continue
		}
		for k := i; k < j; k++ {
			drop[k] = true
		}
		summaries[j] = summarise(evs[i:j+1], kinds[i:j+1], false)
		i = j
	}
	var out []sched.Event
	var outKinds []quietKind
	folded := map[int]int{}
	for k, e := range evs {
		switch s, ok := summaries[k]; {
		case ok:
			folded[len(out)] = s.folded
			out, outKinds = append(out, s.event), append(outKinds, loud)
		case !drop[k]:
			out, outKinds = append(out, e), append(outKinds, kinds[k])
		}
	}
	return out, outKinds, folded
}

// pushSpan returns the index of the "push S: done" that ends the push
// evs[i] starts, if evs[i] is a migrator's "push S: start" whose push can
// be summarised: its done comes at a later step, and every event of the
// machine between is quiet or its configuration read (other machines'
// events may be anything); and whether another machine's event between
// is shown (mixed).
func pushSpan(evs []sched.Event, kinds []quietKind, i int) (j int, mixed, ok bool) {
	e := evs[i]
	st, ok := strings.CutSuffix(strings.TrimPrefix(e.Text, pushPrefix), pushStartSuffix)
	if !ok || !strings.HasPrefix(e.Text, pushPrefix) || e.Machine < 0 || !mainMachine(e.Name) {
		return 0, false, false
	}
	done := pushPrefix + st + pushDonePrefix
	for j := i + 1; j < len(evs); j++ {
		f := evs[j]
		switch {
		case f.Machine == e.Machine && strings.HasPrefix(f.Text, done):
			return j, mixed, f.Step > e.Step
		case kinds[j] != loud:
		case f.Machine != e.Machine:
			mixed = true
		case !strings.HasPrefix(f.Text, configReadPrefix):
			return 0, false, false
		}
	}
	return 0, false, false
}

// leaseRow matches a row of a read of the leases: its properties.
var leaseRow = regexp.MustCompile(`\{[^{}]*\}`)

// versionField is the state row's version.
var versionField = regexp.MustCompile(`[{ ]version=(-?[0-9]+)L[ }]`)

// clientField is a lease's client.
var clientField = regexp.MustCompile(`[{ ]client='((?:[^']|'')*)'[ }]`)

// summarise returns the summary of the push whose events (start to done)
// are span. A mixed span's (other machines' lines shown in it, which
// stay in place) gives each fact its step and folds no quiet steps.
func summarise(span []sched.Event, kinds []quietKind, mixed bool) pushSummary {
	start, done := span[0], span[len(span)-1]
	st := strings.TrimSuffix(strings.TrimPrefix(start.Text, pushPrefix), pushStartSuffix)
	facts := pushFacts(span, st, mixed)
	// The quiet steps: the steps of the span all of whose events in it
	// are quiet. (The others hold the push's own reads, summarised.)
	var quiet []loggedStep
	if !mixed {
		for _, s := range groupSteps(span, kinds, nil) {
			if s.quiet() {
				quiet = append(quiet, s)
			}
		}
	}
	n := 0
	if len(quiet) > 0 {
		r := foldRun(quiet)
		n = r.steps
		fact := plural(r.steps, "quiet step")
		if len(r.machines) > 0 {
			fact += " of " + strings.Join(r.machines, ", ")
		}
		facts = append(facts, fact+" folded")
		if r.clock != "" {
			facts = append(facts, "clock "+r.clock)
		}
	}
	outcome := strings.TrimPrefix(done.Text, pushPrefix+st+": ")
	facts = append(facts, outcome)
	text := fmt.Sprintf("push %s, steps %d-%d: %s", st, start.Step, done.Step, strings.Join(facts, "; "))
	return pushSummary{event: sched.Event{Step: done.Step, Machine: done.Machine, Name: done.Name, Text: text}, folded: n}
}

// describeState is what a read of the state row found: "PREFER_OLD
// (version 0)", or "no state" before the configuration was created.
func describeState(result string) string {
	m := stateField.FindStringSubmatch(result)
	if m == nil {
		if result == "rows []" {
			return "no state"
		}
		return result
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return result
	}
	d := mtable.State(n).String()
	if v := versionField.FindStringSubmatch(result); v != nil {
		d += " (version " + v[1] + ")"
	}
	return d
}

// describeLeases is what a read of the leases found: each lease's client
// and the version it acknowledged, "migrator acked 1, app0 acked 0"
// ("acked nothing" for -1), or "none".
func describeLeases(result string) string {
	rows := leaseRow.FindAllString(result, -1)
	if len(rows) == 0 {
		return "none"
	}
	var out []string
	for _, row := range rows {
		c, a := clientField.FindStringSubmatch(row), acked.FindStringSubmatch(row)
		if c == nil || a == nil {
			return result
		}
		client := strings.ReplaceAll(c[1], "''", "'")
		if a[1] == "-1" {
			out = append(out, client+" acked nothing")
		} else {
			out = append(out, client+" acked "+a[1])
		}
	}
	return strings.Join(out, ", ")
}

// pushFacts returns what the pushing machine's own events in span (a
// push of st, start to done) say: the state its first read found (with
// the read's step if foundStep), the step it stored st at, and the
// leases it read last, with the first read of them too when a lease came
// or went in between (a lease that expired or was taken away while the
// push waited is the evidence of a lease bug).
func pushFacts(span []sched.Event, st string, foundStep bool) []string {
	start := span[0]
	var facts []string
	found, stored := false, false
	type leaseRead struct {
		step    int64
		leases  string
		clients string
	}
	var first, last *leaseRead
	for _, e := range span[1 : len(span)-1] {
		if e.Machine != start.Machine {
			continue
		}
		switch {
		case e.Text == storedPrefix+st+storedSuffix && !stored:
			stored = true
			facts = append(facts, fmt.Sprintf("stored at step %d", e.Step))
		case strings.HasPrefix(e.Text, configReadPrefix):
			q, r, ok := splitConfigRead(e.Text)
			switch {
			case !ok:
			case q == stateFilter && !found:
				found = true
				fact := "found " + describeState(r)
				if foundStep {
					fact += fmt.Sprintf(" at step %d", e.Step)
				}
				facts = append(facts, fact)
			case strings.Contains(q, "'lease-'"):
				last = &leaseRead{e.Step, describeLeases(r), leaseClients(r)}
				if first == nil {
					first = last
				}
			}
		}
	}
	switch {
	case last == nil:
	case first.clients != last.clients:
		facts = append(facts, fmt.Sprintf("leases at step %d: %s; at step %d: %s", first.step, first.leases, last.step, last.leases))
	default:
		facts = append(facts, fmt.Sprintf("leases at step %d: %s", last.step, last.leases))
	}
	return facts
}

// leaseClients is the clients of the leases a read of them found, in
// its order (each lease's row: its client and instance).
func leaseClients(result string) string {
	var out []string
	for _, row := range leaseRow.FindAllString(result, -1) {
		c := clientField.FindStringSubmatch(row)
		if c == nil {
			out = append(out, row)
			continue
		}
		id := c[1]
		if in := instanceField.FindStringSubmatch(row); in != nil {
			id += "\x00" + in[1]
		}
		out = append(out, id)
	}
	return strings.Join(out, "\x00")
}

// instanceField is a lease's instance.
var instanceField = regexp.MustCompile(`[{ ]instance='((?:[^']|'')*)'[ }]`)
