package aztable_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// Short leases keep the crash tests quick; they are durations the
// service waits, not assertions on how long anything takes. The TTL is
// 40 renewals long so that a loaded machine (2 shared cores) does not
// make a live lease look expired.
const (
	testTTL  = 4 * time.Second
	testPoll = 100 * time.Millisecond
)

func openConfig(t *testing.T, tbl spec.Table, id string) *aztable.ConfigService {
	t.Helper()
	c, err := aztable.OpenConfigService(context.Background(), tbl, aztable.ConfigOptions{ClientID: id, LeaseTTL: testTTL, PollInterval: testPoll})
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

func TestConfigOptionsValidation(t *testing.T) {
	tbl := spec.NewMemTable("m:")
	cases := []struct {
		name string
		opts aztable.ConfigOptions
	}{
		{"no client ID", aztable.ConfigOptions{}},
		{"TTL too short", aztable.ConfigOptions{ClientID: "a", LeaseTTL: time.Second, PollInterval: time.Second}},
		{"bad key", aztable.ConfigOptions{ClientID: "a/b"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := aztable.OpenConfigService(context.Background(), tbl, c.opts); err == nil {
				t.Errorf("got no error, want one")
			}
		})
	}
}

func TestConfigPushWaitsForEveryLease(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "cfg")
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
	tbl := srv.NewTable(t, "crash")
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
	tbl := srv.NewTable(t, "closed")
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
	tbl := srv.NewTable(t, "lock")
	ctx := context.Background()
	first := openConfig(t, tbl, "first")
	second := openConfig(t, tbl, "second")

	lctx, release, err := first.LockMigrator(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := aztable.ReadConfig(ctx, tbl, "")
	if st.Migrator != "first" {
		t.Errorf("lock holder: got %q, want %q", st.Migrator, "first")
	}
	if _, _, err := second.LockMigrator(ctx); !errors.Is(err, aztable.ErrMigratorRunning) {
		t.Fatalf("second migrator: got %v, want ErrMigratorRunning", err)
	}
	if lctx.Err() != nil {
		t.Fatalf("the holder lost its lock: %v", context.Cause(lctx))
	}
	release()
	holder, die := context.WithCancel(ctx)
	defer die()
	_, release2, err := second.LockMigrator(holder)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	defer release2()
	third := openConfig(t, tbl, "third")
	if _, _, err := third.LockMigrator(ctx); !errors.Is(err, aztable.ErrMigratorRunning) {
		t.Fatalf("third while second renews: got %v, want ErrMigratorRunning", err)
	}
	// The holder dies without releasing: its lock row stays, unrenewed,
	// and is taken over once it has shown no renewal for the TTL.
	die()
	_, release3, err := third.LockMigrator(ctx)
	if err != nil {
		t.Fatalf("third after second died: %v", err)
	}
	defer release3()
	if st, _ := aztable.ReadConfig(ctx, tbl, ""); st.Migrator != "third" {
		t.Errorf("lock holder: got %q, want %q", st.Migrator, "third")
	}
}

func TestConfigLeaseTakenAway(t *testing.T) {
	srv := azuritetest.Shared(t)
	tbl := srv.NewTable(t, "taken")
	ctx := context.Background()
	c := openConfig(t, tbl, "victim")
	if _, cancel, err := c.Subscribe(ctx, nil); err != nil {
		t.Fatal(err)
	} else {
		cancel()
	}
	// Someone (a pusher that judged it expired) deletes the lease.
	if _, err := tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: spec.Key{PartitionKey: aztable.ConfigPartition, RowKey: "lease-victim"}, ETag: spec.AnyETag}}}); err != nil {
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
