package harness

import (
	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

// DefaultLinBudget bounds the linearizability search of one iteration
// (search steps; deterministic).
const DefaultLinBudget = 200_000

// linHistory is oracle 2's input: every atomic call (batches, atomic
// queries, retrieves; streamed queries are oracle 3's) with its event
// times, the ETag-only changes of the virtual view observed on the
// backend tables, and, after everything, a read of each partition's
// final virtual content from the backend tables. That last read makes a
// write the library lost (acknowledged, then shadowed or dropped)
// visible to the search even when no later call happened to read it.
// Calls still running when the run ended are pending.
func (w *world) linHistory() []linearizability.TableOperation {
	h := make([]linearizability.TableOperation, 0, len(w.calls)+len(w.etagEvents))
	for _, c := range w.calls {
		ret := c.ReturnAt
		if ret == 0 {
			ret = linearizability.Pending
		}
		o := c.Outcome
		switch c.Call.Kind {
		case CallBatch:
			h = append(h, linearizability.Batch(c.MID, c.InvokeAt, ret, c.Call.Ops, o.Results, o.err))
		case CallQuery:
			h = append(h, linearizability.Query(c.MID, c.InvokeAt, ret, c.Call.Filter, o.Rows, o.err))
		case CallRetrieve:
			var e spec.Entity
			found := len(o.Rows) == 1
			if found {
				e = o.Rows[0]
			}
			h = append(h, linearizability.Retrieve(c.MID, c.InvokeAt, ret, c.Call.Key, e, found, o.err))
		}
	}
	for _, ev := range w.etagEvents {
		h = append(h, linearizability.ETagChange(-1, ev.At, ev.Key, ev.ETag))
	}
	at := w.clock
	for _, pk := range w.partitions() {
		at++
		h = append(h, linearizability.Query(-2, at, at, spec.PartitionFilter(pk), w.finalView(pk), nil))
	}
	return h
}

// partitions lists every partition the run could have touched.
func (w *world) partitions() []string {
	out := make([]string, w.wl.Partitions)
	for p := range out {
		out[p] = partitionName(p)
	}
	return out
}

// finalView is the virtual content of partition pk computed from the
// backend tables (see view), in key order.
func (w *world) finalView(pk string) []spec.Entity {
	keys := map[spec.Key]bool{}
	for _, t := range []*spec.MemTable{w.old, w.new} {
		for _, e := range t.Snapshot().Partition(pk) {
			keys[e.Key] = true
		}
	}
	rows := []spec.Entity{}
	for k := range keys {
		if v := w.view(k); v.ok {
			rows = append(rows, v.e)
		}
	}
	spec.SortEntities(rows)
	return rows
}

// checkLinearizable runs oracle 2 over the iteration's history. (A call
// that failed with an error that is not a table outcome counts as
// pending here; the app machine reports it as CheckError.)
func (w *world) checkLinearizable(budget int64) (linearizability.Result, string) {
	initial := w.revs[0]
	rep, err := linearizability.CheckTable(initial, w.linHistory(), linearizability.Options{MaxSteps: budget})
	if err != nil {
		return linearizability.Illegal, "malformed history: " + err.Error()
	}
	if rep.Result == linearizability.Illegal {
		return rep.Result, rep.String()
	}
	return rep.Result, ""
}
