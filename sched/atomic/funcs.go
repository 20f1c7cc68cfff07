package atomic

import (
	"sync/atomic"
	"unsafe"

	"github.com/migratingtable/migratingtable/sched/internal/hb"
)

// The function forms of sync/atomic. Each is a scheduling point with the
// variable at addr as its resource, then the sync/atomic operation.

// AddInt32 atomically adds delta to *addr and returns the new value.
func AddInt32(addr *int32, delta int32) (new int32) {
	hb.Atomic(addr, true, true)
	return atomic.AddInt32(addr, delta)
}

// AddInt64 atomically adds delta to *addr and returns the new value.
func AddInt64(addr *int64, delta int64) (new int64) {
	hb.Atomic(addr, true, true)
	return atomic.AddInt64(addr, delta)
}

// AddUint32 atomically adds delta to *addr and returns the new value.
func AddUint32(addr *uint32, delta uint32) (new uint32) {
	hb.Atomic(addr, true, true)
	return atomic.AddUint32(addr, delta)
}

// AddUint64 atomically adds delta to *addr and returns the new value.
func AddUint64(addr *uint64, delta uint64) (new uint64) {
	hb.Atomic(addr, true, true)
	return atomic.AddUint64(addr, delta)
}

// AddUintptr atomically adds delta to *addr and returns the new value.
func AddUintptr(addr *uintptr, delta uintptr) (new uintptr) {
	hb.Atomic(addr, true, true)
	return atomic.AddUintptr(addr, delta)
}

// AndInt32 atomically performs a bitwise AND of *addr and mask, stores
// the result in *addr and returns the old value.
func AndInt32(addr *int32, mask int32) (old int32) {
	hb.Atomic(addr, true, true)
	return atomic.AndInt32(addr, mask)
}

// AndInt64 atomically performs a bitwise AND of *addr and mask, stores
// the result in *addr and returns the old value.
func AndInt64(addr *int64, mask int64) (old int64) {
	hb.Atomic(addr, true, true)
	return atomic.AndInt64(addr, mask)
}

// AndUint32 atomically performs a bitwise AND of *addr and mask, stores
// the result in *addr and returns the old value.
func AndUint32(addr *uint32, mask uint32) (old uint32) {
	hb.Atomic(addr, true, true)
	return atomic.AndUint32(addr, mask)
}

// AndUint64 atomically performs a bitwise AND of *addr and mask, stores
// the result in *addr and returns the old value.
func AndUint64(addr *uint64, mask uint64) (old uint64) {
	hb.Atomic(addr, true, true)
	return atomic.AndUint64(addr, mask)
}

// AndUintptr atomically performs a bitwise AND of *addr and mask, stores
// the result in *addr and returns the old value.
func AndUintptr(addr *uintptr, mask uintptr) (old uintptr) {
	hb.Atomic(addr, true, true)
	return atomic.AndUintptr(addr, mask)
}

// OrInt32 atomically performs a bitwise OR of *addr and mask, stores the
// result in *addr and returns the old value.
func OrInt32(addr *int32, mask int32) (old int32) {
	hb.Atomic(addr, true, true)
	return atomic.OrInt32(addr, mask)
}

// OrInt64 atomically performs a bitwise OR of *addr and mask, stores the
// result in *addr and returns the old value.
func OrInt64(addr *int64, mask int64) (old int64) {
	hb.Atomic(addr, true, true)
	return atomic.OrInt64(addr, mask)
}

// OrUint32 atomically performs a bitwise OR of *addr and mask, stores the
// result in *addr and returns the old value.
func OrUint32(addr *uint32, mask uint32) (old uint32) {
	hb.Atomic(addr, true, true)
	return atomic.OrUint32(addr, mask)
}

// OrUint64 atomically performs a bitwise OR of *addr and mask, stores the
// result in *addr and returns the old value.
func OrUint64(addr *uint64, mask uint64) (old uint64) {
	hb.Atomic(addr, true, true)
	return atomic.OrUint64(addr, mask)
}

// OrUintptr atomically performs a bitwise OR of *addr and mask, stores the
// result in *addr and returns the old value.
func OrUintptr(addr *uintptr, mask uintptr) (old uintptr) {
	hb.Atomic(addr, true, true)
	return atomic.OrUintptr(addr, mask)
}

// CompareAndSwapInt32 executes the compare-and-swap operation for *addr.
func CompareAndSwapInt32(addr *int32, old, new int32) (swapped bool) {
	hb.Atomic(addr, true, true)
	return atomic.CompareAndSwapInt32(addr, old, new)
}

// CompareAndSwapInt64 executes the compare-and-swap operation for *addr.
func CompareAndSwapInt64(addr *int64, old, new int64) (swapped bool) {
	hb.Atomic(addr, true, true)
	return atomic.CompareAndSwapInt64(addr, old, new)
}

