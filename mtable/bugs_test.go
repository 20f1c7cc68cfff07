package mtable_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

func TestParseBug(t *testing.T) {
	tests := []struct {
		in   string
		want mtable.Bug
	}{
		{"0", mtable.BugQueryAtomicFilterShadowing},
		{"12", mtable.BugDeleteIfExistsHideMetadata},
		{"-1", mtable.NoBug},
		{"none", mtable.NoBug},
		{"NoBug", mtable.NoBug},
		{"QueryStreamedLock", mtable.BugQueryStreamedLock},
		{"BugQueryStreamedLock", mtable.BugQueryStreamedLock},
		{"insertbehindmigrator", mtable.BugInsertBehindMigrator},
		{" 7 ", mtable.BugEnsurePartitionSwitchedFromPopulated},
		{"13", mtable.BugPushExpiresLeaseEarly},
		{"16", mtable.BugMigratorResumeFromMemory},
		{"17", mtable.BugDeleteIfExistsGuardTombstone},
		{"MigratorLockNoIfMatch", mtable.BugMigratorLockNoIfMatch},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := mtable.ParseBug(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseBug(%q): got %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
	for _, in := range []string{"20", "-2", "", "Bug", "QueryStreamed"} {
		t.Run("bad "+in, func(t *testing.T) {
			_, err := mtable.ParseBug(in)
			if err == nil {
				t.Fatalf("ParseBug(%q): got nil error, want one", in)
			}
			if !strings.Contains(err.Error(), "11=InsertBehindMigrator") {
				t.Errorf("ParseBug(%q) error %q does not list the valid values", in, err)
			}
		})
	}
	bugs := mtable.Bugs()
	if got, want := len(bugs), 20; got != want {
		t.Fatalf("len(Bugs()): got %d, want %d", got, want)
	}
	for i, b := range bugs {
		if int(b) != i {
			t.Errorf("Bugs()[%d] = %d", i, b)
		}
		back, err := mtable.ParseBug(b.String())
		if err != nil || back != b {
			t.Errorf("ParseBug(%q): got %v, %v; want %v", b.String(), back, err, b)
		}
		if b.Description() == "" || strings.HasPrefix(b.String(), "Bug(") {
			t.Errorf("bug %d lacks a name or description", i)
		}
	}
	if got, want := mtable.BugInsertBehindMigrator.String(), "InsertBehindMigrator"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
	// The lease bugs are 13 to 16, 18 and 19, and only they.
	for _, b := range append(bugs, mtable.NoBug, mtable.Bug(len(bugs))) {
		if got, want := b.Lease(), b >= 13 && b <= 16 || b == 18 || b == 19; got != want {
			t.Errorf("%v.Lease(): got %v, want %v", b, got, want)
		}
	}
}

// fixture builds backends from explicit rows in a given state.
type fixture struct {
	old, new *spec.MemTable
	cfg      *mtable.MemConfig
}

func newFixture(state mtable.State, oldRows, newRows []spec.Entity) *fixture {
	f := &fixture{old: spec.NewMemTable("old:"), new: spec.NewMemTable("new:"), cfg: mtable.NewMemConfig(state)}
	f.old.Load(oldRows)
	f.new.Load(newRows)
	return f
}

func (f *fixture) table(opts ...mtable.Option) *mtable.Table {
	return mtable.New(f.old, f.new, f.cfg, opts...)
}

func switchedMeta(pk string) spec.Entity {
	return row(pk, mtable.MetaRowKey, "o-meta", spec.Props{mtable.PartitionStateProperty: spec.Int32(int32(mtable.PartitionSwitched))})
}

// shadowed: partition p is switched; r0 was updated in the new table so
// that it no longer matches v eq 1, while its stale old twin does.
func shadowed(state mtable.State) *fixture {
	return newFixture(state,
		[]spec.Entity{switchedMeta("p"), row("p", "r0", "o-r0", spec.Props{"v": spec.Int32(1)})},
		[]spec.Entity{row("p", "r0", "n-r0", spec.Props{"v": spec.Int32(2)})})
}

var vIs1 = spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int32(1)}

func keysOf(rows []spec.Entity) string {
	var ks []string
	for _, e := range rows {
		ks = append(ks, e.Key.String()+"@"+string(e.ETag))
	}
	return "[" + strings.Join(ks, " ") + "]"
}

// Each bug test runs the same scenario with NoBug and with the switch,
// and checks the documented difference.

func TestBugQueryAtomicFilterShadowing(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		bug  mtable.Bug
		want string
	}{{mtable.NoBug, "[]"}, {mtable.BugQueryAtomicFilterShadowing, "['p'/'r0'@o-r0]"}} {
		t.Run(tt.bug.String(), func(t *testing.T) {
			rows, err := shadowed(mtable.PreferNew).table(mtable.WithBug(tt.bug)).QueryAtomic(ctx, spec.And{L: spec.PartitionFilter("p"), R: vIs1})
			if err != nil {
				t.Fatal(err)
			}
			if got := keysOf(rows); got != tt.want {
				t.Errorf("query v eq 1: got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestBugQueryStreamedFilterShadowing(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		bug  mtable.Bug
		want string
	}{{mtable.NoBug, "[]"}, {mtable.BugQueryStreamedFilterShadowing, "['p'/'r0'@o-r0]"}} {
		t.Run(tt.bug.String(), func(t *testing.T) {
			st, err := shadowed(mtable.PreferNew).table(mtable.WithBug(tt.bug)).QueryStreamed(ctx, vIs1)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			rows, err := drain(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if got := keysOf(rows); got != tt.want {
				t.Errorf("stream v eq 1: got %s, want %s", got, tt.want)
			}
		})
	}
}

// hookedTable runs hook (once) inside the first stream Next, and logs
// the streamed queries opened on it.
type hookedTable struct {
	spec.Table
	mu     sync.Mutex
	events *[]string
	name   string
	hook   func()
}

func (h *hookedTable) log(ev string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.events = append(*h.events, ev)
}

func (h *hookedTable) QueryStreamed(ctx context.Context, f spec.Filter) (spec.Stream, error) {
	h.log(h.name + " stream opened")
	st, err := h.Table.QueryStreamed(ctx, f)
	return &hookedStream{Stream: st, h: h}, err
}

type hookedStream struct {
	spec.Stream
	h *hookedTable
}

func (s *hookedStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	s.h.mu.Lock()
	hook := s.h.hook
	s.h.hook = nil
	s.h.mu.Unlock()
	if hook != nil {
		hook()
		defer s.h.log(s.h.name + " read done")
	}
	return s.Stream.Next(ctx)
}

// TestBugQueryStreamedLock: a push arrives while the stream is reading
// the old table. With the lock, the push's reaction (which opens a
// new-table stream) waits until the read is done; without it, the
// reaction runs in the middle of the read.
func TestBugQueryStreamedLock(t *testing.T) {
	ctx := context.Background()
	for _, bug := range []mtable.Bug{mtable.NoBug, mtable.BugQueryStreamedLock} {
		t.Run(bug.String(), func(t *testing.T) {
			f := newFixture(mtable.UseOldHideMetadata, streamRows(), nil)
			var events []string
			oldT := &hookedTable{Table: f.old, events: &events, name: "old"}
			newT := &hookedTable{Table: f.new, events: &events, name: "new"}
			st, err := mtable.New(oldT, newT, f.cfg, mtable.WithBug(bug)).QueryStreamed(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			pushed := make(chan error, 1) // buffered: the buggy hook sends before the read ends
			oldT.mu.Lock()
			oldT.hook = func() {
				if bug == mtable.BugQueryStreamedLock {
					// Nothing excludes the reaction: the push completes
					// in the middle of the read.
					pushed <- f.cfg.Push(ctx, mtable.PreferOld)
					return
				}
				go func() { pushed <- f.cfg.Push(ctx, mtable.PreferOld) }()
			}
			oldT.mu.Unlock()
			if _, _, err := st.Next(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-pushed; err != nil {
				t.Fatal(err)
			}
			oldT.mu.Lock()
			got := strings.Join(events, ", ")
			oldT.mu.Unlock()
			want := "old stream opened, old read done, new stream opened"
			if bug == mtable.BugQueryStreamedLock {
				want = "old stream opened, new stream opened, old read done"
			}
			if got != want {
				t.Errorf("events: got %q, want %q", got, want)
			}
		})
	}
}

func TestBugQueryStreamedBackUpNewStream(t *testing.T) {
	good := spanningStream(t, nil)
	mustNoDiff(t, "NoBug", userContent(good.got), userContent(good.want))
	bad := spanningStream(t, nil, mtable.WithBug(mtable.BugQueryStreamedBackUpNewStream))
	if d := diffRows(userContent(bad.got), userContent(bad.want)); d == "" {
		t.Fatalf("with the bug: the stream returned the whole content, want rows skipped")
	}
	if got, want := len(bad.got), len(bad.want); got >= want {
		t.Errorf("with the bug: got %d rows, want fewer than %d (skipped)", got, want)
	}
}

// TestBugQueryStreamedSaveNewConfig: the stream re-opens its new-table
// stream on every push instead of once, which is wasteful but (as the
// original authors noted) still correct.
func TestBugQueryStreamedSaveNewConfig(t *testing.T) {
	for _, tt := range []struct {
		bug     mtable.Bug
		streams int
	}{{mtable.NoBug, 2}, {mtable.BugQueryStreamedSaveNewConfig, 4}} {
		t.Run(tt.bug.String(), func(t *testing.T) {
			r := spanningStream(t, nil, mtable.WithBug(tt.bug))
			mustNoDiff(t, "streamed rows vs final content", userContent(r.got), userContent(r.want))
			if r.newStreams != tt.streams {
				t.Errorf("new-table streams opened: got %d, want %d", r.newStreams, tt.streams)
			}
		})
	}
}

func TestBugDeleteNoLeaveTombstonesETag(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []spec.OpKind{spec.Delete, spec.DeleteIfExists} {
		for _, bug := range []mtable.Bug{mtable.NoBug, mtable.BugDeleteNoLeaveTombstonesETag} {
			t.Run(kind.String()+"/"+bug.String(), func(t *testing.T) {
				f := newFixture(mtable.UseNewHideMetadata, nil, []spec.Entity{row("p", "r0", "n-r0", spec.Props{"v": spec.Int32(1)})})
				_, err := f.table(mtable.WithBug(bug)).ExecuteBatch(ctx, []spec.Op{{Kind: kind, Entity: row("p", "r0", "*", nil)}})
				if bug == mtable.NoBug {
					if err != nil {
						t.Fatalf("got %v, want success", err)
					}
					if n := len(f.new.Snapshot()); n != 0 {
						t.Errorf("new table has %d rows, want 0", n)
					}
					return
				}
				if err == nil || spec.StatusOf(err) != 0 {
					t.Fatalf("got %v, want an internal error (the backend refuses a delete without If-Match)", err)
				}
			})
		}
	}
}

func TestBugDeletePrimaryKey(t *testing.T) {
	ctx := context.Background()
	r0 := spec.Key{PartitionKey: "p", RowKey: "r0"}
	for _, bug := range []mtable.Bug{mtable.NoBug, mtable.BugDeletePrimaryKey} {
		t.Run("DeleteIfExists/"+bug.String(), func(t *testing.T) {
			vt := shadowed(mtable.PreferNew).table(mtable.WithBug(bug))
			if _, err := vt.ExecuteBatch(ctx, []spec.Op{{Kind: spec.DeleteIfExists, Entity: spec.Entity{Key: r0}}}); err != nil {
				t.Fatalf("DeleteIfExists: %v", err)
			}
			_, found, err := spec.Retrieve(ctx, vt, r0)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := found, bug != mtable.NoBug; got != want {
				t.Errorf("row found after a successful DeleteIfExists: got %v, want %v", got, want)
			}
		})
		t.Run("Delete/"+bug.String(), func(t *testing.T) {
			// The keyless tombstone Replace can never succeed: the write
			// path retries, then gives up.
			f := shadowed(mtable.PreferNew)
			_, err := f.table(mtable.WithBug(bug)).ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: row("p", "r0", "*", nil)}})
			if bug == mtable.NoBug {
				if err != nil {
					t.Fatalf("Delete: %v", err)
				}
				return
			}
			if err == nil || spec.StatusOf(err) != 0 || !strings.Contains(err.Error(), "100 times") {
				t.Fatalf("Delete: got %v, want the write path to give up after %d attempts", err, mtable.MaxAttempts)
			}
		})
	}
}

func TestBugEnsurePartitionSwitchedFromPopulated(t *testing.T) {
	ctx := context.Background()
	for _, bug := range []mtable.Bug{mtable.NoBug, mtable.BugEnsurePartitionSwitchedFromPopulated} {
		t.Run(bug.String(), func(t *testing.T) {
			f := newFixture(mtable.PreferOld, []spec.Entity{row("p", "r0", "o-r0", spec.Props{"v": spec.Int32(0)})}, nil)
			// A PREFER_OLD write marks the partition POPULATED.
			if _, err := f.table().ExecuteBatch(ctx, []spec.Op{{Kind: spec.InsertOrReplace, Entity: row("p", "r1", "", spec.Props{})}}); err != nil {
				t.Fatal(err)
			}
			if err := f.cfg.Push(ctx, mtable.PreferNew); err != nil {
				t.Fatal(err)
			}
			vt := f.table(mtable.WithBug(bug))
			if _, err := vt.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: row("p", "r0", "*", spec.Props{"v": spec.Int32(5)})}}); err != nil {
				t.Fatalf("Replace: %v", err)
			}
			meta, _ := f.old.Snapshot().Get(spec.Key{PartitionKey: "p", RowKey: mtable.MetaRowKey})
			st, _ := mtable.DecodePartitionState(meta)
			// A query that is not a list of keys reads the partition's
			// state with its old rows (a point query in PREFER_NEW may be
			// answered by the new table alone, which relies on the
			// invariant the bug breaks: new rows only in SWITCHED
			// partitions).
			rows, err := vt.QueryAtomic(ctx, spec.And{L: spec.PartitionFilter("p"), R: spec.Comparison{Property: "v", Op: spec.Ge, Value: spec.Int32(0)}})
			if err != nil || len(rows) != 1 {
				t.Fatalf("query: got %v, %v; want r0 alone", rows, err)
			}
			got := fmt.Sprintf("%s v=%v", st, rows[0].Props["v"])
			want := "SWITCHED v=5"
			if bug != mtable.NoBug {
				want = "POPULATED v=0" // the write went to the new table, unseen
			}
			if got != want {
				t.Errorf("partition state and r0 after the write: got %s, want %s", got, want)
			}
		})
	}
}

func TestBugTombstoneOutputETag(t *testing.T) {
	ctx := context.Background()
	for _, bug := range []mtable.Bug{mtable.NoBug, mtable.BugTombstoneOutputETag} {
		t.Run(bug.String(), func(t *testing.T) {
			res, err := shadowed(mtable.PreferNew).table(mtable.WithBug(bug)).ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: row("p", "r0", "*", nil)}})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res[0].ETag != "", bug != mtable.NoBug; got != want {
				t.Errorf("Delete result ETag %q: got non-empty=%v, want %v", res[0].ETag, got, want)
			}
		})
	}
}

