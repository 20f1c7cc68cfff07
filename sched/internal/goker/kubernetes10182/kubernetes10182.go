// Package kubernetes10182 is GoKer's kernel of kubernetes#10182
// (goker/blocking/kubernetes/10182/kubernetes10182_test.go in
// timmyyuan/gobench; upstream https://github.com/kubernetes/kubernetes/pull/10182),
// ported to package sched. Its fixed variant is in package fix.
//
// The bug, a mixed deadlock of a lock and a channel: SetPodStatus sends
// on the unbuffered podStatusChannel while holding podStatusesLock, and
// the status manager's goroutine, between two receives from that
// channel, takes the same lock in DeletePodStatus. Once the manager has
// taken one status, a second SetPodStatus that wins the lock blocks on
// the send while the manager blocks on the lock.
package kubernetes10182

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type statusManager struct {
	podStatusesLock  sync.RWMutex
	podStatusChannel *sched.Chan[bool]
}

func (s *statusManager) Start() {
	sched.Go(func() {
		for i := 0; i < 2; i++ {
			s.syncBatch()
		}
	})
}

func (s *statusManager) syncBatch() {
	s.podStatusChannel.Recv()
	s.DeletePodStatus()
}

func (s *statusManager) DeletePodStatus() {
	s.podStatusesLock.Lock()
	defer s.podStatusesLock.Unlock()
}

func (s *statusManager) SetPodStatus() {
	s.podStatusesLock.Lock()
	defer s.podStatusesLock.Unlock()
	s.podStatusChannel.Send(true)
}

func NewStatusManager() *statusManager {
	return &statusManager{
		podStatusChannel: sched.NewChan[bool](0),
	}
}

// / G1 						G2							G3
// / s.Start()
// / s.syncBatch()
// / 						s.SetPodStatus()
// / <-s.podStatusChannel
// / 						s.podStatusesLock.Lock()
// / 						s.podStatusChannel <- true
// / 						s.podStatusesLock.Unlock()
// / 						return
// / s.DeletePodStatus()
// / 													s.podStatusesLock.Lock()
// / 													s.podStatusChannel <- true
// / s.podStatusesLock.Lock()
// / -----------------------------G1,G3 deadlock----------------------------
func Kubernetes10182() {
	s := NewStatusManager()
	sched.Go(s.Start)
	sched.Go(s.SetPodStatus) // G2
	sched.Go(s.SetPodStatus) // G3
}
