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
	wide     bool // fillers in partition p, page-limited backends
	old, new *spec.MemTable
	ref      *spec.MemTable
	rec      *recorder
	vt       *mtable.Table
}

var rowKeys = []string{"r0", "r1", "r2", "r3", "r4", "r5"}

// Where a row lives, relative to the new table.
const (
	newNone      = iota // no new-table row
	newLive             // a live new-table row (shadowing any old one)
	newTombstone        // a tombstone (hiding any old one)
)

// Partition migration status in the old table.
const (
	metaNone = iota
	metaPopulated
	metaSwitched
)

// metaChoices lists the partition states possible in a client state.
func metaChoices(state mtable.State) []int {
	switch state {
	case mtable.UseOldHideMetadata:
		return []int{metaNone, metaPopulated}
	case mtable.PreferOld, mtable.PreferNew:
		return []int{metaNone, metaPopulated, metaSwitched}
	case mtable.UseNewWithTombstones:
		return []int{metaSwitched}
	default:
		return []int{metaSwitched, metaNone} // none: the migrator is emptying the old table
	}
}

// newChoices lists the new-table placements possible for a row.
func newChoices(state mtable.State, meta int, inOld bool) []int {
	switch {
	case state <= mtable.PreferNew && meta == metaSwitched:
		return []int{newNone, newLive, newTombstone}
	case state == mtable.UseNewWithTombstones && inOld:
		return []int{newLive, newTombstone} // copied, maybe deleted since
	case state >= mtable.UseNewWithTombstones:
		return []int{newNone, newLive, newTombstone}
	}
	return []int{newNone}
}

// placement is where one row lives: in the old table (with value
// oldV), and in the new table (newNone/newLive/newTombstone, with value
// newV and, for a live row, maybe DeletedProperty=false).
type placement struct {
	inOld      bool
	oldV       int
	inNew      int
	newV       int
	newHasFlag bool
}

// buildWorld makes backends in the given layout (partition p, rows
// r0..r4 as placed) and a reference holding their logical content.
func buildWorld(state mtable.State, meta int, rows []placement, opts ...mtable.Option) *world {
	return buildWorldWide(state, meta, rows, false, opts...)
}

// Wide worlds: partition p also holds fillers, rows no call names and
// no query filter matches (except those that ask for the whole
// partition), more of them than the backends' page limit, so that a
// library read of the whole partition fails.
const (
	widePageLimit = 16 // at least keysPerRead (14) plus the meta and assertion rows
	wideFillers   = widePageLimit + 1
)

