package mtable_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

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
