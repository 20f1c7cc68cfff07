package harness

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/migratingtable/migratingtable/sched"
)

// TailSteps is how many of the last steps a failure report shows (in
// the production world, how many of its last lines of steps, see
// ShownSteps). ShortRun is how many steps a shrunk run may show (steps
// at which something was logged, or lines, see ShownSteps) up to its
// failing check for its report to show all of them.
const (
	TailSteps = 30
	ShortRun  = 40
)

// WriteReport writes the failure report of it in sections: the banner
// with every parameter of the run, the failing check, what each oracle
// said, the steps of the event log up to the failing check (all of them
// when ShownSteps is at most ShortRun, else the last TailSteps; quiet
// steps folded in the production world, see Quiet steps in the package
// documentation), and reproduce, the command that replays the run (empty to
// leave the section out).
func WriteReport(w io.Writer, it *Iteration, reproduce string) {
	fmt.Fprintf(w, "=== FAILURE in iteration %d ===\n", it.Index)
	writeBanner(w, it)
	if v, _ := it.Sched.Trace.Param("swarm"); v == "true" {
		fmt.Fprintf(w, "this iteration drew: %s\n", it.Workload.Describe())
	}
	writeFailure(w, it)
	if reproduce != "" {
		fmt.Fprintf(w, "\n--- reproduce ---\n%s\n", reproduce)
	}
}

// WriteShrunkReport writes the report of a shrunk failure: the shrunk
// run's report, with all its steps up to the failing check when
// ShownSteps is at most ShortRun, then what it was shrunk from, then
// reproduce (empty to leave the section out).
func WriteShrunkReport(w io.Writer, sr *ShrinkResult, reproduce string) {
	it := sr.Shrunk
	tr := it.Sched.Trace
	fmt.Fprintf(w, "=== FAILURE in iteration %d, shrunk ===\n", it.Index)
	sh := ShapeOf(it)
	fmt.Fprintf(w, "strategy %s, seed %d, max steps %d: %s, %s, %s, %s, %s\n",
		tr.Strategy, tr.Seed, tr.MaxSteps, plural(int(sh.Steps), "step"), plural(sh.Machines, "machine"), plural(sh.Calls, "call"),
		plural(sh.Faults, "fault"), plural(sh.Preemptions, "preemption"))
	bug, _ := tr.Param("bug")
	fmt.Fprintf(w, "bug %s; workload %s\n", bug, describeShape(sr.Options.Workload))
	writeFailure(w, it)
	fmt.Fprintf(w, "\n--- shrunk ---\n%s\n", sr.Summary())
	fmt.Fprintf(w, "the iteration as run: strategy %s, seed %d, %d steps; it drew %s\n",
		sr.Original.Strategy, sr.Original.Seed, sr.Original.Sched.Steps, sr.Original.Workload.Describe())
	if reproduce != "" {
		fmt.Fprintf(w, "\n--- reproduce ---\n%s\n", reproduce)
	}
}

func writeBanner(w io.Writer, it *Iteration) {
	tr := it.Sched.Trace
	fmt.Fprintf(w, "strategy %s, seed %d", tr.Strategy, tr.Seed)
	if tr.Strategy == "pct" {
		fmt.Fprintf(w, ", depth %d", tr.Depth)
	}
	fmt.Fprintf(w, ", max steps %d, %d steps run, %d machines, %d calls\n", tr.MaxSteps, it.Sched.Steps, it.Sched.Machines, it.Calls)
	for _, p := range tr.Params {
		fmt.Fprintf(w, "  %s = %s\n", p.Key, p.Value)
	}
}