// buildWorldWide is buildWorld, with fillers and page-limited backends
// when wide.
func buildWorldWide(state mtable.State, meta int, rows []placement, wide bool, opts ...mtable.Option) *world {
	w := &world{state: state, wide: wide}
	var oldRows, newRows []spec.Entity
	switch meta {
	case metaPopulated:
		oldRows = append(oldRows,
			row("p", mtable.MetaRowKey, "o-meta", spec.Props{mtable.PartitionStateProperty: spec.Int32(int32(mtable.PartitionPopulated))}),
			row("p", mtable.PopulatedAssertionRowKey, "o-assert", spec.Props{}))
	case metaSwitched:
		oldRows = append(oldRows, switchedMeta("p"))
	}
	// A bystander in another partition, in both tables once migrated.
	oldRows = append(oldRows, row("q", "x", "o-qx", spec.Props{"v": spec.Int32(1)}))
	if state >= mtable.UseNewWithTombstones {
		newRows = append(newRows, row("q", "x", "n-qx", spec.Props{"v": spec.Int32(1)}))
	}
	for i, pl := range rows {
		rk := rowKeys[i]
		if pl.inOld {
			oldRows = append(oldRows, row("p", rk, spec.ETag("o-"+rk), spec.Props{"v": spec.Int32(int32(pl.oldV)), "src": spec.String("old")}))
		}
		switch pl.inNew {
		case newLive:
			p := spec.Props{"v": spec.Int32(int32(pl.newV))}
			if pl.newHasFlag {
				p[mtable.DeletedProperty] = spec.Bool(false)
			}
			newRows = append(newRows, row("p", rk, spec.ETag("n-"+rk), p))
		case newTombstone:
			newRows = append(newRows, row("p", rk, spec.ETag("t-"+rk), spec.Props{mtable.DeletedProperty: spec.Bool(true)}))
		}
	}
	if wide {
		for i := 0; i < wideFillers; i++ {
			e := row("p", fmt.Sprintf("f%02d", i), spec.ETag(fmt.Sprintf("o-f%02d", i)), spec.Props{"filler": spec.Bool(true)})
			if state <= mtable.PreferNew {
				oldRows = append(oldRows, e)
			}
			if state >= mtable.UseNewWithTombstones || (state == mtable.PreferNew && meta == metaSwitched) {
				e.ETag = spec.ETag(fmt.Sprintf("n-f%02d", i)) // copied
				newRows = append(newRows, e)
			}
		}
	}
	w.old, w.new, w.ref = spec.NewMemTable("old:"), spec.NewMemTable("new:"), spec.NewMemTable("ref:")
	if wide {
		w.old.SetPageLimit(widePageLimit)
		w.new.SetPageLimit(widePageLimit)
	}
	w.old.Load(oldRows)
	w.new.Load(newRows)
	w.ref.Load(logical(w.state, w.old.Snapshot(), w.new.Snapshot()))
	w.rec = &recorder{}
	w.vt = mtable.New(w.old, w.new, mtable.NewMemConfig(w.state), append([]mtable.Option{mtable.WithMonitor(w.rec)}, opts...)...)
	return w
}

// genWorld draws a client state, the partition's migration status and,
// for each row, where it lives: old table only, new table only, both
// (new shadows old), a tombstone over an old row or alone, or nowhere.
// Only placements the protocol can produce in that state are drawn.
func genWorld(t *rapid.T, opts ...mtable.Option) *world {
	state := mtable.State(rapid.IntRange(0, 4).Draw(t, "state"))
	meta := rapid.SampledFrom(metaChoices(state)).Draw(t, "meta")
	rows := make([]placement, 5)
	for i := range rows {
		rk := rowKeys[i]
		pl := &rows[i]
		pl.inOld = rapid.Bool().Draw(t, rk+".old")
		if pl.inOld {
			pl.oldV = rapid.IntRange(0, 2).Draw(t, rk+".oldv")
		}
		pl.inNew = rapid.SampledFrom(newChoices(state, meta, pl.inOld)).Draw(t, rk+".new")
		if pl.inNew == newLive {
			pl.newV = rapid.IntRange(0, 2).Draw(t, rk+".newv")
			pl.newHasFlag = rapid.Bool().Draw(t, rk+".flag")
		}
	}
	wide := rapid.Bool().Draw(t, "wide")
	// Fewer keys per read: batches and queries span several reads.
	kpr := rapid.SampledFrom([]int{1, 2, mtable.MaxKeysPerRead}).Draw(t, "keysPerRead")
	return buildWorldWide(state, meta, rows, wide, append([]mtable.Option{mtable.WithKeysPerRead(kpr)}, opts...)...)
}

// fataler is what the checks need of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
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

// padding returns 14 operations on rows a00..a13 that put the
// operations after them in a second read of the write path (keysPerRead
// is 14): InsertOrMerges, and with conditional an Insert first, so that
// an error after the padding must be confirmed by a probe.
func padding(conditional bool) []spec.Op {
	ops := make([]spec.Op, 14)
	for i := range ops {
		ops[i] = spec.Op{Kind: spec.InsertOrMerge, Entity: row("p", fmt.Sprintf("a%02d", i), "", spec.Props{"pad": spec.Int32(int32(i))})}
	}
	if conditional {
		ops[0].Kind = spec.Insert
	}
	return ops
}

