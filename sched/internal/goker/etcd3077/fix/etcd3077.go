// Package fix is the fixed variant of GoKer's kernel of etcd#3077 (see
// the parent package for the bug). Obvious fix: the server makes the
// raft node's channels in start, before it starts any goroutine, instead
// of relying on a sleep.
package fix

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/time"
)

type raftNode struct {
	s       *EtcdServer
	stopped sched.Racy[*sched.Chan[struct{}]]
	done    sched.Racy[*sched.Chan[struct{}]]
}

func (r *raftNode) run() {
	defer r.stop()
	for {
		switch sched.Select(r.stopped.Load().RecvCase(nil)) {
		case 0:
			return
		}
	}
}

func (r *raftNode) stop() {
	r.done.Load().Close()
}

type EtcdServer struct {
	r    raftNode
	done *sched.Chan[struct{}]
	stop *sched.Chan[struct{}]
}

func (s *EtcdServer) run() {
	sched.Go(s.r.run)
	// Wait s.r.run
	time.Sleep(10 * time.Millisecond)
	defer func() {
		s.r.stopped.Load().Send(struct{}{})
		s.r.done.Load().Recv()
		s.done.Close()
	}()

	for {
		switch sched.Select(s.stop.RecvCase(nil)) {
		case 0:
			return
		}
	}
}

func (s *EtcdServer) start() {
	s.done = sched.NewChan[struct{}](0)
	s.stop = sched.NewChan[struct{}](0)
	s.r.stopped.Store(sched.NewChan[struct{}](0))
	s.r.done.Store(sched.NewChan[struct{}](0))
	sched.Go(s.run)
}

func (s *EtcdServer) Stop() {
	switch sched.Select(s.stop.SendCase(struct{}{}, nil), s.done.RecvCase(nil)) {
	case 0:
	case 1:
		return
	}
	s.done.Recv()
}

func Etcd3077() {
	srv := &EtcdServer{
		r: raftNode{},
	}
	srv.start()
	defer srv.Stop()
}
