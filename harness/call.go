package harness

import (
	"fmt"
	"strings"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

// Call is one virtual-table call of the workload: a batch, an atomic
// query, a retrieve or a streamed query. It is linearizability's call
// type, so reports, traces and history files print every call in the
// one form linearizability.ParseTableCall reads back, e.g.
// batch[Insert 'p0'/'2' {isHappy=true m1c0o0=true}, Delete 'p0'/'3' if-match "*"].
type Call = linearizability.TableCall

// The kinds of call an application machine makes.
const (
	CallBatch    = linearizability.BatchCall
	CallQuery    = linearizability.QueryCall
	CallRetrieve = linearizability.RetrieveCall
	CallStream   = linearizability.StreamCall
)

// callKindNames name the kinds of call the workload makes as the
// library's methods do (shrink results group failures by them); the
// other kinds have none.
var callKindNames = [...]string{CallBatch: "Batch", CallQuery: "QueryAtomic", CallRetrieve: "Retrieve", CallStream: "QueryStreamed"}

func formatProps(p spec.Props) string {
	parts := make([]string, 0, len(p))
	for _, n := range p.Names() {
		parts = append(parts, n+"="+p[n].Literal())
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func formatEntity(e spec.Entity) string {
	return fmt.Sprintf("%s etag=%q %s", e.Key, e.ETag, formatProps(e.Props))
}

// StatusNotTable is Outcome.Status for a call that failed with an error
// that is not a table outcome (*spec.Error): the harness's backends never
// produce one, so it is the library's fault (CheckError).
const StatusNotTable = -1

// Outcome is what a call returned.
type Outcome struct {
	Results []spec.Result // successful batch
	Rows    []spec.Entity // query, retrieve (0 or 1 row), stream (all rows)
	Status  int           // 0 on success, else the *spec.Error status
	Index   int           // failing operation index (batch), else -1
	Err     string        // error text, for reports

	err error // the error itself, for the linearizability history
}

func outcomeOf(res []spec.Result, rows []spec.Entity, err error) Outcome {
	o := Outcome{Results: res, Rows: rows, Index: -1, err: err}
	if err != nil {
		o.Results, o.Rows = nil, nil
		o.Status = spec.StatusOf(err)
		o.Index = spec.IndexOf(err)
		o.Err = err.Error()
		if o.Status == 0 {
			o.Status = StatusNotTable
		}
	}
	return o
}

func (o Outcome) String() string {
	switch {
	case o.Status != 0:
		return "error " + o.Err
	case o.Results != nil:
		parts := make([]string, len(o.Results))
		for i, r := range o.Results {
			parts[i] = fmt.Sprintf("%q", r.ETag)
		}
		return "ok [" + strings.Join(parts, " ") + "]"
	default:
		parts := make([]string, len(o.Rows))
		for i, e := range o.Rows {
			parts[i] = formatEntity(e)
		}
		return "rows [" + strings.Join(parts, "; ") + "]"
	}
}
