package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// envRunCommand makes the test binary run the command itself (main), so
// that tests can start it as a process to interrupt, kill or stop.
const envRunCommand = "MTABLE_TEST_RUN_COMMAND"

// envStopAfterOldRow makes the command, run as a process, stop itself
// (SIGSTOP) once its migrator has read that many rows of the old table:
// a stall between two requests, when it holds rows it has yet to copy.
const envStopAfterOldRow = "MTABLE_TEST_STOP_AFTER_OLD_ROW"

func TestMain(m *testing.M) {
	if os.Getenv(envRunCommand) == "1" {
		if n, err := strconv.ParseInt(os.Getenv(envStopAfterOldRow), 10, 64); err == nil {
			testHookOldRowRead = func(read int64) {
				if read == n {
					syscall.Kill(os.Getpid(), syscall.SIGSTOP)
				}
			}
		}
		main()
		return
	}
	os.Exit(azuritetest.Run(m))
}

// Lease timings of the tests: a request timeout generous for a loaded
// machine (2 shared cores), and the shortest lease that satisfies the
// lease condition with it (7s > 100ms + 2s + 4s + 200ms). They are
// durations the processes wait, not assertions on how long anything
// takes.
var leaseFlags = []string{"-lease-ttl", "7s", "-poll", "100ms", "-request-timeout", "2s", "-max-in-flight", "4s", "-clock-skew", "200ms"}

// appOptions are the configuration options of an application process
// of the tests, with the timings of leaseFlags.
func appOptions(id string, old, new *aztable.Table) leaseconfig.Options {
	return leaseconfig.Options{ClientID: id, Old: identity(old.ID()), New: identity(new.ID()), LeaseTTL: 7 * time.Second, PollInterval: 100 * time.Millisecond,
		RequestTimeout: 2 * time.Second, MaxInFlight: 4 * time.Second, ClockSkew: 200 * time.Millisecond}
}

// shortAccount connects to the emulator with the tests' request timeout
// (a process's tables must not time out later than its configuration's
// RequestTimeout).
func shortAccount(t testing.TB, srv *azuritetest.Server) *aztable.Account {
	t.Helper()
	acct, err := aztable.Connect(srv.ConnectionString(), aztable.WithRequestTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return acct
}

// table opens the table called name through acct.
func table(t testing.TB, acct *aztable.Account, name string) *aztable.Table {
	t.Helper()
	tbl, err := acct.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// cli runs the command in process and returns its exit status and
// output. It fails the test if any output holds the account key.
func cli(t *testing.T, ctx context.Context, srv *azuritetest.Server, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := run(ctx, args, getenv, &stdout, &stderr)
	for _, out := range []string{stdout.String(), stderr.String()} {
		if strings.Contains(out, srv.AccountKey()) || strings.Contains(out, "AccountKey") {
			t.Errorf("mtable %v printed a credential:\n%s", args, out)
		}
	}
	return code, stdout.String(), stderr.String()
}

func baseEnv(srv *azuritetest.Server, oldName, newName string) map[string]string {
	return map[string]string{
		envConn:     srv.ConnectionString(),
		envOldTable: oldName,
		envNewTable: newName,
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no command", nil, nil, "usage"},
		{"unknown command", []string{"frobnicate"}, nil, "unknown command"},
		{"missing everything", []string{"status"}, nil, "missing -old-table"},
		{"bad until", []string{"migrate", "-until", "LATER"}, map[string]string{envConn: "AccountName=a;AccountKey=a2V5", envOldTable: "abc", envNewTable: "bcd"}, "is not a state"},
		{"bad connection string", []string{"status"}, map[string]string{envConn: "x", envOldTable: "abc", envNewTable: "bcd"}, "invalid connection string"},
		{"same table", []string{"status"}, map[string]string{envConn: "AccountName=a;AccountKey=a2V5", envOldTable: "abc", envNewTable: "abc"}, "same table"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), c.args, func(k string) string { return c.env[k] }, &stdout, &stderr)
			if code != exitUsage {
				t.Errorf("exit status: got %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr %q does not say %q", stderr.String(), c.want)
			}
		})
	}
}

