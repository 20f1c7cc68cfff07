package mtable_test

import (
	"context"
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
