// Package etcd3077 is GoKer's kernel of etcd#3077
// (goker/nonblocking/etcd/3077/etcd3077_test.go in timmyyuan/gobench;
// upstream https://github.com/etcd-io/etcd/pull/3077), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a data race on channel variables, with a sleep standing in
// for synchronisation: the raft node's run goroutine makes its stopped
// and done channels itself, and the server's goroutine, after sleeping
// 10ms to let it do so, uses them when it stops. If the sleep ends
// first, the server sends on a nil stopped channel and blocks forever,
// and Stop waits for it forever.
//
// The port marks stopped and done as sched.Racy. The bug needs the clock
// to move while the raft goroutine could still run, so the table runs it
// with Config.MaxTimeStep.
package etcd3077

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
	r.stopped.Store(sched.NewChan[struct{}](0))
	r.done.Store(sched.NewChan[struct{}](0))
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
