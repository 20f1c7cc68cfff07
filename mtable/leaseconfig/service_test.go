package leaseconfig_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// recorder is a Subscriber that records the states it was given.
type recorder struct{ states []mtable.State }

func (r *recorder) Apply(ctx context.Context, s mtable.State) error {
	r.states = append(r.states, s)
	return nil
}

// TestPushWaitsForEveryLease: a push returns only when every live lease
// has acknowledged, and a process acknowledges only once its calls
// begun under the previous state have ended; its Subscribers get the
// state.
func TestPushWaitsForEveryLease(t *testing.T) {
	sweep(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		var callEnd, pushed time.Duration
		rec := &recorder{}
		var during []string
		return func() {
				ready := sched.NewChan[struct{}](1)
				client := sched.StartProcess("client", func() {
					svc := open(w.link("client", w.cfg), options("client"))
					_, cancel, err := svc.Subscribe(context.Background(), rec)
					sched.Assertf(err == nil, "Subscribe: %v", err)
					defer cancel()
					call(svc, func(ctx context.Context) error {
						ready.Send(struct{}{})
						sched.Sleep(3 * time.Second) // a long call under the initial state
						during = w.leases()
						callEnd = elapsed()
						return nil
					})
					sched.Sleep(time.Second)
				}, sched.ProcessOptions{})
				sched.Select(ready.RecvCase(nil))
				m := open(w.link("migrator", w.cfg), options("migrator"))
				err := m.Push(context.Background(), mtable.PreferOld)
				pushed = elapsed()
				c.expect(err == nil, "push: %v", err)
				client.Wait()
				c.expect(slices.Equal(w.leases(), []string{"client=1", "migrator=1"}), "leases after the push: %v, want both acknowledging version 1", w.leases())
			}, func() error {
				c.expect(pushed >= callEnd, "the push returned at +%v, before the call begun under the previous state ended at +%v", pushed, callEnd)
				c.expect(pushed < callEnd+4*poll, "the push returned at +%v, more than 4 polls after the call ended at +%v", pushed, callEnd)
				c.expect(slices.Contains(during, "client=0"), "while the call ran the client's lease was %v, want it still acknowledging version 0", during)
				c.expect(slices.Equal(rec.states, []mtable.State{mtable.PreferOld}), "the subscriber got %v, want [PREFER_OLD]", rec.states)
				return c.err()
			}
	})
}

// TestCrashedClientExpires: a process that crashes with a call in flight
// delays a push until its lease has shown no renewal for LeaseTTL, no
// longer; the push deletes its lease.
func TestCrashedClientExpires(t *testing.T) {
	sweepSkewed(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		var crashed, pushed time.Duration
		return func() {
				ready := sched.NewChan[struct{}](1)
				client := sched.StartProcess("client", func() {
					svc := open(w.link("client", w.cfg), options("client"))
					call(svc, func(ctx context.Context) error {
						ready.Send(struct{}{})
						sched.Sleep(time.Hour)
						return nil
					})
				}, sched.ProcessOptions{})
				m := open(w.link("migrator", w.cfg), options("migrator"))
				sched.Select(ready.RecvCase(nil))
				crashed = elapsed()
				client.Crash()
				err := m.Push(context.Background(), mtable.PreferOld)
				pushed = elapsed()
				c.expect(err == nil, "push: %v", err)
				c.expect(slices.Equal(w.leases(), []string{"migrator=1"}), "leases after the push: %v, want the crashed client's removed", w.leases())
			}, func() error {
				c.expect(pushed-crashed >= ttl-poll, "the push returned %v after the crash, sooner than the TTL %v", pushed-crashed, ttl)
				c.expect(pushed-crashed <= ttl+4*poll, "the push returned %v after the crash, later than the TTL %v and 4 polls", pushed-crashed, ttl)
				return c.err()
			}
	})
}

