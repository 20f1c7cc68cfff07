package leaseconfig_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// TestLockTakeoverAfterCrash: a second migrator is refused while the
// holder renews the lock, and takes it over once the holder has crashed
// and its lock has shown no renewal for LeaseTTL.
func TestLockTakeoverAfterCrash(t *testing.T) {
	sweepSkewed(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		var crashed, taken time.Duration
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
				next := open(w.link("next", w.cfg), options("next"))
				_, err := next.LockMigrator(context.Background())
				c.expect(errors.Is(err, leaseconfig.ErrMigratorRunning), "while the holder renews: got %v, want ErrMigratorRunning", err)
				crashed = elapsed()
				holder.Crash()
				lock, err := next.LockMigrator(context.Background())
				taken = elapsed()
				sched.Assertf(err == nil, "after the holder crashed: LockMigrator: %v", err)
				st, _ := leaseconfig.ReadStatus(context.Background(), w.cfg, "")
				c.expect(st.Migrator == "next" && st.MigratorInstance == next.Instance(), "lock holder: %q (instance %s), want next (instance %s)", st.Migrator, st.MigratorInstance, next.Instance())
				c.expect(lock.Err() == nil, "the new holder's fence: %v", lock.Err())
				c.expect(lock.Release() == nil, "Release failed")
				st, _ = leaseconfig.ReadStatus(context.Background(), w.cfg, "")
				c.expect(st.Migrator == "", "after Release the lock is held by %q", st.Migrator)
				c.expect(errors.Is(lock.Err(), leaseconfig.ErrFenced), "fence of a released lock: %v, want ErrFenced", lock.Err())
			}, func() error {
				c.expect(taken-crashed >= ttl-poll && taken-crashed <= ttl+3*poll, "taken over %v after the crash, want about the TTL %v", taken-crashed, ttl)
				return c.err()
			}
	})
}

// TestStalledMigratorIsFenced is issue 10 item 3 under the scheduler: a
// migrator stalled past its lock's lease is replaced, and when it wakes
// it writes nothing: its writes are refused unsent, its lock's context
// is cancelled, and releasing it leaves the new holder's lock alone.
func TestStalledMigratorIsFenced(t *testing.T) {
	sweepSkewed(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		var takenOver time.Duration
		var lateErr error
		var cause error
		return func() {
				locked := sched.NewChan[struct{}](1)
				stalled := sched.StartProcess("stalled", func() {
					svc := open(w.link("stalled", w.cfg), options("stalled"))
					lock, err := svc.LockMigrator(context.Background())
					sched.Assertf(err == nil, "LockMigrator: %v", err)
					data := w.link("stalled", w.data)
					data.record = true
					fenced := lock.Fence(data)
					sched.Assertf(write(context.Background(), fenced, "a1") == nil, "write before the stall failed")
					locked.Send(struct{}{})
					sched.CurrentProcess().Stall(3 * ttl) // SIGSTOP between two writes
					lateErr = write(context.Background(), fenced, "a2")
					for lock.Context().Err() == nil {
						sched.Sleep(poll)
					}
					cause = context.Cause(lock.Context())
					c.expect(lock.Release() == nil, "releasing a lock taken over failed")
				}, sched.ProcessOptions{})
				sched.Select(locked.RecvCase(nil))
				next := open(w.link("next", w.cfg), options("next"))
				var lock *leaseconfig.Lock
				for {
					var err error
					if lock, err = next.LockMigrator(context.Background()); err == nil {
						break
					}
					sched.Assertf(errors.Is(err, leaseconfig.ErrMigratorRunning), "LockMigrator: %v", err)
				}
				takenOver = elapsed()
				data := w.link("next", w.data)
				data.record = true
				c.expect(write(context.Background(), lock.Fence(data), "b1") == nil, "the new holder's write failed")
				stalled.Wait()
				st, _ := leaseconfig.ReadStatus(context.Background(), w.cfg, "")
				c.expect(st.Migrator == "next", "after the stalled migrator's release the lock is held by %q, want next", st.Migrator)
				lock.Release()
			}, func() error {
				c.expect(errors.Is(lateErr, leaseconfig.ErrFenced), "the stalled migrator's write after waking: got %v, want ErrFenced", lateErr)
				for _, l := range w.landed {
					c.expect(l.who != "stalled" || l.at < takenOver, "the stalled migrator's write %v landed at +%v, after the lock was taken over at +%v", l.keys, l.at, takenOver)
				}
				c.expect(len(w.landed) == 2, "writes landed: %+v, want a1 and b1", w.landed)
				c.expect(cause != nil && cause.Error() == "leaseconfig: the migration lock was taken by another migrator", "the stalled lock's context cause: %v", cause)
				return c.err()
			}
	})
}