// writeFailure writes the failing check, the oracles and the steps that
// led to the failure: all of them if ShownSteps is at most ShortRun,
// else the last TailSteps (see listSteps).
func writeFailure(w io.Writer, it *Iteration) {
	fmt.Fprintf(w, "\n--- failing check: %s ---\n", it.Failure.Kind)
	if cf := it.Failure.Check; cf != nil {
		fmt.Fprintf(w, "%s (machine %s, step %d)\n", cf.Check, orDash(cf.Machine), cf.Step)
		fmt.Fprintln(w, strings.TrimRight(cf.Message, "\n"))
		if cf.Call != "" {
			fmt.Fprintf(w, "call: %s\n", cf.Call)
		}
		if cf.Diff != "" {
			fmt.Fprintf(w, "diff (-want reference, +got virtual table):\n%s", cf.Diff)
		}
	} else {
		fmt.Fprintln(w, it.Failure.Text)
	}
	if s := it.Failure.Sched; s != nil && s.Stack != "" {
		fmt.Fprintf(w, "stack:\n%s\n", s.Stack)
	}

	fmt.Fprintf(w, "\n--- oracles ---\n")
	names := []string{CheckAnnotations, CheckLinearizability, CheckStream, CheckFinalState, CheckError, CheckMigrator}
	// The production world's checks, where its run has them.
	if v, _ := it.Sched.Trace.Param("leases"); v == "true" {
		names = append(names, CheckFencing)
	}
	if v, _ := it.Sched.Trace.Param("plain"); v == "true" {
		names = append(names, CheckPlain)
	}
	for _, n := range names {
		verdict := "passed"
		if k := it.Checks[n]; k > 0 {
			verdict = fmt.Sprintf("FAILED (%d)", k)
		}
		if n == CheckLinearizability {
			verdict += " [" + it.Lin.String() + "]"
		}
		fmt.Fprintf(w, "  %-36s %s\n", n, verdict)
	}
	if s := it.Failure.Sched; s != nil && it.Failure.Check != nil {
		fmt.Fprintf(w, "  %-36s %s\n", "scheduler", s.Error())
	}

	if len(it.Sched.Faults) > 0 || len(it.BackendFaults) > 0 {
		fmt.Fprintf(w, "\n--- faults (%d process, %d backend) ---\n", len(it.Sched.Faults), len(it.BackendFaults))
		for _, f := range it.Sched.Faults {
			fmt.Fprintln(w, f)
		}
		for _, f := range it.BackendFaults {
			fmt.Fprintln(w, f)
		}
	}

	// The steps that led to the failure: an oracle's failure is recorded
	// and the run goes on, so show the steps up to it, not the run's end.
	last := failureStep(it)
	l := listSteps(it)
	switch {
	case !l.folding && l.shown <= ShortRun:
		fmt.Fprintf(w, "\n--- every step (%d of the %d up to the check did something) ---\n", l.shown, last)
	case !l.folding:
		fmt.Fprintf(w, "\n--- last %d steps ---\n", TailSteps)
	case l.shown <= ShortRun:
		fmt.Fprintf(w, "\n--- every step (%d shown, %s folded; -v prints every step) ---\n", l.shown, plural(l.folded, "quiet step"))
	default:
		fmt.Fprintf(w, "\n--- last %d of %d shown (%s folded; -v prints every step) ---\n", l.tailShown, l.shown, plural(l.tailFolded, "quiet step"))
	}
	if last < it.Sched.Steps {
		fmt.Fprintf(w, "(up to step %d, where the check failed)\n", last)
	}
	writeStepLines(w, l.tail)
	if last < it.Sched.Steps {
		fmt.Fprintf(w, "(the run went on to step %d; -v prints every step)\n", it.Sched.Steps)
	}
}

// writeStepLines prints ps: a step's events, a note of repetition or a
// fold line each.
func writeStepLines(w io.Writer, ps []stepPrint) {
	for _, p := range ps {
		switch {
		case p.fold != nil:
			fmt.Fprintln(w, p.fold)
		case p.repeats > 0:
			clock := ""
			if p.clock != "" {
				clock = "; clock " + p.clock
			}
			what := "step above repeats"
			if p.period > 1 {
				what = fmt.Sprintf("%d steps above repeat", p.period)
			}
			quiet := ""
			if p.folded > 0 {
				quiet = ", " + plural(p.folded, "quiet step") + " folded"
			}
			fmt.Fprintf(w, "(the %s %s, to step %d%s%s)\n", what, plural(p.repeats, "more time"), p.to, quiet, clock)
		default:
			for _, e := range p.events {
				fmt.Fprintln(w, e)
			}
		}
	}
}

// failureStep is the step at which it's failure was found: an oracle's
// step, or the run's last.
func failureStep(it *Iteration) int64 {
	if cf := it.Failure.Check; cf != nil && cf.Step > 0 {
		return cf.Step
	}
	return it.Sched.Steps
}

// ShownSteps is the number of lines of steps a report of it shows when
// it shows every step up to the failing check: the steps at which an
// event was logged (each counting one, however many events it logged),
// a run of steps that does the same as the steps before it (a retry
// loop) counting once, and in the production world (see Quiet steps in
// the package documentation) a run of quiet steps folded into one line
// counting one.
func ShownSteps(it *Iteration) int {
	return listSteps(it).shown
}

// stepPrint is a step a report prints (its events), a note that the
// period steps before it repeat: repeats more times, up to step to,
// the clock then at clock ("" if it did not jump in the repetitions),
// or a fold line (fold).
type stepPrint struct {
	events          []sched.Event
	period, repeats int
	lead            int // a note's: the lines above it that are its period (with the fold lines among them)
	to              int64
	clock           string
	fold            *quietRun
	folded          int // the quiet steps the push summaries among events fold
}

