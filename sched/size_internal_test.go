package sched

import (
	"testing"
	"unsafe"
)

// TestSchedulerSize: every run allocates a scheduler; on 64-bit
// platforms it must fit the 640-byte allocation size class with the
// allocator's 8-byte header, or every run allocates 64 bytes more (the
// plain-scheduling benchmarks' B/op). Put new state in world or hbState,
// which only runs that use it allocate.
func TestSchedulerSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("64-bit platforms only")
	}
	if got, limit := unsafe.Sizeof(scheduler{}), uintptr(640-8); got > limit {
		t.Errorf("scheduler is %d bytes, above %d", got, limit)
	}
}
