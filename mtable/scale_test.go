package mtable_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// bigRows returns n rows r0000.. of partition pk with v = i.
func bigRows(pk string, n int) []spec.Entity {
	rows := make([]spec.Entity, n)
	for i := range rows {
		rows[i] = row(pk, fmt.Sprintf("r%04d", i), "", spec.Props{"v": spec.Int32(int32(i))})
	}
	return rows
}

// bigFixture is partition k with 1,100 rows on backends that answer an
// atomic query in pages of 1,000 rows, as Azure does, arranged as state
// needs: in the old table (switched from PREFER_NEW on) and, from
// PREFER_NEW on, copied to the new table as the migrator does.
func bigFixture(state mtable.State) *fixture {
	rows := bigRows("k", 1100)
	var oldRows, newRows []spec.Entity
	if state <= mtable.PreferNew {
		oldRows = rows
	}
	if state == mtable.PreferNew {
		oldRows = append(oldRows, switchedMeta("k"))
	}
	if state >= mtable.PreferNew {
		newRows = rows
	}
	f := newFixture(state, oldRows, newRows)
	f.old.SetPageLimit(1000)
	f.new.SetPageLimit(1000)
	return f
}

// TestLargePartition: with more rows in a partition than one page holds,
// point queries, filtered queries and batches of up to 99 operations
// work in every state: they read what they name, not the partition. An
// atomic query that needs the whole partition fails with
// spec.ErrMultiPage, which is not a table outcome.
func TestLargePartition(t *testing.T) {
	ctx := context.Background()
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		t.Run(state.String(), func(t *testing.T) {
			vt := bigFixture(state).table()
			got, err := vt.QueryAtomic(ctx, spec.KeyFilter(spec.Key{PartitionKey: "k", RowKey: "r0005"}))
			if err != nil || len(got) != 1 || got[0].RowKey != "r0005" {
				t.Fatalf("point query: got %v, %v; want row r0005", got, err)
			}
			f := spec.And{L: spec.PartitionFilter("k"), R: spec.Comparison{Property: "v", Op: spec.Ge, Value: spec.Int32(1090)}}
			if got, err := vt.QueryAtomic(ctx, f); err != nil || len(got) != 10 {
				t.Fatalf("filtered query: got %d rows, %v; want 10", len(got), err)
			}
			for _, n := range []int{20, 99} {
				ops := make([]spec.Op, n)
				for i := range ops {
					ops[i] = spec.Op{Kind: spec.Merge, Entity: row("k", fmt.Sprintf("r%04d", 7*i), "*", spec.Props{"w": spec.Int32(int32(n))})}
				}
				if _, err := vt.ExecuteBatch(ctx, ops); err != nil {
					t.Fatalf("batch of %d merges: %v", n, err)
				}
				e, ok, err := spec.Retrieve(ctx, vt, spec.Key{PartitionKey: "k", RowKey: fmt.Sprintf("r%04d", 7*(n-1))})
				if err != nil || !ok || !e.Props["w"].Equal(spec.Int32(int32(n))) || !e.Props["v"].Equal(spec.Int32(int32(7*(n-1)))) {
					t.Fatalf("after the batch of %d: got %v %v %v, want the last row merged", n, e, ok, err)
				}
			}
			_, err = vt.QueryAtomic(ctx, spec.PartitionFilter("k"))
			if !errors.Is(err, spec.ErrMultiPage) || spec.StatusOf(err) != 0 {
				t.Fatalf("query of the whole partition: got %v, want an error wrapping spec.ErrMultiPage", err)
			}
		})
	}
}

// hooked wraps a backend and calls after(n) once its n-th atomic query
// (n = 1, 2, ...) has returned, to let another writer act between the
// library's reads.
type hooked struct {
	spec.Table
	mu      sync.Mutex
	queries int
	after   func(n int)
}

