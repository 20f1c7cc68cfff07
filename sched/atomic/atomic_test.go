package atomic_test

import (
	std "sync/atomic"
	"testing"
	"unsafe"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/atomic"
)

// ops calls each function and method of the package (Store methods with
// a Load to check them: two operations) and reports whether it did what
// sync/atomic does.
var ops = []struct {
	name  string
	steps int // operations of this package called
	op    func() bool
}{
	{"AddInt32", 1, func() bool { var a, b int32 = 5, 5; return atomic.AddInt32(&a, 3) == std.AddInt32(&b, 3) && a == b }},
	{"AndInt32", 1, func() bool { var a, b int32 = 6, 6; return atomic.AndInt32(&a, 3) == std.AndInt32(&b, 3) && a == b }},
	{"OrInt32", 1, func() bool { var a, b int32 = 6, 6; return atomic.OrInt32(&a, 3) == std.OrInt32(&b, 3) && a == b }},
	{"CompareAndSwapInt32", 1, func() bool {
		var a, b int32 = 6, 6
		return atomic.CompareAndSwapInt32(&a, 6, 7) == std.CompareAndSwapInt32(&b, 6, 7) && a == b
	}},
	{"LoadInt32", 1, func() bool { var a int32 = 6; return atomic.LoadInt32(&a) == 6 }},
	{"StoreInt32", 1, func() bool { var a, b int32; atomic.StoreInt32(&a, 7); std.StoreInt32(&b, 7); return a == b }},
	{"SwapInt32", 1, func() bool { var a, b int32 = 6, 6; return atomic.SwapInt32(&a, 7) == std.SwapInt32(&b, 7) && a == b }},
	{"Int32.Load", 1, func() bool { var a atomic.Int32; var b std.Int32; return a.Load() == b.Load() }},
	{"Int32.Store", 2, func() bool { var a atomic.Int32; a.Store(7); return a.Load() == 7 }},
	{"Int32.Add", 1, func() bool { var a atomic.Int32; var b std.Int32; return a.Add(3) == b.Add(3) }},
	{"Int32.Swap", 1, func() bool { var a atomic.Int32; var b std.Int32; return a.Swap(3) == b.Swap(3) }},
	{"Int32.CompareAndSwap", 1, func() bool {
		var a atomic.Int32
		var b std.Int32
		return a.CompareAndSwap(0, 3) == b.CompareAndSwap(0, 3)
	}},
	{"Int32.And", 1, func() bool { var a atomic.Int32; var b std.Int32; return a.And(3) == b.And(3) }},
	{"Int32.Or", 1, func() bool { var a atomic.Int32; var b std.Int32; return a.Or(3) == b.Or(3) }},
	{"AddInt64", 1, func() bool { var a, b int64 = 5, 5; return atomic.AddInt64(&a, 3) == std.AddInt64(&b, 3) && a == b }},
	{"AndInt64", 1, func() bool { var a, b int64 = 6, 6; return atomic.AndInt64(&a, 3) == std.AndInt64(&b, 3) && a == b }},
	{"OrInt64", 1, func() bool { var a, b int64 = 6, 6; return atomic.OrInt64(&a, 3) == std.OrInt64(&b, 3) && a == b }},
	{"CompareAndSwapInt64", 1, func() bool {
		var a, b int64 = 6, 6
		return atomic.CompareAndSwapInt64(&a, 6, 7) == std.CompareAndSwapInt64(&b, 6, 7) && a == b
	}},
	{"LoadInt64", 1, func() bool { var a int64 = 6; return atomic.LoadInt64(&a) == 6 }},
	{"StoreInt64", 1, func() bool { var a, b int64; atomic.StoreInt64(&a, 7); std.StoreInt64(&b, 7); return a == b }},
	{"SwapInt64", 1, func() bool { var a, b int64 = 6, 6; return atomic.SwapInt64(&a, 7) == std.SwapInt64(&b, 7) && a == b }},
	{"Int64.Load", 1, func() bool { var a atomic.Int64; var b std.Int64; return a.Load() == b.Load() }},
	{"Int64.Store", 2, func() bool { var a atomic.Int64; a.Store(7); return a.Load() == 7 }},
	{"Int64.Add", 1, func() bool { var a atomic.Int64; var b std.Int64; return a.Add(3) == b.Add(3) }},
	{"Int64.Swap", 1, func() bool { var a atomic.Int64; var b std.Int64; return a.Swap(3) == b.Swap(3) }},
	{"Int64.CompareAndSwap", 1, func() bool {
		var a atomic.Int64
		var b std.Int64
		return a.CompareAndSwap(0, 3) == b.CompareAndSwap(0, 3)
	}},
	{"Int64.And", 1, func() bool { var a atomic.Int64; var b std.Int64; return a.And(3) == b.And(3) }},
	{"Int64.Or", 1, func() bool { var a atomic.Int64; var b std.Int64; return a.Or(3) == b.Or(3) }},
	{"AddUint32", 1, func() bool { var a, b uint32 = 5, 5; return atomic.AddUint32(&a, 3) == std.AddUint32(&b, 3) && a == b }},
	{"AndUint32", 1, func() bool { var a, b uint32 = 6, 6; return atomic.AndUint32(&a, 3) == std.AndUint32(&b, 3) && a == b }},
	{"OrUint32", 1, func() bool { var a, b uint32 = 6, 6; return atomic.OrUint32(&a, 3) == std.OrUint32(&b, 3) && a == b }},
	{"CompareAndSwapUint32", 1, func() bool {
		var a, b uint32 = 6, 6
		return atomic.CompareAndSwapUint32(&a, 6, 7) == std.CompareAndSwapUint32(&b, 6, 7) && a == b
	}},
	{"LoadUint32", 1, func() bool { var a uint32 = 6; return atomic.LoadUint32(&a) == 6 }},
	{"StoreUint32", 1, func() bool { var a, b uint32; atomic.StoreUint32(&a, 7); std.StoreUint32(&b, 7); return a == b }},
	{"SwapUint32", 1, func() bool {
		var a, b uint32 = 6, 6
		return atomic.SwapUint32(&a, 7) == std.SwapUint32(&b, 7) && a == b
	}},
	{"Uint32.Load", 1, func() bool { var a atomic.Uint32; var b std.Uint32; return a.Load() == b.Load() }},
	{"Uint32.Store", 2, func() bool { var a atomic.Uint32; a.Store(7); return a.Load() == 7 }},
	{"Uint32.Add", 1, func() bool { var a atomic.Uint32; var b std.Uint32; return a.Add(3) == b.Add(3) }},
	{"Uint32.Swap", 1, func() bool { var a atomic.Uint32; var b std.Uint32; return a.Swap(3) == b.Swap(3) }},
	{"Uint32.CompareAndSwap", 1, func() bool {
		var a atomic.Uint32
		var b std.Uint32
		return a.CompareAndSwap(0, 3) == b.CompareAndSwap(0, 3)
	}},
	{"Uint32.And", 1, func() bool { var a atomic.Uint32; var b std.Uint32; return a.And(3) == b.And(3) }},
	{"Uint32.Or", 1, func() bool { var a atomic.Uint32; var b std.Uint32; return a.Or(3) == b.Or(3) }},
	{"AddUint64", 1, func() bool { var a, b uint64 = 5, 5; return atomic.AddUint64(&a, 3) == std.AddUint64(&b, 3) && a == b }},
	{"AndUint64", 1, func() bool { var a, b uint64 = 6, 6; return atomic.AndUint64(&a, 3) == std.AndUint64(&b, 3) && a == b }},
	{"OrUint64", 1, func() bool { var a, b uint64 = 6, 6; return atomic.OrUint64(&a, 3) == std.OrUint64(&b, 3) && a == b }},
	{"CompareAndSwapUint64", 1, func() bool {
		var a, b uint64 = 6, 6
		return atomic.CompareAndSwapUint64(&a, 6, 7) == std.CompareAndSwapUint64(&b, 6, 7) && a == b
	}},
	{"LoadUint64", 1, func() bool { var a uint64 = 6; return atomic.LoadUint64(&a) == 6 }},
	{"StoreUint64", 1, func() bool { var a, b uint64; atomic.StoreUint64(&a, 7); std.StoreUint64(&b, 7); return a == b }},
	{"SwapUint64", 1, func() bool {
		var a, b uint64 = 6, 6
		return atomic.SwapUint64(&a, 7) == std.SwapUint64(&b, 7) && a == b
	}},
	{"Uint64.Load", 1, func() bool { var a atomic.Uint64; var b std.Uint64; return a.Load() == b.Load() }},
	{"Uint64.Store", 2, func() bool { var a atomic.Uint64; a.Store(7); return a.Load() == 7 }},
	{"Uint64.Add", 1, func() bool { var a atomic.Uint64; var b std.Uint64; return a.Add(3) == b.Add(3) }},
	{"Uint64.Swap", 1, func() bool { var a atomic.Uint64; var b std.Uint64; return a.Swap(3) == b.Swap(3) }},
	{"Uint64.CompareAndSwap", 1, func() bool {
		var a atomic.Uint64
		var b std.Uint64
		return a.CompareAndSwap(0, 3) == b.CompareAndSwap(0, 3)
	}},
	{"Uint64.And", 1, func() bool { var a atomic.Uint64; var b std.Uint64; return a.And(3) == b.And(3) }},
	{"Uint64.Or", 1, func() bool { var a atomic.Uint64; var b std.Uint64; return a.Or(3) == b.Or(3) }},
	{"AddUintptr", 1, func() bool {
		var a, b uintptr = 5, 5
		return atomic.AddUintptr(&a, 3) == std.AddUintptr(&b, 3) && a == b
	}},
	{"AndUintptr", 1, func() bool {
		var a, b uintptr = 6, 6
		return atomic.AndUintptr(&a, 3) == std.AndUintptr(&b, 3) && a == b
	}},
	{"OrUintptr", 1, func() bool { var a, b uintptr = 6, 6; return atomic.OrUintptr(&a, 3) == std.OrUintptr(&b, 3) && a == b }},
	{"CompareAndSwapUintptr", 1, func() bool {
		var a, b uintptr = 6, 6
		return atomic.CompareAndSwapUintptr(&a, 6, 7) == std.CompareAndSwapUintptr(&b, 6, 7) && a == b
	}},
	{"LoadUintptr", 1, func() bool { var a uintptr = 6; return atomic.LoadUintptr(&a) == 6 }},
	{"StoreUintptr", 1, func() bool { var a, b uintptr; atomic.StoreUintptr(&a, 7); std.StoreUintptr(&b, 7); return a == b }},
	{"SwapUintptr", 1, func() bool {
		var a, b uintptr = 6, 6
		return atomic.SwapUintptr(&a, 7) == std.SwapUintptr(&b, 7) && a == b
	}},
	{"Uintptr.Load", 1, func() bool { var a atomic.Uintptr; var b std.Uintptr; return a.Load() == b.Load() }},
	{"Uintptr.Store", 2, func() bool { var a atomic.Uintptr; a.Store(7); return a.Load() == 7 }},
	{"Uintptr.Add", 1, func() bool { var a atomic.Uintptr; var b std.Uintptr; return a.Add(3) == b.Add(3) }},
	{"Uintptr.Swap", 1, func() bool { var a atomic.Uintptr; var b std.Uintptr; return a.Swap(3) == b.Swap(3) }},
	{"Uintptr.CompareAndSwap", 1, func() bool {
		var a atomic.Uintptr
		var b std.Uintptr
		return a.CompareAndSwap(0, 3) == b.CompareAndSwap(0, 3)
	}},
	{"Uintptr.And", 1, func() bool { var a atomic.Uintptr; var b std.Uintptr; return a.And(3) == b.And(3) }},
	{"Uintptr.Or", 1, func() bool { var a atomic.Uintptr; var b std.Uintptr; return a.Or(3) == b.Or(3) }},
	{"CompareAndSwapPointer", 1, func() bool {
		x, y := 1, 2
		a, b := unsafe.Pointer(&x), unsafe.Pointer(&x)
		return atomic.CompareAndSwapPointer(&a, unsafe.Pointer(&x), unsafe.Pointer(&y)) == std.CompareAndSwapPointer(&b, unsafe.Pointer(&x), unsafe.Pointer(&y)) && a == b
	}},
	{"LoadPointer", 1, func() bool { x := 1; a := unsafe.Pointer(&x); return atomic.LoadPointer(&a) == unsafe.Pointer(&x) }},
	{"StorePointer", 1, func() bool {
		x := 1
		var a unsafe.Pointer
		atomic.StorePointer(&a, unsafe.Pointer(&x))
		return a == unsafe.Pointer(&x)
	}},
	{"SwapPointer", 1, func() bool {
		x, y := 1, 2
		a := unsafe.Pointer(&x)
		return atomic.SwapPointer(&a, unsafe.Pointer(&y)) == unsafe.Pointer(&x) && a == unsafe.Pointer(&y)
	}},
	{"Bool.Load", 1, func() bool { var a atomic.Bool; return !a.Load() }},
	{"Bool.Store", 2, func() bool { var a atomic.Bool; a.Store(true); return a.Load() }},
	{"Bool.Swap", 1, func() bool { var a atomic.Bool; return !a.Swap(true) }},
	{"Bool.CompareAndSwap", 1, func() bool { var a atomic.Bool; return a.CompareAndSwap(false, true) }},
	{"Pointer.Load", 1, func() bool { var a atomic.Pointer[int]; return a.Load() == nil }},
	{"Pointer.Store", 2, func() bool { var a atomic.Pointer[int]; x := 1; a.Store(&x); return a.Load() == &x }},
	{"Pointer.Swap", 1, func() bool { var a atomic.Pointer[int]; x := 1; return a.Swap(&x) == nil }},
	{"Pointer.CompareAndSwap", 1, func() bool { var a atomic.Pointer[int]; x := 1; return a.CompareAndSwap(nil, &x) }},
	{"Value.Load", 1, func() bool { var a atomic.Value; return a.Load() == nil }},
	{"Value.Store", 2, func() bool { var a atomic.Value; a.Store(1); return a.Load() == 1 }},
	{"Value.Swap", 1, func() bool { var a atomic.Value; return a.Swap(1) == nil }},
	{"Value.CompareAndSwap", 1, func() bool { var a atomic.Value; return a.CompareAndSwap(nil, 1) }},
}

