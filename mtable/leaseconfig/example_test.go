package leaseconfig_test

import (
	"context"
	"log"
	"os"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// An application process during a live migration on Azure: it opens
// both tables and the shared configuration (the one `mtable migrate`
// drives), and uses MigratingTable instead of the old table. (Compiled,
// not run: it needs an account.)
func Example_applicationProcess() {
	ctx := context.Background()
	acct, err := aztable.Connect(os.Getenv("MTABLE_CONNECTION_STRING"))
	if err != nil {
		log.Fatal(err) // never contains the key
	}
	old, err := acct.Table("orders")
	if err != nil {
		log.Fatal(err)
	}
	newTbl, err := acct.Table("orders2")
	if err != nil {
		log.Fatal(err)
	}
	cfgTbl, err := acct.Table("mtableconfig")
	if err != nil {
		log.Fatal(err)
	}
	id := func(t *aztable.Table) leaseconfig.Identity {
		return leaseconfig.Identity{Endpoint: t.ID().Endpoint, Name: t.ID().Name}
	}
	host, _ := os.Hostname()
	// The configuration belongs to this pair of tables; LeaseTTL and the
	// other durations must be those `mtable migrate` is given (the
	// defaults match).
	cfg, err := leaseconfig.Open(ctx, cfgTbl, leaseconfig.Options{ClientID: host + "-app", Old: id(old), New: id(newTbl), ConfigTable: id(cfgTbl)})
	if err != nil {
		log.Fatal(err)
	}
	defer cfg.Close() // releases the lease: pushes stop waiting for us

	orders := mtable.New(old, newTbl, cfg) // every request fenced by cfg's lease
	_, err = orders.ExecuteBatch(ctx, []spec.Op{{Kind: spec.InsertOrMerge, Entity: spec.Entity{
		Key:   spec.Key{PartitionKey: "customer42", RowKey: "order7"},
		Props: spec.Props{"total": spec.Double(99.5)},
	}}})
	if err != nil {
		log.Fatal(err)
	}
}
