// Package fix is the fixed variant of GoKer's kernel of kubernetes#5316
// (see the parent package for the bug), fixed as upstream did (GoKer's
// FIX comments): both channels have a buffer of one, so the goroutine's
// send never blocks.
package fix

import (
	"errors"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/time"
)

func finishRequest(timeout time.Duration, fn func() error) {
	ch := sched.NewChan[bool](1)
	errCh := sched.NewChan[error](1)
	sched.Go(func() { // G2
		if err := fn(); err != nil {
			errCh.Send(err)
		} else {
			ch.Send(true)
		}
	})

	sched.Select(
		ch.RecvCase(nil),
		errCh.RecvCase(nil),
		time.After(timeout).RecvCase(nil),
	)
}

///
/// G1 						G2
/// finishRequest()
/// 						fn()
/// time.After()
/// 						errCh<-/ch<-
/// --------------G2 leak----------------
///

func Kubernetes5316() {
	fn := func() error {
		time.Sleep(2 * time.Millisecond)
		if sched.Choose(10) > 5 {
			return errors.New("Error")
		}
		return nil
	}
	sched.Go(func() { finishRequest(time.Millisecond, fn) }) // G1
}