func TestBugsMigratorPushes(t *testing.T) {
	ctx := context.Background()
	all := []mtable.State{mtable.PreferOld, mtable.PreferNew, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata}
	tests := []struct {
		bug  mtable.Bug
		want []mtable.State
	}{
		{mtable.NoBug, all},
		{mtable.BugMigrateSkipPreferOld, []mtable.State{mtable.PreferNew, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata}},
		{mtable.BugMigrateSkipUseNewWithTombstones, []mtable.State{mtable.PreferOld, mtable.PreferNew, mtable.UseNewHideMetadata}},
		{mtable.BugInsertBehindMigrator, []mtable.State{mtable.PreferOld, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata}},
	}
	for _, tt := range tests {
		t.Run(tt.bug.String(), func(t *testing.T) {
			f := newFixture(mtable.UseOldHideMetadata, sampleRows(), nil)
			cfg := &recordingConfig{ConfigService: f.cfg}
			var copiedIn []mtable.State
			rec := monitorFunc(func(ctx context.Context, a mtable.Annotation) {
				if len(a.ETagChanges) > 0 {
					copiedIn = append(copiedIn, f.cfg.Current(ctx))
				}
			})
			if err := mtable.NewMigrator(f.old, f.new, cfg, mtable.WithBug(tt.bug), mtable.WithMonitor(rec)).Run(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(cfg.pushes), fmt.Sprint(tt.want); got != want {
				t.Errorf("pushes: got %s, want %s", got, want)
			}
			wantCopy := mtable.PreferNew
			if tt.bug == mtable.BugInsertBehindMigrator {
				wantCopy = mtable.PreferOld // clients may still write the old table
			}
			if len(copiedIn) == 0 || copiedIn[0] != wantCopy {
				t.Errorf("copy ran in %v, want %s", copiedIn, wantCopy)
			}
			checkMigrated(t, "after Run", f.old, f.new, sampleRows())
		})
	}
}

type monitorFunc func(ctx context.Context, a mtable.Annotation)

func (m monitorFunc) AnnotateBackendCall(ctx context.Context, a mtable.Annotation) { m(ctx, a) }

// interloper runs hook once, just before the first batch it is given.
type interloper struct {
	spec.Table
	hook    func()
	batches [][]spec.Op
}

func (i *interloper) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	if h := i.hook; h != nil {
		i.hook = nil
		h()
	}
	i.batches = append(i.batches, ops)
	return i.Table.ExecuteBatch(ctx, ops)
}