func TestClearErrors(t *testing.T) {
	srv := azuritetest.Shared(t)
	ctx := context.Background()
	old := srv.NewTable(t, "errold")
	env := baseEnv(srv, old.Name(), srv.NewTableName("errnew"))

	t.Run("bad credentials", func(t *testing.T) {
		bad := maps.Clone(env)
		bad[envConn] = strings.Replace(srv.ConnectionString(), srv.AccountKey(), "c2VjcmV0LWtleS10aGF0LW11c3QtbmV2ZXItbGVhaw==", 1)
		code, _, stderr := cli(t, ctx, srv, bad, "status")
		if code != exitError || !strings.Contains(stderr, "refused the credentials") {
			t.Errorf("got exit %d, stderr %q; want %d and a message about credentials", code, stderr, exitError)
		}
		if strings.Contains(stderr, "c2VjcmV0LWtleS10aGF0LW11c3QtbmV2ZXItbGVhaw==") {
			t.Errorf("stderr holds the wrong key: %q", stderr)
		}
	})
	t.Run("missing old table", func(t *testing.T) {
		missing := maps.Clone(env)
		missing[envOldTable] = "nosuchtable"
		code, _, stderr := cli(t, ctx, srv, missing, "migrate")
		if code != exitError || !strings.Contains(stderr, `old table "nosuchtable" does not exist`) {
			t.Errorf("got exit %d, stderr %q; want %d and a message naming the missing table", code, stderr, exitError)
		}
	})
	t.Run("unreachable account", func(t *testing.T) {
		gone := maps.Clone(env)
		gone[envConn] = strings.Replace(srv.ConnectionString(), srv.Endpoint(), "http://127.0.0.1:1/devstoreaccount1", 1)
		code, _, stderr := cli(t, ctx, srv, gone, "status")
		if code != exitError || !strings.Contains(stderr, "127.0.0.1:1") {
			t.Errorf("got exit %d, stderr %q; want %d and the endpoint named", code, stderr, exitError)
		}
	})
	t.Run("status before any migration", func(t *testing.T) {
		code, stdout, stderr := cli(t, ctx, srv, env, "status", "-config-table", srv.NewTableName("nocfg"))
		if code != exitOK || !strings.Contains(stdout, "no migration has started") {
			t.Errorf("got exit %d, stdout %q, stderr %q; want %d and a report that nothing started", code, stdout, stderr, exitOK)
		}
	})
	t.Run("second migrator", func(t *testing.T) {
		acct := shortAccount(t, srv)
		cfgTable := table(t, acct, srv.NewTable(t, "errcfg").Name())
		holder, err := leaseconfig.Open(ctx, cfgTable, appOptions("other-migrator", old, table(t, acct, env[envNewTable])))
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Close()
		lock, err := holder.LockMigrator(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer lock.Release()
		code, _, stderr := cli(t, ctx, srv, env, append([]string{"migrate", "-config-table", cfgTable.Name(), "-client-id", "me"}, leaseFlags...)...)
		if code != exitLocked || !strings.Contains(stderr, `"other-migrator" (instance `+holder.Instance()+`) holds the migration lock`) {
			t.Errorf("got exit %d, stderr %q; want %d and the holder named", code, stderr, exitLocked)
		}
	})
}

// writer is one application process: its own configuration lease and
// MigratingTable, writing only its own rows, so that it can predict
// every outcome and knows the content its successful writes imply.
type writer struct {
	id    int
	tbl   *mtable.Table
	cfg   *leaseconfig.Service
	rng   *rand.Rand
	model map[spec.Key]spec.Entity // the rows it owns, as they must be
	keys  []spec.Key
	ops   int
}

func (w *writer) rowPrefix() string { return fmt.Sprintf("w%d-", w.id) }

// step runs one random batch (one or two operations on its rows of one
// partition) and checks the outcome against the model.
func (w *writer) step(ctx context.Context) error {
	w.ops++
	pk := fmt.Sprintf("p%d", w.rng.IntN(3))
	var ks []spec.Key
	for _, k := range w.keys {
		if k.PartitionKey == pk {
			ks = append(ks, k)
		}
	}
	w.rng.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	ks = ks[:1+w.rng.IntN(2)]
	var ops []spec.Op
	for i, k := range ks {
		kind := spec.OpKind(w.rng.IntN(7))
		if kind == spec.DeleteIfExists && len(ks) > 1 {
			kind = spec.Delete // DeleteIfExists must be alone in its batch
		}
		e := spec.Entity{Key: k}
		if !kind.IsDelete() {
			e.Props = spec.Props{fmt.Sprintf("v%d", w.rng.IntN(3)): spec.String(fmt.Sprintf("w%d op%d.%d", w.id, w.ops, i))}
		}
		if kind.NeedsIfMatch() {
			e.ETag = spec.AnyETag
			if cur, ok := w.model[k]; ok && w.rng.IntN(2) == 0 {
				e.ETag = cur.ETag
			}
		}
		ops = append(ops, spec.Op{Kind: kind, Entity: e})
	}
	// The predicted outcome: the first operation that must fail.
	wantStatus, wantIndex := 0, -1
	for i, op := range ops {
		_, exists := w.model[op.Entity.Key]
		switch {
		case op.Kind == spec.Insert && exists:
			wantStatus = spec.StatusConflict
		case op.Kind.NeedsIfMatch() && !exists:
			wantStatus = spec.StatusNotFound
		}
		if wantStatus != 0 {
			wantIndex = i
			break
		}
	}
	res, err := w.tbl.ExecuteBatch(ctx, ops)
	if err != nil {
		var se *spec.Error
		if !errors.As(err, &se) {
			return fmt.Errorf("writer %d: batch %v: %v", w.id, ops, err)
		}
		if se.Status == wantStatus && se.Index == wantIndex {
			return nil
		}
		// A conditional write may also meet a version the migrator made
		// (a copy or clean-up changes a row's ETag, not its content).
		if se.Status == spec.StatusPreconditionFailed && se.Index >= 0 && ops[se.Index].Entity.ETag != spec.AnyETag && (wantIndex < 0 || se.Index <= wantIndex) {
			return nil
		}
		return fmt.Errorf("writer %d: batch %v: got %v, want status %d at %d", w.id, ops, err, wantStatus, wantIndex)
	}
	if wantStatus != 0 {
		return fmt.Errorf("writer %d: batch %v succeeded, want status %d at %d", w.id, ops, wantStatus, wantIndex)
	}
	for i, op := range ops {
		k := op.Entity.Key
		cur, exists := w.model[k]
		switch op.Kind {
		case spec.Delete, spec.DeleteIfExists:
			delete(w.model, k)
		case spec.Merge, spec.InsertOrMerge:
			if !exists {
				cur = spec.Entity{Key: k, Props: spec.Props{}}
			}
			cur.Props = cur.Props.Clone()
			maps.Copy(cur.Props, op.Entity.Props)
			cur.ETag = res[i].ETag
			w.model[k] = cur
		default:
			w.model[k] = spec.Entity{Key: k, ETag: res[i].ETag, Props: op.Entity.Props.Clone()}
		}
	}
	return nil
}

// read checks an atomic query of its rows in one partition.
func (w *writer) read(ctx context.Context) error {
	pk := fmt.Sprintf("p%d", w.rng.IntN(3))
	f := spec.AndFilters(spec.PartitionFilter(pk),
		spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ge, Value: spec.String(w.rowPrefix())},
		spec.Comparison{Property: spec.RowKeyProp, Op: spec.Lt, Value: spec.String(w.rowPrefix() + "~")})
	rows, err := w.tbl.QueryAtomic(ctx, f)
	if err != nil {
		return fmt.Errorf("writer %d: query %s: %v", w.id, f, err)
	}
	var want []spec.Entity
	for _, e := range w.model {
		if e.PartitionKey == pk {
			want = append(want, e)
		}
	}
	spec.SortEntities(want)
	if diff := cmp.Diff(want, rows, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(spec.Entity{}, "ETag", "Timestamp"), cmp.Comparer(func(a, b spec.Value) bool { return a.Equal(b) })); diff != "" {
		return fmt.Errorf("writer %d: query %s (-want +got):\n%s", w.id, f, diff)
	}
	for _, r := range rows {
		e := w.model[r.Key]
		e.ETag = r.ETag // the migrator may have changed it
		w.model[r.Key] = e
	}
	return nil
}

