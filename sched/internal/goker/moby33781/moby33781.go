// Package moby33781 is GoKer's kernel of moby#33781
// (goker/blocking/moby/33781/moby33781_test.go in timmyyuan/gobench;
// upstream https://github.com/moby/moby/pull/33781), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a goroutine leak on a timer, a context and a channel: the
// health-check monitor starts a probe goroutine that sends its result on
// an unbuffered channel, then selects among stop, the result and the
// probe's timeout. When stop wins, the monitor returns without draining
// the result, and the probe goroutine blocks on its send forever.
package moby33781

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/context"
	"github.com/migratingtable/migratingtable/sched/time"
)

func monitor(stop *sched.Chan[bool]) {
	probeInterval := 50 * time.Nanosecond
	probeTimeout := 50 * time.Nanosecond
	for {
		switch sched.Select(stop.RecvCase(nil), time.After(probeInterval).RecvCase(nil)) {
		case 0:
			return
		case 1:
			results := sched.NewChan[bool](0)
			ctx, cancelProbe := context.WithTimeout(context.Background(), probeTimeout)
			sched.Go(func() { // G3
				results.Send(true)
				results.Close()
			})
			switch sched.Select(stop.RecvCase(nil), results.RecvCase(nil), sched.DoneCase(ctx, nil)) {
			case 0:
				// results should be drained here
				cancelProbe()
				return
			case 1:
				cancelProbe()
			case 2:
				cancelProbe()
				results.Recv()
			}
		}
	}
}

///
/// G1 				G2				G3
/// monitor()
/// <-time.After()
/// 				stop <-
/// <-stop
/// 				return
/// cancelProbe()
/// return
/// 								result<-
///----------------G3 leak------------------
///

func Moby33781() {
	stop := sched.NewChan[bool](0)
	sched.Go(func() { monitor(stop) }) // G1
	sched.Go(func() {                  // G2
		time.Sleep(50 * time.Nanosecond)
		stop.Send(true)
	})
}
