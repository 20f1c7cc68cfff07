package mtable_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// world is one generated starting point: backends consistent with a
// client state, and a reference MemTable holding the same logical
// content with the same ETags.
type world struct {
	state    mtable.State
	old, new *spec.MemTable
	ref      *spec.MemTable
	rec      *recorder
	vt       *mtable.Table
}

var rowKeys = []string{"r0", "r1", "r2", "r3", "r4", "r5"}

// genWorld draws a client state, the partition's migration status and,
// for each row, where it lives: old table only, new table only, both
// (new shadows old), a tombstone over an old row or alone, or nowhere.
// Only placements the protocol can produce in that state are drawn.
func genWorld(t *rapid.T, opts ...mtable.Option) *world {
	w := &world{state: mtable.State(rapid.IntRange(0, 4).Draw(t, "state"))}
	const (
		metaNone = iota
		metaPopulated
		metaSwitched
	)
	var metaChoices []int
	switch w.state {
	case mtable.UseOldHideMetadata:
		metaChoices = []int{metaNone, metaPopulated}
	case mtable.PreferOld, mtable.PreferNew:
		metaChoices = []int{metaNone, metaPopulated, metaSwitched}
	case mtable.UseNewWithTombstones:
		metaChoices = []int{metaSwitched}
	default:
		metaChoices = []int{metaSwitched, metaNone} // none: the migrator is emptying the old table
	}
	meta := rapid.SampledFrom(metaChoices).Draw(t, "meta")
	switched := meta == metaSwitched

	var oldRows, newRows []spec.Entity
	switch meta {
	case metaPopulated:
		oldRows = append(oldRows,
			row("p", mtable.MetaRowKey, "o-meta", spec.Props{mtable.PartitionStateProperty: spec.Int32(int32(mtable.PartitionPopulated))}),
			row("p", mtable.PopulatedAssertionRowKey, "o-assert", spec.Props{}))
	case metaSwitched:
		oldRows = append(oldRows,
			row("p", mtable.MetaRowKey, "o-meta", spec.Props{mtable.PartitionStateProperty: spec.Int32(int32(mtable.PartitionSwitched))}))
	}
	// A bystander in another partition, in both tables once migrated.
	oldRows = append(oldRows, row("q", "x", "o-qx", spec.Props{"v": spec.Int32(1)}))
	if w.state >= mtable.UseNewWithTombstones {
		newRows = append(newRows, row("q", "x", "n-qx", spec.Props{"v": spec.Int32(1)}))
	}
	for _, rk := range rowKeys[:5] {
		inOld := rapid.Bool().Draw(t, rk+".old")
		if inOld {
			oldRows = append(oldRows, row("p", rk, spec.ETag("o-"+rk), spec.Props{
				"v": spec.Int32(int32(rapid.IntRange(0, 2).Draw(t, rk+".oldv"))), "src": spec.String("old")}))
		}
		// new: 0 none, 1 live, 2 tombstone
		newChoices := []int{0}
		switch {
		case w.state <= mtable.PreferNew && switched:
			newChoices = []int{0, 1, 2}
		case w.state == mtable.UseNewWithTombstones && inOld:
			newChoices = []int{1, 2} // copied, maybe deleted since
		case w.state >= mtable.UseNewWithTombstones:
			newChoices = []int{0, 1, 2}
		}
		switch rapid.SampledFrom(newChoices).Draw(t, rk+".new") {
		case 1:
			p := spec.Props{"v": spec.Int32(int32(rapid.IntRange(0, 2).Draw(t, rk+".newv")))}
			if rapid.Bool().Draw(t, rk+".flag") {
				p[mtable.DeletedProperty] = spec.Bool(false)
			}
			newRows = append(newRows, row("p", rk, spec.ETag("n-"+rk), p))
		case 2:
			newRows = append(newRows, row("p", rk, spec.ETag("t-"+rk), spec.Props{mtable.DeletedProperty: spec.Bool(true)}))
		}
	}
	w.old, w.new, w.ref = spec.NewMemTable("old:"), spec.NewMemTable("new:"), spec.NewMemTable("ref:")
	w.old.Load(oldRows)
	w.new.Load(newRows)
	w.ref.Load(logical(w.state, w.old.Snapshot(), w.new.Snapshot()))
	w.rec = &recorder{}
	w.vt = mtable.New(w.old, w.new, mtable.NewMemConfig(w.state), append([]mtable.Option{mtable.WithMonitor(w.rec)}, opts...)...)
	return w
}

