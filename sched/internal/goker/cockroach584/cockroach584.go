// Package cockroach584 is GoKer's kernel of cockroach#584
// (goker/blocking/cockroach/584/cockroach584_test.go in
// timmyyuan/gobench; upstream
// https://github.com/cockroachdb/cockroach/pull/584), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, double locking: Gossip's bootstrap and manage loops break out
// when the gossip is closed without unlocking g.mu (the lock is taken
// inside a for loop, so defer cannot release it), and the next Lock of
// g.mu waits forever.
package cockroach584

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type Gossip struct {
	mu     sync.Mutex
	closed bool
}

func (g *Gossip) bootstrap() {
	for {
		g.mu.Lock()
		if g.closed {
			/// Missing g.mu.Unlock
			break
		}
		g.mu.Unlock()
		break
	}
}

func (g *Gossip) manage() {
	for {
		g.mu.Lock()
		if g.closed {
			/// Missing g.mu.Unlock
			break
		}
		g.mu.Unlock()
		break
	}
}
func Cockroach584() {
	g := &Gossip{
		closed: true,
	}
	sched.Go(func() {
		g.bootstrap()
		g.manage()
	})
}
