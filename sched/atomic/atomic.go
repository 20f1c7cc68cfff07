// Package atomic provides the atomic values of sync/atomic as
// scheduling points of package sched, so that code ported to sched
// changes only its import of "sync/atomic".
//
// Under a sched run every operation is a scheduling point (sched.YieldOn
// with the variable as the resource, so the "pos" strategy treats
// operations on the same variable as racing) followed by the atomic
// operation itself. Outside a run the types are the sync/atomic types,
// plus one atomic load of sched's count of runs in progress.
//
// The zero value of each type is its zero; values must not be copied
// after first use.
package atomic

import (
	"sync/atomic"

	"github.com/migratingtable/migratingtable/sched"
)

// Int32 is an atomic int32.
type Int32 struct{ v atomic.Int32 }

// Load atomically loads and returns the value.
func (x *Int32) Load() int32 { sched.YieldOn(x); return x.v.Load() }

// Store atomically stores v.
func (x *Int32) Store(v int32) { sched.YieldOn(x); x.v.Store(v) }

// Add atomically adds d and returns the new value.
func (x *Int32) Add(d int32) int32 { sched.YieldOn(x); return x.v.Add(d) }

// Swap atomically stores v and returns the old value.
func (x *Int32) Swap(v int32) int32 { sched.YieldOn(x); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Int32) CompareAndSwap(old, new int32) bool {
	sched.YieldOn(x)
	return x.v.CompareAndSwap(old, new)
}

// Uint32 is an atomic uint32.
type Uint32 struct{ v atomic.Uint32 }

// Load atomically loads and returns the value.
func (x *Uint32) Load() uint32 { sched.YieldOn(x); return x.v.Load() }

// Store atomically stores v.
func (x *Uint32) Store(v uint32) { sched.YieldOn(x); x.v.Store(v) }

// Add atomically adds d and returns the new value.
func (x *Uint32) Add(d uint32) uint32 { sched.YieldOn(x); return x.v.Add(d) }

// Swap atomically stores v and returns the old value.
func (x *Uint32) Swap(v uint32) uint32 { sched.YieldOn(x); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Uint32) CompareAndSwap(old, new uint32) bool {
	sched.YieldOn(x)
	return x.v.CompareAndSwap(old, new)
}

// Int64 is an atomic int64.
type Int64 struct{ v atomic.Int64 }

// Load atomically loads and returns the value.
func (x *Int64) Load() int64 { sched.YieldOn(x); return x.v.Load() }

// Store atomically stores v.
func (x *Int64) Store(v int64) { sched.YieldOn(x); x.v.Store(v) }

// Add atomically adds d and returns the new value.
func (x *Int64) Add(d int64) int64 { sched.YieldOn(x); return x.v.Add(d) }

// Swap atomically stores v and returns the old value.
func (x *Int64) Swap(v int64) int64 { sched.YieldOn(x); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Int64) CompareAndSwap(old, new int64) bool {
	sched.YieldOn(x)
	return x.v.CompareAndSwap(old, new)
}

// Uint64 is an atomic uint64.
type Uint64 struct{ v atomic.Uint64 }

// Load atomically loads and returns the value.
func (x *Uint64) Load() uint64 { sched.YieldOn(x); return x.v.Load() }

// Store atomically stores v.
func (x *Uint64) Store(v uint64) { sched.YieldOn(x); x.v.Store(v) }

// Add atomically adds d and returns the new value.
func (x *Uint64) Add(d uint64) uint64 { sched.YieldOn(x); return x.v.Add(d) }

// Swap atomically stores v and returns the old value.
func (x *Uint64) Swap(v uint64) uint64 { sched.YieldOn(x); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Uint64) CompareAndSwap(old, new uint64) bool {
	sched.YieldOn(x)
	return x.v.CompareAndSwap(old, new)
}

// Bool is an atomic bool.
type Bool struct{ v atomic.Bool }

// Load atomically loads and returns the value.
func (x *Bool) Load() bool { sched.YieldOn(x); return x.v.Load() }

// Store atomically stores v.
func (x *Bool) Store(v bool) { sched.YieldOn(x); x.v.Store(v) }

// Swap atomically stores v and returns the old value.
func (x *Bool) Swap(v bool) bool { sched.YieldOn(x); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Bool) CompareAndSwap(old, new bool) bool {
	sched.YieldOn(x)
	return x.v.CompareAndSwap(old, new)
}

// Pointer is an atomic pointer of type *T.
type Pointer[T any] struct{ v atomic.Pointer[T] }

// Load atomically loads and returns the value.
func (x *Pointer[T]) Load() *T { sched.YieldOn(x); return x.v.Load() }

// Store atomically stores v.
func (x *Pointer[T]) Store(v *T) { sched.YieldOn(x); x.v.Store(v) }

// Swap atomically stores v and returns the old value.
func (x *Pointer[T]) Swap(v *T) *T { sched.YieldOn(x); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Pointer[T]) CompareAndSwap(old, new *T) bool {
	sched.YieldOn(x)
	return x.v.CompareAndSwap(old, new)
}