func genProps(t *rapid.T, label string) spec.Props {
	p := spec.Props{}
	if rapid.IntRange(0, 3).Draw(t, label+".hasv") > 0 {
		p["v"] = spec.Int32(int32(rapid.IntRange(0, 2).Draw(t, label+".v")))
	}
	if rapid.Bool().Draw(t, label+".hasw") {
		p["w"] = spec.String(label)
	}
	return p
}

func genBatch(t *rapid.T, w *world, label string) []spec.Op {
	keys := rapid.Permutation(rowKeys).Draw(t, label+".keys")
	n := rapid.IntRange(1, 3).Draw(t, label+".n")
	ops := make([]spec.Op, n)
	cur := w.ref.Snapshot()
	for i := range ops {
		k := spec.Key{PartitionKey: "p", RowKey: keys[i]}
		kind := spec.OpKind(rapid.IntRange(0, 6).Draw(t, fmt.Sprintf("%s.op%d.kind", label, i)))
		e := spec.Entity{Key: k, Props: genProps(t, fmt.Sprintf("%s.op%d", label, i))}
		if kind.NeedsIfMatch() {
			switch rapid.IntRange(0, 2).Draw(t, fmt.Sprintf("%s.op%d.ifmatch", label, i)) {
			case 0:
				e.ETag = spec.AnyETag
			case 1:
				e.ETag = "bogus"
			default:
				e.ETag = spec.AnyETag
				if c, ok := cur.Get(k); ok {
					e.ETag = c.ETag
				}
			}
		}
		ops[i] = spec.Op{Kind: kind, Entity: e}
	}
	return ops
}

var queryFilters = []spec.Filter{
	spec.PartitionFilter("p"),
	spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int32(1)}},
	spec.And{L: spec.PartitionFilter("p"), R: spec.Not{X: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int32(1)}}},
	spec.And{L: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ge, Value: spec.String("r2")}, R: spec.PartitionFilter("p")},
	spec.KeyFilter(spec.Key{PartitionKey: "p", RowKey: "r1"}),
	spec.PartitionFilter("q"),
}

var streamFilters = append([]spec.Filter{nil,
	spec.Comparison{Property: "v", Op: spec.Ne, Value: spec.Int32(1)},
	spec.Comparison{Property: "src", Op: spec.Eq, Value: spec.String("old")},
}, queryFilters...)

// checkBatch runs ops on the virtual table and on the reference and
// compares the outcomes, the annotations and the resulting content.
func (w *world) checkBatch(t *rapid.T, ctx context.Context, ops []spec.Op) {
	w.rec.take()
	res, err := w.vt.ExecuteBatch(ctx, ops)
	anns := w.rec.take()
	points := lps(anns)
	if len(points) != 1 {
		t.Fatalf("batch %v: got %d linearization points, want 1", ops, len(points))
	}
	// Copies before the linearization point change ETags, not content.
	w.applyETagChanges(anns)
	if err != nil {
		var se *spec.Error
		if !errors.As(err, &se) {
			t.Fatalf("batch %v: got non-table error %v", ops, err)
		}
		_, rerr := w.ref.ExecuteBatch(ctx, ops)
		if spec.StatusOf(rerr) != se.Status || spec.IndexOf(rerr) != se.Index {
			t.Fatalf("batch %v in %s: got error %v, reference got %v", ops, w.state, err, rerr)
		}
		if points[0].BatchResults != nil {
			t.Fatalf("batch %v: failed but annotated results %v", ops, points[0].BatchResults)
		}
	} else {
		if len(res) != len(ops) {
			t.Fatalf("batch %v: got %d results, want %d", ops, len(res), len(ops))
		}
		etags := make([]spec.ETag, len(res))
		for i, r := range res {
			if got, want := r.ETag == "", ops[i].Kind.IsDelete(); got != want {
				t.Fatalf("batch %v: result %d ETag %q: got empty=%v, want empty=%v", ops, i, r.ETag, got, want)
			}
			etags[i] = r.ETag
		}
		if _, rerr := w.ref.ApplyBatchWithETags(ops, etags); rerr != nil {
			t.Fatalf("batch %v in %s: virtual table succeeded, reference failed: %v", ops, w.state, rerr)
		}
		if fmt.Sprint(points[0].BatchResults) != fmt.Sprint(res) {
			t.Fatalf("batch %v: annotated results %v, returned %v", ops, points[0].BatchResults, res)
		}
	}
	w.checkContent(t, fmt.Sprintf("after batch %v", ops))
}

