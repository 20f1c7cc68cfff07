package mtable_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// streamRows: partition "p" with rows r00..r19 (v = i mod 3) and one row
// in "q".
func streamRows() []spec.Entity {
	var rows []spec.Entity
	for i := 0; i < 20; i++ {
		rows = append(rows, row("p", fmt.Sprintf("r%02d", i), "", spec.Props{"v": spec.Int32(int32(i % 3))}))
	}
	return append(rows, row("q", "z", "", spec.Props{"v": spec.Int32(1)}))
}

// TestStreamSpansAllStates opens a streamed query in
// USE_OLD_HIDE_METADATA and reads a row after every push of a migration
// (and after the copy), while a client writes rows the stream has not
// reached yet; the stream must return exactly the final logical content.
func TestStreamSpansAllStates(t *testing.T) {
	filters := []spec.Filter{nil, spec.Comparison{Property: "v", Op: spec.Ne, Value: spec.Int32(1)}}
	for _, f := range filters {
		t.Run(fmt.Sprintf("filter=%q", spec.FilterString(f)), func(t *testing.T) {
			r := spanningStream(t, f)
			// ETags differ where a row was read before the copy gave it a new one.
			mustNoDiff(t, "streamed rows vs final content", userContent(r.got), userContent(r.want))
			if len(r.want) < 10 {
				t.Fatalf("final content has only %d rows", len(r.want))
			}
			if got, want := r.newStreams, 2; got != want {
				t.Errorf("new-table streams opened: got %d, want %d (at PREFER_OLD, and backed up at USE_NEW_HIDE_METADATA)", got, want)
			}
		})
	}
}

type spanResult struct {
	got, want  []spec.Entity
	newStreams int // streamed queries the virtual stream opened on the new table
}

// spanningStream opens a streamed query in USE_OLD_HIDE_METADATA and
// reads a row after every push of a migration (and after the copy),
// while a client writes rows the stream has not reached yet. want is the
// final content, which the stream must return exactly.
func spanningStream(t *testing.T, f spec.Filter, opts ...mtable.Option) spanResult {
	t.Helper()
	ctx := context.Background()
	old, new := spec.NewMemTable("old:"), spec.NewMemTable("new:")
	old.Load(streamRows())
	mem := mtable.NewMemConfig(mtable.UseOldHideMetadata)
	cfg := &recordingConfig{ConfigService: mem}
	client := mtable.New(old, new, mem)
	counted := &counting{Table: new, budget: -1}
	st, err := mtable.New(old, counted, cfg, opts...).QueryStreamed(ctx, f)
	if err != nil {
		t.Fatalf("QueryStreamed: %v", err)
	}
	defer st.Close()
	var got []spec.Entity
	var lastCont spec.Key
	readOne := func(phase string) {
		e, ok, err := st.Next(ctx)
		if err != nil {
			t.Fatalf("%s: Next: %v", phase, err)
		}
		if !ok {
			return // premature end: the caller compares the rows
		}
		got = append(got, e)
		k, ok := st.Continuation()
		if !ok || !e.Key.Less(k) {
			t.Fatalf("%s: continuation %v (ok=%v) not after the row returned %v", phase, k, ok, e.Key)
		}
		if k.Less(lastCont) {
			t.Fatalf("%s: continuation went back from %v to %v", phase, lastCont, k)
		}
		lastCont = k
	}
	write := func(phase string, ops ...spec.Op) {
		if _, err := client.ExecuteBatch(ctx, ops); err != nil {
			t.Fatalf("%s: batch: %v", phase, err)
		}
	}
	readOne("USE_OLD_HIDE_METADATA")
	cfg.after = func(s mtable.State) {
		readOne(s.String())
		switch s {
		case mtable.PreferOld:
			write("PREFER_OLD", spec.Op{Kind: spec.Replace, Entity: row("p", "r10", "*", spec.Props{"v": spec.Int32(0), "by": spec.String("preferold")})})
		case mtable.PreferNew:
			// New-table rows ahead of the old stream, before the copy.
			write("PREFER_NEW",
				spec.Op{Kind: spec.Delete, Entity: row("p", "r15", "*", nil)},
				spec.Op{Kind: spec.Merge, Entity: row("p", "r17", "*", spec.Props{"v": spec.Int32(2)})},
				spec.Op{Kind: spec.Insert, Entity: row("p", "r17a", "", spec.Props{"v": spec.Int32(0)})})
		case mtable.UseNewWithTombstones:
			write("USE_NEW_WITH_TOMBSTONES", spec.Op{Kind: spec.DeleteIfExists, Entity: row("p", "r18", "", nil)})
		case mtable.UseNewHideMetadata:
			write("USE_NEW_HIDE_METADATA", spec.Op{Kind: spec.InsertOrMerge, Entity: row("p", "r19", "", spec.Props{"w": spec.Bool(true)})})
		}
	}
	if err := mtable.NewMigrator(old, new, cfg).Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	rest, err := drain(ctx, st)
	if err != nil {
		t.Fatalf("after the migration: %v", err)
	}
	got = append(got, rest...)
	if _, ok := st.Continuation(); ok {
		t.Errorf("Continuation after the end: got ok=true, want false")
	}
	counted.mu.Lock()
	defer counted.mu.Unlock()
	return spanResult{got: got, want: new.Snapshot().Query(f), newStreams: counted.streams}
}

