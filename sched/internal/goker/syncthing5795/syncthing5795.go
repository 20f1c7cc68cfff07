// Package syncthing5795 is GoKer's kernel of syncthing#5795
// (goker/blocking/syncthing/5795/syncthing5795_test.go in
// timmyyuan/gobench; upstream
// https://github.com/syncthing/syncthing/pull/5795), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a deadlock on a channel inside sync.Once: the connection's
// dispatcher loop hands a ClusterConfig message to the model, whose
// callback closes the connection; Close runs, once, a function that
// closes the closed channel and then waits for the dispatcher loop to
// stop, which cannot happen because the dispatcher loop is the one
// waiting. The original's test package is syncthing5795_test; the port
// drops the suffix.
package syncthing5795

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type message interface{}

type ClusterConfig struct{}

type Model interface {
	ClusterConfig(message)
}

type TestModel struct {
	ccFn func()
}

func (t *TestModel) ClusterConfig(msg message) {
	if t.ccFn != nil {
		t.ccFn()
	}
}

func newTestModel() *TestModel {
	return &TestModel{}
}

type Connection interface {
	Start()
	Close()
}

type rawConnection struct {
	receiver Model

	inbox                 *sched.Chan[message]
	dispatcherLoopStopped *sched.Chan[struct{}]
	closed                *sched.Chan[struct{}]
	closeOnce             sync.Once
}

func (c *rawConnection) Start() {
	sched.Go(c.readerLoop)
	sched.Go(func() {
		c.dispatcherLoop()
	})
}

func (c *rawConnection) readerLoop() {
	for {
		switch sched.Select(c.closed.RecvCase(nil), sched.Default(nil)) {
		case 0:
			return
		case 1:
		}
	}
}

func (c *rawConnection) dispatcherLoop() {
	defer c.dispatcherLoopStopped.Close()
	var msg message
	for {
		switch sched.Select(c.inbox.RecvCase(func(v message, _ bool) { msg = v }), c.closed.RecvCase(nil)) {
		case 0:
		case 1:
			return
		}
		switch msg := msg.(type) {
		case *ClusterConfig:
			c.receiver.ClusterConfig(msg)
		default:
			return
		}
	}
}

func (c *rawConnection) internalClose() {
	c.closeOnce.Do(func() {
		c.closed.Close()
		c.dispatcherLoopStopped.Recv()
	})
}

func (c *rawConnection) Close() {
	c.internalClose() // FIX: go c.internalClose()
}

func NewConnection(receiver Model) Connection {
	return &rawConnection{
		dispatcherLoopStopped: sched.NewChan[struct{}](0),
		closed:                sched.NewChan[struct{}](0),
		inbox:                 sched.NewChan[message](0),
		receiver:              receiver,
	}
}

func Syncthing5795() {
	m := newTestModel()
	c := NewConnection(m).(*rawConnection)
	m.ccFn = func() {
		c.Close()
	}

	c.Start()
	c.inbox.Send(&ClusterConfig{})

	c.dispatcherLoopStopped.Recv()
}