// TestMigrateEndToEnd runs writers through a whole migration driven by
// the command, interrupted once (-until) and resumed.
func TestMigrateEndToEnd(t *testing.T) {
	srv := azuritetest.Shared(t)
	ctx := context.Background()
	old := srv.NewTable(t, "e2eold")
	newName := srv.NewTableName("e2enew")
	cfgName := srv.NewTableName("e2ecfg")
	t.Cleanup(func() {
		srv.Account().DeleteTable(context.Background(), newName)
		srv.Account().DeleteTable(context.Background(), cfgName)
	})
	if err := srv.Account().CreateTable(ctx, newName); err != nil {
		t.Fatal(err)
	}
	if err := srv.Account().CreateTable(ctx, cfgName); err != nil {
		t.Fatal(err)
	}
	acct := shortAccount(t, srv)
	old = table(t, acct, old.Name())
	newTbl := table(t, acct, newName)
	cfgTbl := table(t, acct, cfgName)
	env := baseEnv(srv, old.Name(), newName)
	flags := append([]string{"-config-table", cfgName, "-progress", "200ms"}, leaseFlags...)

	nWriters, opsBefore := 4, 15
	if testing.Short() {
		nWriters, opsBefore = 3, 8
	}
	// The old table starts with three rows of each writer per partition.
	writers := make([]*writer, nWriters)
	for i := range writers {
		w := &writer{id: i, rng: rand.New(rand.NewPCG(uint64(i), 314159)), model: map[spec.Key]spec.Entity{}}
		for p := 0; p < 3; p++ {
			pk := fmt.Sprintf("p%d", p)
			var ops []spec.Op
			for r := 0; r < 5; r++ {
				k := spec.Key{PartitionKey: pk, RowKey: fmt.Sprintf("%s%d", w.rowPrefix(), r)}
				w.keys = append(w.keys, k)
				if r < 3 {
					e := spec.Entity{Key: k, Props: spec.Props{"v0": spec.String("initial")}}
					ops = append(ops, spec.Op{Kind: spec.Insert, Entity: e})
				}
			}
			res, err := old.ExecuteBatch(ctx, ops)
			if err != nil {
				t.Fatal(err)
			}
			for j, op := range ops {
				e := op.Entity
				e.ETag = res[j].ETag
				w.model[e.Key] = e
			}
		}
		cfg, err := leaseconfig.Open(ctx, cfgTbl, appOptions(fmt.Sprintf("writer%d", i), old, newTbl))
		if err != nil {
			t.Fatal(err)
		}
		w.cfg = cfg
		w.tbl = mtable.New(old, newTbl, cfg)
		writers[i] = w
	}

	// Writers run until told to stop; each does opsBefore operations
	// before the migration starts, and keeps going throughout it. The
	// last one crashes then, in the middle of a call: its lease stops
	// being renewed while it holds a subscription, and the migration must
	// go on without it once the lease expires.
	stop := make(chan struct{})
	warm := make(chan struct{}, nWriters)
	errs := make(chan error, nWriters)
	var wg sync.WaitGroup
	for i, w := range writers {
		crash := i == nWriters-1
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer w.cfg.Close()
			warmed := false
			for n := 0; ; n++ {
				if n == opsBefore {
					warmed = true
					warm <- struct{}{}
					if crash {
						if _, _, err := w.cfg.Subscribe(ctx, nil); err != nil {
							errs <- err
							return
						}
						w.cfg.Abandon()
						errs <- nil
						return
					}
				}
				if n > opsBefore {
					select {
					case <-stop:
						errs <- nil
						return
					default:
					}
				}
				var err error
				if n%4 == 3 {
					err = w.read(ctx)
				} else {
					err = w.step(ctx)
				}
				if err != nil {
					errs <- err
					if !warmed {
						warm <- struct{}{}
					}
					return
				}
			}
		}()
	}
	for range writers {
		<-warm
	}

	// First run: stop before USE_NEW_WITH_TOMBSTONES, as an interrupted
	// migration would; then status; then resume to the end.
	code, _, stderr := cli(t, ctx, srv, env, append([]string{"migrate", "-until", "PREFER_NEW", "-client-id", "migrator-1"}, flags...)...)
	t.Logf("first migrate run:\n%s", stderr)
	if code != exitOK || !strings.Contains(stderr, "stopped in state PREFER_NEW") {
		t.Fatalf("first migrate run: exit %d, want %d and a stop in PREFER_NEW", code, exitOK)
	}
	code, stdout, stderr := cli(t, ctx, srv, env, "status", "-config-table", cfgName)
	t.Logf("status:\n%s%s", stdout, stderr)
	if code != exitOK || !strings.Contains(stdout, "PREFER_NEW") || !strings.Contains(stdout, "SWITCHED") {
		t.Errorf("status after the first run: exit %d, want %d and state PREFER_NEW with switched partitions", code, exitOK)
	}
	crashed := fmt.Sprintf("writer%d", nWriters-1)
	if strings.Contains(stdout, crashed) || !strings.Contains(stdout, "writer0") {
		t.Errorf("status after the first run lists leases:\n%s\nwant writer0 and not the crashed %s (expired)", stdout, crashed)
	}
	code, _, stderr = cli(t, ctx, srv, env, append([]string{"migrate", "-client-id", "migrator-2"}, flags...)...)
	t.Logf("second migrate run:\n%s", stderr)
	if code != exitOK || !strings.Contains(stderr, "migration complete") {
		t.Fatalf("second migrate run: exit %d, want %d and completion", code, exitOK)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	total := 0
	for _, w := range writers {
		total += w.ops
	}
	t.Logf("%d writers ran %d operations and queries in all", nWriters, total)

	// The new table holds exactly what the successful writes imply, with
	// no metadata; the old table is empty.
	var want []spec.Entity
	for _, w := range writers {
		for _, e := range w.model {
			want = append(want, spec.Entity{Key: e.Key, Props: e.Props})
		}
	}
	spec.SortEntities(want)
	got := readAll(t, newTbl)
	for i := range got {
		for name := range got[i].Props {
			if mtable.IsMetadataProperty(name) {
				t.Errorf("new table row %v keeps metadata property %s", got[i].Key, name)
			}
		}
		got[i].ETag, got[i].Timestamp = "", time.Time{}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b spec.Value) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("new table after the migration (-want +got):\n%s", diff)
	}
	if rows := readAll(t, old); len(rows) != 0 {
		t.Errorf("old table after the migration: got %d rows (first %v), want none", len(rows), rows[0].Key)
	}
	code, stdout, _ = cli(t, ctx, srv, env, "status", "-config-table", cfgName)
	if code != exitOK || !strings.Contains(stdout, "USE_NEW_HIDE_METADATA") {
		t.Errorf("final status: exit %d, output:\n%s\nwant USE_NEW_HIDE_METADATA", code, stdout)
	}
	// A finished migration run again is a no-op that succeeds.
	code, _, stderr = cli(t, ctx, srv, env, append([]string{"migrate", "-client-id", "migrator-3"}, flags...)...)
	if code != exitOK {
		t.Errorf("migrate after completion: exit %d, stderr:\n%s", code, stderr)
	}
	if got2 := readAll(t, newTbl); len(got2) != len(want) {
		t.Errorf("migrate after completion changed the new table: %d rows, want %d", len(got2), len(want))
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

var _ = slices.Sort[[]string]

// cancelOn is a writer that cancels a context once the text written to
// it contains a marker (the command's progress output).
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if strings.Contains(c.buf.String(), c.marker) {
		c.cancel()
	}
	return len(p), nil
}