// stepListing is what a report shows of the steps up to the failing
// check.
type stepListing struct {
	folding bool // the production world: quiet steps are folded
	// shown counts the lines of all the steps up to the check (notes of
	// repetitions not counted), folded the quiet steps folded.
	shown, folded int
	// tail is what the report prints: everything, or (more than
	// ShortRun shown) the last TailSteps lines, of which tailShown are
	// shown and tailFolded quiet steps folded.
	tail                  []stepPrint
	tailShown, tailFolded int
}

// listSteps lists the steps of it up to its failing check. In the
// original world (no leases) nothing is folded, and a long run shows
// the steps of its last TailSteps scheduler steps; in the production
// world quiet steps are folded (see quietSteps) and a long run shows
// its last TailSteps lines.
func listSteps(it *Iteration) stepListing {
	last := failureStep(it)
	v, _ := it.Sched.Trace.Param("leases")
	if v != "true" {
		all := stepLines(it.Sched.Events, 0, last, nil)
		l := stepListing{shown: countShown(all), tail: all}
		if l.shown > ShortRun {
			l.tail = stepLines(it.Sched.Events, last-TailSteps, last, nil)
		}
		return l
	}
	quiet := quietEvents(it)
	all := stepLines(it.Sched.Events, 0, last, quiet)
	l := stepListing{folding: true, shown: countShown(all), folded: countFolded(all), tail: all}
	if l.shown > ShortRun {
		// The last TailSteps lines, and the whole of a repeated block
		// whose note is among them.
		c, n := len(all), 0
		for c > 0 && n < TailSteps {
			c--
			if all[c].repeats == 0 {
				n++
			}
		}
		for j := c; j < len(all); j++ {
			if all[j].repeats > 0 && j-all[j].lead < c {
				c = j - all[j].lead
			}
		}
		l.tail = all[c:]
	}
	l.tailShown, l.tailFolded = countShown(l.tail), countFolded(l.tail)
	return l
}

func countShown(ps []stepPrint) int {
	n := 0
	for _, p := range ps {
		if p.repeats == 0 {
			n++
		}
	}
	return n
}

func countFolded(ps []stepPrint) int {
	n := 0
	for _, p := range ps {
		if p.fold != nil {
			n += p.fold.steps
		}
		n += p.folded
	}
	return n
}

// stepLines groups the events of the steps in (from, to] by step, joins
// a stream that ended at its first read with its opening (see
// joinEmptyStreams), folds the runs of quiet steps (see quietSteps;
// quiet, indexed like events, is nil to fold none) and then
// repetitions: where the lines of p consecutive steps (p <= 4; the same
// machines logging the same texts, the clock's jumps aside) occur again
// at least twice right after, fold lines between them aside, the first
// p are printed and the rest is a note, which names the clock at the end
// of the repetitions and the quiet steps it folds with them (a retry
// loop's backoff lets other machines' quiet steps in). A fold line never
// repeats another.
func stepLines(events []sched.Event, from, to int64, quiet []quietKind) []stepPrint {
	var evs []sched.Event
	var kinds []quietKind
	for i, e := range events {
		if e.Step <= from || e.Step > to {
			continue
		}
		k := loud
		if quiet != nil {
			k = quiet[i]
		}
		evs, kinds = append(evs, e), append(kinds, k)
	}
	var summarised map[int]int
	if quiet != nil {
		evs, kinds, summarised = summarisePushes(evs, kinds)
	}
	steps := groupSteps(evs, kinds, summarised)
	steps = joinEmptyStreams(steps)
	// Fold each maximal run of quiet steps that logged more than one
	// event (a lone event is as short as its fold line, and says more).
	var units []stepPrint
	for i := 0; i < len(steps); {
		j, n := i, 0
		for j < len(steps) && steps[j].quiet() {
			n += len(steps[j].events)
			j++
		}
		if n > 1 {
			units = append(units, stepPrint{fold: foldRun(steps[i:j])})
			i = j
			continue
		}
		units = append(units, stepPrint{events: steps[i].events, folded: steps[i].folded})
		i++
	}
	key := func(p stepPrint) string {
		var b strings.Builder
		for _, e := range p.events {
			if !clockJump(e) {
				fmt.Fprintf(&b, "%d\x00%s\x00", e.Machine, e.Text)
			}
		}
		return b.String()
	}
	// The repetitions are sought among the units that are not fold
	// lines: a retry loop's backoff lets quiet steps of other machines
	// in between, which the note then folds too.
	var loudUnits []int            // the indices of the units that are not folds
	pos := make([]int, len(units)) // a unit's index in loudUnits, -1 for a fold
	var keys []string              // the keys of loudUnits
	for i, u := range units {
		pos[i] = -1
		if u.fold == nil {
			pos[i] = len(loudUnits)
			loudUnits = append(loudUnits, i)
			keys = append(keys, key(u))
		}
	}
	var out []stepPrint
	for i := 0; i < len(units); {
		k := pos[i]
		bestP, bestR := 0, 0
		for p := 1; k >= 0 && p <= 4 && k+p <= len(keys); p++ {
			r := 1
			for k+(r+1)*p <= len(keys) && slices.Equal(keys[k+r*p:k+(r+1)*p], keys[k:k+p]) {
				r++
			}
			if r >= 3 && p*r > bestP*bestR {
				bestP, bestR = p, r
			}
		}
		if bestR == 0 {
			out = append(out, units[i])
			i++
			continue
		}
		first := loudUnits[k+bestP-1] + 1 // the first period ends there (fold lines within it kept)
		out = append(out, units[i:first]...)
		end := loudUnits[k+bestP*bestR-1] + 1
		note := stepPrint{period: bestP, lead: first - i, repeats: bestR - 1, to: units[end-1].events[0].Step}
		for _, u := range units[first:end] {
			if u.fold != nil {
				note.folded += u.fold.steps
				if u.fold.clock != "" {
					note.clock = u.fold.clock
				}
				continue
			}
			note.folded += u.folded
			for _, e := range u.events {
				if clockJump(e) {
					note.clock = strings.TrimPrefix(e.Text, "clock jumps to ")
				}
			}
		}
		out = append(out, note)
		i = end
	}
	return out
}

