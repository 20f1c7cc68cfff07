// Package atomic provides the atomic values and functions of
// sync/atomic as scheduling points of package sched, so that code ported
// to sched changes only its import of "sync/atomic".
//
// Under a sched run every operation is a scheduling point (as
// sched.YieldOn with the variable as the resource, so the "pos" strategy
// treats operations on the same variable as racing) followed by the
// atomic operation itself, and, for sched's race check of Racy
// variables, a happens-before edge as in the Go memory model: an
// operation that reads the variable acquires what the operations that
// wrote it released (see sched's package documentation, "Races").
// Outside a run they are sync/atomic's, plus one atomic load of sched's
// count of runs in progress.
//
// The types (Bool, Int32, Int64, Uint32, Uint64, Uintptr, Pointer and
// Value) have the methods of their sync/atomic namesakes; the zero value
// of each is its zero, and values must not be copied after first use.
// The functions (AddInt32, LoadPointer, CompareAndSwapUint64, ...) are
// sync/atomic's, one for one; the resource of a function's operation is
// its address.
package atomic

import (
	"sync/atomic"

	_ "github.com/migratingtable/migratingtable/sched" // sets hb.Atomic
	"github.com/migratingtable/migratingtable/sched/internal/hb"
)

// Int32 is an atomic int32.
type Int32 struct{ v atomic.Int32 }

// Load atomically loads and returns the value.
func (x *Int32) Load() int32 { hb.Atomic(x, true, false); return x.v.Load() }

// Store atomically stores v.
func (x *Int32) Store(v int32) { hb.Atomic(x, false, true); x.v.Store(v) }

// Add atomically adds d and returns the new value.
func (x *Int32) Add(d int32) int32 { hb.Atomic(x, true, true); return x.v.Add(d) }

// Swap atomically stores v and returns the old value.
func (x *Int32) Swap(v int32) int32 { hb.Atomic(x, true, true); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Int32) CompareAndSwap(old, new int32) bool {
	hb.Atomic(x, true, true)
	return x.v.CompareAndSwap(old, new)
}

// And atomically performs a bitwise AND with mask and returns the old
// value.
func (x *Int32) And(mask int32) (old int32) { hb.Atomic(x, true, true); return x.v.And(mask) }

// Or atomically performs a bitwise OR with mask and returns the old
// value.
func (x *Int32) Or(mask int32) (old int32) { hb.Atomic(x, true, true); return x.v.Or(mask) }

// Uint32 is an atomic uint32.
type Uint32 struct{ v atomic.Uint32 }

// Load atomically loads and returns the value.
func (x *Uint32) Load() uint32 { hb.Atomic(x, true, false); return x.v.Load() }

// Store atomically stores v.
func (x *Uint32) Store(v uint32) { hb.Atomic(x, false, true); x.v.Store(v) }

// Add atomically adds d and returns the new value.
func (x *Uint32) Add(d uint32) uint32 { hb.Atomic(x, true, true); return x.v.Add(d) }

// Swap atomically stores v and returns the old value.
func (x *Uint32) Swap(v uint32) uint32 { hb.Atomic(x, true, true); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Uint32) CompareAndSwap(old, new uint32) bool {
	hb.Atomic(x, true, true)
	return x.v.CompareAndSwap(old, new)
}

// And atomically performs a bitwise AND with mask and returns the old
// value.
func (x *Uint32) And(mask uint32) (old uint32) { hb.Atomic(x, true, true); return x.v.And(mask) }

// Or atomically performs a bitwise OR with mask and returns the old
// value.
func (x *Uint32) Or(mask uint32) (old uint32) { hb.Atomic(x, true, true); return x.v.Or(mask) }

// Int64 is an atomic int64.
type Int64 struct{ v atomic.Int64 }

// Load atomically loads and returns the value.
func (x *Int64) Load() int64 { hb.Atomic(x, true, false); return x.v.Load() }

// Store atomically stores v.
func (x *Int64) Store(v int64) { hb.Atomic(x, false, true); x.v.Store(v) }

// Add atomically adds d and returns the new value.
func (x *Int64) Add(d int64) int64 { hb.Atomic(x, true, true); return x.v.Add(d) }

// Swap atomically stores v and returns the old value.
func (x *Int64) Swap(v int64) int64 { hb.Atomic(x, true, true); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Int64) CompareAndSwap(old, new int64) bool {
	hb.Atomic(x, true, true)
	return x.v.CompareAndSwap(old, new)
}

// And atomically performs a bitwise AND with mask and returns the old
// value.
func (x *Int64) And(mask int64) (old int64) { hb.Atomic(x, true, true); return x.v.And(mask) }

// Or atomically performs a bitwise OR with mask and returns the old
// value.
func (x *Int64) Or(mask int64) (old int64) { hb.Atomic(x, true, true); return x.v.Or(mask) }

