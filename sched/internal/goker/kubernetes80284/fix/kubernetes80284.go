// Package fix is the fixed variant of GoKer's kernel of kubernetes#80284
// (see the parent package for the bug). Obvious fix: the authenticator
// guards onRotate with a mutex.
package fix

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
	mu       sync.Mutex
	onRotate sched.Racy[func()]
}

func (a *Authenticator) UpdateTransportConfig() {
	d := NewDialer()
	a.mu.Lock()
	defer a.mu.Unlock()
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
