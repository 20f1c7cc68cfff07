// Package fix is the fixed variant of GoKer's kernel of kubernetes#25331
// (see the parent package for the bug), fixed as upstream did: run sends
// the error result in a select with the context's Done, so that a
// stopped watch releases it, and cancels the context only afterwards.
package fix

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
		switch sched.Select(wc.resultChan.SendCase(errResult, nil), sched.DoneCase(wc.ctx, nil)) {
		case 0:
		case 1: // user has given up all results
		}
		wc.cancel()
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
