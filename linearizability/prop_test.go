package linearizability_test

import (
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

func rapidChooser(t *rapid.T) func(n int) int {
	return func(n int) int { return rapid.IntRange(0, n-1).Draw(t, "choice") }
}

func drawConfig(t *rapid.T) genConfig {
	return genConfig{
		clients:    rapid.IntRange(1, 4).Draw(t, "clients"),
		calls:      rapid.IntRange(0, 30).Draw(t, "calls"),
		partitions: rapid.IntRange(1, 3).Draw(t, "partitions"),
		rows:       rapid.IntRange(1, 4).Draw(t, "rows"),
		pending:    rapid.Bool().Draw(t, "pending"),
	}
}

// Histories of random calls run on a spec.MemTable (which is atomic)
// are linearizable, partitioned or not.
func TestTableGeneratedHistoriesAreOk(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawConfig(t)
		initial, h := generate(rapidChooser(t), cfg)
		rep, err := linearizability.CheckTable(initial, h, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rep.Result, linearizability.Ok; got != want {
			t.Fatalf("got %v, want %v\n%s", got, want, rep.String())
		}
		whole := linearizability.TableModel(initial)
		whole.Partition = nil
		rep, err = linearizability.Check(whole, h, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rep.Result, linearizability.Ok; got != want {
			t.Fatalf("unpartitioned: got %v, want %v\n%s", got, want, rep.String())
		}
	})
}

// Changing one observable output of a sequential history makes it
// illegal, and the report names the changed operation.
func TestTableMutatedHistoriesAreIllegal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawConfig(t)
		cfg.sequential, cfg.pending = true, false
		cfg.calls = max(cfg.calls, 1)
		choose := rapidChooser(t)
		initial, h := generate(choose, cfg)
		var calls []int
		for i, op := range h {
			if op.Input.Kind != linearizability.ETagChangeCall {
				calls = append(calls, i)
			}
		}
		i := calls[choose(len(calls))]
		h[i].Output = mutate(choose, h[i].Input, h[i].Output)
		t.Logf("mutated operation %d: %s", i, describe(h[i]))
		rep, err := linearizability.CheckTable(initial, h, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rep.Result, linearizability.Illegal; got != want {
			t.Fatalf("got %v, want %v", got, want)
		}
		if got, want := describe(rep.Failed), describe(h[i]); got != want {
			t.Fatalf("Failed: got %s, want %s\n%s", got, want, rep.Explanation)
		}
	})
}

// mutate changes an outcome observably: a query's rows, a batch's
// status or failing index, success into failure and back, or the
// presence of a result ETag.
func mutate(choose func(int) int, in linearizability.TableCall, out linearizability.TableOutcome) linearizability.TableOutcome {
	if out.Err != nil {
		se := out.Err.(*spec.Error)
		switch choose(3) {
		case 0:
			if in.Kind != linearizability.BatchCall {
				return linearizability.TableOutcome{Rows: []spec.Entity{}}
			}
			res := make([]spec.Result, len(in.Ops))
			for i, op := range in.Ops {
				if !op.Kind.IsDelete() {
					res[i].ETag = "fresh"
				}
			}
			return linearizability.TableOutcome{Results: res}
		case 1:
			return linearizability.TableOutcome{Err: spec.Errorf(se.Status+1, se.Index, "mutated")}
		default:
			return linearizability.TableOutcome{Err: spec.Errorf(se.Status, se.Index+1, "mutated")}
		}
	}
	if in.Kind == linearizability.BatchCall {
		if choose(2) == 0 {
			return linearizability.TableOutcome{Err: spec.Errorf(spec.StatusPreconditionFailed, choose(len(in.Ops)), "mutated")}
		}
		res := slices.Clone(out.Results)
		i := choose(len(res))
		if in.Ops[i].Kind.IsDelete() {
			res[i].ETag = "fresh"
		} else {
			res[i].ETag = ""
		}
		return linearizability.TableOutcome{Results: res}
	}
	rows := spec.Rows(out.Rows).Clone()
	if len(rows) == 0 || choose(4) == 0 {
		k := spec.Key{PartitionKey: "p0", RowKey: "zz"}
		if in.Kind == linearizability.RetrieveCall {
			k = in.Key
		}
		if len(rows) == 0 {
			return linearizability.TableOutcome{Rows: []spec.Entity{{Key: k, ETag: "fresh", Props: spec.Props{}}}}
		}
	}
	j := choose(len(rows))
	switch choose(3) {
	case 0:
		rows = slices.Delete(rows, j, j+1)
	case 1:
		rows[j].ETag = "fresh"
	default:
		rows[j].Props["isHappy"] = spec.Bool(!rows[j].Props["isHappy"].AsBool())
	}
	return linearizability.TableOutcome{Rows: rows}
}

// Partitioning never changes the verdict (P-compositionality), on
// overlapping histories with one output changed, linearizable or not.
func TestTablePartitionedAgreesWithWhole(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawConfig(t)
		cfg.calls = max(cfg.calls, 1)
		choose := rapidChooser(t)
		initial, h := generate(choose, cfg)
		var calls []int
		for i, op := range h {
			if op.Input.Kind != linearizability.ETagChangeCall && !op.IsPending() {
				calls = append(calls, i)
			}
		}
		if len(calls) > 0 {
			i := calls[choose(len(calls))]
			h[i].Output = mutate(choose, h[i].Input, h[i].Output)
		}
		part, err := linearizability.CheckTable(initial, h, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		m := linearizability.TableModel(initial)
		m.Partition = nil
		whole, err := linearizability.Check(m, h, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := part.Result, whole.Result; got != want {
			t.Fatalf("partitioned: got %v, unpartitioned: %v\n%s\n%s", got, want, part.String(), whole.String())
		}
		if got, want := part.Result, linearizability.Unknown; got == want {
			t.Fatalf("got %v with no budget", got)
		}
	})
}
