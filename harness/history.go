package harness

import (
	"fmt"
	"strings"

	"github.com/migratingtable/migratingtable/linearizability"
)

// History is one iteration as recorded for checkers outside the harness
// (cmd/mtabletest -history-out writes an array of them as JSON):
// everything oracle 2 judged, and its verdict.
//
// Record is a linearizability.TableRecord in its text form
// (linearizability.FormatTableRecord), one line per element:
// linearizability.ParseTableRecord reads it back (joined with "\n") and
// linearizability.CheckTableRecord judges it as oracle 2 did. Client i
// of an "op" line is application machine i, client -1 the ETag-only
// changes the backend tables showed. Times order every event of the
// iteration (invocations, returns, stream answers, view changes).
type History struct {
	Iteration int    `json:"iteration"`
	Seed      uint64 `json:"seed"`
	Strategy  string `json:"strategy"`
	// Verdict is oracle 2's: "ok", "illegal" or "unknown" (its search
	// ran out of budget), or "off" when it was switched off.
	Verdict string `json:"verdict"`
	// Explanation is oracle 2's explanation of an illegal or unknown
	// verdict.
	Explanation string   `json:"explanation,omitempty"`
	Record      []string `json:"record"`
}

// VerdictOff is History.Verdict when oracle 2 was switched off.
const VerdictOff = "off"

// History returns the iteration's record, as oracle 2 saw it, with its
// verdict.
func (it *Iteration) History() *History {
	h := &History{Iteration: it.Index, Seed: it.Seed, Strategy: it.Strategy, Verdict: VerdictOff}
	if it.world.opts.enabled(OracleLinearizability) {
		h.Verdict = it.Lin.String()
		if it.Lin != linearizability.Ok {
			h.Explanation = it.LinExplain
		}
	}
	text := linearizability.FormatTableRecord(it.world.record())
	h.Record = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if text == "" {
		h.Record = []string{}
	}
	return h
}

// ParseRecord reads h's record back.
func (h *History) ParseRecord() (linearizability.TableRecord, error) {
	rec, err := linearizability.ParseTableRecord(strings.Join(h.Record, "\n"))
	if err != nil {
		return rec, fmt.Errorf("iteration %d: %w", h.Iteration, err)
	}
	return rec, nil
}
