package mtable_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

func TestCallerErrors(t *testing.T) {
	ctx := context.Background()
	many := make([]spec.Op, 99)
	for i := range many {
		many[i] = spec.Op{Kind: spec.InsertOrReplace, Entity: row("p", strings.Repeat("k", i+1), "", spec.Props{})}
	}
	tests := []struct {
		name  string
		ops   []spec.Op
		index int
		msg   string
	}{
		{"meta row key", []spec.Op{{Kind: spec.InsertOrReplace, Entity: row("p", "a", "", spec.Props{})}, {Kind: spec.Delete, Entity: row("p", mtable.MetaRowKey, "*", nil)}}, 1, "reserved for MigratingTable's internal rows"},
		{"assertion row key", []spec.Op{{Kind: spec.Insert, Entity: row("p", mtable.PopulatedAssertionRowKey, "", spec.Props{})}}, 0, "reserved for MigratingTable's internal rows"},
		{"any prefixed row key", []spec.Op{{Kind: spec.InsertOrReplace, Entity: row("p", "_mtable_probe", "", spec.Props{})}}, 0, "reserved for MigratingTable's internal rows"},
		{"prefixed row key deleted", []spec.Op{{Kind: spec.DeleteIfExists, Entity: row("p", "_mtable_", "", nil)}}, 0, "reserved for MigratingTable's internal rows"},
		{"deleted property", []spec.Op{{Kind: spec.InsertOrMerge, Entity: row("p", "a", "", spec.Props{mtable.DeletedProperty: spec.Bool(false)})}}, 0, "reserved for MigratingTable's metadata"},
		{"any prefixed property", []spec.Op{{Kind: spec.Replace, Entity: row("p", "a", "*", spec.Props{"_mtable_x": spec.Int32(1)})}}, 0, "reserved for MigratingTable's metadata"},
		{"100 operations", append(many, spec.Op{Kind: spec.Insert, Entity: row("p", "z", "", spec.Props{})}), -1, "at most 99"},
		{"empty batch", nil, -1, "empty batch"},
		{"two partitions", []spec.Op{{Kind: spec.Insert, Entity: row("p", "a", "", spec.Props{})}, {Kind: spec.Insert, Entity: row("q", "a", "", spec.Props{})}}, 1, "one partition"},
		{"missing If-Match", []spec.Op{{Kind: spec.Merge, Entity: row("p", "a", "", spec.Props{})}}, 0, "If-Match is required"},
	}
	for _, state := range []mtable.State{mtable.UseOldHideMetadata, mtable.PreferOld, mtable.PreferNew, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata} {
		for _, tt := range tests {
			t.Run(state.String()+"/"+tt.name, func(t *testing.T) {
				f := newFixture(state, nil, nil)
				_, err := f.table().ExecuteBatch(ctx, tt.ops)
				var se *spec.Error
				if !errors.As(err, &se) || se.Status != spec.StatusBadRequest || se.Index != tt.index || !strings.Contains(se.Message, tt.msg) {
					t.Fatalf("got %v, want a 400 at index %d saying %q", err, tt.index, tt.msg)
				}
				if n := len(f.old.Snapshot()) + len(f.new.Snapshot()); n != 0 {
					t.Errorf("backends hold %d rows after a refused batch, want 0", n)
				}
			})
		}
	}
	// 99 operations are fine, even in PREFER_OLD (which adds one).
	f := newFixture(mtable.PreferOld, nil, nil)
	if _, err := f.table().ExecuteBatch(ctx, many); err != nil {
		t.Fatalf("99 operations in PREFER_OLD: %v", err)
	}
}

