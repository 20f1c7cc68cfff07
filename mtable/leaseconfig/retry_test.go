package leaseconfig_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// TestPushRetriesTransientFailures: a push whose requests to the
// configuration table fail with a 503 tries each again, up to
// mtable.MaxBackendAttempts tries in all, and succeeds when a try gets
// through; it fails, with an error wrapping spec.ErrNotApplied, only
// when every try failed. With bug 19 (ConfigNoRetry) the first failure
// fails the push.
func TestPushRetriesTransientFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		busy   int
		bug    mtable.Bug
		wantOK bool
	}{
		{"one 503", 1, mtable.NoBug, true},
		{"every try but the last", mtable.MaxBackendAttempts - 1, mtable.NoBug, true},
		{"every try", mtable.MaxBackendAttempts, mtable.NoBug, false},
		{"one 503, bug 19", 1, mtable.BugConfigNoRetry, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sweep(t, func() (func(), func() error) {
				w := newWorld()
				var err error
				var state mtable.State
				return func() {
						l := w.link("migrator", w.cfg)
						opts := options("migrator")
						opts.Bug = tc.bug
						m := open(l, opts)
						l.busy = tc.busy
						err = m.Push(context.Background(), mtable.PreferOld)
						state, _ = m.Current()
						m.Close()
					}, func() error {
						switch {
						case tc.wantOK && err != nil:
							return fmt.Errorf("push after %d failed requests: got %v, want success", tc.busy, err)
						case tc.wantOK && state != mtable.PreferOld:
							return fmt.Errorf("state after the push: got %v, want PREFER_OLD", state)
						case !tc.wantOK && !errors.Is(err, spec.ErrNotApplied):
							return fmt.Errorf("push after %d failed requests: got %v, want an error wrapping spec.ErrNotApplied", tc.busy, err)
						}
						return nil
					}
			})
		})
	}
}
