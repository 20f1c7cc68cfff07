// Package kubernetes80284 is GoKer's kernel of kubernetes#80284
// (goker/nonblocking/kubernetes/80284/kubernetes80284_test.go in
// timmyyuan/gobench; upstream
// https://github.com/kubernetes/kubernetes/pull/80284), ported to
// package sched. Its fixed variant is in package fix.
//
// The bug, a data race: two goroutines call the authenticator's
// UpdateTransportConfig, which writes a.onRotate without a lock. Nothing
// in the kernel reads the field, so the race has no effect that a
// schedule can show: only a race check finds it (go test -race, and
// sched's check of Racy variables, on every schedule).
//
// The port marks onRotate as sched.Racy, so that the writes are
// scheduling points whose happens-before order sched checks.
package kubernetes80284

import (
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

type Dialer struct{}

func (d *Dialer) CloseAll() {}

func NewDialer() *Dialer {
	return &Dialer{}
}

type Authenticator struct {
	onRotate sched.Racy[func()]
}

func (a *Authenticator) UpdateTransportConfig() {
	d := NewDialer()
	a.onRotate.Store(d.CloseAll)
}

func newAuthenticator() *Authenticator {
	return &Authenticator{}
}

func Kubernetes80284() {
	var wg sync.WaitGroup
	wg.Add(2)
	a := newAuthenticator()
	for i := 0; i < 2; i++ {
		sched.Go(func() {
			defer wg.Done()
			a.UpdateTransportConfig()
		})
	}
	wg.Wait()
}
