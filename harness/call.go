package harness

import (
	"fmt"
	"strings"

	"github.com/migratingtable/migratingtable/spec"
)

// CallKind is the kind of a virtual-table call.
type CallKind uint8

// The calls an application machine makes.
const (
	CallBatch CallKind = iota
	CallQuery
	CallRetrieve
	CallStream
)

var callKindNames = [...]string{"Batch", "QueryAtomic", "Retrieve", "QueryStreamed"}

func (k CallKind) String() string { return callKindNames[k] }

// Call is one virtual-table call of the workload.
type Call struct {
	Kind   CallKind
	Ops    []spec.Op   // CallBatch
	Filter spec.Filter // CallQuery, CallStream
	Key    spec.Key    // CallRetrieve
}

// String prints the call in a compact, readable form, e.g.
// Batch[Insert p0/2 {isHappy=true m1c0o0=true}, Delete p0/3 if-match "*"].
func (c Call) String() string {
	switch c.Kind {
	case CallBatch:
		parts := make([]string, len(c.Ops))
		for i, op := range c.Ops {
			parts[i] = formatOp(op)
		}
		return "Batch[" + strings.Join(parts, ", ") + "]"
	case CallRetrieve:
		return "Retrieve(" + c.Key.String() + ")"
	default:
		return c.Kind.String() + "(" + spec.FilterString(c.Filter) + ")"
	}
}

func formatOp(op spec.Op) string {
	s := op.Kind.String() + " " + op.Entity.Key.String()
	if !op.Kind.IsDelete() {
		s += " " + formatProps(op.Entity.Props)
	}
	if op.Kind.NeedsIfMatch() {
		s += fmt.Sprintf(" if-match %q", op.Entity.ETag)
	}
	return s
}

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
