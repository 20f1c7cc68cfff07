// Package fix is the fixed variant of GoKer's kernel of etcd#10492 (see
// the parent package for the bug). Obvious fix, in the form the kernel's
// unlock variable is made for: Renew releases le.mu before it calls the
// checkpointer.
package fix

import (
	"context"
	"time"

	"github.com/migratingtable/migratingtable/sched/sync"
)

type Checkpointer func(ctx context.Context)

type lessor struct {
	mu                 sync.RWMutex
	cp                 Checkpointer
	checkpointInterval time.Duration
}

func (le *lessor) Checkpoint() {
	le.mu.Lock() // block here
	defer le.mu.Unlock()
}

func (le *lessor) SetCheckpointer(cp Checkpointer) {
	le.mu.Lock()
	defer le.mu.Unlock()

	le.cp = cp
}

func (le *lessor) Renew() {
	le.mu.Lock()
	unlock := func() { le.mu.Unlock() }
	defer func() { unlock() }()

	if le.cp != nil {
		le.mu.Unlock()
		unlock = func() {}
		le.cp(context.Background())
	}
}
func Etcd10492() {
	le := &lessor{
		checkpointInterval: 0,
	}
	fakerCheckerpointer := func(ctx context.Context) {
		le.Checkpoint()
	}
	le.SetCheckpointer(fakerCheckerpointer)
	le.mu.Lock()
	le.mu.Unlock()
	le.Renew()
}
