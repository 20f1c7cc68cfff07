// Package serving5865 is GoKer's kernel of serving#5865
// (goker/nonblocking/serving/5865/serving5865_test.go in
// timmyyuan/gobench; upstream
// https://github.com/knative/serving/pull/5865), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a misused channel: the activator's revision watcher closes
// its destsCh from the receiving side when it finishes running, while
// the backends manager sends endpoint updates on that channel: a send on
// a closed channel, which panics.
package serving5865

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type revisionWatcher struct {
	destsCh *sched.Chan[struct{}]
}

func (rw *revisionWatcher) run() {
	defer rw.destsCh.Close()
}

type revisionBackendsManager struct {
	revisionWatchersMux sync.RWMutex
}

func newRevisionWatcher(destsCh *sched.Chan[struct{}]) *revisionWatcher {
	return &revisionWatcher{destsCh: destsCh}
}

func (rbm *revisionBackendsManager) endpointsUpdated() {
	rw := rbm.getOrCreateRevisionWatcher()
	rw.destsCh.Send(struct{}{})
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
