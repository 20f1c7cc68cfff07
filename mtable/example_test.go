package mtable_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// Example migrates a table while an application keeps using it through
// a *mtable.Table.
func Example() {
	ctx := context.Background()
	old, new := spec.NewMemTable("old:"), spec.NewMemTable("new:")
	old.Load([]spec.Entity{
		{Key: spec.Key{PartitionKey: "users", RowKey: "alice"}, Props: spec.Props{"age": spec.Int32(30)}},
		{Key: spec.Key{PartitionKey: "users", RowKey: "bob"}, Props: spec.Props{"age": spec.Int32(40)}},
	})
	cfg := mtable.NewMemConfig(mtable.UseOldHideMetadata)
	app := mtable.New(old, new, cfg)

	// The application writes before and after the migration.
	write := func(rk string, age int32) {
		op := spec.Op{Kind: spec.InsertOrMerge, Entity: spec.Entity{Key: spec.Key{PartitionKey: "users", RowKey: rk}, Props: spec.Props{"age": spec.Int32(age)}}}
		if _, err := app.ExecuteBatch(ctx, []spec.Op{op}); err != nil {
			fmt.Println("write:", err)
		}
	}
	write("carol", 50)
	if err := mtable.NewMigrator(old, new, cfg).Run(ctx); err != nil {
		fmt.Println("migrate:", err)
		return
	}
	write("alice", 31)

	rows, err := app.QueryAtomic(ctx, spec.PartitionFilter("users"))
	if err != nil {
		fmt.Println("query:", err)
		return
	}
	for _, e := range rows {
		fmt.Println(e.RowKey, e.Props["age"])
	}
	fmt.Println("state:", cfg.Current(ctx), "- old table rows:", len(old.Snapshot()), "- new table rows:", len(new.Snapshot()))
	// Output:
	// alice 31
	// bob 40
	// carol 50
	// state: USE_NEW_HIDE_METADATA - old table rows: 0 - new table rows: 3
}

// timesOutOnce is a backend whose first batch applies and then fails as
// a timeout would: the caller cannot tell whether it applied.
type timesOutOnce struct {
	spec.Table
	done bool
}

func (t *timesOutOnce) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	res, err := t.Table.ExecuteBatch(ctx, ops)
	if !t.done && err == nil {
		t.done = true
		return nil, spec.WrapOutcomeUnknown(errors.New("no response within the request timeout"))
	}
	return res, err
}

// ExampleErrOutcomeUnknown tells a write whose outcome is unknown from a
// definite failure, and finds out what happened by reading: blindly
// sending the Insert again would fail with 409 (it did apply).
func ExampleErrOutcomeUnknown() {
	ctx := context.Background()
	old := &timesOutOnce{Table: spec.NewMemTable("old:")}
	app := mtable.New(old, spec.NewMemTable("new:"), mtable.NewMemConfig(mtable.UseOldHideMetadata))
	k := spec.Key{PartitionKey: "users", RowKey: "dave"}
	_, err := app.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: k, Props: spec.Props{"age": spec.Int32(20)}}}})
	switch {
	case errors.Is(err, mtable.ErrOutcomeUnknown):
		fmt.Println("outcome unknown:", spec.Classify(err))
		_, applied, rerr := spec.Retrieve(ctx, app, k)
		fmt.Println("applied:", applied, rerr)
	case err != nil:
		fmt.Println("did not take effect:", err)
	}
	// Output:
	// outcome unknown: outcome unknown
	// applied: true <nil>
}
