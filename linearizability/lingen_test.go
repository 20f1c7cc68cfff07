package linearizability_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

// linConfig shapes a history that is linearizable by construction.
type linConfig struct {
	calls      int // calls, besides ETag changes and closing queries
	partitions int // partitions "p0", "p1", ...
	rows       int // row keys "0", "1", ... per partition
	maxBatch   int // operations per batch, at most
	width      int // an interval reaches up to width linearization points on each side of its own
	pendingPct int // percentage of calls left pending; half of them take effect
	maxPending int // calls left pending, at most (the search is exponential in them)
	hotPct     int // percentage of calls that are conditional writes of a row whose ETag a pending call wrote, when there is one
	closing    bool
}

// linGap is the time between two linearization points.
const linGap = 10

// version is one content a row had: the operation that wrote it (-1 for
// the initial content), its properties and the ETag it was written with.
type version struct {
	op    int
	props spec.Props
	etag  spec.ETag
}

// linHistory is a generated history with what the generator knows.
type linHistory struct {
	initial []spec.Entity
	ops     []tOp
	// versions lists, for each key, the contents it had in order. Every
	// write gives a row a property that no other write gives (see
	// uniqueProp), so a content names the write that produced it.
	versions map[spec.Key][]version
}

// uniqueProp is the property that operation j of call i writes, and no
// other write.
func uniqueProp(call, j int) string { return fmt.Sprintf("w%do%d", call, j) }

// generateLinearizable simulates a sequential execution of random calls
// on a spec.MemTable: call i takes effect at its linearization point
// linGap*(i+1), and its interval [Call, Return] is drawn around that
// point. Some calls are left pending: some of those ran at their point
// (the caller never heard back), the others never ran. ETag changes
// happen between linearization points. With cfg.closing, a completed
// query of each partition ends the history. The result is linearizable
// by construction: the linearization points order a sequential run that
// gives every recorded outcome. choose(n) returns a number in [0, n).
func generateLinearizable(choose func(int) int, cfg linConfig) linHistory {
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
	g := linHistory{initial: tbl.Snapshot().Clone(), versions: map[spec.Key][]version{}}
	for _, e := range g.initial {
		g.versions[e.Key] = []version{{op: -1, props: e.Props, etag: e.ETag}}
	}
	// seen lists every ETag each row has had, for If-Match values.
	seen := map[spec.Key][]spec.ETag{}
	note := func() {
		for _, e := range tbl.Snapshot() {
			if !slices.Contains(seen[e.Key], e.ETag) {
				seen[e.Key] = append(seen[e.Key], e.ETag)
			}
		}
	}
	note()
	span := func() int64 { return int64(choose(cfg.width*linGap + 1)) }
	at, pendings := int64(0), 0
	// hot lists the rows whose ETag a pending call wrote, in the order
	// they were written: conditional writes on them are drawn often.
	var hot []spec.Key
	for i := range cfg.calls {
		at += linGap
		if choose(8) == 0 {
			if rows := tbl.Snapshot(); len(rows) > 0 {
				k := rows[choose(len(rows))].Key
				etag := spec.ETag(fmt.Sprintf("m%d", i))
				tbl.SetETag(k, etag)
				hot = slices.DeleteFunc(hot, func(h spec.Key) bool { return h == k })
				g.ops = append(g.ops, linearizability.ETagChange(-1, at-linGap/2, k, etag))
				note()
			}
		}
		idx := len(g.ops)
		var in linearizability.TableCall
		pct := cfg.pendingPct
		if len(hot) > 0 && choose(100) < cfg.hotPct {
			in = drawConditional(choose, hot, tbl.Snapshot(), seen, idx)
			if cur, _ := tbl.Snapshot().Get(in.Ops[0].Entity.Key); in.Ops[0].Entity.ETag == cur.ETag {
				pct = max(pct, 50) // a chain of pending calls
			}
		} else {
			in = drawLinCall(choose, cfg, tbl.Snapshot(), seen, idx)
		}
		op := tOp{Client: idx, Call: max(0, at-span()), Return: at + span(), Input: in}
		pending := choose(100) < pct && pendings < cfg.maxPending
		if pending {
			pendings++
		}
		effect := !pending || choose(2) == 0
		if effect {
			execute(ctx, tbl, &op)
			if op.Input.Kind == linearizability.BatchCall && op.Output.Err == nil {
				snap := tbl.Snapshot()
				for j, o := range op.Input.Ops {
					k := o.Entity.Key
					hot = slices.DeleteFunc(hot, func(h spec.Key) bool { return h == k })
					if e, ok := snap.Get(k); ok {
						g.versions[k] = append(g.versions[k], version{op: idx, props: e.Props, etag: op.Output.Results[j].ETag})
						if pending {
							hot = append(hot, k)
						}
					}
				}
			}
			note()
		}
		if pending {
			op.Return = linearizability.Pending
			op.Output = linearizability.TableOutcome{}
		}
		g.ops = append(g.ops, op)
	}
	if cfg.closing {
		for p := range cfg.partitions {
			at += linGap
			op := tOp{Client: len(g.ops), Call: at, Return: at,
				Input: linearizability.TableCall{Kind: linearizability.QueryCall, Filter: spec.PartitionFilter(fmt.Sprintf("p%d", p))}}
			execute(ctx, tbl, &op)
			g.ops = append(g.ops, op)
		}
	}
	return g
}

