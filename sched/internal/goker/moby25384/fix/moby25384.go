// Package fix is the fixed variant of GoKer's kernel of moby#25384 (see
// the parent package for the bug), fixed as upstream did: Wait once,
// after the loop has started every goroutine.
package fix

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type plugin struct{}

type Manager struct {
	plugins []*plugin
}

func (pm *Manager) init() {
	var group sync.WaitGroup
	group.Add(len(pm.plugins))
	for _, p := range pm.plugins {
		sched.Go(func() {
			func(p *plugin) {
				defer group.Done()
			}(p)
		})
	}
	group.Wait()
}
func Moby25384() {
	p1 := &plugin{}
	p2 := &plugin{}
	pm := &Manager{
		plugins: []*plugin{p1, p2},
	}
	sched.Go(pm.init)
}
