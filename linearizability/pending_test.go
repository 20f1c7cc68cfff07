package linearizability_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

func drawLinConfig(t *rapid.T) linConfig {
	return linConfig{
		calls:      rapid.IntRange(0, 25).Draw(t, "calls"),
		partitions: rapid.IntRange(1, 3).Draw(t, "partitions"),
		rows:       rapid.IntRange(1, 3).Draw(t, "rows"),
		maxBatch:   rapid.IntRange(1, 3).Draw(t, "maxBatch"),
		width:      rapid.IntRange(0, 2).Draw(t, "width"),
		pendingPct: rapid.IntRange(0, 60).Draw(t, "pendingPct"),
		maxPending: rapid.IntRange(0, 5).Draw(t, "maxPending"),
		hotPct:     rapid.IntRange(0, 80).Draw(t, "hotPct"),
		closing:    rapid.Bool().Draw(t, "closing"),
	}
}

// seededLinConfig draws a linConfig as drawLinConfig does, from a seeded
// source.
func seededLinConfig(r *rand.Rand) linConfig {
	return linConfig{calls: r.IntN(26), partitions: 1 + r.IntN(3), rows: 1 + r.IntN(3), maxBatch: 1 + r.IntN(3),
		width: r.IntN(3), pendingPct: r.IntN(61), maxPending: r.IntN(6), hotPct: r.IntN(81), closing: r.IntN(2) == 0}
}

// sweepSeeds is how many seeds the seeded sweeps try: the calls whose
// outcome hangs on an unknown ETag are a few percent of the histories,
// more than rapid's default number of checks finds reliably.
func sweepSeeds() int {
	if testing.Short() {
		return 300
	}
	return 2000
}

// Histories built around a sequential run, with calls left pending that
// took effect or not, are linearizable: partitioned or not.
func TestTableLinearizableByConstruction(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		requireOk(t, generateLinearizable(rapidChooser(t), drawLinConfig(t)))
	})
}

// The same property over a fixed range of seeds.
func TestTableLinearizableByConstructionSweep(t *testing.T) {
	for seed := range sweepSeeds() {
		r := rand.New(rand.NewPCG(uint64(seed), 13))
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			requireOk(t, generateLinearizable(r.IntN, seededLinConfig(r)))
		})
	}
}

