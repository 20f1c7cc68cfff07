package linearizability_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

// bruteTable decides whether a small table history is linearizable by
// trying every order of every subset of its calls that holds all the
// completed ones, with spec's semantics on concrete rows, and every
// choice of the ETags each pending batch writes. It shares nothing with
// TableModel but spec.
//
// The ETags a pending batch may write are drawn from the ETags the
// history holds and one more, "fresh": a pending batch's ETag is only
// ever compared with ETags of the history (an If-Match, a returned row),
// never with another pending batch's, so every value outside the
// history behaves as "fresh" does.
func bruteTable(initial []spec.Entity, h []tOp) bool {
	cands := historyETags(initial, h)
	need := 0
	for _, op := range h {
		if !op.IsPending() {
			need++
		}
	}
	used := make([]bool, len(h))
	failed := map[string]bool{} // visited (used, rows) that led nowhere
	var try func(rows spec.Rows, done int) bool
	try = func(rows spec.Rows, done int) bool {
		if done == need {
			return true
		}
		key := bruteKey(used, rows)
		if failed[key] {
			return false
		}
		for i, op := range h {
			if used[i] || blocked(h, used, i) {
				continue
			}
			var nexts []spec.Rows
			if op.IsPending() {
				nexts = pendingNexts(rows, op, cands)
			} else if ok, next := concreteStep(rows, op); ok {
				nexts = []spec.Rows{next}
			}
			for _, next := range nexts {
				used[i] = true
				d := done
				if !op.IsPending() {
					d++
				}
				found := try(next, d)
				used[i] = false
				if found {
					return true
				}
			}
		}
		failed[key] = true
		return false
	}
	return try(spec.NewRows(initial), 0)
}

// blocked reports whether a completed call not yet used returned before
// call i was made: i cannot come next.
func blocked(h []tOp, used []bool, i int) bool {
	for j, o := range h {
		if !used[j] && j != i && !o.IsPending() && o.Return < h[i].Call {
			return true
		}
	}
	return false
}

