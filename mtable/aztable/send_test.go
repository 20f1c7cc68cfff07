package aztable_test

import (
	"context"
	"errors"
	"testing"

	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// TestSendCheckOnAzurite: a request whose context carries a failing send
// check (spec.WithSendCheck, as a lease's fence installs) is not sent and
// fails with the check's error; with a passing check it goes through.
func TestSendCheckOnAzurite(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "sendcheck")
	closed := errors.New("the test fence is closed")
	refuse := spec.WithSendCheck(context.Background(), func() error { return closed })
	pass := spec.WithSendCheck(context.Background(), func() error { return nil })
	insert := func(ctx context.Context, rk string) error {
		_, err := tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: ent("p", rk, spec.Props{})}})
		return err
	}
	if err := insert(refuse, "refused"); !errors.Is(err, closed) {
		t.Errorf("ExecuteBatch with a failing check: got %v, want the check's error", err)
	}
	if _, err := tbl.QueryAtomic(refuse, spec.PartitionFilter("p")); !errors.Is(err, closed) {
		t.Errorf("QueryAtomic with a failing check: got %v, want the check's error", err)
	}
	if err := insert(pass, "passed"); err != nil {
		t.Fatalf("ExecuteBatch with a passing check: %v", err)
	}
	rows, err := tbl.QueryAtomic(context.Background(), spec.PartitionFilter("p"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].RowKey != "passed" {
		t.Errorf("rows: got %v, want only the one sent with a passing check", rows)
	}
}
