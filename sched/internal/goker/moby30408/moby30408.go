// Package moby30408 is GoKer's kernel of moby#30408
// (goker/blocking/moby/30408/moby30408_test.go in timmyyuan/gobench;
// upstream https://github.com/moby/moby/pull/30408), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a condition variable that is never signalled: waitActive
// waits on the plugin's Cond until the plugin is activated, but a plugin
// whose activation failed is never activated and nobody signals, so the
// waiter, and the test waiting for it, block forever.
package moby30408

import (
	"errors"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type Manifest struct {
	Implements []string
}

type Plugin struct {
	activateWait *sync.Cond
	activateErr  error
	Manifest     *Manifest
}

func (p *Plugin) waitActive() error {
	p.activateWait.L.Lock()
	for !p.activated() {
		p.activateWait.Wait()
	}
	p.activateWait.L.Unlock()
	return p.activateErr
}

func (p *Plugin) activated() bool {
	return p.Manifest != nil
}

func testActive(p *Plugin) {
	done := sched.NewChan[struct{}](0)
	sched.Go(func() {
		p.waitActive()
		done.Close()
	})
	done.Recv()
}
func Moby30408() {
	p := &Plugin{activateWait: sync.NewCond(&sync.Mutex{})}
	p.activateErr = errors.New("some junk happened")

	testActive(p)
}
