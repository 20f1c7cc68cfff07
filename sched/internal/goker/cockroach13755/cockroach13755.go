// Package cockroach13755 is GoKer's kernel of cockroach#13755
// (goker/blocking/cockroach/13755/cockroach13755_test.go in
// timmyyuan/gobench; upstream
// https://github.com/cockroachdb/cockroach/pull/13755), ported to
// package sched. Its fixed variant is in package fix.
//
// The bug, a goroutine leak on a context: a query's Rows start a
// goroutine that waits for the rows' context to be cancelled, which
// happens when the rows are closed; the code never closes them, so the
// goroutine waits forever.
package cockroach13755

import (
	"context"

	"github.com/migratingtable/migratingtable/sched"
)

type Rows struct {
	cancel context.CancelFunc
}

func (rs *Rows) initContextClose(ctx context.Context) {
	ctx, rs.cancel = context.WithCancel(ctx)
	sched.Go(func() { rs.awaitDone(ctx) })
}

func (rs *Rows) awaitDone(ctx context.Context) {
	sched.Select(sched.DoneCase(ctx, nil))
	rs.close(ctx.Err())
}

func (rs *Rows) close(err error) {
	// rs.cancel()
}

// / G1 						G2
// / initContextClose()
// / 						awaitDone()
// / 						<-tx.ctx.Done()
// / return
// / ---------------G2 leak-----------------
func Cockroach13755() {
	rs := &Rows{}
	rs.initContextClose(context.Background())
	// FIX: rs.close()
}
