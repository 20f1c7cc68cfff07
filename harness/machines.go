package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// app makes application machine i's calls through its own
// MigratingTable instance t, from its next call on up to call upTo
// (excluded); t is the old or new table itself for a plain client
// (plain names it). It returns true
// when a call failed because the process's configuration lease was lost
// (the production world): the process must open the service again.
func (w *world) app(ctx context.Context, i int, t spec.Table, plain string, upTo int) (leaseLost bool) {
	wl := w.wl
	if w.opts.track {
		defer func() {
			if w.next[i] == wl.callsOf(i) && len(w.callSteps[i]) == w.next[i] {
				w.callSteps[i] = append(w.callSteps[i], int(sched.Step()))
			}
		}()
	}
	proc := ""
	if wl.Leases {
		proc = sched.CurrentProcess().Name()
	}
	for w.next[i] < upTo {
		seq := w.next[i]
		if w.opts.track && len(w.callSteps[i]) == seq {
			w.callSteps[i] = append(w.callSteps[i], int(sched.Step()))
		}
		if wl.FollowMigration && !(seq == 0 && wl.MigratorDelay) && plain == viaLibrary {
			// Choose a state at least as far as the migration has come and
			// wait for it: calls land in every state and during pushes.
			// (With MigratorDelay the first call begins at once: the
			// applications were running before the migration.)
			// With plain clients, a state past the last is a wait for the
			// migration to be done: calls of MigratingTable clients still
			// in USE_NEW_HIDE_METADATA then mix with plain clients of the
			// new table, as in the procedure's last step.
			states := int(mtable.UseNewHideMetadata) + 1
			if wl.Plain {
				states++
			}
			target := mtable.State(w.choose(states, chState, i, seq, -1))
			w.waitForState(ctx, target)
		}
		call := w.genCall(ctx, i, seq)
		w.noteCall(ctx)
		w.next[i]++
		c := &callRecord{Machine: sched.MachineName(), Proc: proc, MID: i, Seq: seq, Call: call, Plain: plain,
			Invoke: sched.Step(), InvokeAt: w.tick()}
		w.calls = append(w.calls, c)
		cctx := withCall(ctx, c)
		// Every call must return: held hot beyond the liveness bound under a
		// fair schedule, it fails the run. (A crash ends the process's
		// call without a return: its restart cools the condition.)
		hot := fmt.Sprintf("app%d call pending", i)
		sched.SetHot(hot, true)
		if plain != viaLibrary {
			sched.Logf("call %d: %s (plain, on the %s table)", seq, call, plain)
		} else {
			sched.Logf("call %d: %s", seq, call)
		}
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
			if !wl.Leases {
				// The harness's backends fail only with table errors, so any
				// other error is the library's fault.
				w.fail(ctx, &CheckFailure{Check: CheckError, Call: c.String(), Message: "call failed with an error that is not a table outcome: " + c.Outcome.Err})
			} else {
				// Unless a fault of its process explains it.
				w.judgeCallError(ctx, c)
				if errors.Is(c.Outcome.err, leaseconfig.ErrLeaseLost) {
					return true
				}
			}
		}
		refMonitor{w}.checkReturn(ctx, c)
	}
	return false
}

// genCall draws one call from the workload with the scheduler's choices.
func (w *world) genCall(ctx context.Context, machine, seq int) Call {
	wl := w.wl
	pk := partitionName(w.choose(wl.Partitions, chPartition, machine, seq, -1))
	k := w.choose(wl.BatchWeight+wl.QueryWeight+wl.RetrieveWeight+wl.StreamWeight, chCallKind, machine, seq, -1)
	switch {
	case k < wl.BatchWeight:
		n := 1 + w.choose(wl.MaxBatch, chBatchSize, machine, seq, -1)
		used := map[int]bool{}
		ops := make([]spec.Op, 0, n)
		for o := 0; o < n; o++ {
			r := w.hot(w.choose(wl.RowKeys, chRow, machine, seq, o), machine, seq, o)
			for used[r] {
				r = (r + 1) % wl.RowKeys
			}
			used[r] = true
			key := spec.Key{PartitionKey: pk, RowKey: strconv.Itoa(r)}
			kind := spec.OpKind(w.choose(int(spec.DeleteIfExists)+1, chOpKind, machine, seq, o))
			e := spec.Entity{Key: key}
			anyVersion := false
			if kind == spec.DeleteIfExists && n > 1 && o > 0 {
				// DeleteIfExists must be alone in its batch; drawn later
				// in a batch it is a Delete of any version (with no
				// further choice, so the choices stay as they were).
				// Drawn first, it stays: the batch is then a caller
				// error (400, nothing sent) that the library must refuse
				// as the reference does.
				kind, anyVersion = spec.Delete, true
				e.ETag = spec.AnyETag
			}
			if !kind.IsDelete() {
				e.Props = w.genWriteProps(fmt.Sprintf("m%dc%do%d", machine, seq, o), machine, seq, o)
			}
			if kind.NeedsIfMatch() && !anyVersion {
				switch w.choose(3, chETag, machine, seq, o) {
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
		return Call{Kind: CallQuery, Filter: w.filterGen(machine, seq).atomic(pk, wl.WidePartition && pk == w.widePartition())}
	case k < wl.BatchWeight+wl.QueryWeight+wl.RetrieveWeight:
		return Call{Kind: CallRetrieve, Key: spec.Key{PartitionKey: pk, RowKey: strconv.Itoa(w.hot(w.choose(wl.RowKeys, chKey, machine, seq, -1), machine, seq, -1))}}
	default:
		return Call{Kind: CallStream, Filter: w.filterGen(machine, seq).stream()}
	}
}

// migrator is the body of the migrator machine.
func (w *world) migrator(ctx context.Context, old, new spec.Table, cfg mtable.ConfigService, opts []mtable.Option) {
	if w.wl.MigratorDelay {
		// The applications were running before the migration began: let
		// a chosen number of their calls begin first.
		n := w.choose(w.wl.totalCalls()/2+1, chDelay, -1, -1, -1)
		sched.Logf("migrator waits for %d calls to begin", n)
		w.waitForCalls(ctx, n)
	}
	w.waitPlainOld(ctx)
	err := mtable.NewMigrator(old, new, cfg, opts...).Run(ctx)
	sched.Logf("migrator returned: %v", err)
	w.noteMigrated(ctx, err)
	if err != nil {
		w.fail(ctx, &CheckFailure{Check: CheckMigrator, Message: "migrator failed: " + err.Error()})
	}
}
