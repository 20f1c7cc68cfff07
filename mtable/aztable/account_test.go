package aztable_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// devKey is the emulator's public development key (any valid base64
// works for connection strings that are only parsed).
const devKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

func TestConnectionStrings(t *testing.T) {
	tests := []struct {
		name     string
		cs       string
		endpoint string // Endpoint(); "" when Connect must fail
		id       string // TableID("Orders").Endpoint
		err      string
	}{
		{"account key", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + devKey + ";EndpointSuffix=core.windows.net",
			"https://acct.table.core.windows.net", "https://acct.table.core.windows.net:443", ""},
		{"defaults", "AccountName=acct;AccountKey=" + devKey, "https://acct.table.core.windows.net", "https://acct.table.core.windows.net:443", ""},
		{"other cloud", "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=" + devKey + ";EndpointSuffix=core.chinacloudapi.cn",
			"http://acct.table.core.chinacloudapi.cn", "http://acct.table.core.chinacloudapi.cn:80", ""},
		{"table endpoint", "AccountName=devstoreaccount1;AccountKey=" + devKey + ";TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;",
			"http://127.0.0.1:10002/devstoreaccount1", "http://127.0.0.1:10002/devstoreaccount1", ""},
		{"table endpoint spelled otherwise", "accountname=devstoreaccount1; AccountKey=" + devKey + " ;TableEndpoint=HTTP://127.0.0.1:10002/DevStoreAccount1/;;",
			"http://127.0.0.1:10002/DevStoreAccount1", "http://127.0.0.1:10002/devstoreaccount1", ""},
		{"sas", "TableEndpoint=https://acct.table.core.windows.net/;SharedAccessSignature=sv=2019-02-02&sig=abc",
			"https://acct.table.core.windows.net", "https://acct.table.core.windows.net:443", ""},
		{"sas with question mark", "AccountName=acct;SharedAccessSignature=?sv=2019-02-02&sig=abc",
			"https://acct.table.core.windows.net", "https://acct.table.core.windows.net:443", ""},
		{"explicit default port", "AccountName=acct;AccountKey=" + devKey + ";TableEndpoint=https://ACCT.table.core.windows.net:443",
			"https://ACCT.table.core.windows.net:443", "https://acct.table.core.windows.net:443", ""},
		{"empty", " ", "", "", "empty connection string"},
		{"not name=value", "AccountName=acct;garbage", "", "", `"garbage" is not Name=value`},
		{"no credential", "AccountName=acct", "", "", "no credential"},
		{"both credentials", "AccountName=acct;AccountKey=" + devKey + ";SharedAccessSignature=sv=1&sig=x", "", "", "both AccountKey and SharedAccessSignature"},
		{"key without name", "AccountKey=" + devKey + ";TableEndpoint=http://127.0.0.1:1/x", "", "", "AccountKey without AccountName"},
		{"sas without endpoint", "SharedAccessSignature=sv=1&sig=x", "", "", "neither TableEndpoint nor AccountName"},
		{"endpoint with query", "AccountName=a;SharedAccessSignature=sv=1&sig=x;TableEndpoint=http://127.0.0.1:1/a?sv=1", "", "", "TableEndpoint must be a plain URL"},
		{"endpoint without scheme", "AccountName=a;AccountKey=" + devKey + ";TableEndpoint=127.0.0.1:1/a", "", "", "TableEndpoint"},
		{"bad protocol", "AccountName=a;AccountKey=" + devKey + ";DefaultEndpointsProtocol=ftp", "", "", "DefaultEndpointsProtocol"},
		{"twice", "AccountName=a;AccountKey=" + devKey + ";accountname=b", "", "", "given twice"},
		{"development storage", "UseDevelopmentStorage=true", "", "", "UseDevelopmentStorage is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct, err := aztable.Connect(tt.cs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Connect: got %v, want an error saying %q", err, tt.err)
				}
				if strings.Contains(err.Error(), devKey) {
					t.Errorf("error holds the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if got := acct.Endpoint(); got != tt.endpoint {
				t.Errorf("Endpoint: got %q, want %q", got, tt.endpoint)
			}
			if got, want := acct.TableID("Orders"), (aztable.TableID{Endpoint: tt.id, Name: "orders"}); got != want {
				t.Errorf("TableID: got %+v, want %+v", got, want)
			}
		})
	}
}

// TestTableIdentity: spellings of one table compare equal; other tables
// do not.
func TestTableIdentity(t *testing.T) {
	id := func(cs, name string) aztable.TableID {
		t.Helper()
		acct, err := aztable.Connect(cs)
		if err != nil {
			t.Fatal(err)
		}
		return acct.TableID(name)
	}
	base := "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + devKey + ";TableEndpoint=http://127.0.0.1:10002/devstoreaccount1"
	same := []struct{ cs, name string }{
		{base, "caseold"},
		{base + ";", "CASEOLD"},
		{base + "/", "CaseOld"},
		{strings.Replace(base, "http://127.0.0.1:10002/devstoreaccount1", "HTTP://127.0.0.1:10002/DEVSTOREACCOUNT1/", 1), "caseold"},
		{"AccountName=devstoreaccount1;SharedAccessSignature=?sv=1&sig=x;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1", "caseold"},
	}
	for _, s := range same {
		if got, want := id(s.cs, s.name), id(base, "caseold"); got != want {
			t.Errorf("%q at %q: got %v, want the same table as %v", s.name, s.cs, got, want)
		}
	}
	other := []struct{ cs, name string }{
		{base, "caseold2"},
		{strings.Replace(base, "10002", "10003", 1), "caseold"},
		{strings.Replace(base, "devstoreaccount1", "otheraccount", 2), "caseold"},
		{strings.Replace(base, "http://", "https://", 2), "caseold"},
	}
	for _, o := range other {
		if got := id(o.cs, o.name); got == id(base, "caseold") {
			t.Errorf("%q at %q: got %v, the same as the base table; want another", o.name, o.cs, got)
		}
	}
}

