// Package fix is the fixed variant of GoKer's kernel of cockroach#13755
// (see the parent package for the bug), fixed as GoKer's comments say:
// closing the rows cancels their context, and the caller closes them.
package fix

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
	rs.cancel()
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
	rs.close(nil)
}
