package leaseconfig_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// Each lease bug has a targeted scenario under the scheduler, run with
// the correct service and with the bug under every strategy and seed of
// sweep: the correct service never misbehaves, the bug always does.

// leaseBugScenario is a scenario: prog builds one run with bug (NoBug
// for the correct service) and returns what the run showed: "" when it
// behaved, else the misbehaviour.
type leaseBugScenario func(bug mtable.Bug) (body func(), showed func() string)

func testLeaseBug(t *testing.T, bug mtable.Bug, scenario leaseBugScenario) {
	t.Helper()
	for _, b := range []mtable.Bug{mtable.NoBug, bug} {
		t.Run(b.String(), func(t *testing.T) {
			logged := false
			sweepSkewed(t, func() (func(), func() error) {
				body, showed := scenario(b)
				return body, func() error {
					got := showed()
					if got != "" && !logged {
						t.Logf("showed: %s", got)
						logged = true
					}
					switch {
					case b == mtable.NoBug && got != "":
						return fmt.Errorf("the correct service misbehaved: %s", got)
					case b != mtable.NoBug && got == "":
						return fmt.Errorf("bug %d (%s) did not show", int(b), b)
					}
					return nil
				}
			})
		})
	}
}

// TestBugPushExpiresLeaseEarly: a client partitioned from the
// configuration table, but not from the data, keeps a call under the
// initial state in flight. Its fence stays open until its lease nears
// its end; a correct push waits the lease out, so the client's write
// lands at most one state behind. With the bug the pusher deletes the
// lease after one poll, pushes two states, and the write lands two
// states behind the newest.
func TestBugPushExpiresLeaseEarly(t *testing.T) {
	testLeaseBug(t, mtable.BugPushExpiresLeaseEarly, func(bug mtable.Bug) (func(), func() string) {
		w := newWorld()
		var writeErr error
		body := func() {
			ready := sched.NewChan[struct{}](1)
			client := sched.StartProcess("client", func() {
				cfg := w.link("client", w.cfg)
				svc := open(cfg, options("client"))
				data := w.link("client", w.data)
				data.record = true
				fenced := svc.Fence(data)
				call(svc, func(ctx context.Context) error {
					ready.Send(struct{}{})
					cfg.down = true // cut off from the configuration table only
					sched.Sleep(6 * time.Second)
					writeErr = write(ctx, fenced, "late")
					cfg.down = false
					return nil
				})
			}, sched.ProcessOptions{})
			sched.Select(ready.RecvCase(nil))
			o := options("migrator")
			o.Bug = bug
			m := open(w.link("migrator", w.cfg), o)
			sched.Assertf(m.Push(context.Background(), mtable.PreferOld) == nil, "push PREFER_OLD failed")
			sched.Assertf(m.Push(context.Background(), mtable.PreferNew) == nil, "push PREFER_NEW failed")
			client.Wait()
		}
		showed := func() string {
			if writeErr != nil || len(w.landed) != 1 {
				return fmt.Sprintf("the client's write did not land (%v): the scenario is broken", writeErr)
			}
			if w.maxGap > 1 {
				return fmt.Sprintf("a write made under %s landed while %s was the newest state", w.landed[0].under, w.landed[0].newest)
			}
			return ""
		}
		return body, showed
	})
}

// TestBugServeAfterLeaseExpiry: a client stalled past its lease (SIGSTOP)
// wakes after two pushes. Correctly, Subscribe refuses (ErrLeaseLost)
// and nothing is sent; with the bug it serves a call from its cached
// state, unfenced, two states behind the newest.
func TestBugServeAfterLeaseExpiry(t *testing.T) {
	testLeaseBug(t, mtable.BugServeAfterLeaseExpiry, func(bug mtable.Bug) (func(), func() string) {
		w := newWorld()
		var callErr error
		return func() {
				ready := sched.NewChan[struct{}](1)
				client := sched.StartProcess("client", func() {
					o := options("client")
					o.Bug = bug
					svc := open(w.link("client", w.cfg), o)
					data := w.link("client", w.data)
					data.record = true
					fenced := svc.Fence(data)
					ready.Send(struct{}{})
					sched.CurrentProcess().Stall(3 * ttl)
					callErr = call(svc, func(ctx context.Context) error { return write(ctx, fenced, "stale") })
				}, sched.ProcessOptions{})
				sched.Select(ready.RecvCase(nil))
				m := open(w.link("migrator", w.cfg), options("migrator"))
				sched.Assertf(m.Push(context.Background(), mtable.PreferOld) == nil, "push PREFER_OLD failed")
				sched.Assertf(m.Push(context.Background(), mtable.PreferNew) == nil, "push PREFER_NEW failed")
				client.Wait()
			}, func() string {
				if len(w.landed) > 0 {
					return fmt.Sprintf("a call served after the lease expired: a write made under %s landed while %s was the newest state (call: %v)", w.landed[0].under, w.landed[0].newest, callErr)
				}
				if !errors.Is(callErr, leaseconfig.ErrLeaseLost) {
					return fmt.Sprintf("the call after the stall failed with %v, not ErrLeaseLost", callErr)
				}
				return ""
			}
	})
}

