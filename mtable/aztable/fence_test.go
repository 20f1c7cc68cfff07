package aztable

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/migratingtable/migratingtable/spec"
)

// TestFencingTransport: a request whose send check fails is not sent —
// neither when the check fails as it goes out (a process stalled after
// its caller's check) nor when it fails while the transport reads the
// body — and fails with the check's error.
func TestFencingTransport(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err == nil {
			got.Add(1) // a whole request arrived
		}
	}))
	defer srv.Close()
	client := &http.Client{Transport: fencingTransport{next: http.DefaultTransport}}
	closed := errors.New("the test fence is closed")
	var open atomic.Bool
	check := func() error {
		if !open.Load() {
			return closed
		}
		return nil
	}
	send := func(ctx context.Context, body io.Reader, length int64) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = length
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	fenced := spec.WithSendCheck(context.Background(), check)
	open.Store(true)
	if err := send(fenced, strings.NewReader("open"), 4); err != nil || got.Load() != 1 {
		t.Fatalf("open fence: got %v, %d requests; want success, 1", err, got.Load())
	}
	open.Store(false) // the stall: checked earlier by the caller, sent now
	if err := send(fenced, strings.NewReader("late"), 4); !errors.Is(err, closed) {
		t.Errorf("closed fence: got %v, want the check's error", err)
	}
	// The fence closes while the transport reads the body.
	open.Store(true)
	body := &stallingReader{r: bytes.NewReader(bytes.Repeat([]byte("x"), 64<<10)), stall: func() { open.Store(false) }}
	if err := send(fenced, body, 64<<10); !errors.Is(err, closed) {
		t.Errorf("fence closed during the body: got %v, want the check's error", err)
	}
	if n := got.Load(); n != 1 {
		t.Errorf("the server handled %d requests, want 1 (the two late ones not sent whole)", n)
	}
	// A request without a check goes out whatever.
	if err := send(context.Background(), strings.NewReader("free"), 4); err != nil || got.Load() != 2 {
		t.Errorf("no check: got %v, %d requests; want success, 2", err, got.Load())
	}
}

// stallingReader calls stall after its first read.
type stallingReader struct {
	r     io.Reader
	stall func()
	n     int
}

func (s *stallingReader) Read(p []byte) (int, error) {
	s.n++
	if s.n == 2 {
		s.stall()
	}
	return s.r.Read(p[:min(len(p), 1024)])
}
