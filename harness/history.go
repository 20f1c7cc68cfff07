package harness

import "github.com/migratingtable/migratingtable/spec"

// HistoryCall is one virtual-table call of an iteration, as recorded for
// external checkers (cmd/mtabletest -history-out writes these as JSON).
type HistoryCall struct {
	Machine string `json:"machine"`
	Seq     int    `json:"seq"`
	Kind    string `json:"kind"`
	Call    string `json:"call"`
	// Invoke and Return are scheduler steps; Return is 0 for a call
	// still running when the run ended. InvokeAt and ReturnAt order all
	// recorded events (calls and ETag changes) strictly.
	Invoke   int64 `json:"invoke"`
	Return   int64 `json:"return"`
	InvokeAt int64 `json:"invokeAt"`
	ReturnAt int64 `json:"returnAt"`
	// LinearizationPoint is the step of the point the library annotated
	// (0 if none).
	LinearizationPoint int64 `json:"linearizationPoint"`

	Status  int           `json:"status"` // 0 success, else HTTP status (StatusNotTable: not a table error)
	Index   int           `json:"index"`  // failing operation of a batch, else -1
	Error   string        `json:"error,omitempty"`
	Results []spec.Result `json:"results,omitempty"`
	Rows    []HistoryRow  `json:"rows,omitempty"`
}

// HistoryRow is a row returned by a query.
type HistoryRow struct {
	PartitionKey string            `json:"partitionKey"`
	RowKey       string            `json:"rowKey"`
	ETag         string            `json:"etag"`
	Props        map[string]string `json:"props"` // values as OData literals
}

// HistoryETagChange is an ETag-only change of the virtual view observed
// on the backend tables.
type HistoryETagChange struct {
	Step         int64  `json:"step"`
	At           int64  `json:"at"`
	PartitionKey string `json:"partitionKey"`
	RowKey       string `json:"rowKey"`
	ETag         string `json:"etag"`
}

// History is everything oracle 2 judged in one iteration.
type History struct {
	Iteration   int                 `json:"iteration"`
	Seed        uint64              `json:"seed"`
	Strategy    string              `json:"strategy"`
	Initial     []HistoryRow        `json:"initial"`
	Calls       []HistoryCall       `json:"calls"`
	ETagChanges []HistoryETagChange `json:"etagChanges"`
}

func historyRow(e spec.Entity) HistoryRow {
	r := HistoryRow{PartitionKey: e.PartitionKey, RowKey: e.RowKey, ETag: string(e.ETag), Props: map[string]string{}}
	for n, v := range e.Props {
		r.Props[n] = v.Literal()
	}
	return r
}

func (w *world) history() *History {
	h := &History{}
	for _, e := range w.revs[0] {
		h.Initial = append(h.Initial, historyRow(e))
	}
	for _, c := range w.calls {
		hc := HistoryCall{
			Machine: c.Machine, Seq: c.Seq, Kind: c.Call.Kind.String(), Call: c.Call.String(),
			Invoke: c.Invoke, Return: c.Return, InvokeAt: c.InvokeAt, ReturnAt: c.ReturnAt,
			LinearizationPoint: c.LPStep,
			Status:             c.Outcome.Status, Index: c.Outcome.Index, Error: c.Outcome.Err, Results: c.Outcome.Results,
		}
		for _, e := range c.Outcome.Rows {
			hc.Rows = append(hc.Rows, historyRow(e))
		}
		h.Calls = append(h.Calls, hc)
	}
	for _, ev := range w.etagEvents {
		h.ETagChanges = append(h.ETagChanges, HistoryETagChange{Step: ev.Step, At: ev.At, PartitionKey: ev.Key.PartitionKey, RowKey: ev.Key.RowKey, ETag: string(ev.ETag)})
	}
	return h
}
