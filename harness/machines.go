package harness

import (
	"context"
	"fmt"
	"strconv"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// app is the body of application machine i: it makes the workload's
// calls through its own MigratingTable instance.
func (w *world) app(ctx context.Context, i int, t spec.Table) {
	wl := w.wl
	for seq := 0; seq < wl.CallsPerApp; seq++ {
		if wl.FollowMigration && !(seq == 0 && wl.MigratorDelay) {
			// Choose a state at least as far as the migration has come and
			// wait for it: calls land in every state and during pushes.
			// (With MigratorDelay the first call begins at once: the
			// applications were running before the migration.)
			target := mtable.State(sched.Choose(int(mtable.UseNewHideMetadata) + 1))
			w.waitForState(ctx, target)
		}
		call := w.genCall(ctx, i, seq)
		w.noteCall(ctx)
		c := &callRecord{Machine: sched.MachineName(), MID: i, Seq: seq, Call: call,
			Invoke: sched.Step(), InvokeAt: w.tick()}
		w.calls = append(w.calls, c)
		cctx := withCall(ctx, c)
		// Every call must return: held hot beyond the liveness bound under a
		// fair schedule, it fails the run.
		hot := c.Machine + " call pending"
		sched.SetHot(hot, true)
		sched.Logf("call %d: %s", seq, call)
		switch call.Kind {
		case CallBatch:
			res, err := t.ExecuteBatch(cctx, call.Ops)
			c.Outcome = outcomeOf(res, nil, err)
		case CallQuery:
			rows, err := t.QueryAtomic(cctx, call.Filter)
			c.Outcome = outcomeOf(nil, rows, err)
		case CallRetrieve:
			e, ok, err := spec.Retrieve(cctx, t, call.Key)
			var rows []spec.Entity
			if ok {
				rows = []spec.Entity{e}
			} else if err == nil {
				rows = []spec.Entity{}
			}
			c.Outcome = outcomeOf(nil, rows, err)
		case CallStream:
			rows, err := w.runStream(cctx, t, c)
			c.Outcome = outcomeOf(nil, rows, err)
		}
		c.Return, c.ReturnAt = sched.Step(), w.tick()
		sched.SetHot(hot, false)
		sched.Logf("call %d returned: %s", seq, c.Outcome)
		if c.Outcome.Status == StatusNotTable {
			// The harness's backends fail only with table errors, so any
			// other error is the library's fault.
			w.fail(ctx, &CheckFailure{Check: CheckError, Call: c.String(), Message: "call failed with an error that is not a table outcome: " + c.Outcome.Err})
		}
		refMonitor{w}.checkReturn(ctx, c)
	}
}

// genCall draws one call from the workload with the scheduler's choices.
func (w *world) genCall(ctx context.Context, machine, seq int) Call {
	wl := w.wl
	pk := partitionName(sched.Choose(wl.Partitions))
	k := sched.Choose(wl.BatchWeight + wl.QueryWeight + wl.RetrieveWeight + wl.StreamWeight)
	switch {
	case k < wl.BatchWeight:
		n := 1 + sched.Choose(wl.MaxBatch)
		used := map[int]bool{}
		ops := make([]spec.Op, 0, n)
		for o := 0; o < n; o++ {
			r := sched.Choose(wl.RowKeys)
			for used[r] {
				r = (r + 1) % wl.RowKeys
			}
			used[r] = true
			key := spec.Key{PartitionKey: pk, RowKey: strconv.Itoa(r)}
			kind := spec.OpKind(sched.Choose(int(spec.DeleteIfExists) + 1))
			e := spec.Entity{Key: key}
			if !kind.IsDelete() {
				e.Props = genWriteProps(fmt.Sprintf("m%dc%do%d", machine, seq, o))
			}
			if kind.NeedsIfMatch() {
				switch sched.Choose(3) {
				case 0:
					e.ETag = spec.AnyETag
				case 1:
					e.ETag = "wrong"
				default:
					// The row's current virtual ETag, as the backend tables
					// show it (a wrong one if the row is absent): the
					// workload owes the library's annotations nothing.
					if cur := w.view(key); cur.ok {
						e.ETag = cur.e.ETag
					} else {
						e.ETag = "absent"
					}
				}
			}
			ops = append(ops, spec.Op{Kind: kind, Entity: e})
		}
		return Call{Kind: CallBatch, Ops: ops}
	case k < wl.BatchWeight+wl.QueryWeight:
		return Call{Kind: CallQuery, Filter: w.genAtomicFilter(pk)}
	case k < wl.BatchWeight+wl.QueryWeight+wl.RetrieveWeight:
		return Call{Kind: CallRetrieve, Key: spec.Key{PartitionKey: pk, RowKey: strconv.Itoa(sched.Choose(wl.RowKeys))}}
	default:
		return Call{Kind: CallStream, Filter: w.genStreamFilter()}
	}
}

// migrator is the body of the migrator machine.
func (w *world) migrator(ctx context.Context, old, new spec.Table, cfg mtable.ConfigService, opts []mtable.Option) {
	if w.wl.MigratorDelay {
		// The applications were running before the migration began: let
		// a chosen number of their calls begin first.
		n := sched.Choose(w.wl.Apps*w.wl.CallsPerApp/2 + 1)
		sched.Logf("migrator waits for %d calls to begin", n)
		w.waitForCalls(ctx, n)
	}
	err := mtable.NewMigrator(old, new, cfg, opts...).Run(ctx)
	sched.Logf("migrator returned: %v", err)
	w.noteMigrated(ctx, err)
	if err != nil {
		w.fail(ctx, &CheckFailure{Check: CheckMigrator, Message: "migrator failed: " + err.Error()})
	}
}
