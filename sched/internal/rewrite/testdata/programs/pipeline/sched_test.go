//go:build sched

package main

import (
	"testing"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/internal/rewrite/testdata/programs/check"
)

const want = "squares [0 1 4 9 16 25 36 49 64 81] (10) sent ids 30 0 len 0 cap 3\n"

// TestSched runs the rewritten program under sched: every schedule
// prints what the program prints outside a run.
func TestSched(t *testing.T) {
	check.Clean(t, 0, func() {
		if got := run(); got != want {
			sched.Fail(fmtErr(got))
		}
	})
}

type fmtErr string

func (e fmtErr) Error() string { return "got " + string(e) + "want " + want }
