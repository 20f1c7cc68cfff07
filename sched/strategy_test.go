package sched_test

import (
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// twoWorkers logs a or b at each of ten steps of two workers.
func twoWorkers(log *[]byte) func() {
	return func() {
		var wg sched.WaitGroup
		for _, c := range []byte("ab") {
			wg.Add(1)
			sched.GoNamed(string(c), func() {
				for i := 0; i < 10; i++ {
					*log = append(*log, c)
					sched.Yield()
				}
				wg.Done()
			})
		}
		wg.Wait()
	}
}

func switches(log []byte) int {
	n := 0
	for i := 1; i < len(log); i++ {
		if log[i] != log[i-1] {
			n++
		}
	}
	return n
}

// TestPCTDepth: with depth d, PCT preempts a worker at most d-1 times in
// its priority phase, so the log of two workers has at most d+1 blocks
// (two for no preemption); over a sweep of seeds both workers go first
// and the bound is reached.
func TestPCTDepth(t *testing.T) {
	for _, depth := range []int{1, 2, 3} {
		seen := map[int]int{}
		first := map[byte]int{}
		for seed := uint64(0); seed < 300; seed++ {
			var log []byte
			res := mustRun(t, sched.Config{Strategy: "pct", Seed: seed, Depth: depth, ExpectedSteps: 30}, twoWorkers(&log))
			if res.Failure != nil {
				t.Fatalf("depth %d seed %d: %v", depth, seed, res.Failure)
			}
			blocks := switches(log) + 1
			if blocks > depth+1 {
				t.Fatalf("depth %d seed %d: %d blocks in %s, want at most %d", depth, seed, blocks, log, depth+1)
			}
			seen[blocks]++
			first[log[0]]++
		}
		if seen[depth+1] == 0 {
			t.Errorf("depth %d: no seed reached %d blocks (counts %v)", depth, depth+1, seen)
		}
		if first['a'] == 0 || first['b'] == 0 {
			t.Errorf("depth %d: first worker counts %v, want both", depth, first)
		}
	}
}

// TestRandomInterleaves: the random strategy interleaves the workers
// freely.
func TestRandomInterleaves(t *testing.T) {
	most := 0
	for seed := uint64(0); seed < 50; seed++ {
		var log []byte
		mustRun(t, sched.Config{Seed: seed}, twoWorkers(&log))
		most = max(most, switches(log))
		if got := strings.Count(string(log), "a"); got != 10 {
			t.Fatalf("seed %d: %d steps of a, want 10", seed, got)
		}
	}
	if most < 5 {
		t.Errorf("at most %d switches in 50 random schedules, want more than 4", most)
	}
}
