package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
)

// believedBenign lists the bug switches PROTOCOL.md section 4 expects no
// check to catch: -seeds reports them as not found without failing.
var believedBenign = map[mtable.Bug]bool{mtable.BugQueryStreamedSaveNewConfig: true}

// noLeases is why the lease bugs (mtable.Bug.Lease) are not explored
// with -leases=false: that world runs mtable.MemConfig, without leases,
// crashes or stalls, where those switches change nothing. -bug all lists
// them, -seeds skips them.
const noLeases = "not explored: -leases=false runs MemConfig, without leases; see mtable/leaseconfig's tests"

// seedIterations is -seeds' budget per bug unless -iterations is given:
// more than a plain run's, since the corpus wants every catchable bug
// (bug 18 is first found at iteration 15,302 from seed 314159).
const seedIterations = 20000

// seedFile is the corpus file name of bug b.
func seedFile(b mtable.Bug) string { return bugStem(b) + ".trace" }

// runSeeds regenerates the seed corpus: for each bug (or only c.bug),
// it explores like a plain run and writes the first failing trace to
// c.seeds/bug-N-Name.trace, replacing it. It exits 1 if a bug that is
// not believed benign was not found.
func (c *config) runSeeds(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	bugs := mtable.Bugs()
	if c.set["bug"] {
		if c.bug == mtable.NoBug {
			return exitUsage, usagef("-seeds -bug none: the correct library has no failing trace to keep")
		}
		bugs = []mtable.Bug{c.bug}
	}
	// Every file it will replace is checked before anything runs.
	for _, b := range bugs {
		if _, err := checkOutput("-seeds", filepath.Join(c.seeds, seedFile(b)), true); err != nil && !missingDir(c.seeds) {
			return exitUsage, err
		}
	}
	if err := makeOutDir("-seeds", c.seeds); err != nil {
		return exitUsage, err
	}
	base := *c
	base.keepGoing = false
	base.shrink = false // the corpus keeps each first failure as found
	if !c.set["iterations"] {
		base.iterations = seedIterations
	}
	fmt.Fprintf(stdout, "regenerating the seed corpus in %s: seed %d, strategy %s, up to %d iterations per bug, %d workers\n",
		c.seeds, c.seed, c.strategy, base.iterations, c.parallel)
	missed := 0
	for _, b := range bugs {
		if b.Lease() && !c.leases {
			fmt.Fprintf(stdout, "bug %2d %-38s %s; %s left as it was\n", int(b), b, noLeases, seedFile(b))
			continue
		}
		bc := base
		bc.bug = b
		ec := bc.exploreConfig()
		if err := ec.Validate(); err != nil {
			return exitUsage, usagef("%v", err)
		}
		if ctx.Err() != nil {
			break
		}
		// An interrupted exploration ran a prefix of the iterations, so a
		// failure it found is the first one all the same.
		sum, err := harness.ExploreContext(ctx, ec)
		if err != nil {
			return exitUsage, err
		}
		label := fmt.Sprintf("bug %2d %-38s", int(b), b)
		if sum.First == nil && sum.Interrupted {
			fmt.Fprintf(stdout, "%s interrupted after %d iterations; %s left as it was\n", label, sum.Iterations, seedFile(b))
			break
		}
		if sum.First == nil {
			note := ""
			if believedBenign[b] {
				note = " (believed benign: PROTOCOL.md section 4)"
			} else {
				missed++
			}
			fmt.Fprintf(stdout, "%s not found in %d iterations%s; %s left as it was\n", label, sum.Iterations, note, seedFile(b))
			continue
		}
		text, err := traceText(sum.First)
		if err != nil {
			return exitUsage, err
		}
		path := filepath.Join(c.seeds, seedFile(b))
		if err := writeOutput("-seeds", path, text, true); err != nil {
			return exitUsage, err
		}
		fmt.Fprintf(stdout, "%s iteration %4d  %-6s %6.2fs  %-10s -> %s\n", label, sum.First.Index, sum.First.Strategy, sum.Elapsed.Seconds(), sum.First.Failure.Kind, path)
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, "interrupted: the remaining bugs were not explored\n")
		return exitInterrupted, nil
	}
	if missed > 0 {
		fmt.Fprintf(stdout, "%d bug(s) not found: raise -iterations or look at the harness\n", missed)
		return exitFailure, nil
	}
	return exitPass, nil
}
