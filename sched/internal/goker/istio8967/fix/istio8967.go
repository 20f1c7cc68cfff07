// Package fix is the fixed variant of GoKer's kernel of istio#8967 (see
// the parent package for the bug). Obvious fix: Stop closes donec and
// leaves it set, so the loop always finds the closed channel.
package fix

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
	"github.com/migratingtable/migratingtable/sched/time"
)

type Source interface {
	Start()
	Stop()
}

type fsSource struct {
	donec sched.Racy[*sched.Chan[struct{}]]
}

func (s *fsSource) Start() {
	sched.Go(func() {
		for {
			switch sched.Select(s.donec.Load().RecvCase(nil)) {
			case 0:
				return
			}
		}
	})
}

func (s *fsSource) Stop() {
	s.donec.Load().Close()
}

func newFsSource() *fsSource {
	s := &fsSource{}
	s.donec.Store(sched.NewChan[struct{}](0))
	return s
}

func New() Source {
	return newFsSource()
}

func Istio8967() {
	var wg sync.WaitGroup
	wg.Add(1)
	sched.Go(func() {
		defer wg.Done()
		s := New()
		s.Start()
		s.Stop()
		time.Sleep(5 * time.Millisecond)
	})
	wg.Wait()
}