func TestBugDeleteIfExistsHideMetadata(t *testing.T) {
	ctx := context.Background()
	r5 := spec.Key{PartitionKey: "p", RowKey: "r5"}
	t.Run("alone", func(t *testing.T) {
		for _, bug := range []mtable.Bug{mtable.NoBug, mtable.BugDeleteIfExistsHideMetadata} {
			t.Run(bug.String(), func(t *testing.T) {
				f := newFixture(mtable.UseNewHideMetadata, nil, nil)
				nt := &interloper{Table: f.new}
				res, err := mtable.New(f.old, nt, f.cfg, mtable.WithBug(bug)).ExecuteBatch(ctx, []spec.Op{{Kind: spec.DeleteIfExists, Entity: spec.Entity{Key: r5}}})
				if bug == mtable.NoBug {
					if err != nil || len(res) != 1 || res[0].ETag != "" {
						t.Fatalf("got %v, %v; want one empty result", res, err)
					}
					if len(nt.batches) != 0 {
						t.Errorf("batches sent: got %v, want none", nt.batches)
					}
					return
				}
				if err == nil {
					t.Fatalf("got success, want the backend's refusal of the empty batch")
				}
				if len(nt.batches) != 1 || len(nt.batches[0]) != 0 {
					t.Errorf("batches sent: got %v, want one empty batch", nt.batches)
				}
			})
		}
	})
	t.Run("with other operations", func(t *testing.T) {
		// A DeleteIfExists must be alone in its batch: refused with a
		// 400 before anything is sent, with or without the bug.
		for _, bug := range []mtable.Bug{mtable.NoBug, mtable.BugDeleteIfExistsHideMetadata} {
			t.Run(bug.String(), func(t *testing.T) {
				f := newFixture(mtable.UseNewHideMetadata, nil, nil)
				nt := &interloper{Table: f.new}
				_, err := mtable.New(f.old, nt, f.cfg, mtable.WithBug(bug)).ExecuteBatch(ctx, []spec.Op{
					{Kind: spec.DeleteIfExists, Entity: spec.Entity{Key: r5}},
					{Kind: spec.InsertOrReplace, Entity: row("p", "r6", "", spec.Props{})},
				})
				if got, want := spec.StatusOf(err), 400; got != want || !strings.Contains(err.Error(), "send the DeleteIfExists alone") {
					t.Fatalf("got %v, want a 400 that says to send the DeleteIfExists alone", err)
				}
				if len(nt.batches) != 0 {
					t.Errorf("batches sent: got %v, want none", nt.batches)
				}
			})
		}
	})
}