// TestClosedClientIsNotWaitedFor: Close deletes the lease at once (no
// request in flight), so a push does not wait for it; the closed service
// refuses calls.
func TestClosedClientIsNotWaitedFor(t *testing.T) {
	sweep(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		return func() {
			gone := open(w.link("gone", w.cfg), options("gone"))
			m := open(w.link("migrator", w.cfg), options("migrator"))
			_, cancel, err := gone.Subscribe(context.Background(), nil)
			sched.Assertf(err == nil, "Subscribe: %v", err)
			defer cancel() // a call left behind by the closed process
			c.expect(gone.Close() == nil, "Close failed")
			_, _, err = gone.Subscribe(context.Background(), nil)
			c.expect(errors.Is(err, leaseconfig.ErrLeaseLost), "Subscribe after Close: got %v, want ErrLeaseLost", err)
			start := elapsed()
			c.expect(m.Push(context.Background(), mtable.PreferOld) == nil, "push failed")
			c.expect(elapsed()-start <= 3*poll, "the push took %v with the only other process closed", elapsed()-start)
		}, c.err
	})
}

// TestSettleAfterMigratorCrash: a migrator that crashes right after
// writing a state, before any client acknowledged it, leaves a state
// that the next migrator's Settle waits for.
func TestSettleAfterMigratorCrash(t *testing.T) {
	sweep(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		var callEnd, settled time.Duration
		return func() {
				ready := sched.NewChan[struct{}](1)
				client := sched.StartProcess("client", func() {
					svc := open(w.link("client", w.cfg), options("client"))
					call(svc, func(ctx context.Context) error {
						ready.Send(struct{}{})
						sched.Sleep(5 * time.Second)
						callEnd = elapsed()
						return nil
					})
					sched.Sleep(time.Second)
				}, sched.ProcessOptions{})
				sched.Select(ready.RecvCase(nil))
				first := sched.StartProcess("migrator1", func() {
					l := w.link("migrator1", w.cfg)
					l.afterWrite = func(ops []spec.Op) {
						if ops[0].Entity.RowKey == "state" && ops[0].Kind == spec.Replace {
							sched.CurrentProcess().Crash() // the state is written; nobody has acknowledged it
						}
					}
					m := open(l, options("migrator1"))
					m.Push(context.Background(), mtable.PreferOld)
					sched.Fail(errors.New("the first migrator survived its crash"))
				}, sched.ProcessOptions{})
				first.Wait()
				c.expect(w.newest() == mtable.PreferOld, "stored state after the crash: %s, want PREFER_OLD", w.newest())
				second := open(w.link("migrator2", w.cfg), options("migrator2"))
				err := second.Settle(context.Background())
				settled = elapsed()
				c.expect(err == nil, "Settle: %v", err)
				client.Wait()
			}, func() error {
				c.expect(settled >= callEnd, "Settle returned at +%v, before the client's call under the previous state ended at +%v", settled, callEnd)
				return c.err()
			}
	})
}

// TestStalledClientIsFenced: a client stalled past its lease sends
// nothing when it wakes: the request of its call in flight is refused
// unsent, a new call is refused with ErrLeaseLost, and the migration has
// moved two states on without it.
func TestStalledClientIsFenced(t *testing.T) {
	sweepSkewed(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		var reqErr, subErr error
		return func() {
				ready := sched.NewChan[struct{}](1)
				client := sched.StartProcess("client", func() {
					svc := open(w.link("client", w.cfg), options("client"))
					data := w.link("client", w.data)
					data.record = true
					fenced := svc.Fence(data)
					call(svc, func(ctx context.Context) error {
						c.expect(write(ctx, fenced, "before") == nil, "write before the stall failed")
						ready.Send(struct{}{})
						sched.CurrentProcess().Stall(3 * ttl)
						reqErr = write(ctx, fenced, "after")
						return nil
					})
					_, _, subErr = svc.Subscribe(context.Background(), nil)
				}, sched.ProcessOptions{})
				sched.Select(ready.RecvCase(nil))
				m := open(w.link("migrator", w.cfg), options("migrator"))
				c.expect(m.Push(context.Background(), mtable.PreferOld) == nil, "push PREFER_OLD failed")
				c.expect(m.Push(context.Background(), mtable.PreferNew) == nil, "push PREFER_NEW failed")
				client.Wait()
			}, func() error {
				c.expect(errors.Is(reqErr, leaseconfig.ErrFenced) && strings.Contains(fmt.Sprint(reqErr), "request not sent"), "the stalled call's request: got %v, want ErrFenced, not sent", reqErr)
				var se *spec.Error
				c.expect(!errors.As(reqErr, &se), "the fence error is a *spec.Error (%v)", reqErr)
				c.expect(errors.Is(subErr, leaseconfig.ErrLeaseLost), "Subscribe after the stall: got %v, want ErrLeaseLost", subErr)
				c.expect(len(w.landed) == 1 && w.landed[0].keys[0] == "before", "writes that landed: %+v, want only the one before the stall", w.landed)
				c.expect(w.maxGap <= 1, "a write landed %d states behind the newest", w.maxGap)
				return c.err()
			}
	})
}

