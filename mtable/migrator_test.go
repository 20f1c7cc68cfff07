package mtable_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// budget is shared by every wrapper of one run: the run "dies" at the
// first backend call or push after the budget is spent.
type budget struct {
	mu    sync.Mutex
	used  int
	limit int // < 0: unlimited
}

func (b *budget) spend() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used++
	if b.limit >= 0 && b.used > b.limit {
		return errKilled
	}
	return nil
}

// dyingTable fails every call once its budget is spent.
type dyingTable struct {
	spec.Table
	b *budget
}

func (d dyingTable) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	if err := d.b.spend(); err != nil {
		return nil, err
	}
	return d.Table.ExecuteBatch(ctx, ops)
}

func (d dyingTable) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	if err := d.b.spend(); err != nil {
		return nil, err
	}
	return d.Table.QueryAtomic(ctx, f)
}

func (d dyingTable) QueryStreamed(ctx context.Context, f spec.Filter) (spec.Stream, error) {
	if err := d.b.spend(); err != nil {
		return nil, err
	}
	st, err := d.Table.QueryStreamed(ctx, f)
	return dyingStream{st, d.b}, err
}

type dyingStream struct {
	spec.Stream
	b *budget
}

func (d dyingStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	if err := d.b.spend(); err != nil {
		return spec.Entity{}, false, err
	}
	return d.Stream.Next(ctx)
}

// recordingConfig logs pushes, can die like dyingTable, and can run a
// hook after each push.
type recordingConfig struct {
	mtable.ConfigService
	b      *budget
	mu     sync.Mutex
	pushes []mtable.State
	after  func(mtable.State)
}

func (c *recordingConfig) Push(ctx context.Context, s mtable.State) error {
	if c.b != nil {
		if err := c.b.spend(); err != nil {
			return err
		}
	}
	if err := c.ConfigService.Push(ctx, s); err != nil {
		return err
	}
	c.mu.Lock()
	c.pushes = append(c.pushes, s)
	c.mu.Unlock()
	if c.after != nil {
		c.after(s)
	}
	return nil
}

// sampleRows is the old table's starting content: three partitions, one
// of them empty apart from one row with every property type.
func sampleRows() []spec.Entity {
	var rows []spec.Entity
	for _, pk := range []string{"a", "b"} {
		for i := 0; i < 5; i++ {
			rows = append(rows, row(pk, fmt.Sprintf("r%02d", i), "", spec.Props{"v": spec.Int32(int32(i)), "isHappy": spec.Bool(i%2 == 0)}))
		}
	}
	rows = append(rows, row("c", "only", "", spec.Props{"s": spec.String("x"), "n": spec.Int64(7), "d": spec.Double(1.5)}))
	return rows
}

// userContent strips ETags and Timestamps: what a migration must keep.
func userContent(rows []spec.Entity) []spec.Entity {
	out := make([]spec.Entity, len(rows))
	for i, e := range rows {
		out[i] = spec.Entity{Key: e.Key, Props: e.Props}
	}
	return out
}

func checkMigrated(t *testing.T, phase string, old, new *spec.MemTable, want []spec.Entity) {
	t.Helper()
	if n := len(old.Snapshot()); n != 0 {
		t.Errorf("%s: old table has %d rows, want 0: %v", phase, n, old.Snapshot())
	}
	for _, e := range new.Snapshot() {
		for name := range e.Props {
			if mtable.IsMetadataProperty(name) {
				t.Errorf("%s: new table row %s still has metadata property %s", phase, e.Key, name)
			}
		}
	}
	mustNoDiff(t, phase+": new table content", userContent(new.Snapshot()), userContent(want))
}

