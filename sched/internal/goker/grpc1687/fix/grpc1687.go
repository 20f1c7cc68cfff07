// Package fix is the fixed variant of GoKer's kernel of grpc#1687 (see
// the parent package for the bug), fixed as upstream did: WriteStatus
// closes the transport (closedCh) before it closes writes, so a later
// Write returns at the first select of do. (Upstream also serialised
// WriteStatus calls with a mutex, which the kernel's single writer does
// not need.)
package fix

import (
	"testing"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/time"
)

type ResponseWriter interface {
}

type testHandlerResponseWriter struct {
}

func newTestHandlerResponseWriter() ResponseWriter {
	return testHandlerResponseWriter{}
}

type serverHandlerTransport struct {
	closedCh *sched.Chan[struct{}]
	writes   *sched.Chan[func()]
}

func (ht *serverHandlerTransport) do(fn func()) {
	switch sched.Select(ht.closedCh.RecvCase(nil), sched.Default(nil)) {
	case 0:
		return
	default:
		switch sched.Select(ht.writes.SendCase(fn, nil), ht.closedCh.RecvCase(nil)) {
		case 0:
			return
		case 1:
			return
		}
	}
}

func (ht *serverHandlerTransport) WriteStatus() {
	ht.do(func() {})
	ht.closedCh.Close()
	ht.writes.Close()
}

func (ht *serverHandlerTransport) Write() {
	ht.do(func() {})
}

func (ht *serverHandlerTransport) runStream() {
	for {
		var fn func()
		var ok bool
		switch sched.Select(ht.writes.RecvCase(func(v func(), k bool) { fn, ok = v, k }), ht.closedCh.RecvCase(nil)) {
		case 0:
			if !ok {
				return
			}
			fn()
		case 1:
			return
		}
	}
}

func (ht *serverHandlerTransport) HandleStreams(startStream func()) {
	startStream()

	ht.runStream()
}

type ServerTransport interface {
	HandleStreams(func())
	Write()
	WriteStatus()
}

func NewServerHandlerTransport(writer ResponseWriter) ServerTransport {
	st := &serverHandlerTransport{
		closedCh: sched.NewChan[struct{}](0),
		writes:   sched.NewChan[func()](0),
	}
	return st
}

type handleStreamTest struct {
	t  *testing.T
	rw testHandlerResponseWriter
	ht *serverHandlerTransport
}

func newHandleStreamTest(t *testing.T) *handleStreamTest {
	rw := newTestHandlerResponseWriter().(testHandlerResponseWriter)
	ht := NewServerHandlerTransport(rw)
	return &handleStreamTest{
		t:  t,
		rw: rw,
		ht: ht.(*serverHandlerTransport),
	}
}

func testHandlerTransportHandleStreams(t *testing.T, handleStream func(st *handleStreamTest)) {
	st := newHandleStreamTest(t)
	st.ht.HandleStreams(func() { sched.Go(func() { handleStream(st) }) })
}

func Grpc1687() {
	testHandlerTransportHandleStreams(nil, func(st *handleStreamTest) {
		st.ht.WriteStatus()
		st.ht.Write()
	})
	time.Sleep(10 * time.Millisecond)
}
