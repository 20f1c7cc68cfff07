package aztable_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// Short leases keep the crash tests quick; they are durations the
// service waits, not assertions on how long anything takes. The request
// timeout is generous for a loaded machine (2 shared cores), and the
// TTL satisfies the lease condition: 7s > 100ms + 2s + 4s + 200ms.
const (
	testTTL     = 7 * time.Second
	testPoll    = 100 * time.Millisecond
	testTimeout = 2 * time.Second
	testSkew    = 200 * time.Millisecond
)

// testPair is the pair of tables the tests' configurations belong to.
var testPair = [2]aztable.TableID{{Endpoint: "http://127.0.0.1:1/devstoreaccount1", Name: "old"}, {Endpoint: "http://127.0.0.1:1/devstoreaccount1", Name: "new"}}

func testOptions(id string) aztable.ConfigOptions {
	return aztable.ConfigOptions{ClientID: id, Old: testPair[0], New: testPair[1], LeaseTTL: testTTL, PollInterval: testPoll,
		RequestTimeout: testTimeout, MaxInFlight: 2 * testTimeout, ClockSkew: testSkew}
}

// configTable creates a table for a configuration, opened through an
// account whose requests time out after testTimeout (the options' value).
func configTable(t *testing.T, srv *azuritetest.Server, prefix string, opts ...aztable.AccountOption) *aztable.Table {
	t.Helper()
	name := srv.NewTable(t, prefix).Name()
	acct, err := aztable.Connect(srv.ConnectionString(), append([]aztable.AccountOption{aztable.WithRequestTimeout(testTimeout)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := acct.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func openConfig(t *testing.T, tbl spec.Table, id string) *aztable.ConfigService {
	t.Helper()
	c, err := aztable.OpenConfigService(context.Background(), tbl, testOptions(id))
	if err != nil {
		t.Fatalf("opening the configuration service as %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// recorder is a Subscriber that records the states it was given.
type recorder struct {
	mu     sync.Mutex
	states []mtable.State
	got    chan mtable.State
}

func newRecorder() *recorder { return &recorder{got: make(chan mtable.State, 16)} }

func (r *recorder) Apply(ctx context.Context, s mtable.State) error {
	r.mu.Lock()
	r.states = append(r.states, s)
	r.mu.Unlock()
	r.got <- s
	return nil
}

// TestConfigOptionsValidation: refused options name the problem and the
// term to change, and nothing is written.
func TestConfigOptionsValidation(t *testing.T) {
	with := func(f func(*aztable.ConfigOptions)) aztable.ConfigOptions {
		o := testOptions("a")
		f(&o)
		return o
	}
	acct, err := aztable.Connect("AccountName=devstoreaccount1;AccountKey="+devKey+";TableEndpoint=http://127.0.0.1:1/devstoreaccount1", aztable.WithRequestTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	oldTbl, _ := acct.Table("Old") // the same table as testPair[0]
	slowCfg, _ := acct.Table("config")
	cases := []struct {
		name string
		tbl  spec.Table // nil: a MemTable
		opts aztable.ConfigOptions
		want string
	}{
		{"no client ID", nil, with(func(o *aztable.ConfigOptions) { o.ClientID = "" }), "ClientID is required"},
		{"bad key", nil, with(func(o *aztable.ConfigOptions) { o.ClientID = "a/b" }), "cannot be used in a key"},
		{"no tables", nil, with(func(o *aztable.ConfigOptions) { o.Old, o.New = aztable.TableID{}, aztable.TableID{} }), "Old and New are required"},
		{"same tables", nil, with(func(o *aztable.ConfigOptions) { o.New = o.Old }), "the same table"},
		{"configuration in the old table", oldTbl, with(func(o *aztable.ConfigOptions) {
			o.RequestTimeout, o.MaxInFlight, o.LeaseTTL = 5*time.Second, 10*time.Second, time.Minute
		}), "is the old or the new table"},
		{"negative poll", nil, with(func(o *aztable.ConfigOptions) { o.PollInterval = -time.Second }), "PollInterval -1s is negative"},
		{"TTL too short", nil, with(func(o *aztable.ConfigOptions) { o.LeaseTTL = 6 * time.Second }), "LeaseTTL 6s is too short: it must exceed PollInterval 100ms + RequestTimeout 2s + MaxInFlight 4s + ClockSkew 200ms = 6.3s"},
		{"TTL too short for the defaults", nil, aztable.ConfigOptions{ClientID: "a", Old: testPair[0], New: testPair[1], LeaseTTL: 30 * time.Second}, "LeaseTTL 30s is too short: it must exceed PollInterval 1s + RequestTimeout 10s + MaxInFlight 20s + ClockSkew 1s = 32s"},
		{"MaxInFlight too short", nil, with(func(o *aztable.ConfigOptions) { o.MaxInFlight = testTimeout }), "MaxInFlight 2s is less than 2 × RequestTimeout 2s"},
		{"account slower than RequestTimeout", slowCfg, testOptions("a"), "RequestTimeout 2s is shorter than the configuration table's request timeout 5s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := spec.NewMemTable("m:")
			tbl := c.tbl
			if tbl == nil {
				tbl = mem
			}
			_, err := aztable.OpenConfigService(context.Background(), tbl, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
			if n := len(mem.Snapshot()); n != 0 {
				t.Errorf("the configuration table holds %d rows after a refusal, want none", n)
			}
		})
	}
	// The defaults satisfy the condition.
	mem := spec.NewMemTable("m:")
	c, err := aztable.OpenConfigService(context.Background(), mem, aztable.ConfigOptions{ClientID: "a", Old: testPair[0], New: testPair[1]})
	if err != nil {
		t.Fatalf("default options: %v", err)
	}
	c.Close()
}

func TestConfigPushWaitsForEveryLease(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := configTable(t, srv, "cfg")
	ctx := context.Background()
	migrator := openConfig(t, tbl, "migrator")
	b := openConfig(t, tbl, "b")
	c := openConfig(t, tbl, "çé") // a non-ASCII ClientID

	recB, recC := newRecorder(), newRecorder()
	for _, x := range []struct {
		svc *aztable.ConfigService
		rec *recorder
	}{{b, recB}, {c, recC}} {
		st, cancel, err := x.svc.Subscribe(ctx, x.rec)
		if err != nil {
			t.Fatal(err)
		}
		defer cancel()
		if st != mtable.UseOldHideMetadata {
			t.Fatalf("initial state: got %v, want %v", st, mtable.UseOldHideMetadata)
		}
	}
	// An in-flight call on b: a subscription that never acknowledges.
	_, inflight, err := b.Subscribe(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}

	pushed := make(chan error, 1)
	go func() { pushed <- migrator.Push(ctx, mtable.PreferOld) }()
	if got := <-recB.got; got != mtable.PreferOld {
		t.Fatalf("b applied %v, want %v", got, mtable.PreferOld)
	}
	if got := <-recC.got; got != mtable.PreferOld {
		t.Fatalf("c applied %v, want %v", got, mtable.PreferOld)
	}
	// b's Subscriber has applied the state, but the in-flight call still
	// holds b: b's lease must not acknowledge, and the push must wait.
	st, err := aztable.ReadConfig(ctx, tbl, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range st.Leases {
		if l.Client == "b" && l.Acked >= st.Version {
			t.Fatalf("lease b acknowledged version %d while a call begun under the previous state is in flight", l.Acked)
		}
	}
	select {
	case err := <-pushed:
		t.Fatalf("push returned (%v) while b had an in-flight call", err)
	default:
	}
	inflight()
	if err := <-pushed; err != nil {
		t.Fatalf("push: %v", err)
	}
	st, err = aztable.ReadConfig(ctx, tbl, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Leases) != 3 {
		t.Errorf("stored leases: got %+v, want migrator, b and çé", st.Leases)
	}
	if st.State != mtable.PreferOld || st.Version != 1 {
		t.Errorf("stored state: got %v version %d, want %v version 1", st.State, st.Version, mtable.PreferOld)
	}
	for _, l := range st.Leases {
		if l.Acked < st.Version {
			t.Errorf("after the push, lease %s acknowledged %d, want %d", l.Client, l.Acked, st.Version)
		}
	}
	// A process that opens now starts in the pushed state.
	d := openConfig(t, tbl, "d")
	if got, ver := d.Current(); got != mtable.PreferOld || ver != 1 {
		t.Errorf("new process: got %v version %d, want %v version 1", got, ver, mtable.PreferOld)
	}
	// Pushing backwards is refused; pushing the same state again is fine.
	if err := migrator.Push(ctx, mtable.UseOldHideMetadata); err == nil {
		t.Errorf("push of an earlier state: got no error, want one")
	}
	if err := migrator.Push(ctx, mtable.PreferOld); err != nil {
		t.Errorf("push of the current state again: %v", err)
	}
}

func TestConfigPushSkipsCrashedClient(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := configTable(t, srv, "crash")
	ctx := context.Background()
	migrator := openConfig(t, tbl, "migrator")
	live := openConfig(t, tbl, "live")
	crashed := openConfig(t, tbl, "crashed")
	rec := newRecorder()
	_, cancel, err := live.Subscribe(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	// The crashed process stops renewing with a call still in flight.
	if _, _, err := crashed.Subscribe(ctx, nil); err != nil {
		t.Fatal(err)
	}
	crashed.Abandon()

	if err := migrator.Push(ctx, mtable.PreferOld); err != nil {
		t.Fatalf("push with a crashed client: %v", err)
	}
	if got := <-rec.got; got != mtable.PreferOld {
		t.Errorf("live client applied %v, want %v", got, mtable.PreferOld)
	}
	st, err := aztable.ReadConfig(ctx, tbl, "")
	if err != nil {
		t.Fatal(err)
	}
	var clients []string
	for _, l := range st.Leases {
		clients = append(clients, l.Client)
	}
	if want := []string{"live", "migrator"}; len(clients) != 2 || clients[0] != want[0] || clients[1] != want[1] {
		t.Errorf("leases after the push: got %v, want %v (the crashed one removed)", clients, want)
	}
}

func TestConfigClosedClientIsNotWaitedFor(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := configTable(t, srv, "closed")
	ctx := context.Background()
	migrator := openConfig(t, tbl, "migrator")
	gone := openConfig(t, tbl, "gone")
	if _, _, err := gone.Subscribe(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := gone.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gone.Subscribe(ctx, nil); !errors.Is(err, aztable.ErrLeaseLost) {
		t.Errorf("Subscribe after Close: got %v, want ErrLeaseLost", err)
	}
	if err := migrator.Push(ctx, mtable.PreferOld); err != nil {
		t.Fatal(err)
	}
}

func TestLockMigrator(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := configTable(t, srv, "lock")
	ctx := context.Background()
	first := openConfig(t, tbl, "first")
	second := openConfig(t, tbl, "second")

	lock, err := first.LockMigrator(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := aztable.ReadConfig(ctx, tbl, "")
	if st.Migrator != "first" || st.MigratorInstance != first.Instance() {
		t.Errorf("lock holder: got %q (instance %s), want %q (instance %s)", st.Migrator, st.MigratorInstance, "first", first.Instance())
	}
	if _, err := second.LockMigrator(ctx); !errors.Is(err, aztable.ErrMigratorRunning) {
		t.Fatalf("second migrator: got %v, want ErrMigratorRunning", err)
	}
	if lock.Context().Err() != nil {
		t.Fatalf("the holder lost its lock: %v", context.Cause(lock.Context()))
	}
	if err := lock.Release(); err != nil {
		t.Fatalf("release: %v", err)
	}
	if st, _ := aztable.ReadConfig(ctx, tbl, ""); st.Migrator != "" {
		t.Errorf("after release the lock is held by %q, want no one", st.Migrator)
	}
	if err := lock.Err(); !errors.Is(err, aztable.ErrFenced) {
		t.Errorf("fence of a released lock: got %v, want ErrFenced", err)
	}
	lock2, err := second.LockMigrator(ctx)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	third := openConfig(t, tbl, "third")
	if _, err := third.LockMigrator(ctx); !errors.Is(err, aztable.ErrMigratorRunning) {
		t.Fatalf("third while second renews: got %v, want ErrMigratorRunning", err)
	}
	// The holder dies without releasing (its process stops renewing):
	// its lock row stays, unrenewed, and is taken over once it has shown
	// no renewal for the TTL.
	second.Abandon()
	lock2.Abandon()
	lock3, err := third.LockMigrator(ctx)
	if err != nil {
		t.Fatalf("third after second died: %v", err)
	}
	defer lock3.Release()
	if st, _ := aztable.ReadConfig(ctx, tbl, ""); st.Migrator != "third" {
		t.Errorf("lock holder: got %q, want %q", st.Migrator, "third")
	}
	// The dead holder's lock is lost: its fence is closed and releasing
	// it leaves the new holder's lock alone.
	if err := lock2.Err(); !errors.Is(err, aztable.ErrFenced) {
		t.Errorf("fence of a taken-over lock: got %v, want ErrFenced", err)
	}
	if err := lock2.Release(); err != nil {
		t.Errorf("releasing a lock taken over: %v", err)
	}
	if st, _ := aztable.ReadConfig(ctx, tbl, ""); st.Migrator != "third" {
		t.Errorf("after the old holder's release, the lock holder is %q, want %q", st.Migrator, "third")
	}
}

func TestConfigLeaseTakenAway(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := configTable(t, srv, "taken")
	ctx := context.Background()
	c := openConfig(t, tbl, "victim")
	if _, cancel, err := c.Subscribe(ctx, nil); err != nil {
		t.Fatal(err)
	} else {
		cancel()
	}
	// Someone (a pusher that judged it expired) deletes the lease.
	if _, err := tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: spec.Key{PartitionKey: aztable.ConfigPartition, RowKey: "lease-victim." + c.Instance()}, ETag: spec.AnyETag}}}); err != nil {
		t.Fatal(err)
	}
	// The next renewal finds it gone; from then on Subscribe refuses.
	var err error
	for i := 0; i < 200; i++ {
		var cancel func()
		if _, cancel, err = c.Subscribe(ctx, nil); err != nil {
			break
		}
		cancel()
		time.Sleep(testPoll / 4)
	}
	if !errors.Is(err, aztable.ErrLeaseLost) {
		t.Errorf("Subscribe after the lease was deleted: got %v, want ErrLeaseLost", err)
	}
}

// slowRenewals is a transport that, while armed, holds back the response
// of every request that writes the migration lock row, after the service
// has applied it, and reports each such request on inFlight.
type slowRenewals struct {
	next     http.RoundTripper
	armed    atomic.Bool
	delay    time.Duration
	inFlight chan struct{}
}

func (s *slowRenewals) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && s.armed.Load() {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := s.next.RoundTrip(req)
	if err == nil && s.armed.Load() && bytes.Contains(body, []byte("RowKey='migrator'")) {
		select {
		case s.inFlight <- struct{}{}:
		default:
		}
		time.Sleep(s.delay) // the response is late; the write has been applied
	}
	return resp, err
}

// TestLockReleasedWhileRenewalInFlight is issue 10 item 11: interrupted
// while a renewal of the migration lock was in flight, a migrator must
// still delete its lock (the renewal changed the row's ETag).
func TestLockReleasedWhileRenewalInFlight(t *testing.T) {
	srv := azuritetest.Shared(t)
	slow := &slowRenewals{next: http.DefaultTransport, delay: 500 * time.Millisecond, inFlight: make(chan struct{}, 1)}
	tbl := configTable(t, srv, "slowlock", aztable.WithTransport(slow))
	c := openConfig(t, tbl, "migrator")
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	lock, err := c.LockMigrator(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slow.armed.Store(true)
	<-slow.inFlight // a renewal has been applied; its response is late
	interrupt()     // Ctrl-C
	if err := lock.Release(); err != nil {
		t.Errorf("release: %v", err)
	}
	slow.armed.Store(false)
	st, err := aztable.ReadConfig(context.Background(), tbl, "")
	if err != nil {
		t.Fatal(err)
	}
	if st.Migrator != "" {
		t.Errorf("after release, the migration lock is held by %q; want it deleted", st.Migrator)
	}
}

// TestSameClientIDTwice is issue 10 item 11: two processes that were
// given the same ClientID must not take each other's lease or lock.
func TestSameClientIDTwice(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := configTable(t, srv, "twice")
	ctx := context.Background()
	first := openConfig(t, tbl, "same")
	lock, err := first.LockMigrator(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	second := openConfig(t, tbl, "same")
	if _, err := second.LockMigrator(ctx); !errors.Is(err, aztable.ErrMigratorRunning) {
		t.Errorf("second instance with the same ClientID: LockMigrator got %v, want ErrMigratorRunning", err)
	}
	// Both leases keep living: a few renewals later both still subscribe.
	time.Sleep(5 * testPoll)
	for i, c := range []*aztable.ConfigService{first, second} {
		if _, cancel, err := c.Subscribe(ctx, nil); err != nil {
			t.Errorf("instance %d: Subscribe: %v", i+1, err)
		} else {
			cancel()
		}
	}
	if lock.Context().Err() != nil {
		t.Errorf("the first instance lost its lock: %v", context.Cause(lock.Context()))
	}
	st, err := aztable.ReadConfig(ctx, tbl, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Leases) != 2 {
		t.Errorf("stored leases: got %+v, want one per instance", st.Leases)
	}
}

// TestConfigBelongsToOnePair is issue 10 item 1: the configuration
// records the pair of tables it belongs to, and a process that names
// another pair is refused before it writes anything.
func TestConfigBelongsToOnePair(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := configTable(t, srv, "pair")
	ctx := context.Background()
	a := openConfig(t, tbl, "a")
	if err := a.Push(ctx, mtable.PreferOld); err != nil {
		t.Fatal(err)
	}
	st, err := aztable.ReadConfig(ctx, tbl, "")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Exists || st.Old != testPair[0] || st.New != testPair[1] {
		t.Errorf("ReadConfig: got exists=%v old %v new %v, want the pair %v, %v", st.Exists, st.Old, st.New, testPair[0], testPair[1])
	}
	before := readAll(t, tbl)

	other := testOptions("b")
	other.Old.Name, other.New.Name = "bold", "bnew"
	_, err = aztable.OpenConfigService(ctx, tbl, other)
	if !errors.Is(err, aztable.ErrOtherTables) || !strings.Contains(err.Error(), "belongs to the migration of old at") || !strings.Contains(err.Error(), "not of bold at") {
		t.Fatalf("another pair: got %v, want ErrOtherTables naming both pairs", err)
	}
	if diff := cmp.Diff(before, readAll(t, tbl), valueCmp); diff != "" {
		t.Errorf("the refusal wrote to the configuration table (-before +after):\n%s", diff)
	}
	// Swapped tables are another pair too.
	swapped := testOptions("c")
	swapped.Old, swapped.New = testPair[1], testPair[0]
	if _, err := aztable.OpenConfigService(ctx, tbl, swapped); !errors.Is(err, aztable.ErrOtherTables) {
		t.Errorf("swapped pair: got %v, want ErrOtherTables", err)
	}
	// Another partition of the same table is free for another pair.
	other.Partition = "bmigration"
	b, err := aztable.OpenConfigService(ctx, tbl, other)
	if err != nil {
		t.Fatalf("another pair in its own partition: %v", err)
	}
	b.Close()
}

// TestConfigWithoutPair: a state row written without a pair (an earlier
// version) is given the pair while no push has changed it, and refused
// after.
func TestConfigWithoutPair(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := configTable(t, srv, "nopair")
	ctx := context.Background()
	legacy := func(partition string, version int64) {
		t.Helper()
		if _, err := tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: partition, RowKey: "state"},
			Props: spec.Props{"state": spec.Int32(int32(version)), "version": spec.Int64(version)}}}}); err != nil {
			t.Fatal(err)
		}
	}
	legacy("fresh", 0)
	legacy("started", 1)
	opts := testOptions("a")
	opts.Partition = "fresh"
	c, err := aztable.OpenConfigService(ctx, tbl, opts)
	if err != nil {
		t.Fatalf("a fresh state row without a pair: %v", err)
	}
	c.Close()
	if st, err := aztable.ReadConfig(ctx, tbl, "fresh"); err != nil || st.Old != testPair[0] {
		t.Errorf("after opening: got %+v, %v; want the pair recorded", st, err)
	}
	opts.Partition = "started"
	if _, err := aztable.OpenConfigService(ctx, tbl, opts); !errors.Is(err, aztable.ErrOtherTables) || !strings.Contains(err.Error(), "records no tables") {
		t.Errorf("a started migration without a pair: got %v, want ErrOtherTables saying it records no tables", err)
	}
}

func readAll(t *testing.T, tbl spec.Table) []spec.Entity {
	t.Helper()
	s, err := tbl.QueryStreamed(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var rows []spec.Entity
	for {
		e, ok, err := s.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return rows
		}
		rows = append(rows, e)
	}
}
