// Package sync is a drop-in replacement for the standard library's
// package sync whose blocking primitives are package sched's controlled
// ones: code ported to sched changes its import of "sync" to
// "github.com/migratingtable/migratingtable/sched/sync" and nothing else
// that uses sync.
//
// Mutex, RWMutex, Cond, Once and WaitGroup are aliases of sched's types
// (so their methods are scheduling points under a run, and the plain sync
// primitives outside one), and NewCond is sched.NewCond. OnceFunc,
// OnceValue and OnceValues are built on the controlled Once. Locker is
// sync.Locker.
//
// Map and Pool are the standard library's types, not controlled: their
// operations are not scheduling points, so the interleavings inside them
// are not explored. They never block for long (no machine switch happens
// inside them), so they are safe to use under a run.
package sync

import (
	"sync"

	"github.com/migratingtable/migratingtable/sched"
)

// Controlled: aliases of package sched's types (see their docs).
type (
	Mutex     = sched.Mutex
	RWMutex   = sched.RWMutex
	Cond      = sched.Cond
	Once      = sched.Once
	WaitGroup = sched.WaitGroup
)

// Locker is sync.Locker: *Mutex and RWMutex.RLocker satisfy it.
type Locker = sync.Locker

// NewCond is sched.NewCond: a Cond whose Wait releases and re-acquires l.
func NewCond(l Locker) *Cond { return sched.NewCond(l) }

// Not controlled: the standard library's types.
type (
	// Map is sync.Map (not controlled).
	Map = sync.Map
	// Pool is sync.Pool (not controlled).
	Pool = sync.Pool
)

// OnceFunc returns a function that calls f only once, as sync.OnceFunc:
// every call returns after f has returned, and if f panicked, every
// call panics with the same value. It is built on Once, so under a run a
// call is a scheduling point and a call while f runs in another machine
// waits for it (a controlled wait, "Once.Do").
func OnceFunc(f func()) func() {
	var (
		once     Once
		returned bool // f returned normally
		p        any  // what f panicked with
	)
	call := func() {
		defer func() {
			if !returned {
				p = recover()
			}
		}()
		f()
		f = nil
		returned = true
	}
	return func() {
		once.Do(call)
		if !returned {
			panic(p)
		}
	}
}

// OnceValue returns a function that calls f only once and returns its
// value, as sync.OnceValue; see OnceFunc.
func OnceValue[T any](f func() T) func() T {
	var v T
	g := OnceFunc(func() { v = f() })
	return func() T {
		g()
		return v
	}
}

// OnceValues returns a function that calls f only once and returns its
// values, as sync.OnceValues; see OnceFunc.
func OnceValues[T1, T2 any](f func() (T1, T2)) func() (T1, T2) {
	var v1 T1
	var v2 T2
	g := OnceFunc(func() { v1, v2 = f() })
	return func() (T1, T2) {
		g()
		return v1, v2
	}
}
