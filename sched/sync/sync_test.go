package sync_test

import (
	"cmp"
	"errors"
	"fmt"
	stdsync "sync"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/sync"
)

// The controlled types are sched's; Locker is sync.Locker.
var (
	_ *sched.Mutex     = new(sync.Mutex)
	_ *sched.RWMutex   = new(sync.RWMutex)
	_ *sched.Cond      = sync.NewCond(new(sync.Mutex))
	_ *sched.Once      = new(sync.Once)
	_ *sched.WaitGroup = new(sync.WaitGroup)
	_ stdsync.Locker   = sync.Locker(new(sync.Mutex))
	_ *stdsync.Map     = new(sync.Map)
	_ *stdsync.Pool    = new(sync.Pool)
)

// TestOnceFuncs: OnceFunc, OnceValue and OnceValues call f once, however
// many machines call them, and every call sees its result; a panic of f
// is every call's panic; outside a run too.
func TestOnceFuncs(t *testing.T) {
	boom := errors.New("boom")
	prog := func() error {
		calls := 0
		f := sync.OnceFunc(func() { calls++ })
		v := sync.OnceValue(func() int { calls++; return 7 })
		vs := sync.OnceValues(func() (int, error) { calls++; return 8, boom })
		p := sync.OnceFunc(func() { calls++; panic(boom) })
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		for range 3 {
			wg.Go(func() {
				f()
				n, err := vs()
				panicked := func() (r any) {
					defer func() { r = recover() }()
					p()
					return nil
				}()
				mu.Lock()
				defer mu.Unlock()
				if v() != 7 || n != 8 || err != boom || panicked != boom {
					errs = append(errs, errors.New("a call saw another result"))
				}
			})
		}
		wg.Wait()
		if calls != 4 {
			errs = append(errs, errors.New("f called more than once"))
		}
		return errors.Join(errs...)
	}
	if err := prog(); err != nil {
		t.Errorf("outside a run: %v", err)
	}
	for seed := uint64(0); seed < 50; seed++ {
		res, err := sched.Run(sched.Config{Seed: seed}, func() {
			if err := prog(); err != nil {
				sched.Fail(err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
	}
}

// TestUncontrolledUnderRun: Map and Pool, the standard library's, work
// under a run (they never block across a scheduling point).
func TestUncontrolledUnderRun(t *testing.T) {
	res, err := sched.Run(sched.Config{}, func() {
		var m sync.Map
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() { m.Store(i, i*i) })
		}
		wg.Wait()
		n := 0
		m.Range(func(_, _ any) bool { n++; return true })
		sched.Assertf(n == 3, "Map holds %d entries, want 3", n)
		p := sync.Pool{New: func() any { return new(int) }}
		sched.Assertf(p.Get() != nil, "Pool.Get: nil")
	})
	if err != nil || res.Failure != nil {
		t.Fatalf("%v %v", err, res.Failure)
	}
}

// Example: code written against package sync, ported by changing its
// import; sched finds the lost update of an unlocked read-modify-write.
func Example() {
	counter := func(locked bool) func() {
		return func() {
			var mu sync.Mutex
			var wg sync.WaitGroup
			n := 0
			for range 2 {
				wg.Go(func() {
					if locked {
						mu.Lock()
						defer mu.Unlock()
					}
					v := n
					sched.Yield() // a scheduling point between read and write
					n = v + 1
				})
			}
			wg.Wait()
			sched.Assertf(n == 2, "n = %d after two increments", n)
		}
	}
	for _, locked := range []bool{false, true} {
		ex, _ := sched.NewExplorer(sched.Config{Strategy: "dfs"})
		failed := ""
		for !ex.Exhausted() && failed == "" {
			res, _ := ex.Next(counter(locked))
			if res.Failure != nil {
				failed = res.Failure.Error()
			}
		}
		fmt.Printf("locked %v: %d schedules, %s\n", locked, ex.Schedules(), cmp.Or(failed, "all passed"))
	}
	// Output:
	// locked false: 2 schedules, assertion failed in machine 0 "main" at step 9: n = 1 after two increments
	// locked true: 4518 schedules, all passed
}
