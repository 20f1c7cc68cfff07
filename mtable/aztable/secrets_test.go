package aztable_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// wrongKey is valid base64 but not the emulator's key.
const wrongKey = "c2VjcmV0LWtleS10aGF0LW11c3QtbmV2ZXItbGVhay1pbnRvLWxvZ3Mtb3ItZXJyb3JzLTAxMjM0NTY3ODk="

func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestSecretsNeverInErrors drives every error path that involves the
// credentials and requires that no message contains the key or
// signature.
func TestSecretsNeverInErrors(t *testing.T) {
	srv := azuritetest.Shared(t)
	ctx := context.Background()
	secrets := []string{srv.AccountKey(), wrongKey, "c2VjcmV0"}
	check := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("got no error, want one")
		}
		t.Logf("error: %v", err)
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error message contains a secret: %v", err)
			}
		}
	}
	t.Run("malformed connection string", func(t *testing.T) {
		_, err := aztable.Connect("AccountName=devstoreaccount1;AccountKey=" + wrongKey + "!!notbase64")
		check(t, err)
	})
	t.Run("missing account name", func(t *testing.T) {
		_, err := aztable.Connect("AccountKey=" + wrongKey)
		check(t, err)
	})
	t.Run("wrong key", func(t *testing.T) {
		acct, err := aztable.Connect("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + wrongKey + ";TableEndpoint=" + srv.Endpoint())
		if err != nil {
			t.Fatal(err)
		}
		_, err = acct.TableExists(ctx, "anytable")
		check(t, err)
		if got := spec.StatusOf(err); got != 403 {
			t.Errorf("status: got %d (%v), want 403", got, err)
		}
		tbl, _ := acct.Table("anytable")
		_, err = tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("p", "r", nil), "")})
		check(t, err)
		_, err = tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
		check(t, err)
	})
	t.Run("unreachable endpoint", func(t *testing.T) {
		acct, err := aztable.Connect("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + srv.AccountKey() + ";TableEndpoint=http://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/devstoreaccount1")
		if err != nil {
			t.Fatal(err)
		}
		_, err = acct.TableExists(ctx, "anytable")
		check(t, err)
		if !strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("error %q does not name the endpoint", err)
		}
	})
	t.Run("missing table", func(t *testing.T) {
		tbl, err := srv.Account().Table("nosuchtable")
		if err != nil {
			t.Fatal(err)
		}
		_, err = tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("p", "r", nil), "")})
		check(t, err)
		if got := spec.StatusOf(err); got != 404 {
			t.Errorf("status: got %d (%v), want 404", got, err)
		}
		_, err = tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
		check(t, err)
		if !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("error %q does not say the table is missing", err)
		}
	})
	t.Run("shared access signature", func(t *testing.T) {
		acct, err := aztable.Connect("AccountName=devstoreaccount1;SharedAccessSignature=sv=2019-02-02&ss=t&sig=" + wrongKey)
		if err != nil {
			check(t, err)
			return
		}
		if strings.Contains(acct.Endpoint(), wrongKey) {
			t.Errorf("Endpoint() %q contains the signature", acct.Endpoint())
		}
	})
}
