// Package fix is the fixed variant of GoKer's kernel of moby#30408 (see
// the parent package for the bug), fixed as upstream did: waitActive
// also stops waiting once activation has failed.
package fix

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
	for !p.activated() && p.activateErr == nil {
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
