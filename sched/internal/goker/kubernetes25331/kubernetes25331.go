// Package kubernetes25331 is GoKer's kernel of kubernetes#25331
// (goker/blocking/kubernetes/25331/kubernetes25331_test.go in
// timmyyuan/gobench; upstream
// https://github.com/kubernetes/kubernetes/pull/25331), ported to
// package sched. Its fixed variant is in package fix.
//
// The bug, a goroutine leak on a context: the watcher's run goroutine,
// on an error, cancels the watch's context itself and then sends the
// error result on an unbuffered channel that nobody reads once the watch
// is stopped; since run cancelled the context before the send, Stop's
// cancellation cannot release it.
package kubernetes25331

import (
	"context"
	"errors"

	"github.com/migratingtable/migratingtable/sched"
)

type watchChan struct {
	ctx        context.Context
	cancel     context.CancelFunc
	resultChan *sched.Chan[bool]
	errChan    *sched.Chan[error]
}

func (wc *watchChan) Stop() {
	wc.errChan.Send(errors.New("Error"))
	wc.cancel()
}

func (wc *watchChan) run() {
	var err error
	switch sched.Select(wc.errChan.RecvCase(func(v error, _ bool) { err = v }), sched.DoneCase(wc.ctx, nil)) {
	case 0:
		errResult := len(err.Error()) != 0
		wc.cancel() // Removed in fix
		wc.resultChan.Send(errResult)
	case 1:
	}
}

func NewWatchChan() *watchChan {
	ctx, cancel := context.WithCancel(context.Background())
	return &watchChan{
		ctx:        ctx,
		cancel:     cancel,
		resultChan: sched.NewChan[bool](0),
		errChan:    sched.NewChan[error](0),
	}
}

///
/// G1					G2
/// wc.run()
///						wc.Stop()
///						wc.errChan <-
///						wc.cancel()
///	<-wc.errChan
///	wc.cancel()
///	wc.resultChan <-
///	-------------G1 leak----------------
///

func Kubernetes25331() {
	wc := NewWatchChan()
	sched.Go(wc.run)  // G1
	sched.Go(wc.Stop) // G2
}