func bruteKey(used []bool, rows spec.Rows) string {
	var b strings.Builder
	for _, u := range used {
		if u {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	for _, e := range rows {
		fmt.Fprintf(&b, "|%s@%q", e.Key, e.ETag)
		for _, name := range e.Props.Names() {
			fmt.Fprintf(&b, " %s=%s", name, e.Props[name].Literal())
		}
	}
	return b.String()
}

// historyETags returns every ETag the history holds, and "fresh".
func historyETags(initial []spec.Entity, h []tOp) []spec.ETag {
	set := map[spec.ETag]bool{"fresh": true}
	for _, e := range initial {
		set[e.ETag] = true
	}
	for _, op := range h {
		set[op.Input.ETag] = true
		for _, o := range op.Input.Ops {
			set[o.Entity.ETag] = true
		}
		for _, r := range op.Output.Results {
			set[r.ETag] = true
		}
		for _, e := range op.Output.Rows {
			set[e.ETag] = true
		}
	}
	var out []spec.ETag
	for e := range set {
		if e != "" && e != spec.AnyETag {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

// pendingNexts returns the states a pending call can leave when it takes
// effect: for a batch that succeeds, one per choice of the ETags it
// writes. A batch that fails has no effect, like one left out.
func pendingNexts(rows spec.Rows, op tOp, cands []spec.ETag) []spec.Rows {
	if op.Input.Kind != linearizability.BatchCall {
		return nil
	}
	ops := op.Input.Ops
	choice := make([]int, len(ops))
	var out []spec.Rows
	for {
		next, _, err := spec.ApplyBatch(rows, ops, func(i int) spec.ETag { return cands[choice[i]] })
		if err != nil {
			return nil
		}
		out = append(out, next)
		// Next choice, counting over the written (non-delete) operations.
		i := 0
		for ; i < len(ops); i++ {
			if ops[i].Kind.IsDelete() {
				continue
			}
			choice[i]++
			if choice[i] < len(cands) {
				break
			}
			choice[i] = 0
		}
		if i == len(ops) {
			return out
		}
	}
}

// concreteStep applies a completed call to rows with spec's semantics
// and reports whether it gives the recorded outcome.
func concreteStep(rows spec.Rows, op tOp) (bool, spec.Rows) {
	in, out := op.Input, op.Output
	switch in.Kind {
	case linearizability.BatchCall:
		if out.Err != nil {
			var want *spec.Error
			if !errors.As(out.Err, &want) {
				return false, nil
			}
			_, _, err := spec.ApplyBatch(rows, in.Ops, func(int) spec.ETag { return "x" })
			return err != nil && spec.StatusOf(err) == want.Status && spec.IndexOf(err) == want.Index, rows
		}
		if len(out.Results) != len(in.Ops) {
			return false, nil
		}
		for i, r := range out.Results {
			if in.Ops[i].Kind.IsDelete() != (r.ETag == "") || r.ETag == spec.AnyETag {
				return false, nil
			}
		}
		next, _, err := spec.ApplyBatch(rows, in.Ops, func(i int) spec.ETag { return out.Results[i].ETag })
		return err == nil, next
	case linearizability.QueryCall, linearizability.RetrieveCall:
		f := in.Filter
		if in.Kind == linearizability.RetrieveCall {
			f = spec.KeyFilter(in.Key)
		}
		if _, ok := spec.SinglePartition(f); !ok {
			return spec.StatusOf(out.Err) == spec.StatusBadRequest && spec.IndexOf(out.Err) == -1, rows
		}
		if out.Err != nil {
			return false, nil
		}
		want := rows.Query(f)
		if len(want) != len(out.Rows) {
			return false, nil
		}
		for i, e := range want {
			g := out.Rows[i]
			if g.Key != e.Key || g.ETag != e.ETag || !sameTestProps(g.Props, e.Props) {
				return false, nil
			}
		}
		return true, rows
	case linearizability.ETagChangeCall:
		j, ok := rows.Search(in.Key)
		if !ok {
			return false, nil
		}
		next := slices.Clone(rows)
		next[j].ETag = in.ETag
		return true, next
	}
	return false, nil
}

func sameTestProps(a, b spec.Props) bool {
	if len(a) != len(b) {
		return false
	}
	for name, v := range a {
		if w, ok := b[name]; !ok || !v.Equal(w) {
			return false
		}
	}
	return true
}

// jumble changes operation i of h in one of many ways, some observable
// and some not. A returned row's ETag becomes another ETag of the
// history, often one a 412 showed the row did not have (cands); a row
// is dropped; a batch's result ETag changes; a 412 becomes a success; a
// pending batch's If-Match becomes another ETag of the history, often
// one that failed on the row; or mutate changes the outcome.
func jumble(choose func(int) int, h []tOp, i int, cands []spec.ETag) {
	op := &h[i]
	// failedIfMatch returns the If-Match values of operations that failed
	// with 412 on row k.
	failedIfMatch := func(k spec.Key) []spec.ETag {
		var out []spec.ETag
		for _, o := range h {
			var se *spec.Error
			if o.IsPending() || !errors.As(o.Output.Err, &se) || se.Status != spec.StatusPreconditionFailed {
				continue
			}
			if f := o.Input.Ops[se.Index]; f.Entity.Key == k {
				out = append(out, f.Entity.ETag)
			}
		}
		return out
	}
	pick := func(k spec.Key) spec.ETag {
		if failed := failedIfMatch(k); len(failed) > 0 && choose(2) == 0 {
			return failed[choose(len(failed))]
		}
		return cands[choose(len(cands))]
	}
	out := &op.Output
	switch {
	case op.IsPending():
		ops := slices.Clone(op.Input.Ops)
		j := choose(len(ops))
		if ops[j].Kind.NeedsIfMatch() {
			ops[j].Entity.ETag = pick(ops[j].Entity.Key)
		}
		op.Input.Ops = ops
	case len(out.Rows) > 0 && choose(3) > 0:
		rows := spec.Rows(out.Rows).Clone()
		j := choose(len(rows))
		if choose(5) == 0 {
			rows = slices.Delete(rows, j, j+1)
		} else {
			rows[j].ETag = pick(rows[j].Key)
		}
		out.Rows = rows
	case op.Input.Kind == linearizability.BatchCall && spec.StatusOf(out.Err) == spec.StatusPreconditionFailed && choose(2) == 0:
		res := make([]spec.Result, len(op.Input.Ops))
		for j, o := range op.Input.Ops {
			if !o.Kind.IsDelete() {
				res[j].ETag = "e-new"
			}
		}
		*out = linearizability.TableOutcome{Results: res}
	case op.Input.Kind == linearizability.BatchCall && out.Err == nil && len(out.Results) > 0 && choose(2) == 0:
		res := slices.Clone(out.Results)
		j := choose(len(res))
		if !op.Input.Ops[j].Kind.IsDelete() {
			res[j].ETag = cands[choose(len(cands))]
		}
		out.Results = res
	default:
		*out = mutate(choose, op.Input, *out)
	}
}

// On small histories, with calls left pending (some took effect, some
// not) and often one outcome changed, the checker's verdict is the brute
// force's: it accepts exactly the histories in which each pending call
// took effect once or not at all.
func TestTableAgreesWithBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := linConfig{
			calls:      rapid.IntRange(1, 6).Draw(t, "calls"),
			partitions: 1,
			rows:       rapid.IntRange(1, 2).Draw(t, "rows"),
			maxBatch:   2,
			width:      rapid.IntRange(0, 2).Draw(t, "width"),
			pendingPct: rapid.IntRange(0, 60).Draw(t, "pendingPct"),
			maxPending: 3,
			hotPct:     rapid.IntRange(0, 90).Draw(t, "hotPct"),
			closing:    rapid.Bool().Draw(t, "closing"),
		}
		agreeWithBruteForce(t, rapidChooser(t), cfg)
	})
}

// The same property over a fixed range of seeds.
func TestTableAgreesWithBruteForceSweep(t *testing.T) {
	for seed := range sweepSeeds() {
		r := rand.New(rand.NewPCG(uint64(seed), 17))
		cfg := linConfig{calls: 1 + r.IntN(6), partitions: 1, rows: 1 + r.IntN(2), maxBatch: 2,
			width: r.IntN(3), pendingPct: r.IntN(61), maxPending: 3, hotPct: r.IntN(91), closing: r.IntN(2) == 0}
		t.Run(fmt.Sprint(seed), func(t *testing.T) { agreeWithBruteForce(t, r.IntN, cfg) })
	}
}

func agreeWithBruteForce(t rapid.TB, choose func(int) int, cfg linConfig) {
	t.Helper()
	g := generateLinearizable(choose, cfg)
	var calls []int
	for i, op := range g.ops {
		if op.Input.Kind != linearizability.ETagChangeCall && (!op.IsPending() || op.Input.Kind == linearizability.BatchCall && len(op.Input.Ops) > 0) {
			calls = append(calls, i)
		}
	}
	if len(calls) > 0 && choose(4) > 0 {
		i := calls[choose(len(calls))]
		jumble(choose, g.ops, i, historyETags(g.initial, g.ops))
		t.Logf("changed operation %d: %s", i, describe(g.ops[i]))
	}
	want := linearizability.Illegal
	if bruteTable(g.initial, g.ops) {
		want = linearizability.Ok
	}
	rep, err := linearizability.CheckTable(g.initial, g.ops, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Result; got != want {
		t.Fatalf("got %v, brute force says %v\n%s\nhistory:\n%s", got, want, rep.String(), linearizability.FormatTableHistory(g.initial, g.ops))
	}
}

// tinyHistory draws an arbitrary history, outcomes included, of 2 to 5
// calls and ETag changes on one row whose ETags come from a pool of four:
// most such histories are not linearizable, and the unknown ETags of
// pending writes meet If-Match values, 412s and reads of every ETag of
// the pool.
func tinyHistory(choose func(int) int) (initial []spec.Entity, h []tOp) {
	k := key("p", "1")
	pool := []spec.ETag{"e0", "e1", "e2", "e3"}
	if choose(3) > 0 {
		initial = []spec.Entity{{Key: k, ETag: "e0", Props: spec.Props{"v": spec.Int64(0)}}}
	}
	n := 2 + choose(4)
	for i := range n {
		call := int64(choose(8))
		ret := call + int64(choose(6))
		if choose(3) == 0 {
			ret = linearizability.Pending
		}
		if i == 0 && choose(2) == 0 {
			// Often an unconditional write with an unknown ETag first.
			op := spec.Op{Kind: []spec.OpKind{spec.Replace, spec.InsertOrReplace}[choose(2)], Entity: spec.Entity{Key: k, ETag: spec.AnyETag, Props: spec.Props{"v": spec.Int64(1)}}}
			h = append(h, linearizability.Batch(i, call, linearizability.Pending, []spec.Op{op}, nil, nil))
			continue
		}
		switch choose(7) {
		case 0, 1, 2, 3:
			kind := []spec.OpKind{spec.Replace, spec.Merge, spec.Delete, spec.Insert, spec.InsertOrReplace}[choose(5)]
			e := spec.Entity{Key: k}
			if kind.NeedsIfMatch() {
				e.ETag = spec.AnyETag
				if choose(3) > 0 {
					e.ETag = pool[choose(len(pool))]
				}
			}
			if !kind.IsDelete() {
				e.Props = spec.Props{"v": spec.Int64(int64(i + 1))}
			}
			var res []spec.Result
			var err error
			switch choose(4) {
			case 0, 1:
				res = []spec.Result{{}}
				if !kind.IsDelete() {
					res[0].ETag = pool[choose(len(pool))]
				}
			case 2:
				err = fail(spec.StatusPreconditionFailed, 0)
			default:
				err = fail([]int{spec.StatusNotFound, spec.StatusConflict}[choose(2)], 0)
			}
			h = append(h, linearizability.Batch(i, call, ret, []spec.Op{{Kind: kind, Entity: e}}, res, err))
		case 4, 5:
			if choose(4) == 0 {
				h = append(h, linearizability.Retrieve(i, call, ret, k, spec.Entity{}, false, nil))
				continue
			}
			e := spec.Entity{Key: k, ETag: pool[choose(len(pool))], Props: spec.Props{"v": spec.Int64(int64(choose(n + 1)))}}
			h = append(h, linearizability.Retrieve(i, call, ret, k, e, true, nil))
		default:
			h = append(h, linearizability.ETagChange(i, call, k, pool[choose(len(pool))]))
		}
	}
	return initial, h
}

// On arbitrary tiny histories, the checker's verdict is the brute
// force's.
func TestTableTinyAgreesWithBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { agreeOnTiny(t, rapidChooser(t)) })
}

// The same property over a fixed range of seeds.
func TestTableTinyAgreesWithBruteForceSweep(t *testing.T) {
	for seed := range 2 * sweepSeeds() {
		r := rand.New(rand.NewPCG(uint64(seed), 19))
		t.Run(fmt.Sprint(seed), func(t *testing.T) { agreeOnTiny(t, r.IntN) })
	}
}

func agreeOnTiny(t rapid.TB, choose func(int) int) {
	t.Helper()
	initial, h := tinyHistory(choose)
	want := linearizability.Illegal
	if bruteTable(initial, h) {
		want = linearizability.Ok
	}
	rep, err := linearizability.CheckTable(initial, h, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Result; got != want {
		t.Fatalf("got %v, brute force says %v\n%s\nhistory:\n%s", got, want, rep.String(), linearizability.FormatTableHistory(initial, h))
	}
}

// seq returns lo, lo+1, ..., hi-1.
func seq(lo, hi int) []int {
	var out []int
	for v := lo; v < hi; v++ {
		out = append(out, v)
	}
	return out
}

// smallScopeCalls is the alphabet of TestTableSmallScopeAgreesWithBruteForce:
// conditional writes of row 'p'/'1' that succeed, fail with 412 or stay
// pending, and reads of it, over the ETags e0, e1, e2. Call i writes v=i
// at [2i+1, 2i+2].
func smallScopeCalls(i int) []tOp {
	k := key("p", "1")
	pool := []spec.ETag{"e0", "e1", "e2"}
	at, end := int64(2*i+1), int64(2*i+2)
	var out []tOp
	for _, ifMatch := range pool {
		rep := []spec.Op{{Kind: spec.Replace, Entity: spec.Entity{Key: k, ETag: ifMatch, Props: spec.Props{"v": spec.Int64(int64(i))}}}}
		del := []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: k, ETag: ifMatch}}}
		out = append(out,
			batch(i, at, end, rep, ok("e1"), nil),
			batch(i, at, end, rep, ok("e2"), nil),
			batch(i, at, end, rep, nil, fail(spec.StatusPreconditionFailed, 0)),
			batch(i, at, linearizability.Pending, rep, nil, nil),
			batch(i, at, end, del, ok(""), nil),
			batch(i, at, end, del, nil, fail(spec.StatusPreconditionFailed, 0)),
			batch(i, at, linearizability.Pending, del, nil, nil),
		)
	}
	out = append(out, linearizability.Retrieve(i, at, end, k, spec.Entity{}, false, nil))
	// What a read can see: the initial v=0, the pending write's v=9, an
	// earlier call's write.
	for _, v := range append([]int{0, 9}, seq(1, i)...) {
		for _, etag := range pool {
			e := spec.Entity{Key: k, ETag: etag, Props: spec.Props{"v": spec.Int64(int64(v))}}
			out = append(out, linearizability.Retrieve(i, at, end, k, e, true, nil))
		}
	}
	return out
}