func (h *hooked) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	rows, err := h.Table.QueryAtomic(ctx, f)
	h.mu.Lock()
	h.queries++
	n := h.queries
	h.mu.Unlock()
	if h.after != nil {
		h.after(n)
	}
	return rows, err
}

// probeBatch is the batch of the probe tests: Replace r00 If-Match its
// current ETag, InsertOrMerge of r01..r14 (so the rows are read in two
// chunks of 14), then Insert r15.
func probeBatch(r00 spec.ETag) []spec.Op {
	ops := []spec.Op{{Kind: spec.Replace, Entity: row("p", "r00", r00, spec.Props{"v": spec.Int32(1)})}}
	for i := 1; i <= 14; i++ {
		ops = append(ops, spec.Op{Kind: spec.InsertOrMerge, Entity: row("p", fmt.Sprintf("r%02d", i), "", spec.Props{"v": spec.Int32(1)})})
	}
	return append(ops, spec.Op{Kind: spec.Insert, Entity: row("p", "r15", "", spec.Props{"v": spec.Int32(1)})})
}

// TestProbeConfirmsErrors: a semantic error found from rows read at two
// instants is returned only once a probe batch shows that the rows it
// depends on held together at one instant, and the probe applies
// nothing.
func TestProbeConfirmsErrors(t *testing.T) {
	ctx := context.Background()
	for _, state := range []mtable.State{mtable.PreferNew, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata} {
		t.Run(state.String(), func(t *testing.T) {
			var oldRows []spec.Entity
			if state <= mtable.PreferNew {
				oldRows = []spec.Entity{switchedMeta("p")}
			}
			f := newFixture(state, oldRows, []spec.Entity{row("p", "r00", "e0", spec.Props{}), row("p", "r15", "e15", spec.Props{})})
			rec := &recorder{}
			before := f.new.Snapshot()
			_, err := f.table(mtable.WithMonitor(rec)).ExecuteBatch(ctx, probeBatch("e0"))
			if spec.StatusOf(err) != spec.StatusConflict || spec.IndexOf(err) != 15 {
				t.Fatalf("got %v, want a 409 at operation 15", err)
			}
			if n := len(lps(rec.take())); n != 1 {
				t.Errorf("got %d linearization points, want 1", n)
			}
			mustNoDiff(t, "new table after the probe", f.new.Snapshot().Clone(), before.Clone())
		})
	}
}

// TestProbeSeesChange: between the two reads of a batch's rows, another
// writer replaces r00 and then inserts r15. The batch's Replace of r00
// and Insert of r15 never fail and succeed at one instant, so "409 at
// operation 15" (what the two reads suggest) would not be linearizable;
// the probe fails on r00, the rows are read again, and the batch fails
// with 412 at operation 0, as it would at any instant after the writes.
func TestProbeSeesChange(t *testing.T) {
	ctx := context.Background()
	f := newFixture(mtable.UseNewHideMetadata, nil, []spec.Entity{row("p", "r00", "e0", spec.Props{})})
	h := &hooked{Table: f.new}
	h.after = func(n int) {
		if n != 1 {
			return
		}
		ops := []spec.Op{{Kind: spec.Replace, Entity: row("p", "r00", "*", spec.Props{"by": spec.String("other")})}}
		if _, err := f.new.ExecuteBatch(ctx, ops); err != nil {
			t.Errorf("other writer: %v", err)
		}
		ops = []spec.Op{{Kind: spec.Insert, Entity: row("p", "r15", "", spec.Props{"by": spec.String("other")})}}
		if _, err := f.new.ExecuteBatch(ctx, ops); err != nil {
			t.Errorf("other writer: %v", err)
		}
	}
	rec := &recorder{}
	_, err := mtable.New(f.old, h, f.cfg, mtable.WithMonitor(rec)).ExecuteBatch(ctx, probeBatch("e0"))
	if spec.StatusOf(err) != spec.StatusPreconditionFailed || spec.IndexOf(err) != 0 {
		t.Fatalf("got %v, want a 412 at operation 0", err)
	}
	if n := len(lps(rec.take())); n != 1 {
		t.Errorf("got %d linearization points, want 1", n)
	}
	if h.queries != 3 {
		t.Errorf("the batch's rows were read %d times, want 3 (two chunks, then the first again)", h.queries)
	}
}

