package main

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// BenchmarkMigrate1000 measures a whole migration of 1,000 rows in 10
// partitions on Azurite with no application process: four pushes, the
// copy, the clean-up and emptying the old table.
func BenchmarkMigrate1000(b *testing.B) {
	srv := azuritetest.Shared(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		old := srv.NewTable(b, "benchold")
		newName, cfgName := srv.NewTableName("benchnew"), srv.NewTableName("benchcfg")
		for p := 0; p < 10; p++ {
			ops := make([]spec.Op, 100)
			for r := range ops {
				ops[r] = spec.Op{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: fmt.Sprint("p", p), RowKey: fmt.Sprint(r)}, Props: spec.Props{"n": spec.Int32(int32(r))}}}
			}
			if _, err := old.ExecuteBatch(ctx, ops); err != nil {
				b.Fatal(err)
			}
		}
		env := map[string]string{envConn: srv.ConnectionString(), envOldTable: old.Name(), envNewTable: newName}
		var stdout, stderr bytes.Buffer
		b.StartTimer()
		code := run(ctx, []string{"migrate", "-config-table", cfgName, "-lease-ttl", "300ms", "-poll", "20ms", "-progress", "0"}, func(k string) string { return env[k] }, &stdout, &stderr)
		b.StopTimer()
		if code != exitOK {
			b.Fatalf("migrate: exit %d:\n%s", code, stderr.String())
		}
		srv.Account().DeleteTable(ctx, newName)
		srv.Account().DeleteTable(ctx, cfgName)
		b.StartTimer()
	}
	b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
