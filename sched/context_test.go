package sched_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

type ctxKey string

// TestWithTimeoutVirtual: a virtual context expires when the scheduler
// moves the clock past its deadline, with the standard errors, and
// contexts derived from it with the context package follow it
// synchronously, with the same error and cause.
func TestWithTimeoutVirtual(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		base := context.WithValue(context.Background(), ctxKey("k"), "v")
		ctx, cancel := sched.WithTimeout(base, 5*time.Second)
		defer cancel()
		dl, ok := ctx.Deadline()
		sched.Assertf(ok && dl.Equal(sched.DefaultStart.Add(5*time.Second)), "Deadline: %v %v", dl, ok)
		sched.Assertf(ctx.Value(ctxKey("k")) == "v", "Value: %v", ctx.Value(ctxKey("k")))
		child, childCancel := context.WithCancel(ctx)
		defer childCancel()
		valued := context.WithValue(ctx, ctxKey("x"), 1)
		stdTimeout, stdCancel := context.WithTimeout(ctx, time.Hour)
		defer stdCancel()
		sched.Assertf(ctx.Err() == nil && child.Err() == nil, "done before the deadline")

		took := sched.Select(sched.DoneCase(valued, nil), sched.After(time.Hour).RecvCase(nil))
		sched.Assertf(took == 0, "Select took case %d, want the context", took)
		sched.Assertf(sched.Since(sched.DefaultStart) == 5*time.Second, "woke at +%v, want +5s", sched.Since(sched.DefaultStart))
		for name, c := range map[string]context.Context{"ctx": ctx, "child": child, "valued": valued, "std timeout": stdTimeout} {
			sched.Assertf(errors.Is(c.Err(), context.DeadlineExceeded), "%s.Err: %v", name, c.Err())
			sched.Assertf(errors.Is(context.Cause(c), context.DeadlineExceeded), "Cause(%s): %v", name, context.Cause(c))
			select {
			case <-c.Done():
			default:
				sched.Fail(errors.New(name + ".Done not closed"))
			}
		}
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
}

// TestVirtualContextCancel: the cancel function cancels the context and
// its derived contexts at once, with context.Canceled; a cancelled parent
// cancels a virtual child; a standard parent cancelled by a machine is
// noticed at once by Err and at the next scheduling point by a Select.
func TestVirtualContextCancel(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		ctx, cancel := sched.WithTimeout(context.Background(), time.Minute)
		inner, innerCancel := sched.WithTimeout(ctx, time.Hour)
		defer innerCancel()
		dl, _ := inner.Deadline()
		sched.Assertf(dl.Equal(sched.DefaultStart.Add(time.Minute)), "inner deadline %v, want the parent's", dl)
		child, childCancel := context.WithCancel(inner)
		defer childCancel()
		cancel()
		for name, c := range map[string]context.Context{"ctx": ctx, "inner": inner, "child": child} {
			sched.Assertf(errors.Is(c.Err(), context.Canceled), "%s.Err: %v", name, c.Err())
		}

		std, stdCancel := context.WithCancelCause(context.Background())
		v, vCancel := sched.WithTimeout(std, time.Hour)
		defer vCancel()
		waiter := sched.NewFuture[error]()
		sched.GoNamed("waiter", func() {
			sched.Select(sched.DoneCase(v, nil))
			waiter.Resolve(context.Cause(v))
		})
		sched.Yield()
		boom := errors.New("boom")
		stdCancel(boom)
		sched.Assertf(errors.Is(v.Err(), context.Canceled), "virtual child of a cancelled std parent: Err %v", v.Err())
		sched.Assertf(waiter.Wait() == boom, "cause seen by the waiter: want boom")
		sched.Assertf(sched.Since(sched.DefaultStart) == 0, "the clock moved")
	})
	if res.Failure != nil {
		t.Fatal(res.Failure)
	}
}

