package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestSummaryNamesUndecidedIterations: iterations whose linearizability
// search ran out of budget pass, so the summary says how many there were
// (and says nothing when there were none).
func TestSummaryNamesUndecidedIterations(t *testing.T) {
	for _, n := range []int{0, 3} {
		var b bytes.Buffer
		writeSummary(&b, summaryJSON{Iterations: 10, Planned: 10, LinUndecided: n})
		got := strings.Contains(b.String(), "linearizability undecided (search budget spent) in 3 iterations")
		if got != (n == 3) {
			t.Errorf("LinUndecided %d: summary\n%s", n, b.String())
		}
		if n == 0 && strings.Contains(b.String(), "undecided") {
			t.Errorf("LinUndecided 0: summary mentions undecided iterations:\n%s", b.String())
		}
	}
}