func genBatch(t *rapid.T, w *world, label string) []spec.Op {
	keys := rapid.Permutation(rowKeys).Draw(t, label+".keys")
	n := rapid.IntRange(1, 3).Draw(t, label+".n")
	var pad []spec.Op
	switch rapid.IntRange(0, 3).Draw(t, label+".pad") {
	case 1:
		pad = padding(false)
	case 2:
		pad = padding(true)
	}
	ops := make([]spec.Op, n)
	cur := w.ref.Snapshot()
	for i := range ops {
		k := spec.Key{PartitionKey: "p", RowKey: keys[i]}
		kind := spec.OpKind(rapid.IntRange(0, 6).Draw(t, fmt.Sprintf("%s.op%d.kind", label, i)))
		if kind == spec.DeleteIfExists && n+len(pad) > 1 && rapid.IntRange(0, 7).Draw(t, fmt.Sprintf("%s.op%d.alone", label, i)) > 0 {
			// DeleteIfExists must be alone in its batch: mostly use a
			// Delete instead, sometimes keep it to check the refusal.
			kind = spec.Delete
		}
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
	return append(pad, ops...)
}

var queryFilters = []spec.Filter{
	spec.PartitionFilter("p"),
	spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int32(1)}},
	spec.And{L: spec.PartitionFilter("p"), R: spec.Not{X: spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int32(1)}}},
	spec.And{L: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ge, Value: spec.String("r2")}, R: spec.PartitionFilter("p")},
	spec.KeyFilter(spec.Key{PartitionKey: "p", RowKey: "r1"}),
	spec.PartitionFilter("q"),
	// r0 or r1 or ... r5: every key named.
	spec.And{L: spec.PartitionFilter("p"), R: rowKeyIn(rowKeys...)},
	// 14 comparisons leave room for one more key in the new-table read,
	// 15 for none and none for the meta row in the old-table read.
	spec.And{L: spec.PartitionFilter("p"), R: bigFilter(13)},
	spec.And{L: bigFilter(14), R: spec.PartitionFilter("p")},
}

// wideQueryFilters are the queryFilters that match no filler.
var wideQueryFilters = queryFilters[3:]

func rowKeyIn(keys ...string) spec.Filter {
	var f spec.Filter
	for _, k := range keys {
		c := spec.Comparison{Property: spec.RowKeyProp, Op: spec.Eq, Value: spec.String(k)}
		if f == nil {
			f = c
		} else {
			f = spec.Or{L: f, R: c}
		}
	}
	return f
}

// bigFilter is "RowKey ge 'r'" and n-1 comparisons that every row
// satisfies: n comparisons that select rows r0..r5.
func bigFilter(n int) spec.Filter {
	var f spec.Filter = spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ge, Value: spec.String("r")}
	for i := 1; i < n; i++ {
		f = spec.And{L: f, R: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ne, Value: spec.String(fmt.Sprintf("x%d", i))}}
	}
	return f
}

var streamFilters = append([]spec.Filter{nil,
	spec.Comparison{Property: "v", Op: spec.Ne, Value: spec.Int32(1)},
	spec.Comparison{Property: "src", Op: spec.Eq, Value: spec.String("old")},
}, queryFilters...)

