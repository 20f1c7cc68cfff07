// Package fix is the fixed variant of GoKer's kernel of moby#33781 (see
// the parent package for the bug). Obvious fix, as the original's
// comment asks: when stop wins, the monitor drains the probe's result
// before it returns.
package fix

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
				cancelProbe()
				results.Recv()
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
