// Package moby25384 is GoKer's kernel of moby#25384
// (goker/blocking/moby/25384/moby25384_test.go in timmyyuan/gobench;
// upstream https://github.com/moby/moby/pull/25384), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a misused WaitGroup: the plugin manager adds one to the group
// per plugin and starts a goroutine per plugin that calls Done, but
// calls Wait inside the loop, after the first goroutine. With two
// plugins the first Wait waits for a Done that no goroutine will call
// until the loop goes on.
package moby25384

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
		group.Wait() // Block here
	}
}
func Moby25384() {
	p1 := &plugin{}
	p2 := &plugin{}
	pm := &Manager{
		plugins: []*plugin{p1, p2},
	}
	sched.Go(pm.init)
}
