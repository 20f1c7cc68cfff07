// Package grpc660 is GoKer's kernel of grpc#660
// (goker/blocking/grpc/660/grpc660_test.go in timmyyuan/gobench;
// upstream https://github.com/grpc/grpc-go/pull/660), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a goroutine leak on a channel: each round of the benchmark
// client's loop starts a goroutine that reports on an unbuffered done
// channel, and selects between done and stop. When stop wins, the loop
// returns without draining done, and that round's goroutine blocks on
// its send forever.
package grpc660

import (
	"github.com/migratingtable/migratingtable/sched"
)

type benchmarkClient struct {
	stop *sched.Chan[bool]
}

func (bc *benchmarkClient) doCloseLoopUnary() {
	for {
		done := sched.NewChan[bool](0)
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
