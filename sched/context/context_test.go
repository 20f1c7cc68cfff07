package context_test

import (
	stdcontext "context"
	"errors"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/context"
)

// The types and errors are the context package's.
var (
	_ stdcontext.Context         = context.Background()
	_ stdcontext.CancelFunc      = context.CancelFunc(nil)
	_ stdcontext.CancelCauseFunc = context.CancelCauseFunc(nil)
)

// TestVirtualDeadlines: under a run WithTimeout, WithDeadline and their
// Cause forms expire in virtual time, with the standard errors, and the
// re-exported functions derive contexts that follow them.
func TestVirtualDeadlines(t *testing.T) {
	cause := errors.New("slow")
	res, err := sched.Run(sched.Config{}, func() {
		start := sched.Now()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		child, childCancel := context.WithCancel(context.WithValue(ctx, "k", "v"))
		defer childCancel()
		dctx, dcancel := context.WithDeadlineCause(context.TODO(), start.Add(time.Hour), cause)
		defer dcancel()
		tctx, tcancel := context.WithTimeoutCause(context.WithoutCancel(ctx), 2*time.Hour, cause)
		defer tcancel()
		sched.Select(sched.DoneCase(child, nil))
		sched.Assertf(sched.Since(start) == time.Minute, "child done at +%v, want +1m", sched.Since(start))
		sched.Assertf(errors.Is(child.Err(), context.DeadlineExceeded), "child.Err: %v", child.Err())
		sched.Assertf(child.Value("k") == "v", "child.Value: %v", child.Value("k"))
		sched.Select(sched.DoneCase(dctx, nil))
		sched.Assertf(sched.Since(start) == time.Hour && context.Cause(dctx) == cause, "WithDeadlineCause: done at +%v with cause %v", sched.Since(start), context.Cause(dctx))
		sched.Assertf(tctx.Err() == nil, "WithoutCancel's child done with its parent")
		sched.Select(sched.DoneCase(tctx, nil))
		sched.Assertf(context.Cause(tctx) == cause, "WithTimeoutCause: cause %v", context.Cause(tctx))
		d, _ := context.WithDeadline(ctx, start)
		sched.Assertf(errors.Is(d.Err(), context.DeadlineExceeded), "past deadline: Err %v", d.Err())
		c, cc := context.WithCancelCause(context.Background())
		cc(cause)
		sched.Assertf(errors.Is(c.Err(), context.Canceled) && context.Cause(c) == cause, "WithCancelCause: %v %v", c.Err(), context.Cause(c))
	})
	if err != nil || res.Failure != nil {
		t.Fatalf("%v %v", err, res.Failure)
	}
}

// TestPlain: outside a run they are the context package's.
func TestPlain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("Err: %v", ctx.Err())
	}
	stopped := make(chan struct{})
	c, cc := context.WithCancel(context.Background())
	context.AfterFunc(c, func() { close(stopped) })
	cc()
	<-stopped
}
