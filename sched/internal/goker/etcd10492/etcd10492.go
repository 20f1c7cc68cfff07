// Package etcd10492 is GoKer's kernel of etcd#10492
// (goker/blocking/etcd/10492/etcd10492_test.go in timmyyuan/gobench;
// upstream https://github.com/etcd-io/etcd/pull/10492), ported to
// package sched. Its fixed variant is in package fix.
//
// The bug, double locking: the lessor's Renew holds le.mu while it calls
// the checkpointer, and the checkpointer calls the lessor's Checkpoint,
// which locks le.mu again. The test's own goroutine deadlocks with
// itself on every schedule.
package etcd10492

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
