package harness

import (
	"slices"
	"testing"
)

// TestProposeReseeds: a move that changes the world proposes its
// candidates, then each again with seeds 1 to reseeds, seed by seed;
// for the same workload again, only its candidates; for another
// workload, the seeded ones again. Another move proposes its candidates
// alone.
func TestProposeReseeds(t *testing.T) {
	two := func(r shrinkRun) []candidate {
		return []candidate{{opts: r.opts}, {opts: r.opts, streams: []string{"x"}}}
	}
	seeds := func(cs []candidate) []uint64 {
		out := make([]uint64, len(cs))
		for i, c := range cs {
			out[i] = c.seed
		}
		return out
	}
	var all []uint64 // 0, 0, 1, 1, ..., reseeds, reseeds
	for s := uint64(0); s <= reseeds; s++ {
		all = append(all, s, s)
	}
	sh := &shrinker{best: shrinkRun{opts: Options{Workload: DefaultWorkload()}}}
	other := sh.best.opts
	other.Workload.Apps--
	for _, step := range []struct {
		name string
		move move
		opts Options
		want []uint64
	}{
		{"apps", move{"apps", two}, sh.best.opts, all},
		{"apps, the same workload", move{"apps", two}, sh.best.opts, []uint64{0, 0}},
		{"leases", move{"leases", two}, sh.best.opts, all},
		{"migrators", move{"migrators", two}, sh.best.opts, all},
		{"calls", move{"calls", two}, sh.best.opts, []uint64{0, 0}},
		{"apps, another workload", move{"apps", two}, other, all},
		{"apps, that workload again", move{"apps", two}, other, []uint64{0, 0}},
	} {
		sh.best.opts = step.opts
		cands := sh.propose(step.move)
		if got := seeds(cands); !slices.Equal(got, step.want) {
			t.Errorf("%s: seeds got %v, want %v", step.name, got, step.want)
		}
		for i, c := range cands {
			if want := i%2 == 1; (c.streams != nil) != want {
				t.Errorf("%s: candidate %d is not a copy of the move's candidate %d", step.name, i, i%2)
			}
		}
	}
}
