// Package fix is the fixed variant of GoKer's kernel of kubernetes#10182
// (see the parent package for the bug). Obvious fix, not upstream's:
// SetPodStatus releases podStatusesLock (which guards the status map the
// kernel leaves out) before it sends, so the status manager can take the
// lock between two receives. Upstream (PR 10182) stopped sending
// unchanged statuses into its buffered channel, which the kernel does
// not model.
package fix

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
	s.podStatusesLock.Unlock()
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
