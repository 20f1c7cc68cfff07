package aztable_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// Regression tests of MigratingTable on Azurite with a partition of
// 1,100 rows, more than the 1,000 one page of an Azure query holds.
// Before reads were bounded by what a call names, the point query in
// PREFER_NEW and the 20-operation batches failed: the library read the
// whole partition in one atomic query, which the service answers in two
// pages (aztable.ErrMultiPage).

const scaleRows = 1100

// loadRows writes rows r0000..r1099 of partition k (v = i) to tbl, 100
// to a transaction, plus extra.
func loadRows(t *testing.T, tbl spec.Table, extra ...spec.Entity) {
	t.Helper()
	ctx := context.Background()
	var ops []spec.Op
	flush := func() {
		if len(ops) == 0 {
			return
		}
		if _, err := tbl.ExecuteBatch(ctx, ops); err != nil {
			t.Fatalf("loading rows: %v", err)
		}
		ops = nil
	}
	for i := 0; i < scaleRows; i++ {
		ops = append(ops, op(spec.Insert, ent("k", fmt.Sprintf("r%04d", i), spec.Props{"v": spec.Int32(int32(i))}), ""))
		if len(ops) == spec.MaxBatch {
			flush()
		}
	}
	flush()
	for _, e := range extra {
		ops = append(ops, op(spec.Insert, e, ""))
	}
	flush()
}

// scaleTable returns a MigratingTable in state over Azurite tables that
// hold partition k as the migration would have left it: in PREFER_NEW
// switched and copied to the new table, after the migration in the new
// table only.
func scaleTable(t *testing.T, state mtable.State) (*mtable.Table, spec.Table) {
	t.Helper()
	srv := azuritetest.Shared(t)
	old, new := srv.NewTable(t, "scaleold"), srv.NewTable(t, "scalenew")
	switch state {
	case mtable.PreferNew:
		loadRows(t, old, ent("k", mtable.MetaRowKey, spec.Props{mtable.PartitionStateProperty: spec.Int32(int32(mtable.PartitionSwitched))}))
		loadRows(t, new)
	case mtable.UseNewHideMetadata:
		loadRows(t, new)
	default:
		t.Fatalf("scaleTable: no layout for %s", state)
	}
	return mtable.New(old, new, mtable.NewMemConfig(state)), new
}

// TestScalePointQuery: a point query in PREFER_NEW on a partition of
// 1,100 rows.
func TestScalePointQuery(t *testing.T) {
	vt, _ := scaleTable(t, mtable.PreferNew)
	e, ok, err := spec.Retrieve(context.Background(), vt, spec.Key{PartitionKey: "k", RowKey: "r0005"})
	if err != nil || !ok || !e.Props["v"].Equal(spec.Int32(5)) {
		t.Fatalf("point query of r0005: got %v, %v, %v; want the row with v=5", e, ok, err)
	}
}

// TestScaleBatch: a batch of 20 operations on a partition of 1,100 rows
// in PREFER_NEW and after the migration; then a batch of 20 that fails
// at its last operation, an error found from two reads that the probe
// batch confirms on the service without applying anything.
func TestScaleBatch(t *testing.T) {
	ctx := context.Background()
	for _, state := range []mtable.State{mtable.PreferNew, mtable.UseNewHideMetadata} {
		t.Run(state.String(), func(t *testing.T) {
			vt, new := scaleTable(t, state)
			ops := make([]spec.Op, 20)
			for i := range ops {
				ops[i] = op(spec.Merge, ent("k", fmt.Sprintf("r%04d", 50*i), spec.Props{"w": spec.Int32(int32(i))}), spec.AnyETag)
			}
			if _, err := vt.ExecuteBatch(ctx, ops); err != nil {
				t.Fatalf("batch of 20 merges: %v", err)
			}
			e, ok, err := spec.Retrieve(ctx, vt, spec.Key{PartitionKey: "k", RowKey: "r0950"})
			if err != nil || !ok || !e.Props["w"].Equal(spec.Int32(19)) || !e.Props["v"].Equal(spec.Int32(950)) {
				t.Fatalf("r0950 after the batch: got %v, %v, %v; want v=950 and w=19", e, ok, err)
			}

			before, ok, err := spec.Retrieve(ctx, new, spec.Key{PartitionKey: "k", RowKey: "r0000"})
			if err != nil || !ok {
				t.Fatalf("reading r0000 from the new table: %v %v", ok, err)
			}
			for i := range ops {
				ops[i] = op(spec.InsertOrMerge, ent("k", fmt.Sprintf("r%04d", 50*i+1), spec.Props{"w": spec.Int32(1)}), "")
			}
			ops[0] = op(spec.Replace, ent("k", "r0000", spec.Props{"w": spec.Int32(2)}), before.ETag)
			ops[19] = op(spec.Insert, ent("k", "r0002", spec.Props{}), "")
			_, err = vt.ExecuteBatch(ctx, ops)
			if spec.StatusOf(err) != spec.StatusConflict || spec.IndexOf(err) != 19 {
				t.Fatalf("batch inserting an existing row last: got %v, want a 409 at operation 19", err)
			}
			after, _, err := spec.Retrieve(ctx, new, before.Key)
			if err != nil || after.ETag != before.ETag {
				t.Fatalf("r0000 after the failed batch: ETag %q (%v), want %q unchanged", after.ETag, err, before.ETag)
			}
			if _, ok, err := spec.Retrieve(ctx, new, spec.Key{PartitionKey: "k", RowKey: mtable.ProbeRowKey}); ok || err != nil {
				t.Fatalf("the probe row exists after the probe (%v)", err)
			}
		})
	}
}
