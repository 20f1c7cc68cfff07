// Package istio8967 is GoKer's kernel of istio#8967
// (goker/nonblocking/istio/8967/istio8967_test.go in timmyyuan/gobench;
// upstream https://github.com/istio/istio/pull/8967), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a data race on a channel variable: the file-system source's
// Stop closes donec and then sets it to nil, while the goroutine started
// by Start reads donec on every turn of its loop. A read after the nil
// store selects on a nil channel and blocks forever.
//
// The port marks donec as sched.Racy, so that its unsynchronised reads
// and writes are scheduling points.
package istio8967

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
	s.donec.Store(nil)
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
