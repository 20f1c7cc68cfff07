package harness

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// TailSteps is how many of the last steps a failure report shows.
const TailSteps = 30

// WriteReport writes the failure report of it in sections: the banner
// with every parameter of the run, the failing check, what each oracle
// said, the last TailSteps steps of the event log, and reproduce, the
// command that replays the run (empty to leave the section out).
func WriteReport(w io.Writer, it *Iteration, reproduce string) {
	tr := it.Sched.Trace
	fmt.Fprintf(w, "=== FAILURE in iteration %d ===\n", it.Index)
	fmt.Fprintf(w, "strategy %s, seed %d", tr.Strategy, tr.Seed)
	if tr.Strategy == "pct" {
		fmt.Fprintf(w, ", depth %d", tr.Depth)
	}
	fmt.Fprintf(w, ", max steps %d, %d steps run, %d machines, %d calls\n", tr.MaxSteps, it.Sched.Steps, it.Sched.Machines, it.Calls)
	for _, p := range tr.Params {
		fmt.Fprintf(w, "  %s = %s\n", p.Key, p.Value)
	}
	if v, _ := tr.Param("swarm"); v == "true" {
		fmt.Fprintf(w, "this iteration drew: %s\n", it.Workload.Describe())
	}

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

	// The steps that led to the failure: an oracle's failure is recorded
	// and the run goes on, so show the steps up to it, not the run's end.
	last := it.Sched.Steps
	if cf := it.Failure.Check; cf != nil && cf.Step > 0 {
		last = cf.Step
	}
	fmt.Fprintf(w, "\n--- last %d steps ---\n", TailSteps)
	if last < it.Sched.Steps {
		fmt.Fprintf(w, "(up to step %d, where the check failed)\n", last)
	}
	for _, e := range it.Sched.Events {
		if e.Step > last-TailSteps && e.Step <= last {
			fmt.Fprintln(w, e)
		}
	}
	if last < it.Sched.Steps {
		fmt.Fprintf(w, "(the run went on to step %d; -v prints every step)\n", it.Sched.Steps)
	}
	if reproduce != "" {
		fmt.Fprintf(w, "\n--- reproduce ---\n%s\n", reproduce)
	}
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
