package harness

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// A push summary is one line for a migrator's push of a state that ran
// with nothing else shown in the middle: from its "push S: start" to its
// "push S: done (...)", every event between is quiet or the pushing
// machine's own read of the configuration table. The line stands at the
// done's step, in its place:
//
//	step 106 [2 migrator]: push PREFER_OLD, steps 34-106: found USE_OLD_HIDE_METADATA (version 0); stored at step 39; leases at step 106: migrator acked 1, migrator2 acked 1; 22 quiet steps of migrator, lease-renew folded; clock +1s; done (err=<nil>)
//
// It says what the push read of the state first, where it stored its
// state, the acknowledgements of the leases it read last (what it waited
// for), the quiet steps it folds and the push's outcome: what the lines
// it replaces said, less the rows' ETags and heartbeats.

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
	var out []sched.Event
	var outKinds []quietKind
	folded := map[int]int{}
	for i := 0; i < len(evs); i++ {
		if j, ok := pushSpan(evs, kinds, i); ok {
			s := summarise(evs[i:j+1], kinds[i:j+1])
			folded[len(out)] = s.folded
			out, outKinds = append(out, s.event), append(outKinds, loud)
			i = j
			continue
		}
		out, outKinds = append(out, evs[i]), append(outKinds, kinds[i])
	}
	return out, outKinds, folded
}

// pushSpan returns the index of the "push S: done" that ends the push
// evs[i] starts, if evs[i] is a migrator's "push S: start" whose push can
// be summarised: its done comes at a later step, and every event between
// is quiet or the machine's own configuration read.
func pushSpan(evs []sched.Event, kinds []quietKind, i int) (int, bool) {
	e := evs[i]
	st, ok := strings.CutSuffix(strings.TrimPrefix(e.Text, pushPrefix), pushStartSuffix)
	if !ok || !strings.HasPrefix(e.Text, pushPrefix) || e.Machine < 0 || !mainMachine(e.Name) {
		return 0, false
	}
	done := pushPrefix + st + pushDonePrefix
	for j := i + 1; j < len(evs); j++ {
		f := evs[j]
		if f.Machine == e.Machine && strings.HasPrefix(f.Text, done) {
			return j, f.Step > e.Step
		}
		if kinds[j] == loud && (f.Machine != e.Machine || !strings.HasPrefix(f.Text, configReadPrefix)) {
			return 0, false
		}
	}
	return 0, false
}

// leaseRow matches a row of a read of the leases: its properties.
var leaseRow = regexp.MustCompile(`\{[^{}]*\}`)

// versionField is the state row's version.
var versionField = regexp.MustCompile(`[{ ]version=(-?[0-9]+)L[ }]`)

// clientField is a lease's client.
var clientField = regexp.MustCompile(`[{ ]client='((?:[^']|'')*)'[ }]`)

// summarise returns the summary of the push whose events (start to done)
// are span.
func summarise(span []sched.Event, kinds []quietKind) pushSummary {
	start, done := span[0], span[len(span)-1]
	st := strings.TrimSuffix(strings.TrimPrefix(start.Text, pushPrefix), pushStartSuffix)
	var facts []string
	found, stored, leases := false, false, ""
	var leasesAt int64
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
				facts = append(facts, "found "+describeState(r))
			case strings.Contains(q, "'lease-'"):
				leases, leasesAt = describeLeases(r), e.Step
			}
		}
	}
	if leases != "" {
		facts = append(facts, fmt.Sprintf("leases at step %d: %s", leasesAt, leases))
	}
	// The quiet steps: the steps of the span all of whose events in it
	// are quiet. (The others hold the push's own reads, summarised.)
	var quiet []loggedStep
	for _, s := range groupSteps(span, kinds, nil) {
		if s.quiet() {
			quiet = append(quiet, s)
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
