// Package fix is the fixed variant of GoKer's kernel of grpc#660 (see
// the parent package for the bug). Obvious fix: done has a buffer of
// one, so a round's goroutine can always send and exit.
package fix

import (
	"github.com/migratingtable/migratingtable/sched"
)

type benchmarkClient struct {
	stop *sched.Chan[bool]
}

func (bc *benchmarkClient) doCloseLoopUnary() {
	for {
		done := sched.NewChan[bool](1)
		sched.Go(func() { // G2
			if sched.Choose(10) > 7 {
				done.Send(false)
				return
			}
			done.Send(true)
		})
		switch sched.Select(bc.stop.RecvCase(nil), done.RecvCase(nil)) {
		case 0:
			return
		case 1:
		}
	}
}

///
/// G1 						G2 				helper goroutine
/// doCloseLoopUnary()
///											bc.stop <- true
/// <-bc.stop
/// return
/// 						done <-
/// ----------------------G2 leak--------------------------
///

func Grpc660() {
	bc := &benchmarkClient{
		stop: sched.NewChan[bool](0),
	}
	sched.Go(bc.doCloseLoopUnary) // G1
	sched.Go(func() {             // helper goroutine
		bc.stop.Send(true)
	})
}
