package linearizability_test

import (
	"context"
	"fmt"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

// genConfig shapes a generated table history.
type genConfig struct {
	clients    int  // application clients issuing calls
	calls      int  // calls in all
	partitions int  // partitions "p0", "p1", ...
	rows       int  // row keys "0", "1", ... per partition
	sequential bool // one call at a time (no overlap)
	pending    bool // leave the last in-flight call pending
}

// client is one simulated client: a call moves from called to executed
// (its linearization point, on the MemTable) to returned.
type client struct {
	busy     bool
	executed bool
	op       tOp
	n        int // calls made
}

// generate runs a random workload on a spec.MemTable, interleaving the
// clients' calls (each call executes atomically at some step between its
// call and return) and ETag changes made by a migrator, and records the
// history with step numbers as times. choose(n) returns a number in
// [0, n). The history is linearizable by construction.
func generate(choose func(n int) int, cfg genConfig) (initial []spec.Entity, history []tOp) {
	ctx := context.Background()
	tbl := spec.NewMemTable("e")
	var load []spec.Entity
	for p := range cfg.partitions {
		for r := range cfg.rows {
			if choose(2) == 0 {
				load = append(load, spec.Entity{Key: genKey(p, r), Props: spec.Props{"isHappy": spec.Bool(choose(2) == 0)}})
			}
		}
	}
	tbl.Load(load)
	initial = tbl.Snapshot().Clone()

	clients := make([]client, cfg.clients)
	issued, migrations := 0, 0
	now := int64(0)
	for {
		now++
		inFlight := 0
		for _, c := range clients {
			if c.busy {
				inFlight++
			}
		}
		if issued == cfg.calls && inFlight <= 1 {
			for i := range clients {
				c := &clients[i]
				if !c.busy {
					continue
				}
				if !cfg.pending {
					if !c.executed {
						execute(ctx, tbl, &c.op)
					}
					c.op.Return = now
				}
				history = append(history, settleOp(c.op))
			}
			return initial, history
		}
		// The migrator changes an ETag now and then (in a sequential
		// history, between calls).
		if choose(12) == 0 && migrations < cfg.calls/8+1 && (!cfg.sequential || inFlight == 0) {
			rows := tbl.Snapshot()
			if len(rows) > 0 {
				e := rows[choose(len(rows))]
				migrations++
				etag := spec.ETag(fmt.Sprintf("m%d", migrations))
				tbl.SetETag(e.Key, etag)
				history = append(history, linearizability.ETagChange(-1, now, e.Key, etag))
				continue
			}
		}
		i := choose(len(clients))
		if cfg.sequential {
			// Finish the call in flight, if any, first.
			for j := range clients {
				if clients[j].busy {
					i = j
				}
			}
		}
		c := &clients[i]
		switch {
		case !c.busy:
			if issued == cfg.calls {
				continue
			}
			issued++
			c.busy, c.executed = true, false
			c.op = tOp{Client: i, Call: now, Input: genCall(choose, cfg, tbl.Snapshot(), i, c.n)}
			c.n++
		case !c.executed:
			execute(ctx, tbl, &c.op)
			c.executed = true
		default:
			c.op.Return = now
			history = append(history, settleOp(c.op))
			c.busy = false
		}
	}
}

func settleOp(op tOp) tOp {
	if op.Return == 0 {
		op.Return = linearizability.Pending
		op.Output = linearizability.TableOutcome{}
	}
	return op
}

func genKey(p, r int) spec.Key {
	return spec.Key{PartitionKey: fmt.Sprintf("p%d", p), RowKey: fmt.Sprint(r)}
}

// genCall draws a call: mostly batches of 1-3 operations of every kind
// (If-Match "*", a wrong ETag, or the row's ETag when the call is made),
// atomic queries with and without a property filter, retrieves, and a
// few caller errors.
func genCall(choose func(int) int, cfg genConfig, snap spec.Rows, client, n int) linearizability.TableCall {
	p := choose(cfg.partitions)
	pk := fmt.Sprintf("p%d", p)
	switch k := choose(20); {
	case k < 11:
		size := 1 + choose(min(3, cfg.rows))
		var ops []spec.Op
		used := map[int]bool{}
		for len(ops) < size {
			r := choose(cfg.rows)
			if used[r] {
				continue
			}
			used[r] = true
			kind := spec.OpKind(choose(7))
			e := spec.Entity{Key: genKey(p, r)}
			if kind == spec.DeleteIfExists && size > 1 {
				// DeleteIfExists must be alone in its batch.
				kind, e.ETag = spec.Delete, spec.AnyETag
			} else if kind.NeedsIfMatch() {
				switch choose(3) {
				case 0:
					e.ETag = spec.AnyETag
				case 1:
					e.ETag = "e-wrong"
				default:
					e.ETag = spec.AnyETag
					if cur, ok := snap.Get(e.Key); ok {
						e.ETag = cur.ETag
					}
				}
			}
			if !kind.IsDelete() {
				e.Props = spec.Props{"isHappy": spec.Bool(choose(2) == 0)}
				e.Props[fmt.Sprintf("c%dn%do%d", client, n, len(ops))] = spec.Int32(1)
			}
			ops = append(ops, spec.Op{Kind: kind, Entity: e})
		}
		return linearizability.TableCall{Kind: linearizability.BatchCall, Ops: ops}
	case k < 15:
		var f spec.Filter = spec.PartitionFilter(pk)
		if choose(2) == 0 {
			f = spec.And{L: f, R: spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(choose(2) == 0)}}
		}
		return linearizability.TableCall{Kind: linearizability.QueryCall, Filter: f}
	case k < 19:
		return linearizability.TableCall{Kind: linearizability.RetrieveCall, Key: genKey(p, choose(cfg.rows))}
	default:
		if choose(2) == 0 {
			return linearizability.TableCall{Kind: linearizability.BatchCall} // empty: 400
		}
		return linearizability.TableCall{Kind: linearizability.QueryCall,
			Filter: spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(true)}} // no partition: 400
	}
}

// execute runs the call on the table and records its outcome.
func execute(ctx context.Context, tbl *spec.MemTable, op *tOp) {
	in := op.Input
	switch in.Kind {
	case linearizability.BatchCall:
		res, err := tbl.ExecuteBatch(ctx, in.Ops)
		op.Output = linearizability.TableOutcome{Results: res, Err: err}
	case linearizability.QueryCall:
		rows, err := tbl.QueryAtomic(ctx, in.Filter)
		op.Output = linearizability.TableOutcome{Rows: rows, Err: err}
	case linearizability.RetrieveCall:
		e, found, err := spec.Retrieve(ctx, tbl, in.Key)
		rows := []spec.Entity{}
		if found {
			rows = append(rows, e)
		}
		op.Output = linearizability.TableOutcome{Rows: rows, Err: err}
	}
}