// CompareAndSwapUint32 executes the compare-and-swap operation for *addr.
func CompareAndSwapUint32(addr *uint32, old, new uint32) (swapped bool) {
	hb.Atomic(addr, true, true)
	return atomic.CompareAndSwapUint32(addr, old, new)
}

// CompareAndSwapUint64 executes the compare-and-swap operation for *addr.
func CompareAndSwapUint64(addr *uint64, old, new uint64) (swapped bool) {
	hb.Atomic(addr, true, true)
	return atomic.CompareAndSwapUint64(addr, old, new)
}

// CompareAndSwapUintptr executes the compare-and-swap operation for *addr.
func CompareAndSwapUintptr(addr *uintptr, old, new uintptr) (swapped bool) {
	hb.Atomic(addr, true, true)
	return atomic.CompareAndSwapUintptr(addr, old, new)
}

// CompareAndSwapPointer executes the compare-and-swap operation for *addr.
func CompareAndSwapPointer(addr *unsafe.Pointer, old, new unsafe.Pointer) (swapped bool) {
	hb.Atomic(addr, true, true)
	return atomic.CompareAndSwapPointer(addr, old, new)
}

// LoadInt32 atomically loads *addr.
func LoadInt32(addr *int32) (val int32) {
	hb.Atomic(addr, true, false)
	return atomic.LoadInt32(addr)
}

// LoadInt64 atomically loads *addr.
func LoadInt64(addr *int64) (val int64) {
	hb.Atomic(addr, true, false)
	return atomic.LoadInt64(addr)
}

// LoadUint32 atomically loads *addr.
func LoadUint32(addr *uint32) (val uint32) {
	hb.Atomic(addr, true, false)
	return atomic.LoadUint32(addr)
}

// LoadUint64 atomically loads *addr.
func LoadUint64(addr *uint64) (val uint64) {
	hb.Atomic(addr, true, false)
	return atomic.LoadUint64(addr)
}

// LoadUintptr atomically loads *addr.
func LoadUintptr(addr *uintptr) (val uintptr) {
	hb.Atomic(addr, true, false)
	return atomic.LoadUintptr(addr)
}

// LoadPointer atomically loads *addr.
func LoadPointer(addr *unsafe.Pointer) (val unsafe.Pointer) {
	hb.Atomic(addr, true, false)
	return atomic.LoadPointer(addr)
}

// StoreInt32 atomically stores val into *addr.
func StoreInt32(addr *int32, val int32) {
	hb.Atomic(addr, false, true)
	atomic.StoreInt32(addr, val)
}

// StoreInt64 atomically stores val into *addr.
func StoreInt64(addr *int64, val int64) {
	hb.Atomic(addr, false, true)
	atomic.StoreInt64(addr, val)
}

// StoreUint32 atomically stores val into *addr.
func StoreUint32(addr *uint32, val uint32) {
	hb.Atomic(addr, false, true)
	atomic.StoreUint32(addr, val)
}

// StoreUint64 atomically stores val into *addr.
func StoreUint64(addr *uint64, val uint64) {
	hb.Atomic(addr, false, true)
	atomic.StoreUint64(addr, val)
}

// StoreUintptr atomically stores val into *addr.
func StoreUintptr(addr *uintptr, val uintptr) {
	hb.Atomic(addr, false, true)
	atomic.StoreUintptr(addr, val)
}

// StorePointer atomically stores val into *addr.
func StorePointer(addr *unsafe.Pointer, val unsafe.Pointer) {
	hb.Atomic(addr, false, true)
	atomic.StorePointer(addr, val)
}

// SwapInt32 atomically stores new into *addr and returns the previous
// value.
func SwapInt32(addr *int32, new int32) (old int32) {
	hb.Atomic(addr, true, true)
	return atomic.SwapInt32(addr, new)
}

// SwapInt64 atomically stores new into *addr and returns the previous
// value.
func SwapInt64(addr *int64, new int64) (old int64) {
	hb.Atomic(addr, true, true)
	return atomic.SwapInt64(addr, new)
}

// SwapUint32 atomically stores new into *addr and returns the previous
// value.
func SwapUint32(addr *uint32, new uint32) (old uint32) {
	hb.Atomic(addr, true, true)
	return atomic.SwapUint32(addr, new)
}

// SwapUint64 atomically stores new into *addr and returns the previous
// value.
func SwapUint64(addr *uint64, new uint64) (old uint64) {
	hb.Atomic(addr, true, true)
	return atomic.SwapUint64(addr, new)
}

// SwapUintptr atomically stores new into *addr and returns the previous
// value.
func SwapUintptr(addr *uintptr, new uintptr) (old uintptr) {
	hb.Atomic(addr, true, true)
	return atomic.SwapUintptr(addr, new)
}

// SwapPointer atomically stores new into *addr and returns the previous
// value.
func SwapPointer(addr *unsafe.Pointer, new unsafe.Pointer) (old unsafe.Pointer) {
	hb.Atomic(addr, true, true)
	return atomic.SwapPointer(addr, new)
}
