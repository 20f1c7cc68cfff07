package sched

import (
	"sync"
	"testing"
)

func TestGoidAgreesWithStack(t *testing.T) {
	if !fastGoid {
		t.Skip("goid.Get disagrees with runtime.Stack on this Go release; the slow path is in use")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, want := currentGoid(), stackGoid(); got != want {
				t.Errorf("goid: got %d, want %d (runtime.Stack)", got, want)
			}
		}()
	}
	wg.Wait()
}

// TestRegistryConcurrent: goroutines register, look themselves up and
// retire concurrently (run with -race), across table rebuilds; a
// goroutine that never registered finds nothing.
func TestRegistryConcurrent(t *testing.T) {
	// Machines that linger from other tests' runs (stuck in uncontrolled
	// blocking on purpose) may still be registered; they only leave.
	registry.mu.Lock()
	before := registry.n
	registry.mu.Unlock()
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				done := make(chan struct{})
				go func() {
					defer close(done)
					id := currentGoid()
					m := &machine{id: w*1000 + i}
					register(id, m)
					for range 3 {
						if got := lookupMachine(id); got != m {
							t.Errorf("lookup of goroutine %d: got %v, want machine %d", id, got, m.id)
						}
					}
					unregister(id)
					if got := lookupMachine(id); got != nil {
						t.Errorf("lookup after unregister: got machine %d, want nil", got.id)
					}
				}()
				<-done
			}
		}()
	}
	wg.Wait()
	if got := lookupMachine(currentGoid()); got != nil {
		t.Errorf("the test goroutine: got machine %d, want nil", got.id)
	}
	registry.mu.Lock()
	n := registry.n
	registry.mu.Unlock()
	if n > before {
		t.Errorf("%d entries in the registry, %d before the test", n, before)
	}
}

// BenchmarkLookupNoRun is the cost every primitive pays when no run is
// in progress: one atomic load.
func BenchmarkLookupNoRun(b *testing.B) {
	for b.Loop() {
		if current() != nil {
			b.Fatal("machine found")
		}
	}
}

// BenchmarkLookupRunActive is the cost of finding the calling machine
// while runs are in progress (goroutine ID and one probe), with 100 other
// goroutines registered.
func BenchmarkLookupRunActive(b *testing.B) {
	release := make(chan struct{})
	var ready, exited sync.WaitGroup
	for range 100 {
		ready.Add(1)
		exited.Add(1)
		go func() {
			defer exited.Done()
			id := currentGoid()
			register(id, &machine{})
			ready.Done()
			<-release
			unregister(id)
		}()
	}
	ready.Wait()
	id := currentGoid()
	me := &machine{}
	register(id, me)
	activeRuns.Add(1)
	for b.Loop() {
		if current() != me {
			b.Fatal("wrong machine")
		}
	}
	activeRuns.Add(-1)
	unregister(id)
	close(release)
	exited.Wait()
}

// BenchmarkGoid is goid.Get (or the runtime.Stack fallback) alone.
func BenchmarkGoid(b *testing.B) {
	var sum int64
	for b.Loop() {
		sum += currentGoid()
	}
	_ = sum
}