// TestOps: every function and method does what its sync/atomic namesake
// does, outside a run and under one, where each of its operations is one
// scheduling point (one step).
func TestOps(t *testing.T) {
	for _, tt := range ops {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.op() {
				t.Errorf("outside a run: not what sync/atomic does")
			}
			res, err := sched.Run(sched.Config{}, func() {
				before := sched.Step()
				ok := tt.op()
				steps := sched.Step() - before
				sched.Assertf(ok, "not what sync/atomic does")
				sched.Assertf(steps == int64(tt.steps), "%d steps, want %d", steps, tt.steps)
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Failure != nil {
				t.Errorf("under a run: %v", res.Failure)
			}
		})
	}
}

// TestLostUpdate: a LoadInt64-then-StoreInt64 increment by two machines
// loses an update on some schedule (each call is a scheduling point),
// AddInt64 never does.
func TestLostUpdate(t *testing.T) {
	incr := map[string]func(*int64){
		"Load+Store": func(p *int64) { atomic.StoreInt64(p, atomic.LoadInt64(p)+1) },
		"Add":        func(p *int64) { atomic.AddInt64(p, 1) },
	}
	for _, name := range []string{"Load+Store", "Add"} {
		t.Run(name, func(t *testing.T) {
			lost := 0
			for seed := uint64(0); seed < 100; seed++ {
				var n int64
				res, err := sched.Run(sched.Config{Seed: seed}, func() {
					var wg sched.WaitGroup
					for range 2 {
						wg.Go(func() { incr[name](&n) })
					}
					wg.Wait()
				})
				if err != nil || res.Failure != nil {
					t.Fatalf("seed %d: %v %v", seed, err, res.Failure)
				}
				if n != 2 {
					lost++
				}
			}
			if got, want := lost > 0, name == "Load+Store"; got != want {
				t.Errorf("lost an update on %d of 100 schedules; want some: %v", lost, want)
			}
		})
	}
}