// TestBugMigratorLockNoIfMatch: the holder of the migration lock
// crashes; two migrators watch its lock for a TTL and take it over at
// the same instant (their writes take 100ms to land, after both have
// looked). Correctly one of them is refused; with the bug the second
// overwrites the first and both hold the lock, their fences open.
func TestBugMigratorLockNoIfMatch(t *testing.T) {
	testLeaseBug(t, mtable.BugMigratorLockNoIfMatch, func(bug mtable.Bug) (func(), func() string) {
		w := newWorld()
		var both string
		var refused int
		return func() {
				held := sched.NewChan[struct{}](1)
				holder := sched.StartProcess("holder", func() {
					svc := open(w.link("holder", w.cfg), options("holder"))
					_, err := svc.LockMigrator(context.Background())
					sched.Assertf(err == nil, "holder: LockMigrator: %v", err)
					held.Send(struct{}{})
					sched.Sleep(time.Hour)
				}, sched.ProcessOptions{})
				sched.Select(held.RecvCase(nil))
				holder.Crash()
				type holding struct {
					name string
					lock *leaseconfig.Lock
				}
				var locks []holding
				var procs []*sched.Process
				for _, name := range []string{"b", "c"} {
					procs = append(procs, sched.StartProcess(name, func() {
						cfg := w.link(name, w.cfg)
						cfg.latency = 100 * time.Millisecond
						o := options(name)
						o.Bug = bug
						svc := open(cfg, o)
						lock, err := svc.LockMigrator(context.Background())
						if err != nil {
							sched.Assertf(errors.Is(err, leaseconfig.ErrMigratorRunning), "%s: LockMigrator: %v", name, err)
							refused++
							return
						}
						for _, o := range locks {
							if o.lock.Err() == nil && lock.Err() == nil {
								both = fmt.Sprintf("%s and %s both hold the migration lock at +%v", o.name, name, elapsed())
							}
						}
						locks = append(locks, holding{name, lock})
						sched.Sleep(2 * poll)
					}, sched.ProcessOptions{}))
				}
				for _, p := range procs {
					p.Wait()
				}
			}, func() string {
				if both != "" {
					return both
				}
				if refused != 1 {
					return fmt.Sprintf("%d of the two contenders were refused, want exactly one", refused)
				}
				return ""
			}
	})
}

// crashAfterPush is a migrator's configuration service whose process
// crashes right after a push of state returned.
type crashAfterPush struct {
	mtable.ConfigService
	state mtable.State
}

func (c crashAfterPush) Push(ctx context.Context, s mtable.State) error {
	err := c.ConfigService.Push(ctx, s)
	if err == nil && s == c.state {
		sched.CurrentProcess().Crash()
	}
	return err
}

func (c crashAfterPush) Fence(t spec.Table) spec.Table {
	return c.ConfigService.(mtable.Fencer).Fence(t)
}

// failFirstScan fails the first streamed queries of a table, as many as
// a migrator tries one step (mtable.MaxBackendAttempts): a backend
// failure that outlasts the migrator's retries and makes its Run fail
// while it copies.
type failFirstScan struct {
	spec.Table
	failed int
}

func (f *failFirstScan) QueryStreamed(ctx context.Context, filter spec.Filter) (spec.Stream, error) {
	if f.failed < mtable.MaxBackendAttempts {
		f.failed++
		return nil, spec.WrapNotApplied(errors.New("injected: the service is busy"))
	}
	return f.Table.QueryStreamed(ctx, filter)
}

// TestBugMigratorResumeFromMemory: migrator A pushes PREFER_NEW, fails
// while copying (a transient error), releases the lock and retries with
// the same Migrator. Meanwhile migrator B takes over, finishes the
// pushes and crashes before clean-up; an application deletes a row in
// USE_NEW_HIDE_METADATA (no tombstone). A takes B's lock over and runs
// again: correctly from the stored USE_NEW_HIDE_METADATA (clean-up); with
// the bug from the PREFER_NEW it remembers, so it copies the old table
// again and the deleted row comes back.
func TestBugMigratorResumeFromMemory(t *testing.T) {
	testLeaseBug(t, mtable.BugMigratorResumeFromMemory, resumeScenario)
}

