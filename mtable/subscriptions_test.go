package mtable_test

import (
	"context"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// TestSubscriptionsUnderScheduler: under every schedule, Deliver returns
// only after each subscription present when it began has acknowledged or
// been cancelled, never waits for one made later, and a subscriber sees
// the delivered state.
func TestSubscriptionsUnderScheduler(t *testing.T) {
	seeds := 50
	if testing.Short() {
		seeds = 10
	}
	total := 0
	for _, strategy := range []string{"random", "pct", "pos"} {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			late := 0
			res, err := sched.Run(sched.Config{Strategy: strategy, Seed: seed}, func() {
				ctx := context.Background()
				subs := mtable.NewSubscriptions(mtable.UseOldHideMetadata)
				applied := mtable.UseOldHideMetadata
				_, cancelSub, _ := subs.Subscribe(ctx, subFunc(func(_ context.Context, s mtable.State) error {
					applied = s
					return nil
				}))
				defer cancelSub()
				st, cancelCall, _ := subs.Subscribe(ctx, nil) // a call in flight
				sched.Assertf(st == mtable.UseOldHideMetadata, "call began under %s", st)
				callDone := false
				var cancelLate func()
				sched.GoNamed("call", func() {
					sched.Yield()
					// A call begun after the delivery started is not waited for.
					// It is held until main cancels it, after Deliver.
					if s, cancel, _ := subs.Subscribe(ctx, nil); s == mtable.PreferOld {
						late++
						cancelLate = cancel
					} else {
						cancel()
					}
					callDone = true
					cancelCall()
				})
				err := subs.Deliver(ctx, mtable.PreferOld)
				sched.Assertf(err == nil, "Deliver: %v", err)
				sched.Assertf(callDone, "Deliver returned while a call begun under the earlier state was in flight")
				sched.Assertf(applied == mtable.PreferOld, "subscriber holds %s after Deliver, want PREFER_OLD", applied)
				sched.Assertf(subs.Current() == mtable.PreferOld, "Current: %s", subs.Current())
				if cancelLate != nil {
					cancelLate()
				}
				err = subs.Deliver(ctx, mtable.UseOldHideMetadata)
				sched.Assertf(err != nil, "a delivery of an earlier state was accepted")
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Failure != nil {
				t.Fatalf("%s seed %d: %v\n%s", strategy, seed, res.Failure, res.Report(20))
			}
			total += late
		}
	}
	// The sweep must see both orders: the call's second subscription
	// before the delivery began (waited for) and after (not waited for).
	if runs := 3 * seeds; total == 0 || total == runs {
		t.Errorf("late subscriptions under PREFER_OLD in %d of %d runs; want some, not all", total, runs)
	}
}
