package harness

import (
	"strings"

	"github.com/migratingtable/migratingtable/sched"
)

// Oracles is a set of the harness's oracles (see the package doc).
type Oracles uint8

// The oracles.
const (
	// OracleAnnotations is oracle 1 (CheckAnnotations).
	OracleAnnotations Oracles = 1 << iota
	// OracleLinearizability is oracle 2, the annotation-free one
	// (CheckLinearizability).
	OracleLinearizability
	// OracleStreams is oracle 3 (CheckStream).
	OracleStreams
	// OracleLiveness is oracle 4: the scheduler's deadlock, leak,
	// step-bound, liveness and uncontrolled-blocking failures.
	OracleLiveness
	// OracleEndOfRun is oracle 5 (CheckFinalState).
	OracleEndOfRun
	// OracleErrors fails a call that returned an error other than a
	// table outcome (CheckError) and a migrator that failed
	// (CheckMigrator): the backends here fail only where Azure would
	// refuse the request.
	OracleErrors
	// OraclePlain judges the plain clients' backend calls (CheckPlain):
	// each must behave as the same call on the virtual table would.
	OraclePlain
	// OracleFencing fails a request that lands on the old or new table
	// under a state two steps behind the newest stored one
	// (CheckFencing; the production world's).
	OracleFencing

	// AllOracles is every oracle.
	AllOracles = OracleAnnotations | OracleLinearizability | OracleStreams | OracleLiveness | OracleEndOfRun | OracleErrors | OraclePlain | OracleFencing
)

// OracleList is every oracle, in the package doc's order.
var OracleList = []Oracles{OracleAnnotations, OracleLinearizability, OracleStreams, OracleLiveness, OracleEndOfRun, OracleErrors, OraclePlain, OracleFencing}

var oracleNames = map[Oracles]string{
	OracleAnnotations:     "annotations",
	OracleLinearizability: "linearizability",
	OracleStreams:         "streams",
	OracleLiveness:        "liveness",
	OracleEndOfRun:        "end-of-run",
	OracleErrors:          "errors",
	OraclePlain:           "plain",
	OracleFencing:         "fencing",
}

// String names the oracles of the set, joined by "+" in OracleList's
// order ("none" for the empty set).
func (o Oracles) String() string {
	var names []string
	for _, x := range OracleList {
		if o&x != 0 {
			names = append(names, oracleNames[x])
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "+")
}

// Only returns the options with every oracle but o switched off.
func (opts Options) Only(o Oracles) Options {
	opts.OraclesOff = AllOracles &^ o
	return opts
}

// enabled reports whether oracle o judges this run.
func (opts Options) enabled(o Oracles) bool { return opts.OraclesOff&o == 0 }

// oracleOf is the oracle a check belongs to.
func oracleOf(check string) Oracles {
	switch check {
	case CheckAnnotations:
		return OracleAnnotations
	case CheckLinearizability:
		return OracleLinearizability
	case CheckStream:
		return OracleStreams
	case CheckLiveness:
		return OracleLiveness
	case CheckFinalState:
		return OracleEndOfRun
	case CheckError, CheckMigrator:
		return OracleErrors
	case CheckPlain:
		return OraclePlain
	case CheckFencing:
		return OracleFencing
	}
	return 0
}

// livenessKind reports whether a scheduler failure is oracle 4's (the
// others, a panic and a replay's divergence, fail a run whatever the
// oracles).
func livenessKind(k sched.Kind) bool {
	switch k {
	case sched.Deadlock, sched.Leak, sched.StepBound, sched.Liveness, sched.UncontrolledBlocking:
		return true
	}
	return false
}
