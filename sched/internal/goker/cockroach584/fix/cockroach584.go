// Package fix is the fixed variant of GoKer's kernel of cockroach#584
// (see the parent package for the bug), fixed as upstream did: unlock
// g.mu before breaking out of the loop.
package fix

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
			g.mu.Unlock()
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
			g.mu.Unlock()
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
