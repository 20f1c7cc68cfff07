package harness

import (
	"slices"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// DefaultLinBudget bounds the linearizability search of one iteration
// (search steps; deterministic).
const DefaultLinBudget = 200_000

// linRecord is what oracle 2 records during a run, from the backend
// tables alone (through the refinement mapping view), never from the
// library's annotations or reference table.
type linRecord struct {
	// initial is the view when the old table was loaded.
	initial []spec.Entity
	// changes are the view's changes: after each backend write and at
	// each configuration push, every key whose view row changed, with
	// one event time per write or push.
	changes []linearizability.ContentChange
}

// noteViewChanges records, after a backend write or a push, the change
// of the view of each of keys from before (the view just before it):
// a content change for streamed queries, and an ETag-only change as an
// event of the linearizability history (a migrator's copy or clean-up
// gives a row a new ETag without changing what it holds).
func (w *world) noteViewChanges(keys []spec.Key, before []viewRow) {
	var at int64
	for i, k := range keys {
		b, a := before[i], w.view(k)
		if b.ok == a.ok && (!a.ok || b.e.ETag == a.e.ETag && propsEqual(b.e.Props, a.e.Props)) {
			continue
		}
		if at == 0 {
			at = w.tick()
		}
		c := linearizability.ContentChange{At: at, Key: k, Present: a.ok}
		if a.ok {
			c.Row = spec.Entity{Key: k, ETag: a.e.ETag, Props: a.e.Props}
		}
		w.lin.changes = append(w.lin.changes, c)
		if b.ok && a.ok && propsEqual(b.e.Props, a.e.Props) {
			w.etagEvents = append(w.etagEvents, etagEvent{Step: sched.Step(), At: at, Key: k, ETag: a.e.ETag})
		}
	}
}

// record is oracle 2's input: everything about the run it judges, from
// the calls' invocations and responses and the backend tables only.
//
// History holds every virtual call (w.calls, in the same order, so
// operation i is call i; calls still running when the run ended are
// pending; a call that failed with an error that is not a table outcome
// is pending too: its effect is unknown), then the ETag-only changes of
// the view. Changes are the view's changes, so each streamed query is
// judged against the revisions of the view since it began, and each
// ETag a write reports against the view. Final is the view at the end
// of each partition the workload uses or the backend tables hold;
// after a completed migration, Plain is the new table as a plain client
// reads it (it must be the view exactly: no metadata, no tombstones, no
// internal rows) and Stray the old table's rows (there must be none).
func (w *world) record() linearizability.TableRecord {
	rec := linearizability.TableRecord{Initial: w.lin.initial, Tracked: true, Changes: w.lin.changes}
	rec.History = make([]linearizability.TableOperation, 0, len(w.calls)+len(w.etagEvents))
	for _, c := range w.calls {
		ret := c.ReturnAt
		if ret == 0 {
			ret = linearizability.Pending
		}
		o := c.Outcome
		switch c.Call.Kind {
		case CallBatch:
			rec.History = append(rec.History, linearizability.Batch(c.MID, c.InvokeAt, ret, c.Call.Ops, o.Results, o.err))
		case CallQuery:
			rec.History = append(rec.History, linearizability.Query(c.MID, c.InvokeAt, ret, c.Call.Filter, o.Rows, o.err))
		case CallRetrieve:
			var e spec.Entity
			found := len(o.Rows) == 1
			if found {
				e = o.Rows[0]
			}
			rec.History = append(rec.History, linearizability.Retrieve(c.MID, c.InvokeAt, ret, c.Call.Key, e, found, o.err))
		case CallStream:
			rec.History = append(rec.History, linearizability.Stream(c.MID, c.InvokeAt, ret, c.Call.Filter, c.Answers, o.err))
		}
	}
	for _, ev := range w.etagEvents {
		rec.History = append(rec.History, linearizability.ETagChange(-1, ev.At, ev.Key, ev.ETag))
	}

	view := w.viewAll()
	pks := w.partitions()
	for _, e := range view {
		pks = append(pks, e.PartitionKey)
	}
	if !w.migrated || w.migratorErr != nil {
		rec.Final = contentOf(view, pks)
		return rec
	}
	newRows := w.new.Snapshot()
	for _, e := range newRows {
		pks = append(pks, e.PartitionKey)
	}
	rec.Final = contentOf(view, pks)
	rec.Plain = contentOf(newRows, pks)
	rec.Stray = append([]spec.Entity{}, w.old.Snapshot()...)
	return rec
}

// contentOf splits rows (in key order) by partition, for each of pks
// (sorted, each once; a partition without rows has an empty list).
func contentOf(rows []spec.Entity, pks []string) []linearizability.PartitionContent {
	pks = slices.Clone(pks)
	slices.SortFunc(pks, spec.CompareStrings)
	pks = slices.Compact(pks)
	out := make([]linearizability.PartitionContent, len(pks))
	for i, pk := range pks {
		out[i] = linearizability.PartitionContent{PartitionKey: pk, Rows: []spec.Entity{}}
		for _, e := range rows {
			if e.PartitionKey == pk {
				out[i].Rows = append(out[i].Rows, e)
			}
		}
	}
	return out
}

// partitions lists every partition the workload could have touched.
func (w *world) partitions() []string {
	out := make([]string, w.wl.Partitions)
	for p := range out {
		out[p] = partitionName(p)
	}
	return out
}

// checkLinearizable runs oracle 2 over the iteration's record. It
// returns the verdict and, when the record is illegal, the failure:
// the call and the step where it shows, which the report's tail of
// steps leads up to.
func (w *world) checkLinearizable(rec linearizability.TableRecord, budget int64, steps int64) (linearizability.RecordReport, *CheckFailure) {
	// One goroutine: the exploration already runs an iteration per core.
	rep, err := linearizability.CheckTableRecord(rec, linearizability.Options{MaxSteps: budget, Workers: 1})
	if err != nil {
		// The harness built a record the checker cannot judge: a bug of
		// the harness, reported as oracle 2's failure so it is seen.
		rep = linearizability.RecordReport{Result: linearizability.Illegal, Explanation: "malformed record (a bug of the harness): " + err.Error()}
		return rep, &CheckFailure{Check: CheckLinearizability, Step: steps, Message: rep.Explanation}
	}
	if rep.Result != linearizability.Illegal {
		return rep, nil
	}
	f := &CheckFailure{Check: CheckLinearizability, Step: steps}
	if len(rep.Violations) > 0 {
		f.Message = "the run violates the table contract (judged from the backend tables, without annotations):\n" + rep.Explanation
		if v := rep.Violations[0]; v.Op >= 0 && v.Op < len(w.calls) {
			c := w.calls[v.Op]
			f.Machine, f.Call, f.Step = c.Machine, c.String(), c.Return
			for i, at := range c.Answers {
				if at.At == v.At {
					f.Step = c.AnswerSteps[i]
				}
			}
			if f.Step == 0 {
				f.Step = steps // still running at the end
			}
		}
		return rep, f
	}
	f.Message = "the history of virtual-table calls is not linearizable:\n" + rep.Explanation
	failed := rep.Search.Failed
	for _, c := range w.calls {
		if c.MID == failed.Client && c.InvokeAt == failed.Call {
			f.Machine, f.Call = c.Machine, c.String()
			if c.Return != 0 {
				f.Step = c.Return
			}
		}
	}
	return rep, f
}
