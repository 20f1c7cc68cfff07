package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// oracleTableIterations is -oracle-table's budget per row unless
// -iterations is given.
const oracleTableIterations = 3000

// oracleColumns are the table's columns, in the package doc's order.
var oracleColumns = []struct {
	oracle harness.Oracles
	title  string
}{
	{harness.OracleAnnotations, "1 annotations"},
	{harness.OracleLinearizability, "2 linearizability"},
	{harness.OracleStreams, "3 streams"},
	{harness.OracleLiveness, "4 liveness"},
	{harness.OracleEndOfRun, "5 end of run"},
	{harness.OracleErrors, "errors"},
	{harness.OraclePlain, "plain"},
	{harness.OracleFencing, "fencing"},
}

// oracleRow counts, for one bug, the iterations each oracle failed and
// the first of them.
type oracleRow struct {
	label        string
	counts       []int
	firsts       []int
	any, other   int // failing iterations; those failed by no switchable oracle (a panic)
	iterations   int
	interrupted  bool
	benign, none bool
}

func (r *oracleRow) cell(i int) string {
	if r.counts[i] == 0 {
		return "-"
	}
	return fmt.Sprintf("%d, first %d", r.counts[i], r.firsts[i])
}

// runOracleTable is -oracle-table: for the correct library and each
// bug, it runs the iterations with every oracle on and keeps going, and
// prints, per oracle, how many iterations it failed and the first one,
// as a Markdown table. Since the oracles only observe (switching some
// off changes no schedule), an oracle alone fails exactly these
// iterations. It exits 1 if the correct library failed, or a bug other
// than the believed-benign ones was caught by no oracle.
func (c *config) runOracleTable(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	iterations := c.iterations
	if !c.set["iterations"] {
		iterations = oracleTableIterations
	}
	fmt.Fprintf(stdout, "=== mtabletest -oracle-table ===\n")
	fmt.Fprintf(stdout, "seed %d, strategy %s, %d iterations per row, every oracle on; a cell is the number of\n", c.seed, c.strategy, iterations)
	fmt.Fprintf(stdout, "iterations the oracle failed and the first of them (the oracles only observe, so an oracle\n")
	fmt.Fprintf(stdout, "alone fails exactly these); \"other\" counts failures no switchable oracle made (a panic)\n\n")
	head := []string{"bug"}
	for _, col := range oracleColumns {
		head = append(head, col.title)
	}
	head = append(head, "other", "any")
	fmt.Fprintf(stdout, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	passed := true
	for _, b := range append([]mtable.Bug{mtable.NoBug}, mtable.Bugs()...) {
		if ctx.Err() != nil {
			break
		}
		if b.Lease() && !c.leases {
			// As -bug all: the original world has no leases.
			cells := []string{fmt.Sprintf("%d %s", int(b), b)}
			for range oracleColumns {
				cells = append(cells, "")
			}
			cells = append(cells, "", "not explored (-leases=false: no leases in this world)")
			fmt.Fprintf(stdout, "| %s |\n", strings.Join(cells, " | "))
			continue
		}
		bc := *c
		// Counts, not reports: no failure is shrunk.
		bc.bug, bc.keepGoing, bc.iterations, bc.shrink = b, true, iterations, false
		ec := bc.exploreConfig()
		row := &oracleRow{label: "none (the correct library)", counts: make([]int, len(oracleColumns)), firsts: make([]int, len(oracleColumns))}
		if b != mtable.NoBug {
			row.label = fmt.Sprintf("%d %s", int(b), b)
		}
		ec.OnIteration = func(it *harness.Iteration) {
			if it.Failure == nil {
				return
			}
			row.any++
			if it.Flagged == 0 || (it.Failure.Sched != nil && it.Failure.Sched.Kind == sched.Panic) {
				row.other++
			}
			for i, col := range oracleColumns {
				if it.Flagged&col.oracle != 0 {
					if row.counts[i] == 0 {
						row.firsts[i] = it.Index
					}
					row.counts[i]++
				}
			}
		}
		sum, err := harness.ExploreContext(ctx, ec)
		if err != nil {
			return exitUsage, err
		}
		row.iterations, row.interrupted = sum.Iterations, sum.Interrupted
		cells := []string{row.label}
		for i := range oracleColumns {
			cells = append(cells, row.cell(i))
		}
		cells = append(cells, dashZero(row.other), fmt.Sprintf("%d/%d", row.any, row.iterations))
		fmt.Fprintf(stdout, "| %s |\n", strings.Join(cells, " | "))
		caught := row.any - row.other
		switch {
		case b == mtable.NoBug && row.any > 0:
			passed = false
		case b != mtable.NoBug && caught == 0 && !believedBenign[b] && !row.interrupted:
			passed = false
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, "interrupted: the table is incomplete\n")
		return exitInterrupted, nil
	}
	if !passed {
		fmt.Fprintf(stdout, "FAILED: the correct library failed, or a bug was caught by no oracle\n")
		return exitFailure, nil
	}
	return exitPass, nil
}

func dashZero(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}