// checkBatch runs ops on the virtual table and on the reference and
// compares the outcomes, the annotations and the resulting content.
func (w *world) checkBatch(t fataler, ctx context.Context, ops []spec.Op) {
	t.Helper()
	w.rec.take()
	res, err := w.vt.ExecuteBatch(ctx, ops)
	anns := w.rec.take()
	points := lps(anns)
	if verr := spec.ValidateBatch(ops); verr != nil {
		// A caller error (a DeleteIfExists with other operations): the
		// same 400, and no backend call.
		if spec.StatusOf(err) != 400 || spec.IndexOf(err) != spec.IndexOf(verr) || len(anns) != 0 {
			t.Fatalf("batch %v: got %v with %d annotations, want %v and none", ops, err, len(anns), verr)
		}
		return
	}
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

func (w *world) checkContent(t fataler, phase string) {
	t.Helper()
	got := logical(w.state, w.old.Snapshot(), w.new.Snapshot())
	if d := diffRows(got, w.ref.Snapshot().Clone()); d != "" {
		t.Fatalf("%s in %s: backend content differs from the reference (-want +got):\n%s", phase, w.state, d)
	}
}

func (w *world) checkQuery(t fataler, ctx context.Context, f spec.Filter) {
	w.rec.take()
	limited := w.wide && spec.CountComparisons(f) == spec.MaxComparisons &&
		(w.state == mtable.PreferOld || w.state == mtable.PreferNew) && !w.switched("p")
	got, err := w.vt.QueryAtomic(ctx, f)
	if limited && errors.Is(err, spec.ErrMultiPage) {
		// Documented: a filter at Azure's limit leaves no room for the
		// meta row, so on a partition not yet switched the old table's
		// whole partition is read, and it spans more than a page.
		return
	}
	if err != nil {
		t.Fatalf("atomic query %s in %s: %v", spec.FilterString(f), w.state, err)
	}
	anns := w.rec.take()
	if n := len(lps(anns)); n != 1 {
		t.Fatalf("atomic query %s: got %d linearization points, want 1", spec.FilterString(f), n)
	}
	// A query may copy rows it cannot name in its new-table read.
	w.applyETagChanges(anns)
	want, _ := w.ref.QueryAtomic(ctx, f)
	if d := diffRows(got, want); d != "" {
		t.Fatalf("atomic query %s in %s (-want +got):\n%s", spec.FilterString(f), w.state, d)
	}
}

// switched reports whether partition pk is SWITCHED in the old table.
func (w *world) switched(pk string) bool {
	e, ok := w.old.Snapshot().Get(spec.Key{PartitionKey: pk, RowKey: mtable.MetaRowKey})
	s, valid := mtable.DecodePartitionState(e)
	return ok && valid && s == mtable.PartitionSwitched
}

func (w *world) checkStream(t fataler, ctx context.Context, f spec.Filter) {
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
	// Each round is one rapid.Check (100 cases by default, -rapid.checks
	// to change); ten rounds take about a second.
	rounds := 10
	if testing.Short() {
		rounds = 1
	}
	for round := 0; round < rounds; round++ {
		t.Run(fmt.Sprintf("round%d", round), func(t *testing.T) { equivalenceRound(t, ctx) })
	}
}

func equivalenceRound(t *testing.T, ctx context.Context) {
	rapid.Check(t, func(t *rapid.T) {
		w := genWorld(t)
		w.checkContent(t, "initially")
		steps := rapid.IntRange(1, 6).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("step%d", i)) {
			case 0, 1:
				w.checkBatch(t, ctx, genBatch(t, w, fmt.Sprintf("b%d", i)))
			case 2:
				filters := queryFilters
				if w.wide {
					filters = wideQueryFilters
				}
				w.checkQuery(t, ctx, rapid.SampledFrom(filters).Draw(t, fmt.Sprintf("q%d", i)))
			default:
				w.checkStream(t, ctx, rapid.SampledFrom(streamFilters).Draw(t, fmt.Sprintf("s%d", i)))
			}
		}
	})
}

// TestEveryKindStatePlacement is the exhaustive companion of
// TestEquivalentToMemTable: every operation kind, with every If-Match
// choice, on a row placed in every way possible in every client state
// and partition status, next to a neighbour row in each placement too
// (so two-operation batches mix placements).
func TestEveryKindStatePlacement(t *testing.T) {
	n := everyKindStatePlacement(func(name string) fataler { return named{t, name} }, true)
	t.Logf("%d batches checked", n)
}