// hostRecorder is a transport that records the host of every request and
// forwards only requests to allowed (loopback) hosts.
type hostRecorder struct {
	mu      sync.Mutex
	hosts   []string
	allowed string
	next    http.RoundTripper
}

func (h *hostRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.hosts = append(h.hosts, req.URL.Host)
	h.mu.Unlock()
	if req.URL.Host != h.allowed {
		return nil, fmt.Errorf("test transport: refusing to send a request to %s", req.URL.Host)
	}
	return h.next.RoundTrip(req)
}

// TestSharedAccessSignatureUsesTableEndpoint is issue 10 item 8: a SAS
// connection string with a TableEndpoint must send every request, with
// its token, to that endpoint, and a SAS with a leading '?' must work.
func TestSharedAccessSignatureUsesTableEndpoint(t *testing.T) {
	srv := azuritetest.Shared(t)
	ctx := context.Background()
	cred, err := aztables.NewSharedKeyCredential(azuritetest.AccountName, srv.AccountKey())
	if err != nil {
		t.Fatal(err)
	}
	qp, err := aztables.AccountSASSignatureValues{
		Protocol:      aztables.SASProtocolHTTPSandHTTP,
		StartTime:     time.Now().Add(-time.Hour),
		ExpiryTime:    time.Now().Add(time.Hour),
		Permissions:   aztables.AccountSASPermissions{Read: true, Write: true, Delete: true, List: true, Add: true, Create: true, Update: true}.String(),
		Services:      "t",
		ResourceTypes: aztables.AccountSASResourceTypes{Service: true, Container: true, Object: true}.String(),
	}.Sign(cred)
	if err != nil {
		t.Fatal(err)
	}
	sas := qp.Encode()
	u, err := url.Parse(srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "?"} {
		t.Run("prefix "+fmt.Sprintf("%q", prefix), func(t *testing.T) {
			rec := &hostRecorder{allowed: u.Host, next: http.DefaultTransport}
			cs := "AccountName=" + azuritetest.AccountName + ";TableEndpoint=" + srv.Endpoint() + ";SharedAccessSignature=" + prefix + sas
			acct, err := aztable.Connect(cs, aztable.WithTransport(rec))
			if err != nil {
				t.Fatal(err)
			}
			if got := acct.Endpoint(); got != srv.Endpoint() {
				t.Errorf("Endpoint: got %q, want %q", got, srv.Endpoint())
			}
			name := srv.NewTableName("sas")
			if err := acct.CreateTable(ctx, name); err != nil {
				t.Fatalf("CreateTable through the SAS: %v", err)
			}
			defer srv.Account().DeleteTable(context.Background(), name)
			tbl, _ := acct.Table(name)
			if _, err := tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("p", "r", spec.Props{"x": spec.Int32(1)}), "")}); err != nil {
				t.Fatalf("insert through the SAS: %v", err)
			}
			rows, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
			if err != nil || len(rows) != 1 {
				t.Fatalf("query through the SAS: got %d rows, %v; want 1 row", len(rows), err)
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.hosts) == 0 {
				t.Fatal("the test transport saw no request")
			}
			for _, h := range rec.hosts {
				if h != u.Host {
					t.Errorf("a request went to %s, want only %s (the TableEndpoint)", h, u.Host)
				}
			}
		})
	}
}

// blackHole accepts connections and never answers.
func blackHole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String() + "/devstoreaccount1"
}

// TestRequestTimeout is issue 10 item 3: an endpoint that accepts
// requests and never answers must not stall a caller past the request
// timeout.
func TestRequestTimeout(t *testing.T) {
	ep := blackHole(t)
	acct, err := aztable.Connect("AccountName=devstoreaccount1;AccountKey="+devKey+";TableEndpoint="+ep, aztable.WithRequestTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if got := acct.RequestTimeout(); got != 200*time.Millisecond {
		t.Errorf("RequestTimeout: got %v, want 200ms", got)
	}
	tbl, _ := acct.Table("blackhole")
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"TableExists", func(ctx context.Context) error { _, err := acct.TableExists(ctx, "blackhole"); return err }},
		{"CreateTable", func(ctx context.Context) error { return acct.CreateTable(ctx, "blackhole") }},
		{"ExecuteBatch", func(ctx context.Context) error {
			_, err := tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("p", "r", nil), "")})
			return err
		}},
		{"QueryAtomic", func(ctx context.Context) error { _, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p")); return err }},
		{"QueryStreamed", func(ctx context.Context) error {
			s, err := tbl.QueryStreamed(ctx, nil)
			if err != nil {
				return err
			}
			defer s.Close()
			_, _, err = s.Next(ctx)
			return err
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			// The guard only keeps a regression from hanging the suite;
			// it is far above the 200ms timeout.
			done := make(chan error, 1)
			go func() { done <- c.call(context.Background()) }()
			select {
			case err := <-done:
				var te *aztable.TransportError
				if !errors.As(err, &te) || !te.Timeout() || !strings.Contains(err.Error(), "request timeout") {
					t.Errorf("got %v, want a *TransportError that says it timed out", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no answer after 30s: the request has no timeout")
			}
		})
	}
}

var _ = slices.Sort[[]string]
