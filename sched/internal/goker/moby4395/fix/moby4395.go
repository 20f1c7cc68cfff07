// Package fix is the fixed variant of GoKer's kernel of moby#4395 (see
// the parent package for the bug), fixed as upstream did: the channel
// has a buffer of one, so the send never blocks.
package fix

import (
	"errors"

	"github.com/migratingtable/migratingtable/sched"
)

func Go(f func() error) *sched.Chan[error] {
	ch := sched.NewChan[error](1)
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