// TestDoneCaseStdContext: a Select on a standard context cancelled by
// another machine wakes at the next scheduling point.
func TestDoneCaseStdContext(t *testing.T) {
	for seed := uint64(0); seed < 50; seed++ {
		res := mustRun(t, sched.Config{Seed: seed}, func() {
			ctx, cancel := context.WithCancel(context.Background())
			sched.GoNamed("canceller", func() {
				sched.Sleep(time.Second)
				cancel()
			})
			sched.Select(sched.DoneCase(ctx, nil))
			sched.Assertf(sched.Since(sched.DefaultStart) == time.Second, "woke at +%v", sched.Since(sched.DefaultStart))
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
	}
}

// TestContextUncontrolled: outside a run WithTimeout is the context
// package's and DoneCase works in a plain Select.
func TestContextUncontrolled(t *testing.T) {
	ctx, cancel := sched.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if sched.Select(sched.DoneCase(ctx, nil)) != 0 || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err %v, want DeadlineExceeded", ctx.Err())
	}
}

// TestDeadlineCause: WithTimeoutCause and WithDeadlineCause contexts
// expire with context.DeadlineExceeded and the given cause, under a run
// (in virtual time) and outside one; cancelled first, their cause is
// context.Canceled.
func TestDeadlineCause(t *testing.T) {
	cause := errors.New("lease lost")
	check := func(expired, cancelled context.Context) error {
		if err := expired.Err(); !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("expired: Err %v", err)
		}
		if got := context.Cause(expired); got != cause {
			return fmt.Errorf("expired: Cause %v, want %v", got, cause)
		}
		if err, got := cancelled.Err(), context.Cause(cancelled); !errors.Is(err, context.Canceled) || !errors.Is(got, context.Canceled) {
			return fmt.Errorf("cancelled: Err %v, Cause %v", err, got)
		}
		return nil
	}
	prog := func() error {
		expired, cancel1 := sched.WithTimeoutCause(context.Background(), time.Millisecond, cause)
		defer cancel1()
		cancelled, cancel2 := sched.WithDeadlineCause(context.Background(), sched.Now().Add(time.Hour), cause)
		cancel2()
		sched.Select(sched.DoneCase(expired, nil))
		return check(expired, cancelled)
	}
	if err := prog(); err != nil {
		t.Errorf("outside a run: %v", err)
	}
	res := mustRun(t, sched.Config{}, func() {
		if err := prog(); err != nil {
			sched.Fail(err)
		}
		// A deadline already passed expires at once, with the cause.
		past, cancel := sched.WithDeadlineCause(context.Background(), sched.Now().Add(-time.Second), cause)
		defer cancel()
		sched.Assertf(context.Cause(past) == cause, "past deadline: Cause %v", context.Cause(past))
	})
	if res.Failure != nil {
		t.Errorf("under a run: %v", res.Failure)
	}
}

// TestWithValueOfVirtual: a context the context package derives from
// WithValue of a virtual context is cancelled synchronously with it (a
// Select on it wakes when the deadline passes), on every schedule.
func TestWithValueOfVirtual(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		res := mustRun(t, sched.Config{Seed: seed}, func() {
			ctx, cancel := sched.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			valued := sched.WithValue(ctx, ctxKey("k"), "v")
			child, childCancel := context.WithCancel(valued)
			defer childCancel()
			timeout, timeoutCancel := context.WithTimeout(sched.WithValue(valued, ctxKey("j"), 1), time.Hour)
			defer timeoutCancel()
			sched.Select(sched.DoneCase(child, nil))
			sched.Select(sched.DoneCase(timeout, nil))
			sched.Assertf(errors.Is(child.Err(), context.DeadlineExceeded), "child.Err: %v", child.Err())
			sched.Assertf(errors.Is(timeout.Err(), context.DeadlineExceeded), "timeout.Err: %v", timeout.Err())
			sched.Assertf(child.Value(ctxKey("k")) == "v" && timeout.Value(ctxKey("j")) == 1, "values lost")
			sched.Assertf(sched.Since(sched.DefaultStart) == time.Minute, "done at +%v", sched.Since(sched.DefaultStart))
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
	}
}
