// Package cockroach18101 is GoKer's kernel of cockroach#18101
// (goker/blocking/cockroach/18101/cockroach18101_test.go in
// timmyyuan/gobench; upstream
// https://github.com/cockroachdb/cockroach/pull/18101), ported to
// package sched. Its fixed variant is in package fix.
//
// The bug, a goroutine leak on a context: restore stops reading the
// spans channel when its context is cancelled, but the goroutine that
// sends spans into the channel does not watch the context, and blocks
// forever once the buffer is full.
package cockroach18101

import (
	"context"

	"github.com/migratingtable/migratingtable/sched"
)

const chanSize = 6

func restore(ctx context.Context) bool {
	readyForImportCh := sched.NewChan[bool](chanSize)
	sched.Go(func() { // G2
		defer readyForImportCh.Close()
		splitAndScatter(ctx, readyForImportCh)
	})
	for readyForImportSpan := range readyForImportCh.All() {
		switch sched.Select(sched.DoneCase(ctx, nil)) {
		case 0:
			return readyForImportSpan
		}
	}
	return true
}

func splitAndScatter(ctx context.Context, readyForImportCh *sched.Chan[bool]) {
	for i := 0; i < chanSize+2; i++ {
		readyForImportCh.Send(false || i != 0)
	}
}

// /
// / G1					G2					helper goroutine
// / restore()
// / 					splitAndScatter()
// / <-readyForImportCh
// / 					readyForImportCh<-
// / ...					...
// / 										cancel()
// / return
// / 					readyForImportCh<-
// / -----------------------G2 leak-------------------------
// /
func Cockroach18101() {
	ctx, cancel := context.WithCancel(context.Background())
	sched.Go(func() { restore(ctx) }) // G1
	sched.Go(cancel)                  // helper goroutine
}
