// Package kubernetes5316 is GoKer's kernel of kubernetes#5316
// (goker/blocking/kubernetes/5316/kubernetes5316_test.go in
// timmyyuan/gobench; upstream
// https://github.com/kubernetes/kubernetes/pull/5316), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a goroutine leak on a timeout: finishRequest runs fn in a
// goroutine that reports on unbuffered channels, and selects between
// them and a timer. When the timer fires first, finishRequest returns
// and the goroutine blocks forever on its send.
package kubernetes5316

import (
	"errors"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/time"
)

func finishRequest(timeout time.Duration, fn func() error) {
	ch := sched.NewChan[bool](0)     // FIX: ch := make(chan bool, 1)
	errCh := sched.NewChan[error](0) // FIX: errCh := make(chan error, 1)
	sched.Go(func() {                // G2
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