// TestQueryShadowingAtScale: in PREFER_NEW an atomic query whose old
// rows are too many to name in the new-table read (its filter leaves
// room for few RowKey comparisons) still lets a new row shadow its old
// twin, whether the twin was copied before the query (looked up), or
// not (the query copies it, as a writer would).
func TestQueryShadowingAtScale(t *testing.T) {
	ctx := context.Background()
	// v lt 100 and 12 comparisons that hold for every row: 14 in all.
	var filter spec.Filter = spec.And{L: spec.PartitionFilter("k"), R: spec.Comparison{Property: "v", Op: spec.Lt, Value: spec.Int32(100)}}
	for i := 0; i < 12; i++ {
		filter = spec.And{L: filter, R: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ne, Value: spec.String(fmt.Sprintf("x%d", i))}}
	}
	full := spec.And{L: filter, R: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ne, Value: spec.String("x12")}}
	for _, tt := range []struct {
		name   string
		f      spec.Filter
		copied int // how many of the 1,100 old rows are already in new
	}{
		{"14 comparisons, all copied", filter, 1100},
		{"14 comparisons, none copied", filter, 0},
		{"15 comparisons, half copied", full, 50},
	} {
		t.Run(tt.name, func(t *testing.T) {
			old := append(bigRows("k", 1100), switchedMeta("k"))
			newRows := bigRows("k", tt.copied)
			// r0003 was updated in the new table so that it no longer
			// matches; r0004 was deleted.
			newRows = append(newRows,
				row("k", "r0003", "", spec.Props{"v": spec.Int32(500)}),
				row("k", "r0004", "", spec.Props{mtable.DeletedProperty: spec.Bool(true)}))
			f := newFixture(mtable.PreferNew, old, newRows)
			f.old.SetPageLimit(1000)
			f.new.SetPageLimit(1000)
			rec := &recorder{}
			got, err := f.table(mtable.WithMonitor(rec)).QueryAtomic(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 98 {
				t.Errorf("got %d rows, want 98 (r0000..r0099 but r0003 and r0004)", len(got))
			}
			for _, e := range got {
				if e.RowKey == "r0003" || e.RowKey == "r0004" {
					t.Errorf("got %s: its old version shows through", e.Key)
				}
			}
			if n := len(lps(rec.take())); n != 1 {
				t.Errorf("got %d linearization points, want 1", n)
			}
			// Copies change ETags, never content.
			mustNoDiff(t, "content after the query", withoutETags(logical(mtable.PreferNew, f.old.Snapshot(), f.new.Snapshot())),
				withoutETags(logical(mtable.PreferNew, spec.NewRows(old), spec.NewRows(newRows))))
		})
	}
}

func withoutETags(rows []spec.Entity) []spec.Entity {
	out := make([]spec.Entity, len(rows))
	for i, e := range rows {
		e.ETag = ""
		out[i] = e
	}
	return out
}