// drawLinCall draws a call made at state snap: mostly batches of every
// operation kind, whose If-Match is "*", the row's current ETag (which
// a pending call may have written), an ETag the row had before, or one
// it never had; queries with and without a property filter; retrieves;
// a few caller errors. Every written entity carries uniqueProp.
func drawLinCall(choose func(int) int, cfg linConfig, snap spec.Rows, seen map[spec.Key][]spec.ETag, idx int) linearizability.TableCall {
	p := choose(cfg.partitions)
	pk := fmt.Sprintf("p%d", p)
	switch k := choose(20); {
	case k < 11:
		size := 1 + choose(min(cfg.maxBatch, cfg.rows))
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
			if kind.NeedsIfMatch() {
				e.ETag = spec.AnyETag
				switch choose(5) {
				case 0:
				case 1, 2:
					if cur, ok := snap.Get(e.Key); ok {
						e.ETag = cur.ETag
					}
				case 3:
					if old := seen[e.Key]; len(old) > 0 {
						e.ETag = old[choose(len(old))]
					}
				default:
					e.ETag = "e-wrong"
				}
			}
			if !kind.IsDelete() {
				e.Props = spec.Props{"isHappy": spec.Bool(choose(2) == 0), uniqueProp(idx, len(ops)): spec.Int32(1)}
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

// drawConditional draws a Replace, Merge or Delete of a row whose ETag a
// pending call wrote, with If-Match its current ETag or another: the
// calls whose outcome depends on an unknown ETag.
func drawConditional(choose func(int) int, hot []spec.Key, snap spec.Rows, seen map[spec.Key][]spec.ETag, idx int) linearizability.TableCall {
	k := hot[choose(len(hot))]
	kind := []spec.OpKind{spec.Replace, spec.Merge, spec.Delete}[choose(3)]
	cur, _ := snap.Get(k)
	e := spec.Entity{Key: k, ETag: cur.ETag}
	if choose(2) == 0 {
		e.ETag = "e-wrong"
		if old := slices.DeleteFunc(slices.Clone(seen[k]), func(o spec.ETag) bool { return o == cur.ETag }); len(old) > 0 && choose(2) == 0 {
			e.ETag = old[choose(len(old))]
		}
	}
	if !kind.IsDelete() {
		e.Props = spec.Props{"isHappy": spec.Bool(choose(2) == 0), uniqueProp(idx, 0): spec.Int32(1)}
	}
	return linearizability.TableCall{Kind: linearizability.BatchCall, Ops: []spec.Op{{Kind: kind, Entity: e}}}
}

// writtenByCompleted reports whether every write whose uniqueProp is in
// props completed.
func (g *linHistory) writtenByCompleted(props spec.Props) bool {
	for name := range props {
		var call, j int
		if _, err := fmt.Sscanf(name, "w%do%d", &call, &j); err == nil && g.ops[call].IsPending() {
			return false
		}
	}
	return true
}

// returnedBefore reports whether operation i (-1: the initial content,
// there before everything) returned before time t.
func (g *linHistory) returnedBefore(i int, t int64) bool {
	return i < 0 || (!g.ops[i].IsPending() && g.ops[i].Return < t)
}

// isUniqueProp reports whether name is a uniqueProp name.
func isUniqueProp(name string) bool { return strings.HasPrefix(name, "w") }