// Uint64 is an atomic uint64.
type Uint64 struct{ v atomic.Uint64 }

// Load atomically loads and returns the value.
func (x *Uint64) Load() uint64 { hb.Atomic(x, true, false); return x.v.Load() }

// Store atomically stores v.
func (x *Uint64) Store(v uint64) { hb.Atomic(x, false, true); x.v.Store(v) }

// Add atomically adds d and returns the new value.
func (x *Uint64) Add(d uint64) uint64 { hb.Atomic(x, true, true); return x.v.Add(d) }

// Swap atomically stores v and returns the old value.
func (x *Uint64) Swap(v uint64) uint64 { hb.Atomic(x, true, true); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Uint64) CompareAndSwap(old, new uint64) bool {
	hb.Atomic(x, true, true)
	return x.v.CompareAndSwap(old, new)
}

// And atomically performs a bitwise AND with mask and returns the old
// value.
func (x *Uint64) And(mask uint64) (old uint64) { hb.Atomic(x, true, true); return x.v.And(mask) }

// Or atomically performs a bitwise OR with mask and returns the old
// value.
func (x *Uint64) Or(mask uint64) (old uint64) { hb.Atomic(x, true, true); return x.v.Or(mask) }

// Uintptr is an atomic uintptr.
type Uintptr struct{ v atomic.Uintptr }

// Load atomically loads and returns the value.
func (x *Uintptr) Load() uintptr { hb.Atomic(x, true, false); return x.v.Load() }

// Store atomically stores v.
func (x *Uintptr) Store(v uintptr) { hb.Atomic(x, false, true); x.v.Store(v) }

// Add atomically adds d and returns the new value.
func (x *Uintptr) Add(d uintptr) uintptr { hb.Atomic(x, true, true); return x.v.Add(d) }

// Swap atomically stores v and returns the old value.
func (x *Uintptr) Swap(v uintptr) uintptr { hb.Atomic(x, true, true); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Uintptr) CompareAndSwap(old, new uintptr) bool {
	hb.Atomic(x, true, true)
	return x.v.CompareAndSwap(old, new)
}

// And atomically performs a bitwise AND with mask and returns the old
// value.
func (x *Uintptr) And(mask uintptr) (old uintptr) { hb.Atomic(x, true, true); return x.v.And(mask) }

// Or atomically performs a bitwise OR with mask and returns the old
// value.
func (x *Uintptr) Or(mask uintptr) (old uintptr) { hb.Atomic(x, true, true); return x.v.Or(mask) }

// Bool is an atomic bool.
type Bool struct{ v atomic.Bool }

// Load atomically loads and returns the value.
func (x *Bool) Load() bool { hb.Atomic(x, true, false); return x.v.Load() }

// Store atomically stores v.
func (x *Bool) Store(v bool) { hb.Atomic(x, false, true); x.v.Store(v) }

// Swap atomically stores v and returns the old value.
func (x *Bool) Swap(v bool) bool { hb.Atomic(x, true, true); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Bool) CompareAndSwap(old, new bool) bool {
	hb.Atomic(x, true, true)
	return x.v.CompareAndSwap(old, new)
}

// Pointer is an atomic pointer of type *T.
type Pointer[T any] struct{ v atomic.Pointer[T] }

// Load atomically loads and returns the value.
func (x *Pointer[T]) Load() *T { hb.Atomic(x, true, false); return x.v.Load() }

// Store atomically stores v.
func (x *Pointer[T]) Store(v *T) { hb.Atomic(x, false, true); x.v.Store(v) }

// Swap atomically stores v and returns the old value.
func (x *Pointer[T]) Swap(v *T) *T { hb.Atomic(x, true, true); return x.v.Swap(v) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Pointer[T]) CompareAndSwap(old, new *T) bool {
	hb.Atomic(x, true, true)
	return x.v.CompareAndSwap(old, new)
}

// Value holds a value of one concrete type, like atomic.Value: Store of
// nil or of a value of another type than the first panics (under a run,
// the panic is the machine's Panic failure).
type Value struct{ v atomic.Value }

// Load returns the value set by the most recent Store, or nil.
func (x *Value) Load() any { hb.Atomic(x, true, false); return x.v.Load() }

// Store sets the value to val.
func (x *Value) Store(val any) { hb.Atomic(x, false, true); x.v.Store(val) }

// Swap stores new and returns the previous value, or nil.
func (x *Value) Swap(new any) (old any) { hb.Atomic(x, true, true); return x.v.Swap(new) }

// CompareAndSwap executes the compare-and-swap operation.
func (x *Value) CompareAndSwap(old, new any) (swapped bool) {
	hb.Atomic(x, true, true)
	return x.v.CompareAndSwap(old, new)
}