// TestRetryMigratesUnreadChunks: in PREFER_NEW a batch whose rows span
// three reads finds an error in the second, whose probe fails because
// another writer deleted that row meanwhile. The rows of the third
// chunk, never read before the retry, must still be copied from the
// old table on the retry: r30 exists only there, and the batch's
// Replace of it must succeed.
func TestRetryMigratesUnreadChunks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(mtable.PreferNew,
		[]spec.Entity{switchedMeta("p"), row("p", "r30", "o-r30", spec.Props{"v": spec.Int32(0)})},
		[]spec.Entity{row("p", "r00", "e0", spec.Props{}), row("p", "r14", "e14", spec.Props{})})
	h := &hooked{Table: f.new}
	h.after = func(n int) {
		if n != 2 { // after the second chunk's read: delete r14, as a PREFER_NEW writer does
			return
		}
		ops := []spec.Op{{Kind: spec.Replace, Entity: row("p", "r14", "*", spec.Props{mtable.DeletedProperty: spec.Bool(true)})}}
		if _, err := f.new.ExecuteBatch(ctx, ops); err != nil {
			t.Errorf("other writer: %v", err)
		}
	}
	ops := []spec.Op{{Kind: spec.Replace, Entity: row("p", "r00", "e0", spec.Props{"v": spec.Int32(1)})}}
	for i := 1; i < 30; i++ {
		ops = append(ops, spec.Op{Kind: spec.InsertOrMerge, Entity: row("p", fmt.Sprintf("r%02d", i), "", spec.Props{"v": spec.Int32(1)})})
	}
	ops[14] = spec.Op{Kind: spec.Insert, Entity: row("p", "r14", "", spec.Props{"v": spec.Int32(1)})}
	ops = append(ops, spec.Op{Kind: spec.Replace, Entity: row("p", "r30", "*", spec.Props{"v": spec.Int32(1)})})
	if _, err := mtable.New(f.old, h, f.cfg).ExecuteBatch(ctx, ops); err != nil {
		t.Fatalf("got %v, want success (r14 was deleted before the batch's retry, r30 exists in the old table)", err)
	}
	e, ok, err := spec.Retrieve(ctx, f.table(), spec.Key{PartitionKey: "p", RowKey: "r30"})
	if err != nil || !ok || !e.Props["v"].Equal(spec.Int32(1)) {
		t.Fatalf("r30 after the batch: %v %v %v, want v=1", e, ok, err)
	}
}

// TestKeysPerRead: WithKeysPerRead bounds the rows one read of a batch
// names; values outside 1..MaxKeysPerRead mean the default.
func TestKeysPerRead(t *testing.T) {
	ctx := context.Background()
	ops := make([]spec.Op, 30)
	for i := range ops {
		ops[i] = spec.Op{Kind: spec.InsertOrReplace, Entity: row("p", fmt.Sprintf("r%02d", i), "", spec.Props{})}
	}
	for _, tt := range []struct {
		n, reads int
	}{{1, 30}, {2, 15}, {14, 3}, {0, 3}, {15, 3}, {-1, 3}} {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			f := newFixture(mtable.UseNewHideMetadata, nil, nil)
			h := &hooked{Table: f.new}
			if _, err := mtable.New(f.old, h, f.cfg, mtable.WithKeysPerRead(tt.n)).ExecuteBatch(ctx, ops); err != nil {
				t.Fatal(err)
			}
			if h.queries != tt.reads {
				t.Errorf("a batch of 30 read the new table %d times, want %d", h.queries, tt.reads)
			}
		})
	}
}

// filterLog is a backend table that records the filter of each atomic
// query.
type filterLog struct {
	spec.Table
	mu      sync.Mutex
	filters []string
}

func (l *filterLog) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	l.mu.Lock()
	l.filters = append(l.filters, spec.FilterString(f))
	l.mu.Unlock()
	return l.Table.QueryAtomic(ctx, f)
}

