package mtable_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// recorder is a Monitor that keeps every annotation.
type recorder struct {
	mu   sync.Mutex
	anns []mtable.Annotation
}

func (r *recorder) AnnotateBackendCall(ctx context.Context, a mtable.Annotation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.anns = append(r.anns, a)
}

// take returns and forgets the annotations recorded so far.
func (r *recorder) take() []mtable.Annotation {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.anns
	r.anns = nil
	return a
}

// lps returns the linearization-point annotations among as.
func lps(as []mtable.Annotation) []mtable.Annotation {
	var out []mtable.Annotation
	for _, a := range as {
		if a.LinearizationPoint {
			out = append(out, a)
		}
	}
	return out
}

// counting wraps a spec.Table and counts its calls (every method and
// every stream Next), failing every call after the budget is spent
// (budget < 0: unlimited).
type counting struct {
	spec.Table
	mu      sync.Mutex
	calls   int
	budget  int
	streams int
}

var errKilled = fmt.Errorf("injected failure: the process died")

func (c *counting) tick() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.budget >= 0 && c.calls > c.budget {
		return errKilled
	}
	return nil
}

func (c *counting) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	if err := c.tick(); err != nil {
		return nil, err
	}
	return c.Table.ExecuteBatch(ctx, ops)
}

func (c *counting) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	if err := c.tick(); err != nil {
		return nil, err
	}
	return c.Table.QueryAtomic(ctx, f)
}

func (c *counting) QueryStreamed(ctx context.Context, f spec.Filter) (spec.Stream, error) {
	if err := c.tick(); err != nil {
		return nil, err
	}
	st, err := c.Table.QueryStreamed(ctx, f)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.streams++
	c.mu.Unlock()
	return &countingStream{Stream: st, c: c}, nil
}

type countingStream struct {
	spec.Stream
	c *counting
}

func (s *countingStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	if err := s.c.tick(); err != nil {
		return spec.Entity{}, false, err
	}
	return s.Stream.Next(ctx)
}

// logical decodes the virtual content from the backends alone, in the
// given client state: the old table for an unswitched partition (or in
// USE_OLD_HIDE_METADATA), new over old for a switched one, the new table
// alone once clients use it only.
func logical(state mtable.State, old, new spec.Rows) []spec.Entity {
	switched := map[string]bool{}
	for _, e := range old {
		if e.RowKey == mtable.MetaRowKey {
			s, ok := mtable.DecodePartitionState(e)
			switched[e.PartitionKey] = ok && s == mtable.PartitionSwitched
		}
	}
	byKey := map[spec.Key]spec.Entity{}
	if state <= mtable.PreferNew {
		for _, e := range old {
			if !mtable.IsInternalKey(e.Key) {
				byKey[e.Key] = e
			}
		}
	}
	if state >= mtable.PreferOld {
		for _, e := range new {
			if state <= mtable.PreferNew && !switched[e.PartitionKey] {
				continue
			}
			if mtable.IsTombstone(e) {
				delete(byKey, e.Key)
			} else {
				byKey[e.Key] = e
			}
		}
	}
	var out []spec.Entity
	for _, e := range byKey {
		e = e.Clone()
		for n := range e.Props {
			if mtable.IsMetadataProperty(n) {
				delete(e.Props, n)
			}
		}
		out = append(out, e)
	}
	spec.SortEntities(out)
	return out
}

var cmpRows = []cmp.Option{
	cmp.Comparer(func(a, b spec.Value) bool { return a.Equal(b) }),
	cmpopts.IgnoreFields(spec.Entity{}, "Timestamp"),
	cmpopts.EquateEmpty(),
}

// diffRows compares row sets (ETags and properties; not Timestamps).
func diffRows(got, want []spec.Entity) string { return cmp.Diff(want, got, cmpRows...) }

func mustNoDiff(t testing.TB, phase string, got, want []spec.Entity) {
	t.Helper()
	if d := diffRows(got, want); d != "" {
		t.Fatalf("%s: rows differ (-want +got):\n%s", phase, d)
	}
}

// drain reads a stream to its end.
func drain(ctx context.Context, st spec.Stream) ([]spec.Entity, error) {
	var out []spec.Entity
	for {
		e, ok, err := st.Next(ctx)
		if err != nil {
			return out, err
		}
		if !ok {
			return out, nil
		}
		out = append(out, e)
	}
}

func row(pk, rk string, etag spec.ETag, props spec.Props) spec.Entity {
	return spec.Entity{Key: spec.Key{PartitionKey: pk, RowKey: rk}, ETag: etag, Props: props}
}
