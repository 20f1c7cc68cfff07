package linearizability

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// regIn is an operation on one of a few integer registers: a write of
// Value, or a read that returned Value.
type regIn struct {
	Key   int
	Write bool
	Value int
}

type regState [4]int

func regModel() Model[regState, regIn, struct{}] {
	return Model[regState, regIn, struct{}]{
		Init: func() regState { return regState{} },
		Step: func(s regState, in regIn, _ struct{}) (bool, regState) {
			if in.Write {
				s[in.Key] = in.Value
				return true, s
			}
			return s[in.Key] == in.Value, s
		},
		Key: func(s regState) string { return fmt.Sprint(s) },
		Partition: func(h []Operation[regIn, struct{}]) [][]Operation[regIn, struct{}] {
			parts := make([][]Operation[regIn, struct{}], 4)
			for _, op := range h {
				parts[op.Input.Key] = append(parts[op.Input.Key], op)
			}
			return slices.DeleteFunc(parts, func(p []Operation[regIn, struct{}]) bool { return len(p) == 0 })
		},
	}
}

type lockstepResult struct {
	result    Result
	steps     int64
	part      int
	undecided []int
}

// lockstepReference is the definition of the package doc, run step by
// step: in each round every undecided part takes one step, in part
// order; the check ends at the step that proves a part illegal, at the
// budget-th step, or when every part is decided.
func lockstepReference(m *Model[regState, regIn, struct{}], parts [][]Operation[regIn, struct{}], budget int64) lockstepResult {
	n := len(parts)
	ss := make([]*searcher[regState, regIn, struct{}], n)
	done := make([]bool, n)
	for i, p := range parts {
		if !slices.ContainsFunc(p, func(op Operation[regIn, struct{}]) bool { return !op.IsPending() }) {
			done[i] = true
			continue
		}
		ss[i] = newSearcher(m, p)
	}
	pos := int64(0)
	for {
		stepped := false
		for i := range parts {
			if done[i] {
				continue
			}
			stepped = true
			if pos == budget {
				var undecided []int
				for k := range parts {
					if !done[k] {
						undecided = append(undecided, k)
					}
				}
				return lockstepResult{result: Unknown, steps: budget, undecided: undecided}
			}
			pos++
			res, d := ss[i].resume(1)
			if !d {
				continue
			}
			done[i] = true
			if res == Illegal {
				return lockstepResult{result: Illegal, steps: pos, part: i}
			}
		}
		if !stepped {
			return lockstepResult{result: Ok, steps: pos}
		}
	}
}

// genRegHistory draws a history on up to four registers, each with a
// few overlapping writes and reads (some returning values never
// written), so that parts take from a few to thousands of steps.
func genRegHistory(t *rapid.T) []Operation[regIn, struct{}] {
	var h []Operation[regIn, struct{}]
	keys := rapid.IntRange(1, 4).Draw(t, "keys")
	for k := range keys {
		writes := rapid.IntRange(0, 6).Draw(t, "writes")
		for i := range writes {
			call := int64(rapid.IntRange(0, 10).Draw(t, "call"))
			ret := call + int64(rapid.IntRange(0, 20).Draw(t, "len"))
			if rapid.IntRange(0, 5).Draw(t, "pending") == 0 {
				ret = Pending
			}
			h = append(h, Operation[regIn, struct{}]{Client: i, Call: call, Return: ret, Input: regIn{Key: k, Write: true, Value: i + 1}})
		}
		reads := rapid.IntRange(0, 6).Draw(t, "reads")
		for i := range reads {
			call := int64(rapid.IntRange(0, 30).Draw(t, "call"))
			ret := call + int64(rapid.IntRange(0, 5).Draw(t, "len"))
			v := rapid.IntRange(0, writes+1).Draw(t, "value")
			h = append(h, Operation[regIn, struct{}]{Client: 100 + i, Call: call, Return: ret, Input: regIn{Key: k, Value: v}})
		}
	}
	return h
}

// Check's report, for any number of workers and any quantum, is the
// step-by-step lockstep definition's.
func TestLockstepMatchesDefinition(t *testing.T) {
	defer func(q int64) { minQuantum = q }(minQuantum)
	rapid.Check(t, func(t *rapid.T) {
		minQuantum = int64(rapid.IntRange(1, 64).Draw(t, "minQuantum"))
		h := genRegHistory(t)
		budget := int64(rapid.IntRange(0, 3000).Draw(t, "budget"))
		workers := rapid.IntRange(1, 8).Draw(t, "workers")
		m := regModel()
		refBudget := budget
		if refBudget == 0 {
			refBudget = math.MaxInt64
		}
		want := lockstepReference(&m, m.Partition(h), refBudget)
		rep, err := Check(m, h, Options{MaxSteps: budget, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		got := lockstepResult{result: rep.Result, steps: rep.Steps, part: rep.Part, undecided: rep.Undecided}
		if got.result != want.result || got.steps != want.steps || got.part != want.part || !slices.Equal(got.undecided, want.undecided) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	})
}

func TestFirstRound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ds := rapid.SliceOfN(rapid.Int64Range(0, 50), 0, 6).Draw(t, "ds")
		total := rapid.Int64Range(1, 200).Draw(t, "total")
		want := int64(math.MaxInt64)
		for r := int64(1); r <= 60; r++ {
			var sum int64
			for _, d := range ds {
				sum += min(d, r)
			}
			if sum >= total {
				want = r
				break
			}
		}
		if got := firstRound(ds, total); got != want {
			t.Fatalf("firstRound(%v, %d): got %s, want %s", ds, total, strconv.FormatInt(got, 10), strconv.FormatInt(want, 10))
		}
	})
}