// TestOverlayReadsNewWithTheFilter: in PREFER_NEW, on a switched
// partition, an atomic query reads the new table with the caller's
// filter alone, and that read is its linearization point when it
// returns the key of every old row the answer could show. Only the keys
// it does not return (a new twin that fails the filter, a tombstone, a
// row not yet copied) are named in a second read.
func TestOverlayReadsNewWithTheFilter(t *testing.T) {
	ctx := context.Background()
	filter := spec.And{L: spec.PartitionFilter("k"), R: spec.Comparison{Property: "v", Op: spec.Lt, Value: spec.Int32(10)}}
	for _, tt := range []struct {
		name    string
		newRows []spec.Entity
		want    []string // RowKeys of the answer
		reads   []string // filters of the new-table reads
	}{
		{
			name:    "all copied",
			newRows: bigRows("k", 20),
			want:    []string{"r0000", "r0001", "r0002", "r0003", "r0004", "r0005", "r0006", "r0007", "r0008", "r0009"},
			reads:   []string{"(PartitionKey eq 'k') and (v lt 10)"},
		},
		{
			// r0003 no longer matches in the new table, r0004 was
			// deleted, r0005 is not copied yet.
			name: "some unsettled",
			newRows: append(slices.Concat(bigRows("k", 20)[:3], bigRows("k", 20)[6:]),
				row("k", "r0003", "", spec.Props{"v": spec.Int32(500)}),
				row("k", "r0004", "", spec.Props{mtable.DeletedProperty: spec.Bool(true)})),
			want: []string{"r0000", "r0001", "r0002", "r0005", "r0006", "r0007", "r0008", "r0009"},
			reads: []string{
				"(PartitionKey eq 'k') and (v lt 10)",
				"(PartitionKey eq 'k') and ((v lt 10) or (((RowKey eq 'r0003') or (RowKey eq 'r0004')) or (RowKey eq 'r0005')))",
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(mtable.PreferNew, append(bigRows("k", 20), switchedMeta("k")), tt.newRows)
			log := &filterLog{Table: f.new}
			rec := &recorder{}
			got, err := mtable.New(f.old, log, f.cfg, mtable.WithMonitor(rec)).QueryAtomic(ctx, filter)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, e := range got {
				keys = append(keys, e.RowKey)
			}
			if !slices.Equal(keys, tt.want) {
				t.Errorf("got rows %v, want %v", keys, tt.want)
			}
			if !slices.Equal(log.filters, tt.reads) {
				t.Errorf("new-table reads:\ngot  %q\nwant %q", log.filters, tt.reads)
			}
			as := rec.take()
			if n := len(lps(as)); n != 1 || !as[len(as)-1].LinearizationPoint {
				t.Errorf("got %d linearization points (last read one: %v), want 1, at the last read", n, as[len(as)-1].LinearizationPoint)
			}
		})
	}
}

// TestPointQueryInPreferNew: in PREFER_NEW a query that names its keys
// is answered by the new table alone when it holds every key named (a
// row there means the partition is SWITCHED); otherwise the query reads
// the old table and the new one as any other.
func TestPointQueryInPreferNew(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name           string
		key            string
		newRows        []spec.Entity
		want           string // v of the row found, "" for none
		oldReads, news int
	}{
		{"copied", "r0005", bigRows("k", 20), "5", 0, 1},
		{"tombstone", "r0005", []spec.Entity{row("k", "r0005", "", spec.Props{mtable.DeletedProperty: spec.Bool(true)})}, "", 0, 1},
		{"not copied", "r0005", nil, "5", 1, 2},
		{"absent", "x", bigRows("k", 20), "", 1, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(mtable.PreferNew, append(bigRows("k", 20), switchedMeta("k")), tt.newRows)
			oldLog, newLog := &filterLog{Table: f.old}, &filterLog{Table: f.new}
			rec := &recorder{}
			e, ok, err := spec.Retrieve(ctx, mtable.New(oldLog, newLog, f.cfg, mtable.WithMonitor(rec)), spec.Key{PartitionKey: "k", RowKey: tt.key})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if ok {
				got = e.Props["v"].String()
			}
			if got != tt.want {
				t.Errorf("got v=%q, want %q", got, tt.want)
			}
			if len(oldLog.filters) != tt.oldReads || len(newLog.filters) != tt.news {
				t.Errorf("got %d reads of the old table and %d of the new, want %d and %d", len(oldLog.filters), len(newLog.filters), tt.oldReads, tt.news)
			}
			as := rec.take()
			if n := len(lps(as)); n != 1 || !as[len(as)-1].LinearizationPoint {
				t.Errorf("got %d linearization points, want 1, at the last read", n)
			}
		})
	}
}
