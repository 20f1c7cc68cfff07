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
	"time"

	"github.com/migratingtable/migratingtable/spec"
)

func TestFenceOpen(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := t0.Add(10 * time.Second)
	tests := []struct {
		now  time.Duration // after t0
		want bool
	}{
		{0, true},
		{6*time.Second - time.Nanosecond, true},
		{6 * time.Second, false}, // 6s + 3s + 1s = 10s: not before validUntil
		{9 * time.Second, false},
		{11 * time.Second, false},
	}
	for _, tt := range tests {
		if got := fenceOpen(t0.Add(tt.now), until, 3*time.Second, time.Second); got != tt.want {
			t.Errorf("fenceOpen(t0+%v, t0+10s, 3s, 1s): got %v, want %v", tt.now, got, tt.want)
		}
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ now atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

func testFence(clock *fakeClock, validFor time.Duration) *fence {
	f := &fence{what: "the test lease", v: &validity{}, maxInFlight: 2 * time.Second, skew: time.Second, maxTimeout: time.Second, now: clock.Now}
	f.v.extend(clock.Now().Add(validFor))
	return f
}

// TestFencedTable: requests go through while the fence is open and are
// refused, unsent, once it has closed or the lease is lost.
func TestFencedTable(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	f := testFence(clock, 10*time.Second)
	mem := spec.NewMemTable("m:")
	tbl := f.wrap(mem)
	insert := func(rk string) error {
		_, err := tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: rk}, Props: spec.Props{}}}})
		return err
	}
	if err := insert("a"); err != nil {
		t.Fatalf("open fence: %v", err)
	}
	s, err := tbl.QueryStreamed(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(7 * time.Second) // 7 + 2 + 1 >= 10: closed
	for name, call := range map[string]func() error{
		"ExecuteBatch":  func() error { return insert("b") },
		"QueryAtomic":   func() error { _, err := tbl.QueryAtomic(ctx, spec.PartitionFilter("p")); return err },
		"QueryStreamed": func() error { _, err := tbl.QueryStreamed(ctx, nil); return err },
		"Stream.Next":   func() error { _, _, err := s.Next(ctx); return err },
	} {
		err := call()
		if !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "request not sent: the test lease may have expired") {
			t.Errorf("%s with the fence closed: got %v, want ErrFenced saying the request was not sent", name, err)
		}
		var se *spec.Error
		if errors.As(err, &se) {
			t.Errorf("%s: the fence error is a *spec.Error (%v); it must not look like the table's outcome", name, se)
		}
	}
	if n := len(mem.Snapshot()); n != 1 {
		t.Errorf("the table holds %d rows, want 1 (nothing sent once the fence closed)", n)
	}
	// A renewal reopens it; losing the lease closes it for good.
	f.v.extend(clock.Now().Add(10 * time.Second))
	if err := insert("c"); err != nil {
		t.Fatalf("after a renewal: %v", err)
	}
	f.v.lose()
	if err := insert("d"); !errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "was lost") {
		t.Errorf("lease lost: got %v, want ErrFenced saying it was lost", err)
	}
	// A table whose requests may outlive the fence's assumption is refused.
	slow := &slowTable{Table: mem, timeout: 5 * time.Second}
	if _, err := f.wrap(slow).QueryAtomic(ctx, spec.PartitionFilter("p")); err == nil || !strings.Contains(err.Error(), "time out after 5s, longer than the RequestTimeout of 1s") {
		t.Errorf("a table with a longer timeout: got %v, want a refusal naming both timeouts", err)
	}
}

type slowTable struct {
	spec.Table
	timeout time.Duration
}

func (s *slowTable) RequestTimeout() time.Duration { return s.timeout }

// TestFencingTransport: a process stalled after the fence admitted a
// request but before the request went out does not send it: the
// transport checks the fence again, and again as it reads the body.
func TestFencingTransport(t *testing.T) {
	var got atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err == nil {
			got.Add(1) // a whole request arrived
		}
	}))
	defer srv.Close()
	clock := &fakeClock{}
	client := &http.Client{Transport: fencingTransport{next: http.DefaultTransport}}
	send := func(f *fence, body io.Reader, length int64) error {
		ctx := context.WithValue(context.Background(), fenceKey{}, &ticket{f: f})
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
	f := testFence(clock, 10*time.Second)
	if err := send(f, strings.NewReader("open"), 4); err != nil || got.Load() != 1 {
		t.Fatalf("open fence: got %v, %d requests; want success, 1", err, got.Load())
	}
	clock.Advance(8 * time.Second) // the stall: admitted earlier, sent now
	if err := send(f, strings.NewReader("late"), 4); !errors.Is(err, ErrFenced) {
		t.Errorf("closed fence: got %v, want ErrFenced", err)
	}
	// The fence closes while the transport reads the body.
	f2 := testFence(clock, 10*time.Second)
	body := &stallingReader{r: bytes.NewReader(bytes.Repeat([]byte("x"), 64<<10)), stall: func() { clock.Advance(8 * time.Second) }}
	if err := send(f2, body, 64<<10); !errors.Is(err, ErrFenced) {
		t.Errorf("fence closed during the body: got %v, want ErrFenced", err)
	}
	if n := got.Load(); n != 1 {
		t.Errorf("the server handled %d requests, want 1 (the two late ones not sent whole)", n)
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
