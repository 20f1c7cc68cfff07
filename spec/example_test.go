package spec_test

import (
	"context"
	"fmt"

	"github.com/migratingtable/migratingtable/spec"
)

// Example shows the contract on the reference table: an insert, an
// optimistic-concurrency failure, an atomic query and the pure batch
// semantics.
func Example() {
	ctx := context.Background()
	t := spec.NewMemTable("old:")

	// A batch of two inserts into partition "users".
	res, err := t.ExecuteBatch(ctx, []spec.Op{
		{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: "users", RowKey: "ann"}, Props: spec.Props{"age": spec.Int32(41)}}},
		{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: "users", RowKey: "bob"}, Props: spec.Props{"age": spec.Int32(29)}}},
	})
	fmt.Println(res, err)

	// Replace conditioned on a stale ETag fails with 412 at operation 1;
	// nothing is applied.
	_, err = t.ExecuteBatch(ctx, []spec.Op{
		{Kind: spec.Merge, Entity: spec.Entity{Key: spec.Key{PartitionKey: "users", RowKey: "ann"}, ETag: "*", Props: spec.Props{"vip": spec.Bool(true)}}},
		{Kind: spec.Replace, Entity: spec.Entity{Key: spec.Key{PartitionKey: "users", RowKey: "bob"}, ETag: "old:1"}},
	})
	fmt.Println(spec.StatusOf(err), spec.IndexOf(err))
	fmt.Println(err)

	// An atomic query must target one partition.
	f, err := spec.ParseFilter("PartitionKey eq 'users' and age gt 30")
	if err != nil {
		panic(err)
	}
	rows, err := t.QueryAtomic(ctx, f)
	for _, e := range rows {
		fmt.Println(e.Key, e.ETag, e.Props["age"], err)
	}
	_, err = t.QueryAtomic(ctx, spec.MustParseFilter("age gt 30"))
	fmt.Println(spec.StatusOf(err))

	// The same semantics as a pure function of a snapshot.
	next, res, err := spec.ApplyBatch(t.Snapshot(), []spec.Op{
		{Kind: spec.Delete, Entity: spec.Entity{Key: spec.Key{PartitionKey: "users", RowKey: "ann"}, ETag: "old:1"}},
	}, func(i int) spec.ETag { return "unused" })
	fmt.Println(len(next), len(t.Snapshot()), res, err)

	// Output:
	// [{old:1} {old:2}] <nil>
	// 412 1
	// table: 412 at operation 1: Replace: If-Match 'old:1' does not match the current ETag 'old:2' of 'users'/'bob'
	// 'users'/'ann' old:1 41 <nil>
	// 400
	// 1 2 [{}] <nil>
}

// ExampleParseFilter shows parsing, printing and a syntax error.
func ExampleParseFilter() {
	f, err := spec.ParseFilter("RowKey ge 'a' and not (n eq 5L or d lt 1.5)")
	fmt.Println(f, err)
	_, err = spec.ParseFilter("n eq 5 and")
	fmt.Println(err)
	// Output:
	// (RowKey ge 'a') and (not ((n eq 5L) or (d lt 1.5))) <nil>
	// filter: syntax error at byte 10: expected a property name, "not" or "(", found the end of the filter
}