// TestMigrateInterrupted interrupts migrate (as Ctrl-C does) while it
// pushes PREFER_NEW, and checks that it says so, leaves no lock behind,
// and that the next run finishes the migration.
func TestMigrateInterrupted(t *testing.T) {
	srv := azuritetest.Shared(t)
	old := srv.NewTable(t, "intold")
	newName, cfgName := srv.NewTableName("intnew"), srv.NewTableName("intcfg")
	t.Cleanup(func() {
		srv.Account().DeleteTable(context.Background(), newName)
		srv.Account().DeleteTable(context.Background(), cfgName)
	})
	var ops []spec.Op
	for i := 0; i < 10; i++ {
		ops = append(ops, spec.Op{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: fmt.Sprint(i)}, Props: spec.Props{"n": spec.Int32(int32(i))}}})
	}
	if _, err := old.ExecuteBatch(context.Background(), ops); err != nil {
		t.Fatal(err)
	}
	env := baseEnv(srv, old.Name(), newName)
	flags := append([]string{"migrate", "-config-table", cfgName}, leaseFlags...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &cancelOn{marker: "pushing PREFER_NEW", cancel: cancel}
	var stdout bytes.Buffer
	code := run(ctx, append(flags, "-client-id", "interrupted"), func(k string) string { return env[k] }, &stdout, stderr)
	t.Logf("interrupted run:\n%s", stderr.buf.String())
	if code != exitInterrupted || !strings.Contains(stderr.buf.String(), "interrupted in state") {
		t.Fatalf("interrupted run: exit %d, want %d and a message saying where it stopped", code, exitInterrupted)
	}
	code, out, _ := cli(t, context.Background(), srv, env, "status", "-config-table", cfgName)
	if code != exitOK || !strings.Contains(out, "migration lock:  (none)") {
		t.Errorf("status after the interruption: exit %d, want %d and no lock left:\n%s", code, exitOK, out)
	}
	code, _, errOut := cli(t, context.Background(), srv, env, append(flags, "-client-id", "resumed")...)
	if code != exitOK || !strings.Contains(errOut, "migration complete") {
		t.Fatalf("resumed run: exit %d, stderr:\n%s", code, errOut)
	}
	newTbl, _ := srv.Account().Table(newName)
	if got := readAll(t, newTbl); len(got) != len(ops) {
		t.Errorf("new table after the resumed run: %d rows, want %d", len(got), len(ops))
	}
	if got := readAll(t, old); len(got) != 0 {
		t.Errorf("old table after the resumed run: %d rows, want none", len(got))
	}
}
