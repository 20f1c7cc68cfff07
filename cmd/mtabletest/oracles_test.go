package main

import (
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
)

// TestOracleTable runs -oracle-table on a small budget: a Markdown row
// per bug with a cell per oracle, the correct library clean, bug 8
// caught by oracles 1 and 2 and not by the errors check, bug 5 by the
// errors check alone (a request Azure would refuse), the lease bugs not
// explored (in the production world, lease bug 13 caught); and exit 1, since in 30 iterations some bugs are caught by
// no oracle.
func TestOracleTable(t *testing.T) {
	r := runCmd(t, "-oracle-table", "-iterations", "30")
	if r.code != exitFailure || !strings.Contains(r.stdout, "FAILED: the correct library failed, or a bug was caught by no oracle") {
		t.Fatalf("exit %d, want %d with the FAILED line:\n%s%s", r.code, exitFailure, r.stdout, r.stderr)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 11 {
			t.Fatalf("row %q has %d cells, want 11", line, len(cells))
		}
		rows[cells[0]] = cells
	}
	if got, want := len(rows), 1+1+len(mtable.Bugs()); got != want { // header, none, the catalogue
		t.Fatalf("%d rows (with the header), want %d:\n%s", got, want, r.stdout)
	}
	for _, tc := range []struct {
		row    string
		caught []bool // annotations, linearizability, streams, liveness, end of run, errors, plain, fencing
		any    string
	}{
		{"none (the correct library)", []bool{false, false, false, false, false, false, false, false}, "0/30"},
		{"8 TombstoneOutputETag", []bool{true, true, false, false, false, false, false, false}, ""},
		{"5 DeleteNoLeaveTombstonesETag", []bool{false, false, false, false, false, true, false, false}, ""},
	} {
		cells := rows[tc.row]
		if cells == nil {
			t.Errorf("no row %q", tc.row)
			continue
		}
		for i, want := range tc.caught {
			if got := cells[1+i] != "-"; got != want {
				t.Errorf("row %q, column %d: %q, want caught %v", tc.row, 1+i, cells[1+i], want)
			}
		}
		if tc.any != "" && cells[10] != tc.any {
			t.Errorf("row %q: any %q, want %q", tc.row, cells[10], tc.any)
		}
	}
	if cells := rows["13 PushExpiresLeaseEarly"]; cells == nil || !strings.Contains(cells[10], "not explored") {
		t.Errorf("lease bug 13 with -leases=false: %q, want not explored", cells)
	}
	// The production world explores the lease bugs: bug 13 fails its
	// first iterations.
	if r := runCmd(t, "-oracle-table", "-iterations", "3", "-leases=true"); strings.Contains(r.stdout, "not explored") ||
		!strings.Contains(r.stdout, "| 13 PushExpiresLeaseEarly |") || strings.Contains(r.stdout, "| 13 PushExpiresLeaseEarly | - | - | - | - | - | - | - | - | - | 0/3 |") {
		t.Errorf("-leases=true: want lease bug 13 explored and caught:\n%s%s", r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"-oracle-table", "-bug", "3"}, {"-oracle-table", "-keep-going"}, {"-oracle-table", "-json"}} {
		if r := runCmd(t, args...); r.code != exitUsage || !strings.Contains(r.stderr, "-oracle-table cannot be combined") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a usage error", args, r.code, r.stderr)
		}
	}
}
