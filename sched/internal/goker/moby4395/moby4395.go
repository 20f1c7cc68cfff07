// Package moby4395 is GoKer's kernel of moby#4395
// (goker/blocking/moby/4395/moby4395_test.go in timmyyuan/gobench;
// upstream https://github.com/moby/moby/pull/4395), ported to package
// sched. Its fixed variant is in package fix.
//
// The bug, a goroutine leak on a channel: Go runs f in a goroutine that
// sends f's error on an unbuffered channel, and a caller that never
// receives from the channel leaves the goroutine blocked on the send
// forever.
package moby4395

import (
	"errors"

	"github.com/migratingtable/migratingtable/sched"
)

func Go(f func() error) *sched.Chan[error] {
	ch := sched.NewChan[error](0)
	sched.Go(func() {
		ch.Send(f()) // G2
	})
	return ch
}

///
/// G1				G2
/// Go()
/// return ch
/// 				ch <- f()
/// ----------G2 leak-------------
///

func Moby4395() {
	Go(func() error { // G1
		return errors.New("")
	})
}