// groupSteps groups events (with their kinds, indexed alike) by step;
// folded, which may be nil, holds for an event's index the quiet steps
// it stands for (a push summary's).
func groupSteps(events []sched.Event, kinds []quietKind, folded map[int]int) []loggedStep {
	var steps []loggedStep
	for i, e := range events {
		if n := len(steps); n > 0 && steps[n-1].events[0].Step == e.Step {
			steps[n-1].events = append(steps[n-1].events, e)
			steps[n-1].kinds = append(steps[n-1].kinds, kinds[i])
			steps[n-1].folded += folded[i]
		} else {
			steps = append(steps, loggedStep{events: []sched.Event{e}, kinds: []quietKind{kinds[i]}, folded: folded[i]})
		}
	}
	return steps
}

// clockJump reports whether e is the scheduler's "clock jumps to +D".
func clockJump(e sched.Event) bool {
	return e.Machine < 0 && strings.HasPrefix(e.Text, clockJumpPrefix)
}

// emptyStream matches a machine's opening of a stream, the harness's
// "TABLE.QueryStreamed(FILTER)".
var emptyStream = regexp.MustCompile(`^([A-Za-z0-9_-]+)\.QueryStreamed\(.*\)$`)

// joinEmptyStreams joins a step that only opened a stream
// ("old.QueryStreamed(...)", shown) with the next step that logged
// something shown, when that step begins with the same machine's first
// read of it, which found the stream's end ("old.stream.Next -> end"):
// the two become one line at the second step, "old.QueryStreamed(...)
// -> end, no rows (opened at step N)", followed by that step's other
// events. The quiet steps between, if any, stay where they are (folded
// before the line).
func joinEmptyStreams(steps []loggedStep) []loggedStep {
	out := steps[:0:0]
	opened, ended := map[int]bool{}, map[int]bool{} // the steps joined: openings, ends
	for i, s := range steps {
		if ended[i] || len(s.events) != 1 || s.kinds[0] != loud {
			continue
		}
		open := s.events[0]
		m := emptyStream.FindStringSubmatch(open.Text)
		if m == nil {
			continue
		}
		j := i + 1
		for j < len(steps) && steps[j].quiet() {
			j++
		}
		if j == len(steps) || ended[j] || steps[j].kinds[0] != loud {
			continue
		}
		if end := steps[j].events[0]; end.Machine != open.Machine || end.Text != m[1]+".stream.Next -> end" {
			continue
		}
		opened[i], ended[j] = true, true
		events := slices.Clone(steps[j].events)
		events[0].Text = fmt.Sprintf("%s -> end, no rows (opened at step %d)", open.Text, open.Step)
		steps[j].events = events
	}
	for i, s := range steps {
		if !opened[i] {
			out = append(out, s)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// SortedCounts renders a count map as "a=1 b=2" in key order.
func SortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}