// everyKindStatePlacement runs the exhaustive enumeration, reporting
// each case's failures to check(name), and returns the number of
// batches checked. With padded, each case also runs after 14 operations
// that put it in a second read, in a partition wider than a page.
func everyKindStatePlacement(check func(name string) fataler, padded bool, opts ...mtable.Option) int {
	ctx := context.Background()
	cases := 0
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		for _, meta := range metaChoices(state) {
			var placements []placement
			for _, inOld := range []bool{false, true} {
				for _, inNew := range newChoices(state, meta, inOld) {
					placements = append(placements, placement{inOld: inOld, oldV: 1, inNew: inNew, newV: 2, newHasFlag: inNew == newLive && inOld})
				}
			}
			for _, p0 := range placements {
				for _, p1 := range placements {
					for kind := spec.Insert; kind <= spec.DeleteIfExists; kind++ {
						for _, ifMatch := range []string{"*", "current", "bogus"} {
							if !kind.NeedsIfMatch() && ifMatch != "*" {
								continue
							}
							name := fmt.Sprintf("%s/meta%d/%+v/%+v/%s/%s", state, meta, p0, p1, kind, ifMatch)
							w := buildWorld(state, meta, []placement{p0, p1}, opts...)
							ops := []spec.Op{{Kind: kind, Entity: row("p", "r0", "", spec.Props{"v": spec.Int32(7)})}}
							if kind.NeedsIfMatch() {
								ops[0].Entity.ETag = "*"
								switch ifMatch {
								case "bogus":
									ops[0].Entity.ETag = "bogus"
								case "current":
									if e, ok := w.ref.Snapshot().Get(ops[0].Entity.Key); ok {
										ops[0].Entity.ETag = e.ETag
									}
								}
							}
							// Alone, then together with a DeleteIfExists of r1
							// and an InsertOrMerge of r1.
							safeCheck(w, check(name), ctx, ops)
							w = buildWorld(state, meta, []placement{p0, p1}, opts...)
							safeCheck(w, check(name+"+DeleteIfExists r1"), ctx, append(ops, spec.Op{Kind: spec.DeleteIfExists, Entity: row("p", "r1", "", nil)}))
							w = buildWorld(state, meta, []placement{p0, p1}, opts...)
							safeCheck(w, check(name+"+InsertOrMerge r1"), ctx, append(ops, spec.Op{Kind: spec.InsertOrMerge, Entity: row("p", "r1", "", spec.Props{"w": spec.Bool(true)})}))
							cases += 3
							if padded {
								// After 14 operations, so that its row is read
								// second, in a partition wider than a page.
								w = buildWorldWide(state, meta, []placement{p0, p1}, true, opts...)
								safeCheck(w, check(name+" after padding"), ctx, append(padding(true), ops...))
								cases++
							}
						}
					}
				}
			}
		}
	}
	return cases
}

// TestExhaustiveCatchesBugs shows the enumeration above is a real test:
// each bug switch that changes single-threaded batch behaviour makes
// some of its cases fail.
func TestExhaustiveCatchesBugs(t *testing.T) {
	for _, bug := range []mtable.Bug{mtable.BugDeleteNoLeaveTombstonesETag, mtable.BugDeletePrimaryKey,
		mtable.BugEnsurePartitionSwitchedFromPopulated, mtable.BugTombstoneOutputETag, mtable.BugDeleteIfExistsHideMetadata} {
		t.Run(bug.String(), func(t *testing.T) {
			failed := 0
			var first string
			everyKindStatePlacement(func(name string) fataler {
				return &catcher{onFail: func(msg string) {
					if failed == 0 {
						first = name + ": " + msg
					}
					failed++
				}}
			}, !testing.Short(), mtable.WithBug(bug))
			if failed == 0 {
				t.Fatalf("no case failed with the bug on")
			}
			t.Logf("%d cases failed; the first: %.300s", failed, first)
		})
	}
}

// catcher is a fataler that records a failure and abandons the check.
type catcher struct{ onFail func(msg string) }

type abandoned struct{}

func (c *catcher) Helper() {}
func (c *catcher) Fatalf(format string, args ...any) {
	c.onFail(fmt.Sprintf(format, args...))
	panic(abandoned{})
}

// named prefixes failures with the case name.
type named struct {
	t    *testing.T
	name string
}

func (n named) Helper() { n.t.Helper() }
func (n named) Fatalf(format string, args ...any) {
	n.t.Helper()
	n.t.Fatalf("%s: "+format, append([]any{n.name}, args...)...)
}

// safeCheck runs checkBatch, absorbing a catcher's abandonment.
func safeCheck(w *world, t fataler, ctx context.Context, ops []spec.Op) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(abandoned); !ok {
				panic(r)
			}
		}
	}()
	w.checkBatch(t, ctx, ops)
}