// TestReleaseWaitsForRequestsInFlight: a released lock is taken at once
// by the next migrator, so Release first waits until the holder's
// request still in flight can no longer land.
func TestReleaseWaitsForRequestsInFlight(t *testing.T) {
	sweep(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		var released time.Duration
		return func() {
				svc := open(w.link("first", w.cfg), options("first"))
				lock, err := svc.LockMigrator(context.Background())
				sched.Assertf(err == nil, "LockMigrator: %v", err)
				data := w.link("first", w.data)
				data.record, data.latency = true, inFlt-100*time.Millisecond
				fenced := lock.Fence(data)
				sched.GoNamed("slow writer", func() {
					err := write(context.Background(), fenced, "slow")
					c.expect(err != nil, "the slow write returned in time")
				})
				sched.Sleep(poll)
				c.expect(lock.Release() == nil, "Release failed")
				released = elapsed()
				next := open(w.link("next", w.cfg), options("next"))
				_, err = next.LockMigrator(context.Background())
				c.expect(err == nil, "LockMigrator after Release: %v", err)
			}, func() error {
				c.expect(len(w.landed) == 1 && w.landed[0].at <= released, "writes landed: %+v; want the slow one, before Release returned at +%v", w.landed, released)
				return c.err()
			}
	})
}

// TestMigratorConfigNeedsTheLock: a Migrator on MigratorConfig sends
// nothing while its Service holds no lock, and runs through the lock's
// fence while it does; after Release it is refused again.
func TestMigratorConfigNeedsTheLock(t *testing.T) {
	sweep(t, func() (func(), func() error) {
		w := newWorld()
		w.old.ExecuteBatch(context.Background(), []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: "r"}, Props: spec.Props{}}}})
		var c checks
		return func() {
			ctx := context.Background()
			svc := open(w.link("migrator", w.cfg), options("migrator"))
			m := mtable.NewMigrator(w.link("migrator", w.old), w.link("migrator", w.new), svc.MigratorConfig())
			err := m.Run(ctx)
			c.expect(errors.Is(err, leaseconfig.ErrFenced) && strings.Contains(err.Error(), "does not hold the migration lock"), "Run without the lock: got %v, want ErrFenced saying so", err)
			c.expect(len(w.new.Snapshot()) == 0, "Run without the lock wrote %d rows to the new table", len(w.new.Snapshot()))
			lock, err := svc.LockMigrator(ctx)
			sched.Assertf(err == nil, "LockMigrator: %v", err)
			c.expect(m.Run(lock.Context()) == nil, "Run with the lock failed")
			c.expect(len(w.old.Snapshot()) == 0 && len(w.new.Snapshot()) == 1, "after the migration: %d old rows, %d new, want 0 and 1", len(w.old.Snapshot()), len(w.new.Snapshot()))
			c.expect(lock.Release() == nil, "Release failed")
			_, err = svc.MigratorConfig().(mtable.Fencer).Fence(w.link("migrator", w.new)).QueryAtomic(ctx, spec.PartitionFilter("p"))
			c.expect(errors.Is(err, leaseconfig.ErrFenced), "a request after Release: got %v, want ErrFenced", err)
		}, c.err
	})
}