func resumeScenario(bug mtable.Bug) (func(), func() string) {
	w := newWorld()
	for _, rk := range []string{"r1", "r2"} {
		w.old.ExecuteBatch(context.Background(), []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: rk}, Props: spec.Props{"v": spec.Int32(1)}}}})
	}
	var secondErr, deleteErr error
	deleted := false
	return func() {
			ctx := context.Background()
			app := sched.StartProcess("app", func() {
				svc := open(w.link("app", w.cfg), options("app"))
				tbl := mtable.New(w.link("app", w.old), w.link("app", w.new), svc)
				for st, _ := svc.Current(); st != mtable.UseNewHideMetadata; st, _ = svc.Current() {
					sched.Sleep(poll)
				}
				_, deleteErr = tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: "r1"}, ETag: spec.AnyETag}}})
				deleted = true
				sched.Sleep(time.Hour)
			}, sched.ProcessOptions{Daemon: true})
			_ = app
			aFailed := sched.NewChan[struct{}](1)
			b := sched.StartProcess("B", func() {
				svc := open(w.link("B", w.cfg), options("B"))
				sched.Select(aFailed.RecvCase(nil))
				lock, err := svc.LockMigrator(ctx)
				sched.Assertf(err == nil, "B: LockMigrator: %v", err)
				m := mtable.NewMigrator(w.link("B", w.old), w.link("B", w.new), crashAfterPush{svc.MigratorConfig(), mtable.UseNewHideMetadata})
				m.Run(lock.Context())
				sched.Fail(errors.New("B survived its crash"))
			}, sched.ProcessOptions{})
			a := sched.StartProcess("A", func() {
				svc := open(w.link("A", w.cfg), options("A"))
				old := &failFirstScan{Table: w.link("A", w.old)}
				m := mtable.NewMigrator(old, w.link("A", w.new), svc.MigratorConfig(), mtable.WithBug(bug))
				for runs := 0; runs < 2; {
					lock, err := svc.LockMigrator(ctx)
					if err != nil {
						sched.Assertf(errors.Is(err, leaseconfig.ErrMigratorRunning), "A: LockMigrator: %v", err)
						sched.Sleep(poll)
						continue
					}
					err = m.Run(lock.Context())
					lock.Release()
					runs++
					if runs == 1 {
						sched.Assertf(err != nil, "A's first Run did not fail")
						aFailed.Send(struct{}{})
						sched.Sleep(2 * time.Second) // back off before retrying
						continue
					}
					sched.Assertf(deleted, "A ran again before the application deleted the row")
					secondErr = err
				}
			}, sched.ProcessOptions{})
			b.Wait()
			a.Wait()
		}, func() string {
			if deleteErr != nil {
				return fmt.Sprintf("the application's delete failed: %v", deleteErr)
			}
			if _, ok := w.new.Snapshot().Get(spec.Key{PartitionKey: "p", RowKey: "r1"}); ok {
				return fmt.Sprintf("the row deleted in USE_NEW_HIDE_METADATA is back in the new table (A's second Run: %v)", secondErr)
			}
			if secondErr != nil {
				return fmt.Sprintf("A's second Run failed: %v", secondErr)
			}
			if n := len(w.old.Snapshot()); n != 0 {
				return fmt.Sprintf("the old table holds %d rows after the migration", n)
			}
			return ""
		}
}

// TestDeterministic: a scenario with processes, crashes, a stall of time
// and the migrator is reproduced exactly by its seed, whatever
// GOMAXPROCS: the same decisions and the same events.
func TestDeterministic(t *testing.T) {
	run := func(procs int) *sched.Result {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		body, _ := resumeScenario(mtable.NoBug)
		res, err := sched.Run(sched.Config{Strategy: "pct", Seed: 7, ExpectedSteps: 2000, MaxSteps: 300000}, body)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failure != nil {
			t.Fatalf("%v\n%s", res.Failure, res.Report(30))
		}
		return res
	}
	a, b := run(1), run(4)
	if !reflect.DeepEqual(a.Trace.Decisions, b.Trace.Decisions) {
		t.Errorf("two runs from one seed made different decisions (%d and %d)", len(a.Trace.Decisions), len(b.Trace.Decisions))
	}
	if !reflect.DeepEqual(a.Events, b.Events) {
		t.Errorf("two runs from one seed logged different events (%d and %d)", len(a.Events), len(b.Events))
	}
	if len(a.Faults) == 0 || a.Elapsed < ttl {
		t.Errorf("the scenario had %d faults over %v: want crashes and more than a lease of virtual time", len(a.Faults), a.Elapsed)
	}
}
