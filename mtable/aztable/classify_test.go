package aztable_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// azureLike is an HTTP server that answers every request as Azure does
// when it fails with status and code (Azurite never answers 503 or 500
// on its own).
func azureLike(t *testing.T, status int, code, msg string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json;odata=minimalmetadata;streaming=true;charset=utf-8")
		w.Header().Set("x-ms-error-code", code)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"odata.error":{"code":%q,"message":{"lang":"en-US","value":%q}}}`, code, msg+"\nRequestId:00000000-0000-0000-0000-000000000000\nTime:2026-11-30T00:00:00.0000000Z")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/devstoreaccount1"
}

// closedEndpoint returns an endpoint on a port nothing listens on.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/devstoreaccount1"
}

// resetter accepts connections, reads the start of each request and
// then resets the connection (RST), as a proxy that drops a connection
// after the request was sent.
func resetter(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 64)
				io.ReadFull(c, buf) // the request has been sent
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return "http://" + l.Addr().String() + "/devstoreaccount1"
}

func tableAt(t *testing.T, endpoint, key string, timeout time.Duration) *aztable.Table {
	t.Helper()
	acct, err := aztable.Connect("AccountName=devstoreaccount1;AccountKey="+key+";TableEndpoint="+endpoint, aztable.WithRequestTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := acct.Table("classify")
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestErrorClassification provokes every kind of failure the adapter
// meets, for real where possible (Azurite, a black-holed listener, a
// closed port, a resetting listener; a local server answering as Azure
// does for 503 and 500), and checks how each is classified
// (spec.Classify), its status and the type it wraps.
func TestErrorClassification(t *testing.T) {
	srv := azuritetest.Shared(t)
	ctx := context.Background()
	az := srv.NewTable(t, "classify")
	row := ent("p", "r", spec.Props{"x": spec.Int32(1)})
	if _, err := az.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, row, "")}); err != nil {
		t.Fatal(err)
	}
	missing, err := srv.Account().Table("nosuchtable")
	if err != nil {
		t.Fatal(err)
	}
	wrongKey := tableAt(t, srv.Endpoint(), strings.Repeat("A", 86)+"==", 5*time.Second)
	errFenced := errors.New("fence: lease expired")

	insert := func(tbl *aztable.Table) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := tbl.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("p", "new", nil), "")})
			return err
		}
	}
	query := func(tbl *aztable.Table) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p"))
			return err
		}
	}
	stream := func(tbl *aztable.Table) func(context.Context) error {
		return func(ctx context.Context) error {
			s, err := tbl.QueryStreamed(ctx, nil)
			if err != nil {
				return err
			}
			defer s.Close()
			_, _, err = s.Next(ctx)
			return err
		}
	}
	type wraps int
	const (
		none wraps = iota
		serviceErr
		transportErr
		timeoutErr
	)
	tests := []struct {
		name   string
		call   func(context.Context) error
		want   spec.Outcome
		status int    // for Refused: the *spec.Error's status; otherwise the ServiceError's, if any
		code   string // the error code, when the service gave one
		wraps  wraps
		is     error // an error the result must wrap, if any
	}{
		{"409 insert of an existing row", func(ctx context.Context) error {
			_, err := az.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, row, "")})
			return err
		}, spec.Refused, 409, "EntityAlreadyExists", none, nil},
		{"412 replace with a stale ETag", func(ctx context.Context) error {
			_, err := az.ExecuteBatch(ctx, []spec.Op{op(spec.Replace, row, `W/"datetime'2000-01-01T00%3A00%3A00.0000000Z'"`)})
			return err
		}, spec.Refused, 412, "UpdateConditionNotSatisfied", none, nil},
		{"404 delete of an absent row", func(ctx context.Context) error {
			_, err := az.ExecuteBatch(ctx, []spec.Op{op(spec.Delete, ent("p", "absent", nil), spec.AnyETag)})
			return err
		}, spec.Refused, 404, "ResourceNotFound", none, nil},
		{"404 query of a missing table", query(missing), spec.Refused, 404, "TableNotFound", none, nil},
		{"400 filter the service cannot parse", func(ctx context.Context) error {
			_, err := az.QueryAtomic(ctx, spec.AndFilters(spec.PartitionFilter("p"), spec.Comparison{Property: "a b", Op: spec.Eq, Value: spec.Int32(1)}))
			return err
		}, spec.Refused, 400, "", none, nil},
		// Azurite's own 500 (a divergence from Azure, see TestEmulatorDivergences).
		{"500 from Azurite, query", func(ctx context.Context) error {
			_, err := az.QueryAtomic(ctx, spec.AndFilters(spec.PartitionFilter("p"), spec.Comparison{Property: "x", Op: spec.Eq, Value: spec.Int64(1)}))
			return err
		}, spec.Unknown, 500, "", serviceErr, nil},
		{"403 wrong account key", query(wrongKey), spec.Refused, 403, "", none, nil}, // Azure: AuthenticationFailed; Azurite: AuthorizationFailure
		{"send check refuses", func(ctx context.Context) error {
			ctx = spec.WithSendCheck(ctx, func() error { return errFenced })
			_, err := az.ExecuteBatch(ctx, []spec.Op{op(spec.Insert, ent("p", "fenced", nil), "")})
			return err
		}, spec.NotApplied, 0, "", none, errFenced},
		{"connection refused, batch", insert(tableAt(t, closedEndpoint(t), devKey, 5*time.Second)), spec.NotApplied, 0, "", transportErr, nil},
		{"connection refused, query", query(tableAt(t, closedEndpoint(t), devKey, 5*time.Second)), spec.NotApplied, 0, "", transportErr, nil},
		{"timeout after sending, batch", insert(tableAt(t, blackHole(t), devKey, 200*time.Millisecond)), spec.Unknown, 0, "", timeoutErr, nil},
		{"timeout after sending, stream", stream(tableAt(t, blackHole(t), devKey, 200*time.Millisecond)), spec.Unknown, 0, "", timeoutErr, nil},
		{"connection reset after sending, batch", insert(tableAt(t, resetter(t), devKey, 5*time.Second)), spec.Unknown, 0, "", transportErr, nil},
		{"connection reset after sending, query", query(tableAt(t, resetter(t), devKey, 5*time.Second)), spec.Unknown, 0, "", transportErr, nil},
		{"503 ServerBusy, batch", insert(tableAt(t, azureLike(t, 503, "ServerBusy", "The server is busy."), devKey, 5*time.Second)), spec.NotApplied, 503, "ServerBusy", serviceErr, nil},
		{"503 ServerBusy, query", query(tableAt(t, azureLike(t, 503, "ServerBusy", "The server is busy."), devKey, 5*time.Second)), spec.NotApplied, 503, "ServerBusy", serviceErr, nil},
		{"500 InternalError, batch", insert(tableAt(t, azureLike(t, 500, "InternalError", "The server encountered an internal error. Please retry the request."), devKey, 5*time.Second)), spec.Unknown, 500, "InternalError", serviceErr, nil},
		{"500 OperationTimedOut, batch", insert(tableAt(t, azureLike(t, 500, "OperationTimedOut", "The operation could not be completed within the permitted time."), devKey, 5*time.Second)), spec.Unknown, 500, "OperationTimedOut", serviceErr, nil},
		{"500 InternalError, stream", stream(tableAt(t, azureLike(t, 500, "InternalError", "The server encountered an internal error."), devKey, 5*time.Second)), spec.Unknown, 500, "InternalError", serviceErr, nil},
		{"cancelled context", func(ctx context.Context) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return insert(az)(ctx)
		}, spec.Unknown, 0, "", none, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(ctx)
			if got := spec.Classify(err); got != tc.want {
				t.Fatalf("Classify(%v): got %v, want %v", err, got, tc.want)
			}
			switch tc.want {
			case spec.Refused:
				var se *spec.Error
				if !errors.As(err, &se) {
					t.Fatalf("got %v (%T), want a *spec.Error", err, err)
				}
				if se.Status != tc.status || (tc.code != "" && se.Code != tc.code) {
					t.Errorf("got status %d code %q, want %d %q", se.Status, se.Code, tc.status, tc.code)
				}
			default:
				if got := spec.StatusOf(err); got != 0 {
					t.Errorf("StatusOf(%v): got %d, want 0 (not a table outcome)", err, got)
				}
			}
			var sv *aztable.ServiceError
			var te *aztable.TransportError
			switch tc.wraps {
			case serviceErr:
				if !errors.As(err, &sv) || sv.Status != tc.status || sv.Code != tc.code {
					t.Errorf("got %v, want a *ServiceError %d %s", err, tc.status, tc.code)
				}
				if strings.Contains(err.Error(), "RequestId") {
					t.Errorf("message %q keeps the RequestId", err)
				}
			case transportErr, timeoutErr:
				if !errors.As(err, &te) || te.Timeout() != (tc.wraps == timeoutErr) {
					t.Errorf("got %v, want a *TransportError with Timeout %v", err, tc.wraps == timeoutErr)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("got %v, want it to wrap %v", err, tc.is)
			}
			if strings.Contains(err.Error(), devKey) {
				t.Errorf("message %q holds the account key", err)
			}
		})
	}
	// Nothing the refused and not-applied writes tried took effect.
	rows, err := az.QueryAtomic(ctx, spec.PartitionFilter("p"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].RowKey != "r" {
		t.Errorf("rows after the failed writes: got %v, want only p/r", rows)
	}
}