// TestUnknownOutcomeDelaysAck: a write whose outcome the client does not
// learn (it timed out) may still land until MaxInFlight after it was
// sent; the process does not acknowledge the next state before that, so
// it lands before the state after next can be written.
func TestUnknownOutcomeDelaysAck(t *testing.T) {
	sweep(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		var sent, acked time.Duration
		var writeErr error
		return func() {
				ready := sched.NewChan[struct{}](1)
				client := sched.StartProcess("client", func() {
					svc := open(w.link("client", w.cfg), options("client"))
					data := w.link("client", w.data)
					data.record, data.latency = true, inFlt-100*time.Millisecond // answered too late, lands in time
					fenced := svc.Fence(data)
					ready.Send(struct{}{})
					sched.Sleep(poll / 2)
					call(svc, func(ctx context.Context) error {
						sent = elapsed()
						writeErr = write(ctx, fenced, "slow")
						return nil
					})
					sched.Sleep(2 * ttl)
				}, sched.ProcessOptions{Daemon: true})
				sched.Select(ready.RecvCase(nil))
				m := open(w.link("migrator", w.cfg), options("migrator"))
				c.expect(m.Push(context.Background(), mtable.PreferOld) == nil, "push PREFER_OLD failed")
				acked = elapsed()
				c.expect(m.Push(context.Background(), mtable.PreferNew) == nil, "push PREFER_NEW failed")
				_ = client
			}, func() error {
				c.expect(errors.Is(writeErr, context.DeadlineExceeded), "the slow write: got %v, want a timeout", writeErr)
				c.expect(acked >= sent+inFlt, "PREFER_OLD was acknowledged at +%v, before the write sent at +%v could no longer land (+%v)", acked, sent, sent+inFlt)
				c.expect(len(w.landed) == 1, "writes landed: %+v, want the slow one", w.landed)
				c.expect(w.maxGap <= 1, "the slow write landed %d states behind the newest", w.maxGap)
				return c.err()
			}
	})
}

// TestSameClientIDTwice: two processes given the same ClientID hold one
// lease each, both live; the migration lock of one is refused to the
// other.
func TestSameClientIDTwice(t *testing.T) {
	sweep(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		return func() {
			first := open(w.link("first", w.cfg), options("same"))
			second := open(w.link("second", w.cfg), options("same"))
			c.expect(first.Instance() != second.Instance(), "both instances are %s", first.Instance())
			lock, err := first.LockMigrator(context.Background())
			sched.Assertf(err == nil, "LockMigrator: %v", err)
			_, err = second.LockMigrator(context.Background())
			c.expect(errors.Is(err, leaseconfig.ErrMigratorRunning), "second instance's LockMigrator: got %v, want ErrMigratorRunning", err)
			sched.Sleep(5 * poll)
			for i, s := range []*leaseconfig.Service{first, second} {
				_, cancel, err := s.Subscribe(context.Background(), nil)
				c.expect(err == nil, "instance %d: Subscribe: %v", i+1, err)
				if err == nil {
					cancel()
				}
			}
			c.expect(lock.Err() == nil, "the first instance's lock: %v", lock.Err())
			c.expect(slices.Equal(w.leases(), []string{"same=0", "same=0"}), "leases: %v, want one per instance", w.leases())
			c.expect(second.Push(context.Background(), mtable.PreferOld) == nil, "push failed")
			c.expect(slices.Equal(w.leases(), []string{"same=1", "same=1"}), "leases after the push: %v, want both acknowledging", w.leases())
			c.expect(lock.Release() == nil, "Release failed")
		}, c.err
	})
}
