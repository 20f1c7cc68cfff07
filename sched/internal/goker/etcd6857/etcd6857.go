// Package etcd6857 is GoKer's kernel of etcd#6857
// (goker/blocking/etcd/6857/etcd6857_test.go in timmyyuan/gobench;
// upstream https://github.com/etcd-io/etcd/pull/6857), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a goroutine leak on a channel: a raft node's Status sends a
// reply channel to the node's run loop and waits for the reply, but the
// run loop may already have stopped; the send on n.status then blocks
// forever.
package etcd6857

import (
	"github.com/migratingtable/migratingtable/sched"
)

type Status struct{}

type node struct {
	status *sched.Chan[*sched.Chan[Status]]
	stop   *sched.Chan[struct{}]
	done   *sched.Chan[struct{}]
}

func (n *node) Status() Status {
	c := sched.NewChan[Status](0)
	n.status.Send(c)
	return c.Recv()
}

func (n *node) run() {
	for {
		var c *sched.Chan[Status]
		switch sched.Select(n.status.RecvCase(func(v *sched.Chan[Status], _ bool) { c = v }), n.stop.RecvCase(nil)) {
		case 0:
			c.Send(Status{})
		case 1:
			n.done.Close()
			return
		}
	}
}

func (n *node) Stop() {
	switch sched.Select(n.stop.SendCase(struct{}{}, nil), n.done.RecvCase(nil)) {
	case 0:
	case 1:
		return
	}
	n.done.Recv()
}

func NewNode() *node {
	return &node{
		status: sched.NewChan[*sched.Chan[Status]](0),
		stop:   sched.NewChan[struct{}](0),
		done:   sched.NewChan[struct{}](0),
	}
}

///
/// G1				G2				G3
/// n.run()
///									n.Stop()
///									n.stop<-
/// <-n.stop
///									<-n.done
/// close(n.done)
///	return
///									return
///					n.Status()
///					n.status<-
///----------------G2 leak-------------------
///

func Etcd6857() {
	n := NewNode()
	sched.Go(n.run)                 // G1
	sched.Go(func() { n.Status() }) // G2
	sched.Go(n.Stop)                // G3
}
