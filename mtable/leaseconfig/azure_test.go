package leaseconfig_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

func TestMain(m *testing.M) { os.Exit(azuritetest.Run(m)) }

// chanRecorder is a Subscriber that reports each state on a channel.
type chanRecorder struct{ got chan mtable.State }

func (r chanRecorder) Apply(ctx context.Context, s mtable.State) error {
	r.got <- s
	return nil
}

// TestAzureSmoke runs the service once over a real table (Azurite), in
// real time and real goroutines: the same code the scheduler tests
// explore. The logic is covered there; this checks that it works
// unchanged outside the scheduler, against the Azure adapter.
func TestAzureSmoke(t *testing.T) {
	srv := azuritetest.Shared(t)
	acct, err := aztable.Connect(srv.ConnectionString(), aztable.WithRequestTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	cfgTbl, err := acct.Table(srv.NewTable(t, "smoke").Name())
	if err != nil {
		t.Fatal(err)
	}
	dataTbl, err := acct.Table(srv.NewTable(t, "smokedata").Name())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// 7s > 100ms + 2s + 4s + 200ms: short, for a quick test, yet generous
	// for a loaded machine.
	opts := func(id string) leaseconfig.Options {
		return leaseconfig.Options{ClientID: id, Old: oldID, New: newID, ConfigTable: leaseconfig.Identity{Endpoint: cfgTbl.ID().Endpoint, Name: cfgTbl.ID().Name},
			LeaseTTL: 7 * time.Second, PollInterval: 100 * time.Millisecond, RequestTimeout: 2 * time.Second, MaxInFlight: 4 * time.Second, ClockSkew: 200 * time.Millisecond}
	}
	migrator, err := leaseconfig.Open(ctx, cfgTbl, opts("migrator"))
	if err != nil {
		t.Fatal(err)
	}
	defer migrator.Close()
	client, err := leaseconfig.Open(ctx, cfgTbl, opts("çlient")) // a non-ASCII ClientID
	if err != nil {
		t.Fatal(err)
	}
	rec := chanRecorder{got: make(chan mtable.State, 4)}
	_, cancelSub, err := client.Subscribe(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer cancelSub()
	_, inflight, err := client.Subscribe(ctx, nil) // a call in flight
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var pushErr error
	wg.Add(1)
	go func() { defer wg.Done(); pushErr = migrator.Push(ctx, mtable.PreferOld) }()
	if got := <-rec.got; got != mtable.PreferOld {
		t.Fatalf("the client's subscriber got %v, want PREFER_OLD", got)
	}
	if st, _ := leaseconfig.ReadStatus(ctx, cfgTbl, ""); !slices.ContainsFunc(st.Leases, func(l leaseconfig.Lease) bool { return l.Client == "çlient" && l.Acked == 0 }) {
		t.Errorf("while a call begun under version 0 is in flight, the client's lease is %+v; want it acknowledging 0", st.Leases)
	}
	inflight()
	wg.Wait()
	if pushErr != nil {
		t.Fatalf("push: %v", pushErr)
	}
	st, err := leaseconfig.ReadStatus(ctx, cfgTbl, "")
	if err != nil || st.State != mtable.PreferOld || st.Version != 1 || len(st.Leases) != 2 || st.Leases[0].Acked != 1 || st.Leases[1].Acked != 1 {
		t.Errorf("status after the push: %+v, %v; want PREFER_OLD version 1 acknowledged by both leases", st, err)
	}

	lock, err := migrator.LockMigrator(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.LockMigrator(ctx); !errors.Is(err, leaseconfig.ErrMigratorRunning) {
		t.Errorf("second LockMigrator: got %v, want ErrMigratorRunning", err)
	}
	if _, err := lock.Fence(dataTbl).ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: "a"}, Props: spec.Props{}}}}); err != nil {
		t.Errorf("a write through the lock's fence: %v", err)
	}
	if err := lock.Release(); err != nil {
		t.Fatal(err)
	}
	if st, _ := leaseconfig.ReadStatus(ctx, cfgTbl, ""); st.Migrator != "" {
		t.Errorf("after Release the lock is held by %q", st.Migrator)
	}
	// A closed service's fence refuses, unsent.
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = client.Fence(dataTbl).ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: "b"}, Props: spec.Props{}}}})
	if !errors.Is(err, leaseconfig.ErrFenced) {
		t.Errorf("a write through a closed service's fence: got %v, want ErrFenced", err)
	}
	if _, ok, _ := spec.Retrieve(ctx, dataTbl, spec.Key{PartitionKey: "p", RowKey: "b"}); ok {
		t.Errorf("the refused write reached the table")
	}
}
