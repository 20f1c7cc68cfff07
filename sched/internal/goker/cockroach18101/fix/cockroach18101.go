// Package fix is the fixed variant of GoKer's kernel of cockroach#18101
// (see the parent package for the bug). Obvious fix: splitAndScatter
// stops sending when the context is cancelled.
package fix

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
		switch sched.Select(readyForImportCh.SendCase(false || i != 0, nil), sched.DoneCase(ctx, nil)) {
		case 0:
		case 1:
			return
		}
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