// Every history of an unconditional write that never returned, then
// three calls one after another from smallScopeCalls, gets the brute
// force's verdict: all the ways a pending write's unknown ETag meets an
// If-Match, a 412, another pending write and a read, over a small scope.
func TestTableSmallScopeAgreesWithBruteForce(t *testing.T) {
	initial := []spec.Entity{{Key: key("p", "1"), ETag: "e0", Props: spec.Props{"v": spec.Int64(0)}}}
	first := batch(0, 0, linearizability.Pending, ops(spec.Op{Kind: spec.Replace, Entity: spec.Entity{Key: key("p", "1"), ETag: spec.AnyETag, Props: spec.Props{"v": spec.Int64(9)}}}), nil, nil)
	a, b, c := smallScopeCalls(1), smallScopeCalls(2), smallScopeCalls(3)
	stride := 1
	if testing.Short() {
		stride = 7 // a seventh of the histories, spread over the whole space
	}
	counts := map[linearizability.Result]int{}
	n := 0
	for _, x := range a {
		for _, y := range b {
			for _, z := range c {
				n++
				if n%stride != 0 {
					continue
				}
				h := []tOp{first, x, y, z}
				want := linearizability.Illegal
				if bruteTable(initial, h) {
					want = linearizability.Ok
				}
				rep, err := linearizability.CheckTable(initial, h, linearizability.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if got := rep.Result; got != want {
					t.Fatalf("got %v, brute force says %v\n%s\nhistory:\n%s", got, want, rep.String(), linearizability.FormatTableHistory(initial, h))
				}
				counts[want]++
			}
		}
	}
	t.Logf("%d ok, %d illegal", counts[linearizability.Ok], counts[linearizability.Illegal])
}