// betweenBatches runs between once, between the first and the second
// batch it is given.
type betweenBatches struct {
	spec.Table
	n       int
	between func()
}

func (b *betweenBatches) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	if b.n == 1 && b.between != nil {
		b.between()
	}
	b.n++
	return b.Table.ExecuteBatch(ctx, ops)
}

// TestBugDeleteIfExistsGuardTombstone: with the bug, a DeleteIfExists of
// an absent row among other operations is accepted, and in
// USE_NEW_HIDE_METADATA its guard tombstone is visible to a plain client
// of the new table until the library deletes it: a plain read sees a
// row with the deleted property set and a plain Insert of its key gets
// 409. Without the bug the batch is refused (400) and nothing is sent.
func TestBugDeleteIfExistsGuardTombstone(t *testing.T) {
	ctx := context.Background()
	r5 := spec.Key{PartitionKey: "p", RowKey: "r5"}
	for _, bug := range []mtable.Bug{mtable.NoBug, mtable.BugDeleteIfExistsGuardTombstone} {
		t.Run(bug.String(), func(t *testing.T) {
			f := newFixture(mtable.UseNewHideMetadata, nil, nil)
			var seen *spec.Entity
			var insertErr error
			nt := &betweenBatches{Table: f.new, between: func() {
				if e, ok, _ := spec.Retrieve(ctx, f.new, r5); ok {
					seen = &e
				}
				_, insertErr = f.new.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: r5, Props: spec.Props{}}}})
			}}
			res, err := mtable.New(f.old, nt, f.cfg, mtable.WithBug(bug)).ExecuteBatch(ctx, []spec.Op{
				{Kind: spec.InsertOrReplace, Entity: row("p", "r6", "", spec.Props{})},
				{Kind: spec.DeleteIfExists, Entity: spec.Entity{Key: r5}},
			})
			if bug == mtable.NoBug {
				if spec.StatusOf(err) != 400 || spec.IndexOf(err) != 1 || nt.n != 0 {
					t.Fatalf("got %v, %v with %d batches sent; want a 400 at operation 1 and none sent", res, err, nt.n)
				}
				return
			}
			if err != nil {
				t.Fatalf("with the bug: got %v, want success", err)
			}
			if seen == nil || !mtable.IsTombstone(*seen) {
				t.Errorf("plain read of r5 between the batch and the guard's removal: got %v, want the visible guard tombstone", seen)
			}
			if got, want := spec.StatusOf(insertErr), 409; got != want {
				t.Errorf("plain Insert of r5 meanwhile: got %v, want a spurious 409", insertErr)
			}
		})
	}
}