// TestReservedNames pins the reserved-name contract: every RowKey and
// every property name that begins with MetadataPrefix is the library's.
func TestReservedNames(t *testing.T) {
	tests := []struct {
		name     string
		internal bool
	}{
		{mtable.MetaRowKey, true},
		{mtable.PopulatedAssertionRowKey, true},
		{"_mtable_probe", true},
		{"_mtable_", true},
		{"_mtable", false},
		{"_MTABLE_probe", false},
		{"x_mtable_", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mtable.IsInternalKey(spec.Key{PartitionKey: "p", RowKey: tt.name}); got != tt.internal {
				t.Errorf("IsInternalKey(RowKey %q): got %v, want %v", tt.name, got, tt.internal)
			}
			if got := mtable.IsMetadataProperty(tt.name); got != tt.internal {
				t.Errorf("IsMetadataProperty(%q): got %v, want %v", tt.name, got, tt.internal)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	ctx := context.Background()
	vt := newFixture(mtable.PreferNew, nil, nil).table()
	reserved := spec.Not{X: spec.Comparison{Property: mtable.DeletedProperty, Op: spec.Eq, Value: spec.Bool(true)}}
	if _, err := vt.QueryAtomic(ctx, spec.And{L: spec.PartitionFilter("p"), R: reserved}); spec.StatusOf(err) != spec.StatusBadRequest || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("atomic query on a reserved property: got %v, want a 400 saying it is reserved", err)
	}
	if _, err := vt.QueryStreamed(ctx, reserved); spec.StatusOf(err) != spec.StatusBadRequest {
		t.Errorf("streamed query on a reserved property: got %v, want a 400", err)
	}
	if _, err := vt.QueryAtomic(ctx, spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int32(1)}); spec.StatusOf(err) != spec.StatusBadRequest || !strings.Contains(err.Error(), "single partition") {
		t.Errorf("atomic query without a partition: got %v, want a 400 saying it needs a single partition", err)
	}
	// Azure's limit of 15 comparisons, before any backend call.
	var many spec.Filter = spec.PartitionFilter("p")
	for i := 0; i < spec.MaxComparisons; i++ {
		many = spec.And{L: many, R: spec.Comparison{Property: "v", Op: spec.Ne, Value: spec.Int32(int32(i))}}
	}
	if _, err := vt.QueryAtomic(ctx, many); spec.StatusOf(err) != spec.StatusBadRequest || !strings.Contains(err.Error(), "has 16 comparisons: at most 15 are allowed") {
		t.Errorf("atomic query with 16 comparisons: got %v, want a 400 saying at most 15 are allowed", err)
	}
	if _, err := vt.QueryStreamed(ctx, many); spec.StatusOf(err) != spec.StatusBadRequest || !strings.Contains(err.Error(), "has 16 comparisons: at most 15 are allowed") {
		t.Errorf("streamed query with 16 comparisons: got %v, want a 400 saying at most 15 are allowed", err)
	}
}

// TestInternalRowsHidden: meta rows, assertion rows, tombstones and
// metadata properties never reach callers, in any state.
func TestInternalRowsHidden(t *testing.T) {
	ctx := context.Background()
	oldRows := []spec.Entity{
		row("p", mtable.MetaRowKey, "o-m", spec.Props{mtable.PartitionStateProperty: spec.Int32(int32(mtable.PartitionPopulated))}),
		row("p", mtable.PopulatedAssertionRowKey, "o-a", spec.Props{}),
		row("p", "a", "o-a", spec.Props{"v": spec.Int32(1)}),
		switchedMeta("s"),
		row("s", "a", "o-sa", spec.Props{"v": spec.Int32(1)}),
		row("s", "b", "o-sb", spec.Props{"v": spec.Int32(1)}),
	}
	newRows := []spec.Entity{
		row("s", "a", "n-sa", spec.Props{mtable.DeletedProperty: spec.Bool(true)}),
		row("s", "b", "n-sb", spec.Props{"v": spec.Int32(2), mtable.DeletedProperty: spec.Bool(false)}),
	}
	for _, state := range []mtable.State{mtable.UseOldHideMetadata, mtable.PreferOld, mtable.PreferNew, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata} {
		t.Run(state.String(), func(t *testing.T) {
			vt := newFixture(state, oldRows, newRows).table()
			var all []spec.Entity
			for _, pk := range []string{"p", "s"} {
				rows, err := vt.QueryAtomic(ctx, spec.PartitionFilter(pk))
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, rows...)
			}
			st, err := vt.QueryStreamed(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			streamed, err := drain(ctx, st)
			st.Close()
			if err != nil {
				t.Fatal(err)
			}
			mustNoDiff(t, "streamed vs atomic", streamed, all)
			for _, e := range all {
				if mtable.IsInternalKey(e.Key) || mtable.IsTombstone(e) {
					t.Errorf("internal row or tombstone %s returned", e.Key)
				}
				for name := range e.Props {
					if mtable.IsMetadataProperty(name) {
						t.Errorf("row %s returned with metadata property %s", e.Key, name)
					}
				}
			}
		})
	}
}

type subFunc func(ctx context.Context, s mtable.State) error

func (f subFunc) Apply(ctx context.Context, s mtable.State) error { return f(ctx, s) }

func TestMemConfig(t *testing.T) {
	ctx := context.Background()
	t.Run("push waits for a non-acknowledging subscription", func(t *testing.T) {
		c := mtable.NewMemConfig(mtable.UseOldHideMetadata)
		s, cancel, err := c.Subscribe(ctx, nil)
		if err != nil || s != mtable.UseOldHideMetadata {
			t.Fatalf("Subscribe: got %s, %v", s, err)
		}
		var mu sync.Mutex
		var events []string
		logEv := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
		applied := make(chan struct{})
		if _, _, err := c.Subscribe(ctx, subFunc(func(ctx context.Context, s mtable.State) error {
			logEv("applied " + s.String())
			close(applied)
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { err := c.Push(ctx, mtable.PreferOld); logEv("push returned"); done <- err }()
		<-applied // the live subscriber got it; the push still waits for the nil one
		if got := c.Current(ctx); got != mtable.PreferOld {
			t.Errorf("Current during the push: got %s, want PREFER_OLD", got)
		}
		if s2, cancel2, _ := c.Subscribe(ctx, nil); s2 != mtable.PreferOld {
			t.Errorf("Subscribe during the push: got %s, want PREFER_OLD", s2)
		} else {
			cancel2() // a subscription made after the push began is not waited for anyway
		}
		logEv("cancel")
		cancel()
		cancel() // twice is safe
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := strings.Join(events, ", ")
		mu.Unlock()
		if want := "applied PREFER_OLD, cancel, push returned"; got != want {
			t.Errorf("events: got %q, want %q", got, want)
		}
	})
	t.Run("refuses to go back", func(t *testing.T) {
		c := mtable.NewMemConfig(mtable.PreferNew)
		if err := c.Push(ctx, mtable.PreferOld); err == nil || !strings.Contains(err.Error(), "only advance") {
			t.Errorf("push back: got %v, want a refusal", err)
		}
		if err := c.Push(ctx, mtable.State(9)); err == nil || !strings.Contains(err.Error(), "invalid state") {
			t.Errorf("push of state 9: got %v, want a refusal", err)
		}
		if err := c.Push(ctx, mtable.PreferNew); err != nil {
			t.Errorf("re-push of the current state: %v", err)
		}
	})
	t.Run("subscriber errors are reported", func(t *testing.T) {
		c := mtable.NewMemConfig(mtable.UseOldHideMetadata)
		boom := errors.New("boom")
		c.Subscribe(ctx, subFunc(func(context.Context, mtable.State) error { return boom }))
		if err := c.Push(ctx, mtable.PreferOld); !errors.Is(err, boom) {
			t.Errorf("Push: got %v, want the subscriber's error", err)
		}
		if got := c.Current(ctx); got != mtable.PreferOld {
			t.Errorf("Current: got %s, want PREFER_OLD (pushed regardless)", got)
		}
	})
}

// TestCallsHoldSubscription: a push cannot complete while a virtual
// call is in flight.
func TestCallsHoldSubscription(t *testing.T) {
	ctx := context.Background()
	f := newFixture(mtable.UseOldHideMetadata, nil, nil)
	var events []string
	var mu sync.Mutex
	logEv := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	pushed := make(chan error)
	gate := &interloper{Table: f.old}
	gate.hook = func() {
		go func() { err := f.cfg.Push(ctx, mtable.PreferOld); logEv("push returned"); pushed <- err }()
		logEv("batch running")
	}
	cfg := cancelLogger{f.cfg, func() { logEv("call unsubscribes") }}
	if _, err := mtable.New(gate, f.new, cfg).ExecuteBatch(ctx, []spec.Op{{Kind: spec.InsertOrReplace, Entity: row("p", "a", "", spec.Props{})}}); err != nil {
		t.Fatal(err)
	}
	if err := <-pushed; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got, want := strings.Join(events, ", "), "batch running, call unsubscribes, push returned"; got != want {
		t.Errorf("events: got %q, want %q", got, want)
	}
}

// cancelLogger runs before() just before each subscription is cancelled.
type cancelLogger struct {
	mtable.ConfigService
	before func()
}

func (c cancelLogger) Subscribe(ctx context.Context, sub mtable.Subscriber) (mtable.State, func(), error) {
	s, cancel, err := c.ConfigService.Subscribe(ctx, sub)
	return s, func() { c.before(); cancel() }, err
}

func TestNilCollaborators(t *testing.T) {
	ctx := context.Background()
	mem := spec.NewMemTable("x:")
	cfg := mtable.NewMemConfig(mtable.UseOldHideMetadata)
	tests := []struct {
		name          string
		old, new      spec.Table
		cfg           mtable.ConfigService
		wantSubstring string
	}{
		{"old", nil, mem, cfg, "no old table"},
		{"new", mem, nil, cfg, "no new table"},
		{"config", mem, mem, nil, "no configuration service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vt := mtable.New(tt.old, tt.new, tt.cfg)
			_, err1 := vt.ExecuteBatch(ctx, []spec.Op{{Kind: spec.InsertOrReplace, Entity: row("p", "a", "", spec.Props{})}})
			_, err2 := vt.QueryAtomic(ctx, spec.PartitionFilter("p"))
			_, err3 := vt.QueryStreamed(ctx, nil)
			err4 := mtable.NewMigrator(tt.old, tt.new, tt.cfg).Run(ctx)
			for i, err := range []error{err1, err2, err3, err4} {
				if err == nil || !strings.Contains(err.Error(), tt.wantSubstring) {
					t.Errorf("call %d: got %v, want an error saying %q", i, err, tt.wantSubstring)
				}
			}
		})
	}
}

// comparisonLimit refuses filters with more comparisons than Azure
// accepts (15), as Azure Table storage does.
type comparisonLimit struct{ spec.Table }

func (c comparisonLimit) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	if n := spec.CountComparisons(f); n > spec.MaxComparisons {
		return nil, spec.Errorf(spec.StatusBadRequest, -1, "filter has %d comparisons: at most 15 are allowed", n)
	}
	return c.Table.QueryAtomic(ctx, f)
}

// TestLargeBatchFilters: a batch of 99 operations on the new-table path
// reads its rows with filters Azure accepts.
func TestLargeBatchFilters(t *testing.T) {
	ctx := context.Background()
	var oldRows []spec.Entity
	ops := make([]spec.Op, 99)
	for i := range ops {
		rk := fmt.Sprintf("r%02d", i)
		if i%2 == 0 {
			oldRows = append(oldRows, row("p", rk, "", spec.Props{"v": spec.Int32(1)}))
		}
		ops[i] = spec.Op{Kind: spec.InsertOrMerge, Entity: row("p", rk, "", spec.Props{"w": spec.Int32(int32(i))})}
	}
	for _, n := range []int{14, 15, 99} {
		for _, state := range []mtable.State{mtable.PreferNew, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata} {
			t.Run(fmt.Sprintf("%d ops in %s", n, state), func(t *testing.T) {
				f := newFixture(state, oldRows, nil)
				vt := mtable.New(comparisonLimit{f.old}, comparisonLimit{f.new}, f.cfg)
				if _, err := vt.ExecuteBatch(ctx, ops[:n]); err != nil {
					t.Fatalf("ExecuteBatch: %v", err)
				}
				got, err := vt.QueryAtomic(ctx, spec.PartitionFilter("p"))
				if err != nil {
					t.Fatal(err)
				}
				want := n
				if state == mtable.PreferNew {
					want = n + (50 - (n+1)/2) // untouched old rows still show
				}
				if len(got) != want {
					t.Errorf("rows after the batch: got %d, want %d", len(got), want)
				}
			})
		}
	}
}

// TestLargeQueryFilters: an atomic query whose filter has 15
// comparisons, Azure's limit, works in the overlaid states too.
func TestLargeQueryFilters(t *testing.T) {
	ctx := context.Background()
	var filter spec.Filter = spec.PartitionFilter("p")
	for i := 0; i < 14; i++ {
		filter = spec.And{L: filter, R: spec.Comparison{Property: "v", Op: spec.Ne, Value: spec.Int32(int32(100 + i))}}
	}
	for state := mtable.UseOldHideMetadata; state <= mtable.UseNewHideMetadata; state++ {
		t.Run(state.String(), func(t *testing.T) {
			f := shadowed(state)
			got, err := mtable.New(comparisonLimit{f.old}, comparisonLimit{f.new}, f.cfg).QueryAtomic(ctx, filter)
			if err != nil {
				t.Fatalf("QueryAtomic: %v", err)
			}
			want := "['p'/'r0'@n-r0]"
			if state == mtable.UseOldHideMetadata {
				want = "['p'/'r0'@o-r0]"
			}
			if keysOf(got) != want {
				t.Errorf("got %s, want %s", keysOf(got), want)
			}
		})
	}
}
