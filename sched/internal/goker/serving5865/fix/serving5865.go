// Package fix is the fixed variant of GoKer's kernel of serving#5865
// (see the parent package for the bug), fixed as upstream did: the
// watcher signals that it has finished on a done channel of its own
// instead of closing destsCh, and the manager's send gives up once the
// watcher is done.
package fix

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type revisionWatcher struct {
	destsCh *sched.Chan[struct{}]
	done    *sched.Chan[struct{}]
}

func (rw *revisionWatcher) run() {
	defer rw.done.Close()
}

type revisionBackendsManager struct {
	revisionWatchersMux sync.RWMutex
}

func newRevisionWatcher(destsCh *sched.Chan[struct{}]) *revisionWatcher {
	return &revisionWatcher{destsCh: destsCh, done: sched.NewChan[struct{}](0)}
}

func (rbm *revisionBackendsManager) endpointsUpdated() {
	rw := rbm.getOrCreateRevisionWatcher()
	sched.Select(rw.destsCh.SendCase(struct{}{}, nil), rw.done.RecvCase(nil))
}

func (rbm *revisionBackendsManager) getOrCreateRevisionWatcher() *revisionWatcher {
	rbm.revisionWatchersMux.Lock()
	defer rbm.revisionWatchersMux.Unlock()

	destsCh := sched.NewChan[struct{}](0)
	rw := newRevisionWatcher(destsCh)
	sched.Go(rw.run)

	return rw
}

func newRevisionBackendsManagerWithProbeFrequency() *revisionBackendsManager {
	rbm := &revisionBackendsManager{}
	return rbm
}

func Serving5865() {
	rbm := newRevisionBackendsManagerWithProbeFrequency()

	// Simplified code in the RealTestSuite
	func() {
		rbm.endpointsUpdated()
	}()
}