func TestMigrationMovesEveryRow(t *testing.T) {
	ctx := context.Background()
	old, new := spec.NewMemTable("old:"), spec.NewMemTable("new:")
	old.Load(sampleRows())
	cfg := &recordingConfig{ConfigService: mtable.NewMemConfig(mtable.UseOldHideMetadata)}
	rec := &recorder{}
	if err := mtable.NewMigrator(old, new, cfg, mtable.WithMonitor(rec)).Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkMigrated(t, "after Run", old, new, sampleRows())
	if got, want := fmt.Sprint(cfg.pushes), fmt.Sprint([]mtable.State{mtable.PreferOld, mtable.PreferNew, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata}); got != want {
		t.Errorf("pushes: got %s, want %s", got, want)
	}
	anns := rec.take()
	if n := len(lps(anns)); n != 0 {
		t.Errorf("migrator reported %d linearization points, want 0", n)
	}
	changes := 0
	for _, a := range anns {
		changes += len(a.ETagChanges)
	}
	if got, want := changes, len(sampleRows()); got != want {
		t.Errorf("ETag changes reported: got %d, want %d (one per copied row)", got, want)
	}
	// Run again on a finished migration: nothing to do, still fine.
	if err := mtable.NewMigrator(old, new, cfg).Run(ctx); err != nil {
		t.Fatalf("second Run: %v", err)
	}
	checkMigrated(t, "after a second Run", old, new, sampleRows())
}

// TestMigratorResumes kills the migrator at each of its steps (before
// each backend call and push, counted across both tables and the
// configuration service) and restarts it; every restart must finish
// with the same result, and the virtual content must never change.
func TestMigratorResumes(t *testing.T) {
	ctx := context.Background()
	for limit := 0; ; limit++ {
		old, new := spec.NewMemTable("old:"), spec.NewMemTable("new:")
		old.Load(sampleRows())
		mem := mtable.NewMemConfig(mtable.UseOldHideMetadata)
		b := &budget{limit: limit}
		cfg := &recordingConfig{ConfigService: mem, b: b}
		err := mtable.NewMigrator(dyingTable{old, b}, dyingTable{new, b}, cfg).Run(ctx)
		if err == nil {
			checkMigrated(t, "run without dying", old, new, sampleRows())
			t.Logf("the migration takes %d steps; killed and resumed at each", limit)
			if limit < 10 {
				t.Fatalf("the migration took only %d steps", limit)
			}
			return
		}
		if !errors.Is(err, errKilled) {
			t.Fatalf("killed at step %d: got error %v, want the injected failure", limit, err)
		}
		phase := fmt.Sprintf("killed at step %d (state %s)", limit, mem.Current(ctx))
		// The virtual content is unchanged whatever the state.
		vt := mtable.New(old, new, mem)
		st, err := vt.QueryStreamed(ctx, nil)
		if err != nil {
			t.Fatalf("%s: streamed query: %v", phase, err)
		}
		got, err := drain(ctx, st)
		st.Close()
		if err != nil {
			t.Fatalf("%s: streamed query: %v", phase, err)
		}
		mustNoDiff(t, phase+": virtual content", userContent(got), userContent(sampleRows()))
		if err := mtable.NewMigrator(old, new, mem).Run(ctx); err != nil {
			t.Fatalf("%s: restarted Run: %v", phase, err)
		}
		checkMigrated(t, phase+", then restarted", old, new, sampleRows())
	}
}

// TestResumeRepushes: a migrator resumed in a later state first pushes
// that state again, because the migrator that died may not have seen
// every client acknowledge it (clients of the previous state may still
// be running).
func TestResumeRepushes(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		from mtable.State
		want []mtable.State
	}{
		{mtable.UseOldHideMetadata, []mtable.State{mtable.PreferOld, mtable.PreferNew, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata}},
		{mtable.PreferNew, []mtable.State{mtable.PreferNew, mtable.UseNewWithTombstones, mtable.UseNewHideMetadata}},
		{mtable.UseNewHideMetadata, []mtable.State{mtable.UseNewHideMetadata}},
	} {
		t.Run(tt.from.String(), func(t *testing.T) {
			f := newFixture(tt.from, nil, nil)
			cfg := &recordingConfig{ConfigService: f.cfg}
			if err := mtable.NewMigrator(f.old, f.new, cfg).Run(ctx); err != nil {
				t.Fatal(err)
			}
			if got, want := fmt.Sprint(cfg.pushes), fmt.Sprint(tt.want); got != want {
				t.Errorf("pushes: got %s, want %s", got, want)
			}
		})
	}
}