func (w *world) applyETagChanges(anns []mtable.Annotation) {
	for _, a := range anns {
		for _, c := range a.ETagChanges {
			w.ref.SetETag(c.Key, c.ETag)
		}
	}
}

func (w *world) checkContent(t *rapid.T, phase string) {
	got := logical(w.state, w.old.Snapshot(), w.new.Snapshot())
	if d := diffRows(got, w.ref.Snapshot().Clone()); d != "" {
		t.Fatalf("%s in %s: backend content differs from the reference (-want +got):\n%s", phase, w.state, d)
	}
}

func (w *world) checkQuery(t *rapid.T, ctx context.Context, f spec.Filter) {
	w.rec.take()
	got, err := w.vt.QueryAtomic(ctx, f)
	if err != nil {
		t.Fatalf("atomic query %s in %s: %v", spec.FilterString(f), w.state, err)
	}
	if n := len(lps(w.rec.take())); n != 1 {
		t.Fatalf("atomic query %s: got %d linearization points, want 1", spec.FilterString(f), n)
	}
	want, _ := w.ref.QueryAtomic(ctx, f)
	if d := diffRows(got, want); d != "" {
		t.Fatalf("atomic query %s in %s (-want +got):\n%s", spec.FilterString(f), w.state, d)
	}
}

func (w *world) checkStream(t *rapid.T, ctx context.Context, f spec.Filter) {
	st, err := w.vt.QueryStreamed(ctx, f)
	if err != nil {
		t.Fatalf("streamed query %s: %v", spec.FilterString(f), err)
	}
	defer st.Close()
	got, err := drain(ctx, st)
	if err != nil {
		t.Fatalf("streamed query %s: %v", spec.FilterString(f), err)
	}
	if n := len(lps(w.rec.take())); n != 0 {
		t.Fatalf("streamed query %s: got %d linearization points, want 0", spec.FilterString(f), n)
	}
	want := w.ref.Snapshot().Query(f)
	if d := diffRows(got, want); d != "" {
		t.Fatalf("streamed query %s in %s (-want +got):\n%s", spec.FilterString(f), w.state, d)
	}
}

// TestEquivalentToMemTable: without concurrency, for every operation
// kind in every client state, from rows in the old table, the new table,
// both, or as tombstones, the virtual table behaves as MemTable on the
// same logical content, and the backends decode to that content after
// every call.
func TestEquivalentToMemTable(t *testing.T) {
	ctx := context.Background()
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t)
		w.checkContent(t, "initially")
		steps := rapid.IntRange(1, 6).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("step%d", i)) {
			case 0, 1:
				w.checkBatch(t, ctx, genBatch(t, w, fmt.Sprintf("b%d", i)))
			case 2:
				w.checkQuery(t, ctx, rapid.SampledFrom(queryFilters).Draw(t, fmt.Sprintf("q%d", i)))
			default:
				w.checkStream(t, ctx, rapid.SampledFrom(streamFilters).Draw(t, fmt.Sprintf("s%d", i)))
			}
		}
	})
}