// TestStreamDropsOldStreamWithTombstonesState is the regression test for
// a flaw in PROTOCOL.md 3.5 found by the harness (seed 4242, iteration
// 1436): a stream that keeps reading the old table until it hears of
// USE_NEW_HIDE_METADATA lets an old row show through a row that a
// client already in USE_NEW_HIDE_METADATA deleted (without a
// tombstone). The stream must read the new table alone as soon as it
// has applied USE_NEW_WITH_TOMBSTONES.
func TestStreamDropsOldStreamWithTombstonesState(t *testing.T) {
	ctx := context.Background()
	f := newFixture(mtable.PreferNew,
		[]spec.Entity{switchedMeta("p"), row("p", "a", "o-a", spec.Props{"v": spec.Int32(1)}), row("p", "b", "o-b", spec.Props{"v": spec.Int32(1)})},
		[]spec.Entity{row("p", "a", "n-a", spec.Props{"v": spec.Int32(1)}), row("p", "b", "n-b", spec.Props{"v": spec.Int32(2)})})
	st, err := f.table().QueryStreamed(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := f.cfg.Push(ctx, mtable.UseNewWithTombstones); err != nil {
		t.Fatal(err)
	}
	// The migrator's next push has begun: a client that subscribed since
	// runs in USE_NEW_HIDE_METADATA, before the stream hears of it.
	hide := mtable.New(f.old, f.new, mtable.NewMemConfig(mtable.UseNewHideMetadata))
	if _, err := hide.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: row("p", "b", "*", nil)}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.new.Snapshot().Get(spec.Key{PartitionKey: "p", RowKey: "b"}); ok {
		t.Fatalf("setup: the USE_NEW_HIDE_METADATA delete left a row or tombstone")
	}
	got, err := drain(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keysOf(got), "['p'/'a'@n-a]"; got != want {
		t.Errorf("stream: got %s, want %s (b is deleted; its old version must not show through)", got, want)
	}
}

// TestStreamAloneFiltersAtTheBackend: once a stream reads the new table
// alone, the backend applies the caller's filter, so a selective
// streamed query no longer reads every row of the new table; before
// that (PREFER_NEW) the new-table stream must read every row, since a
// row that fails the filter still shadows its old twin.
func TestStreamAloneFiltersAtTheBackend(t *testing.T) {
	ctx := context.Background()
	rows := bigRows("p", 200)
	filter := spec.Comparison{Property: "v", Op: spec.Eq, Value: spec.Int32(150)}
	for _, tt := range []struct {
		name      string
		start     mtable.State
		push      bool // push USE_NEW_WITH_TOMBSTONES after the first row
		wantReads int  // Next calls on the new table's stream, at most
	}{
		{"started in USE_NEW_HIDE_METADATA", mtable.UseNewHideMetadata, false, 2},
		{"started in USE_NEW_WITH_TOMBSTONES", mtable.UseNewWithTombstones, false, 2},
		{"PREFER_NEW then USE_NEW_WITH_TOMBSTONES", mtable.PreferNew, true, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var oldRows []spec.Entity
			if tt.start <= mtable.UseNewWithTombstones {
				oldRows = append(append(oldRows, rows...), switchedMeta("p"))
			}
			f := newFixture(tt.start, oldRows, rows)
			newB := &counting{Table: f.new, budget: -1}
			st, err := mtable.New(f.old, newB, f.cfg).QueryStreamed(ctx, filter)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if tt.push {
				if err := f.cfg.Push(ctx, mtable.UseNewWithTombstones); err != nil {
					t.Fatal(err)
				}
			}
			newB.mu.Lock()
			before := newB.calls
			newB.mu.Unlock()
			got, err := drain(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].RowKey != "r0150" {
				t.Fatalf("got %d rows, want r0150 alone", len(got))
			}
			newB.mu.Lock()
			reads := newB.calls - before
			newB.mu.Unlock()
			if reads > tt.wantReads {
				t.Errorf("the new table's stream was read %d times after the start, want at most %d", reads, tt.wantReads)
			}
		})
	}
}
