// Package fix is the fixed variant of GoKer's kernel of syncthing#5795
// (see the parent package for the bug), fixed as upstream did (GoKer's
// FIX comment): Close runs internalClose in a goroutine of its own.
package fix

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
	sched.Go(c.internalClose)
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
