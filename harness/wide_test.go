package harness

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/spec"
)

// TestWidePartition: in a wide partition a read of the whole partition
// fails as a two-page Azure query does (an error that is not a table
// outcome), while every atomic query the workload makes of it reads no
// filler.
func TestWidePartition(t *testing.T) {
	ctx := context.Background()
	wl := DefaultWorkload()
	wl.Swarm, wl.WidePartition = false, true
	w := newWorld(Options{Workload: wl})
	w.load()
	pk := w.widePartition()
	_, err := w.old.QueryAtomic(ctx, spec.PartitionFilter(pk))
	if !errors.Is(err, spec.ErrMultiPage) || spec.StatusOf(err) != 0 {
		t.Fatalf("reading the whole wide partition: got %v, want an error wrapping spec.ErrMultiPage", err)
	}
	fillers := 0
	for _, e := range w.old.Snapshot().Partition(pk) {
		if strings.HasPrefix(e.RowKey, fillerPrefix) {
			fillers++
		}
	}
	if fillers != WideFillers(wl.RowKeys) || fillers <= PageLimit(wl.RowKeys) {
		t.Fatalf("got %d fillers, want %d, more than the page limit %d", fillers, WideFillers(wl.RowKeys), PageLimit(wl.RowKeys))
	}
	// The filters genCall can draw for the wide partition.
	for _, f := range []spec.Filter{
		spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(true)},
		spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(false)},
		spec.Comparison{Property: spec.RowKeyProp, Op: spec.Lt, Value: spec.String("~")},
	} {
		rows, err := w.old.QueryAtomic(ctx, spec.AndFilters(spec.PartitionFilter(pk), f))
		if err != nil {
			t.Fatalf("query %s: %v", f, err)
		}
		for _, e := range rows {
			if strings.HasPrefix(e.RowKey, fillerPrefix) {
				t.Errorf("query %s returned filler %s", f, e.Key)
			}
		}
	}
}