func requireOk(t rapid.TB, g linHistory) {
	t.Helper()
	rep, err := linearizability.CheckTable(g.initial, g.ops, linearizability.Options{MaxSteps: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Result, linearizability.Ok; got != want {
		t.Fatalf("got %v, want %v\n%s\nhistory:\n%s", got, want, rep.String(), linearizability.FormatTableHistory(g.initial, g.ops))
	}
	whole := linearizability.TableModel(g.initial)
	whole.Partition = nil
	rep, err = linearizability.Check(whole, g.ops, linearizability.Options{MaxSteps: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Result, linearizability.Ok; got != want {
		t.Fatalf("unpartitioned: got %v, want %v\n%s\nhistory:\n%s", got, want, rep.String(), linearizability.FormatTableHistory(g.initial, g.ops))
	}
}

// One small change to a linearizable-by-construction history that no
// choice of pending calls or of their ETags can explain makes it
// Illegal; when the change is to a read, the read is the operation
// reported.
func TestTableProvablyIllegal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawLinConfig(t)
		cfg.closing = true // at least one completed read
		choose := rapidChooser(t)
		g := generateLinearizable(choose, cfg)
		i, what, ok := provablyIllegal(choose, &g)
		if !ok {
			t.Skip("no operation to change")
		}
		t.Logf("changed operation %d (%s): %s", i, what, describe(g.ops[i]))
		rep, err := linearizability.CheckTable(g.initial, g.ops, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rep.Result, linearizability.Illegal; got != want {
			t.Fatalf("got %v, want %v\nhistory:\n%s", got, want, linearizability.FormatTableHistory(g.initial, g.ops))
		}
		if g.ops[i].Input.Kind == linearizability.BatchCall {
			return // a batch's change can make a read that needs its effect fail first
		}
		if got, want := rep.Failed, g.ops[i]; got.Call != want.Call || describe(got) != describe(want) {
			t.Fatalf("Failed: got %s, want %s\n%s", describe(got), describe(want), rep.Explanation)
		}
	})
}

// provablyIllegal changes one completed operation of g so that no
// linearization explains it, and returns its index and what it did:
//
//   - "property never written": a read returns a row with a property
//     no write wrote, or one that a write called after the read
//     returned wrote (every write's uniqueProp is its own);
//   - "ETag never written": a read returns a row whose content only
//     completed writes wrote to (or is initial), with an ETag that none
//     of them nor an ETag change gave (the last write to a row leaves
//     its uniqueProp in it, so it is one of those writes);
//   - "stale read": a read returns a content of a row that a completed
//     write replaced, or deleted, before the read was called, and that
//     the write producing it had returned before the replacing write was
//     called;
//   - "412 on If-Match *": a successful batch fails with 412 at an
//     operation whose If-Match is "*", which cannot fail that way.
func provablyIllegal(choose func(int) int, g *linHistory) (int, string, bool) {
	var reads, batches []int
	for i, op := range g.ops {
		if op.IsPending() || op.Output.Err != nil {
			continue
		}
		switch op.Input.Kind {
		case linearizability.QueryCall, linearizability.RetrieveCall:
			reads = append(reads, i)
		case linearizability.BatchCall:
			for _, o := range op.Input.Ops {
				if o.Kind.NeedsIfMatch() && o.Entity.ETag == spec.AnyETag {
					batches = append(batches, i)
					break
				}
			}
		}
	}
	if len(reads) == 0 {
		return 0, "", false
	}
	if len(batches) > 0 && choose(5) == 0 {
		i := batches[choose(len(batches))]
		op := &g.ops[i]
		for j, o := range op.Input.Ops {
			if o.Kind.NeedsIfMatch() && o.Entity.ETag == spec.AnyETag {
				op.Output = linearizability.TableOutcome{Err: spec.Errorf(spec.StatusPreconditionFailed, j, "changed")}
				return i, "412 on If-Match *", true
			}
		}
	}
	i := reads[choose(len(reads))]
	r := &g.ops[i]
	rows := spec.Rows(r.Output.Rows).Clone()
	// The key the read covers: a retrieve's, or one of the partition's.
	k := r.Input.Key
	if r.Input.Kind == linearizability.QueryCall {
		pk, _ := spec.SinglePartition(r.Input.Filter)
		k = spec.Key{PartitionKey: pk, RowKey: "0"}
	}
	if len(rows) > 0 {
		switch choose(3) {
		case 0:
			j := choose(len(rows))
			if g.writtenByCompleted(rows[j].Props) {
				rows[j].ETag = "e-never"
				r.Output.Rows = rows
				return i, "ETag never written", true
			}
		case 1:
			if j, ok := staleVersion(choose, g, i); ok {
				r.Output.Rows = j
				return i, "stale read", true
			}
		}
	}
	// A property never written, or written by a call made after the read
	// returned.
	name := "never"
	var later []string
	for _, op := range g.ops[i+1:] {
		if op.Call > r.Return && op.Input.Kind == linearizability.BatchCall {
			for _, o := range op.Input.Ops {
				for p := range o.Entity.Props {
					if isUniqueProp(p) {
						later = append(later, p)
					}
				}
			}
		}
	}
	if len(later) > 0 && choose(2) == 0 {
		slices.Sort(later)
		name = later[choose(len(later))]
	}
	if len(rows) == 0 {
		rows = append(rows, spec.Entity{Key: k, ETag: "e-new", Props: spec.Props{}})
	}
	j := choose(len(rows))
	rows[j].Props[name] = spec.Int32(1)
	r.Output.Rows = rows
	return i, "property never written", true
}

// staleVersion returns the rows of read i with one row, or a row added,
// showing a content that a completed write W replaced or deleted before
// read i was called, written by an operation that returned before W was
// called (or initial).
func staleVersion(choose func(int) int, g *linHistory, i int) ([]spec.Entity, bool) {
	r := g.ops[i]
	type stale struct {
		k spec.Key
		v version
	}
	var cands []stale
	for wi, w := range g.ops[:i] {
		if w.Input.Kind != linearizability.BatchCall || w.IsPending() || w.Output.Err != nil || w.Return >= r.Call {
			continue
		}
		for _, o := range w.Input.Ops {
			k := o.Entity.Key
			if r.Input.Kind == linearizability.RetrieveCall && k != r.Input.Key {
				continue
			}
			if pk, ok := spec.SinglePartition(r.Input.Filter); r.Input.Kind == linearizability.QueryCall && (!ok || pk != k.PartitionKey) {
				continue
			}
			for _, v := range g.versions[k] {
				if v.op != wi && g.returnedBefore(v.op, w.Call) {
					cands = append(cands, stale{k, v})
				}
			}
		}
	}
	if len(cands) == 0 {
		return nil, false
	}
	c := cands[choose(len(cands))]
	rows := spec.Rows(r.Output.Rows).Clone()
	e := spec.Entity{Key: c.k, ETag: c.v.etag, Props: c.v.props.Clone()}
	if j, found := spec.Rows(rows).Search(c.k); found {
		rows[j] = e
	} else {
		rows = slices.Insert(rows, j, e)
	}
	return rows, true
}
