package linearizability_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

// A key-value register model: each operation reads or writes one key.
type kvIn struct {
	Key   string
	Write bool
	Value int
}

type kvState map[string]int // never mutated: Step copies

func kvModel(partition bool) linearizability.Model[kvState, kvIn, int] {
	m := linearizability.Model[kvState, kvIn, int]{
		Init: func() kvState { return kvState{} },
		Step: func(s kvState, in kvIn, out int) (bool, kvState) {
			if in.Write {
				next := make(kvState, len(s)+1)
				for k, v := range s {
					next[k] = v
				}
				next[in.Key] = in.Value
				return true, next
			}
			return s[in.Key] == out, s
		},
		Key: func(s kvState) string {
			var b strings.Builder
			for _, k := range sortedKeys(s) {
				fmt.Fprintf(&b, "%q=%d;", k, s[k])
			}
			return b.String()
		},
		DescribeOperation: func(in kvIn, out int) string {
			if in.Write {
				return fmt.Sprintf("write(%s, %d)", in.Key, in.Value)
			}
			return fmt.Sprintf("read(%s) -> %d", in.Key, out)
		},
		DescribeState: func(s kvState) string {
			var parts []string
			for _, k := range sortedKeys(s) {
				parts = append(parts, fmt.Sprintf("%s=%d", k, s[k]))
			}
			return "{" + strings.Join(parts, " ") + "}"
		},
	}
	if partition {
		m.Partition = func(h []kvOp) [][]kvOp {
			byKey := map[string][]kvOp{}
			for _, op := range h {
				byKey[op.Input.Key] = append(byKey[op.Input.Key], op)
			}
			var out [][]kvOp
			for _, k := range sortedKeys(byKey) {
				out = append(out, byKey[k])
			}
			return out
		}
	}
	return m
}

type kvOp = linearizability.Operation[kvIn, int]

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func w(client int, call, ret int64, key string, v int) kvOp {
	return kvOp{Client: client, Call: call, Return: ret, Input: kvIn{Key: key, Write: true, Value: v}}
}

func r(client int, call, ret int64, key string, got int) kvOp {
	return kvOp{Client: client, Call: call, Return: ret, Input: kvIn{Key: key}, Output: got}
}

const P = linearizability.Pending

func TestCheckRegister(t *testing.T) {
	tests := []struct {
		name    string
		history []kvOp
		want    linearizability.Result
		failed  int // index of the operation reported as Failed when Illegal
		prefix  int // length of the reported prefix when Illegal
	}{
		{name: "empty", want: linearizability.Ok},
		{name: "sequential", history: []kvOp{w(1, 0, 1, "x", 1), r(2, 2, 3, "x", 1), w(1, 4, 5, "x", 2), r(2, 6, 7, "x", 2)}, want: linearizability.Ok},
		{name: "overlapping read sees old", history: []kvOp{w(1, 0, 10, "x", 1), r(2, 2, 3, "x", 0)}, want: linearizability.Ok},
		{name: "overlapping read sees new", history: []kvOp{w(1, 0, 10, "x", 1), r(2, 2, 3, "x", 1)}, want: linearizability.Ok},
		{name: "reads in both orders of two overlapping writes",
			history: []kvOp{w(1, 0, 10, "x", 1), w(2, 0, 10, "x", 2), r(3, 11, 12, "x", 1), r(3, 13, 14, "x", 1)}, want: linearizability.Ok},
		{name: "stale read after completed write",
			history: []kvOp{w(1, 0, 1, "x", 1), r(2, 2, 3, "x", 0)}, want: linearizability.Illegal, failed: 1, prefix: 1},
		{name: "read flips back",
			history: []kvOp{w(1, 0, 10, "x", 1), r(2, 1, 2, "x", 1), r(2, 3, 4, "x", 0)}, want: linearizability.Illegal, failed: 2, prefix: 2},
		{name: "value nobody wrote",
			history: []kvOp{w(1, 0, 10, "x", 1), r(2, 1, 2, "x", 7)}, want: linearizability.Illegal, failed: 1, prefix: 1},
		{name: "pending write taken", history: []kvOp{w(1, 0, P, "x", 1), r(2, 5, 6, "x", 1)}, want: linearizability.Ok},
		{name: "pending write left out", history: []kvOp{w(1, 0, P, "x", 1), r(2, 5, 6, "x", 0)}, want: linearizability.Ok},
		{name: "pending write late", history: []kvOp{w(1, 0, P, "x", 1), r(2, 5, 6, "x", 0), r(2, 7, 8, "x", 1)}, want: linearizability.Ok},
		{name: "pending write cannot be undone",
			history: []kvOp{w(1, 0, P, "x", 1), r(2, 5, 6, "x", 1), r(2, 7, 8, "x", 0)}, want: linearizability.Illegal, failed: 2, prefix: 2},
		{name: "pending write not before its call",
			history: []kvOp{r(2, 0, 1, "x", 1), w(1, 2, P, "x", 1)}, want: linearizability.Illegal, failed: 0, prefix: 0},
		{name: "instantaneous event overlaps an operation touching it",
			history: []kvOp{w(1, 3, 3, "x", 1), r(2, 0, 3, "x", 1)}, want: linearizability.Ok},
		{name: "instantaneous event after a return",
			history: []kvOp{w(1, 3, 3, "x", 1), r(2, 0, 2, "x", 1)}, want: linearizability.Illegal, failed: 1, prefix: 0},
		{name: "instantaneous events in order",
			history: []kvOp{w(1, 3, 3, "x", 1), w(1, 4, 4, "x", 2), r(2, 0, 9, "x", 2), r(2, 10, 11, "x", 2)}, want: linearizability.Ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, part := range []bool{false, true} {
				rep, err := linearizability.Check(kvModel(part), tt.history, linearizability.Options{})
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if got, want := rep.Result, tt.want; got != want {
					t.Fatalf("partition=%v: got %v, want %v\n%s", part, got, want, rep.String())
				}
				if tt.want != linearizability.Illegal {
					continue
				}
				if got, want := rep.Failed, tt.history[tt.failed]; got != want {
					t.Errorf("Failed: got %+v, want %+v", got, want)
				}
				if got, want := len(rep.Prefix), tt.prefix; got != want {
					t.Errorf("len(Prefix): got %d, want %d\n%s", got, want, rep.Explanation)
				}
				if !strings.Contains(rep.Explanation, "cannot linearize: client") {
					t.Errorf("Explanation lacks the failing operation:\n%s", rep.Explanation)
				}
			}
		})
	}
}

func TestCheckPartitions(t *testing.T) {
	h := []kvOp{
		w(1, 0, 10, "a", 1), r(2, 1, 2, "a", 0), r(2, 3, 4, "a", 1), // 6 steps to decide: ok
		w(1, 11, 12, "b", 5), r(2, 13, 14, "b", 0), // stale read: 4 steps to prove
		r(3, 2, 3, "c", 2), // a value nobody wrote: 2 steps to prove
	}
	for _, workers := range []int{1, 3} {
		rep, err := linearizability.Check(kvModel(true), h, linearizability.Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rep.Result, linearizability.Illegal; got != want {
			t.Fatalf("got %v, want %v", got, want)
		}
		if got, want := rep.Parts, 3; got != want {
			t.Errorf("Parts: got %d, want %d", got, want)
		}
		// Both b and c are illegal; c is proved so in fewer steps.
		if got, want := rep.Part, 2; got != want {
			t.Errorf("Part: got %d, want %d", got, want)
		}
		if got, want := rep.Failed, h[5]; got != want {
			t.Errorf("Failed: got %+v, want %+v", got, want)
		}
		if got := rep.Prefix; len(got) != 0 {
			t.Errorf("Prefix: got %v, want none", got)
		}
		// c's second step is the sixth in lockstep order: the first step
		// of a, b and c, then the second of a, of b, of c.
		if got, want := rep.Steps, int64(6); got != want {
			t.Errorf("Steps: got %d, want %d", got, want)
		}
	}
	// Proved illegal in as many steps, the lower part index wins.
	h[5] = w(3, 0, 1, "c", 1)
	h = append(h, r(3, 2, 3, "c", 2))
	rep, err := linearizability.Check(kvModel(true), h, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Part, 1; got != want {
		t.Errorf("tie: Part: got %d, want %d", got, want)
	}
	if got, want := rep.Failed, h[4]; got != want {
		t.Errorf("tie: Failed: got %+v, want %+v", got, want)
	}
	if got, want := rep.Prefix, []linearizability.Linearized[kvState, kvIn, int]{{Op: h[3], After: kvState{"b": 5}}}; !cmp.Equal(got, want) {
		t.Errorf("tie: Prefix: %s", cmp.Diff(want, got))
	}
	// Without the bad parts, the rest is fine.
	rep, err = linearizability.Check(kvModel(true), h[:3], linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Result, linearizability.Ok; got != want {
		t.Errorf("first part alone: got %v, want %v", got, want)
	}
	if got, want := rep.Steps, int64(6); got != want {
		t.Errorf("first part alone: Steps: got %d, want %d", got, want)
	}
}

func TestCheckExplanation(t *testing.T) {
	h := []kvOp{w(1, 0, 1, "x", 1), r(2, 2, 3, "x", 0)}
	rep, err := linearizability.Check(kvModel(false), h, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `illegal: not linearizable (part 0 of 1, 4 search steps)
cannot linearize: client 2 [2, 3]: read(x) -> 0
after the longest linearizable prefix (the part's history before time 3), which has 1 operations in this linearization:
  initial state: {}
  1. client 1 [0, 1]: write(x, 1)
     state: {x=1}
no linearization of that prefix can be followed by the failing operation`
	if got := rep.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestCheckExplanationOmitsEarlyOperations(t *testing.T) {
	var h []kvOp
	for i := range 25 {
		h = append(h, w(1, int64(2*i), int64(2*i+1), "x", i+1))
	}
	h = append(h, r(2, 100, 101, "x", 7))
	rep, err := linearizability.Check(kvModel(false), h, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rep.Prefix), 25; got != want {
		t.Fatalf("len(Prefix): got %d, want %d", got, want)
	}
	for _, want := range []string{
		"\n  (5 earlier operations omitted; Report.Prefix holds them all)\n  state: {x=5}\n  6. client 1 [10, 11]: write(x, 6)\n",
		"\n  25. client 1 [48, 49]: write(x, 25)\n     state: {x=25}\n",
	} {
		if !strings.Contains(rep.Explanation, want) {
			t.Errorf("Explanation lacks %q:\n%s", want, rep.Explanation)
		}
	}
	if strings.Contains(rep.Explanation, "write(x, 5)") {
		t.Errorf("Explanation shows an omitted operation:\n%s", rep.Explanation)
	}
}

// concurrentWrites is a history with many overlapping writes then a read
// of a value none of them wrote: the search must try many orders.
func concurrentWrites(n int) []kvOp {
	var h []kvOp
	for i := range n {
		h = append(h, w(i, 0, 100, "x", i+1), r(n+i, 1, 99, "x", i+1))
	}
	return append(h, r(0, 200, 201, "x", -1))
}

func TestCheckBudget(t *testing.T) {
	h := concurrentWrites(6)
	full, err := linearizability.Check(kvModel(false), h, linearizability.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := full.Result, linearizability.Illegal; got != want {
		t.Fatalf("no budget: got %v, want %v", got, want)
	}
	for _, budget := range []int64{1, 10, full.Steps - 1} {
		rep, err := linearizability.Check(kvModel(false), h, linearizability.Options{MaxSteps: budget})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := rep.Result, linearizability.Unknown; got != want {
			t.Errorf("budget %d: got %v, want %v", budget, got, want)
		}
		if got, want := rep.Steps, budget; got != want {
			t.Errorf("budget %d: Steps: got %d, want %d", budget, got, want)
		}
	}
	rep, err := linearizability.Check(kvModel(false), h, linearizability.Options{MaxSteps: full.Steps})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Result, linearizability.Illegal; got != want {
		t.Errorf("budget %d (exactly enough): got %v, want %v", full.Steps, got, want)
	}
	// A budget spent on one part leaves the next unknown.
	h2 := []kvOp{w(1, 0, 1, "a", 1), r(1, 2, 3, "a", 1), w(1, 0, 1, "b", 1), r(1, 2, 3, "b", 1)}
	rep, err = linearizability.Check(kvModel(true), h2, linearizability.Options{MaxSteps: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Result, linearizability.Unknown; got != want {
		t.Errorf("budget spent on the first part: got %v, want %v", got, want)
	}
}

// A part whose search is hard does not keep the budget from the others,
// nor hide a violation in another part: the check stops at the step
// that proves it.
func TestCheckBudgetSharedFairly(t *testing.T) {
	h := concurrentWrites(8) // on x: about 300,000 steps to decide
	for i := range h {
		h[i].Call += 1000
		h[i].Return += 1000
	}
	stale := r(2, 2, 3, "y", 0)
	h = append(h, w(1, 0, 1, "y", 1), stale)
	for _, budget := range []int64{5000, 0} {
		for _, workers := range []int{1, 2} {
			rep, err := linearizability.Check(kvModel(true), h, linearizability.Options{MaxSteps: budget, Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := rep.Result, linearizability.Illegal; got != want {
				t.Fatalf("budget %d, %d workers: got %v, want %v", budget, workers, got, want)
			}
			if got, want := rep.Failed, stale; got != want {
				t.Errorf("budget %d, %d workers: Failed: got %+v, want %+v", budget, workers, got, want)
			}
			// y is proved illegal at its fourth step, the eighth in lockstep
			// order (x, y, x, y, x, y, x, y).
			if got, want := rep.Steps, int64(8); got != want {
				t.Errorf("budget %d, %d workers: Steps: got %d, want %d", budget, workers, got, want)
			}
		}
	}
	// Without the illegal part, the same budget gives Unknown.
	rep, err := linearizability.Check(kvModel(true), h[:len(h)-1], linearizability.Options{MaxSteps: 5000})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Result, linearizability.Unknown; got != want {
		t.Fatalf("without the stale read: got %v, want %v", got, want)
	}
	if got, want := rep.Undecided, []int{0}; !slices.Equal(got, want) {
		t.Errorf("Undecided: got %v, want %v", got, want)
	}
	if got, want := rep.String(), "unknown: the budget ran out after 5000 search steps with 1 of 2 parts undecided"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
}

func TestCheckErrors(t *testing.T) {
	good := kvModel(false)
	noInit, noStep, noKey := good, good, good
	noInit.Init, noStep.Step, noKey.Key = nil, nil, nil
	lossy := kvModel(true)
	lossy.Partition = func(h []kvOp) [][]kvOp { return [][]kvOp{h[1:]} }
	tests := []struct {
		name    string
		m       linearizability.Model[kvState, kvIn, int]
		history []kvOp
		want    string
	}{
		{"no Init", noInit, nil, "linearizability: model has no Init function"},
		{"no Step", noStep, nil, "linearizability: model has no Step function"},
		{"no Key", noKey, nil, "linearizability: model has no Key function"},
		{"return before call", good, []kvOp{w(1, 0, 1, "x", 1), r(1, 5, 4, "x", 1)}, "linearizability: operation 1: return time 4 is before call time 5"},
		{"call at Pending", good, []kvOp{w(1, P, P, "x", 1)}, "linearizability: operation 0: call time is Pending"},
		{"lossy partition", lossy, []kvOp{w(1, 0, 1, "x", 1), r(1, 2, 3, "x", 1)}, "linearizability: Partition returned 1 operations in 1 parts, want the 2 of the history"},
	}
	_, err := linearizability.Check(good, nil, linearizability.Options{Workers: -1})
	if want := "linearizability: Options.Workers is -1, want 0 (GOMAXPROCS) or more"; err == nil || err.Error() != want {
		t.Errorf("Workers -1: got %v, want %q", err, want)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := linearizability.Check(tt.m, tt.history, linearizability.Options{})
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// genHistory draws a small random history of reads and writes on keys
// a and b by three clients; each client's operations are sequential.
func genHistory(t *rapid.T) []kvOp {
	n := rapid.IntRange(0, 7).Draw(t, "n")
	var h []kvOp
	busyUntil := map[int]int64{}
	for i := range n {
		c := rapid.IntRange(0, 2).Draw(t, "client")
		call := busyUntil[c] + rapid.Int64Range(0, 3).Draw(t, "gap")
		ret := call + rapid.Int64Range(0, 6).Draw(t, "len")
		if rapid.IntRange(0, 5).Draw(t, "pending") == 0 {
			ret = P
			busyUntil[c] = 1 << 40 // a client that never returned makes no more calls
		} else {
			busyUntil[c] = ret + 1
		}
		if busyUntil[c] > 1<<39 && ret != P {
			continue
		}
		key := rapid.SampledFrom([]string{"a", "b"}).Draw(t, "key")
		if rapid.Bool().Draw(t, "write") {
			h = append(h, w(c, call, ret, key, i+1))
		} else {
			h = append(h, r(c, call, ret, key, rapid.IntRange(0, n).Draw(t, "got")))
		}
	}
	return h
}

// bruteForce decides linearizability by trying every order of every
// subset that holds all completed operations.
func bruteForce(h []kvOp) bool {
	m := kvModel(false)
	used := make([]bool, len(h))
	var try func(s kvState, done int) bool
	need := 0
	for _, op := range h {
		if !op.IsPending() {
			need++
		}
	}
	try = func(s kvState, done int) bool {
		if done == need {
			return true
		}
		for i, op := range h {
			if used[i] {
				continue
			}
			// op may go next only if no unused completed operation
			// returned before op was called.
			blocked := false
			for j, o := range h {
				if !used[j] && j != i && !o.IsPending() && o.Return < op.Call {
					blocked = true
					break
				}
			}
			if blocked {
				continue
			}
			ok, next := m.Step(s, op.Input, op.Output)
			if !ok {
				continue
			}
			used[i] = true
			d := done
			if !op.IsPending() {
				d++
			}
			found := try(next, d)
			used[i] = false
			if found {
				return true
			}
		}
		return false
	}
	return try(m.Init(), 0)
}

func TestCheckAgreesWithBruteForce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t)
		want := linearizability.Illegal
		if bruteForce(h) {
			want = linearizability.Ok
		}
		for _, part := range []bool{false, true} {
			rep, err := linearizability.Check(kvModel(part), h, linearizability.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Result; got != want {
				t.Fatalf("partition=%v: got %v, want %v (brute force)\n%s", part, got, want, rep.String())
			}
			if got := rep.Result; got == linearizability.Illegal {
				checkPrefix(t, h, rep)
			}
		}
	})
}

// checkPrefix verifies the Illegal report's claims: the prefix is a
// valid linearization holding every operation that returned before the
// failing one, and the history truncated before the failing return is
// linearizable while the one including it is not.
func checkPrefix(t *rapid.T, h []kvOp, rep linearizability.Report[kvState, kvIn, int]) {
	m := kvModel(false)
	s := m.Init()
	in := map[kvOp]bool{}
	for i, l := range rep.Prefix {
		ok, next := m.Step(s, l.Op.Input, l.Op.Output)
		if !ok || !cmp.Equal(next, l.After) {
			t.Fatalf("prefix step %d does not follow the model", i)
		}
		s = next
		in[l.Op] = true
		if l.Op.Call > rep.Failed.Return {
			t.Fatalf("prefix holds %+v, called after the failing return %d", l.Op, rep.Failed.Return)
		}
	}
	var part []kvOp
	fi := -1
	for _, op := range h {
		if rep.Parts > 1 && op.Input.Key != rep.Failed.Input.Key {
			continue
		}
		if op == rep.Failed {
			fi = len(part)
		}
		part = append(part, op)
	}
	var before, with []kvOp
	for j, op := range part {
		returnedBefore := op.Return < rep.Failed.Return || (op.Return == rep.Failed.Return && j < fi)
		if returnedBefore && !in[op] {
			t.Fatalf("prefix lacks %+v, which returned before the failing operation", op)
		}
		if op.Call > rep.Failed.Return {
			continue
		}
		cut := op
		if !returnedBefore {
			cut.Return = P
		}
		before = append(before, cut)
		if j == fi {
			cut.Return = op.Return
		}
		with = append(with, cut)
	}
	if !bruteForce(before) {
		t.Fatalf("history before the failing return is not linearizable")
	}
	if bruteForce(with) {
		t.Fatalf("history up to the failing return is linearizable")
	}
}

func TestCheckDeterministic(t *testing.T) {
	h := concurrentWrites(5)
	h = append(h, w(9, 300, P, "y", 3), r(8, 301, 302, "y", 3))
	orig := slices.Clone(h)
	defer func() {
		if diff := cmp.Diff(orig, h); diff != "" {
			t.Errorf("Check modified the history (-before +after):\n%s", diff)
		}
	}()
	var first string
	for i := range 3 {
		rep, err := linearizability.Check(kvModel(true), h, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := rep.String() + " steps=" + strconv.FormatInt(rep.Steps, 10)
		if i == 0 {
			first = got
		} else if got != first {
			t.Fatalf("run %d differs:\n%s", i, cmp.Diff(first, got))
		}
	}
}

// The report is the same with one worker and with eight, run after run:
// on a history with several illegal parts of different difficulty, and
// with budgets that stop the search in the middle of parts.
func TestCheckDeterministicAcrossWorkers(t *testing.T) {
	h, model := benchHistory(1000)
	m := model()
	// Break the last completed query of each partition but the first,
	// and one early one: violations that take different searches.
	broken := slices.Clone(h)
	seen := map[string]bool{}
	for i := len(broken) - 1; i >= 0; i-- {
		op := broken[i]
		if op.Input.Kind != linearizability.QueryCall || op.IsPending() || op.Output.Err != nil {
			continue
		}
		pk, _ := spec.SinglePartition(op.Input.Filter)
		if seen[pk] || pk == "p0" {
			continue
		}
		seen[pk] = true
		broken[i].Output.Rows = append(slices.Clone(op.Output.Rows), spec.Entity{Key: key(pk, "zz"), ETag: "x"})
	}
	hard := append(concurrentWrites(8), w(1, 0, 1, "y", 1), r(2, 2, 3, "y", 0), w(1, 0, 1, "z", 1), r(2, 2, 3, "z", 7))
	runs := 20
	if testing.Short() {
		runs = 5
	}
	tests := []struct {
		name   string
		check  func(workers int) (string, error)
		result linearizability.Result
	}{
		{"table, illegal parts", func(workers int) (string, error) {
			rep, err := linearizability.Check(m, broken, linearizability.Options{Workers: workers})
			return fmt.Sprintf("%v part=%d steps=%d undecided=%v\n%s", rep.Result, rep.Part, rep.Steps, rep.Undecided, rep.String()), err
		}, linearizability.Illegal},
		{"table, budget", func(workers int) (string, error) {
			rep, err := linearizability.Check(m, h, linearizability.Options{MaxSteps: 900, Workers: workers})
			return fmt.Sprintf("%v steps=%d undecided=%v\n%s", rep.Result, rep.Steps, rep.Undecided, rep.String()), err
		}, linearizability.Unknown},
		{"table, ok", func(workers int) (string, error) {
			rep, err := linearizability.Check(m, h, linearizability.Options{Workers: workers})
			return fmt.Sprintf("%v steps=%d\n%s", rep.Result, rep.Steps, rep.String()), err
		}, linearizability.Ok},
		{"registers, a hard part and two illegal ones", func(workers int) (string, error) {
			rep, err := linearizability.Check(kvModel(true), hard, linearizability.Options{MaxSteps: 100_000, Workers: workers})
			return fmt.Sprintf("%v part=%d steps=%d undecided=%v\n%s", rep.Result, rep.Part, rep.Steps, rep.Undecided, rep.String()), err
		}, linearizability.Illegal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, err := tt.check(1)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(strings.SplitN(first, "\n", 3)[0])
			if !strings.HasPrefix(first, tt.result.String()) {
				t.Fatalf("got %s, want %v", first, tt.result)
			}
			for run := range runs {
				for _, workers := range []int{1, 8} {
					got, err := tt.check(workers)
					if err != nil {
						t.Fatal(err)
					}
					if got != first {
						t.Fatalf("run %d, %d workers:\n%s", run, workers, cmp.Diff(first, got))
					}
				}
			}
		})
	}
}

// A panic in a model function reaches the caller, whatever the number of
// workers.
func TestCheckModelPanic(t *testing.T) {
	m := kvModel(true)
	step := m.Step
	m.Step = func(s kvState, in kvIn, out int) (bool, kvState) {
		if in.Key == "b" {
			panic("model bug")
		}
		return step(s, in, out)
	}
	h := []kvOp{w(1, 0, 1, "a", 1), w(1, 0, 1, "b", 1), w(1, 0, 1, "c", 1)}
	for _, workers := range []int{1, 3} {
		func() {
			defer func() {
				if got, want := recover(), any("model bug"); got != want {
					t.Errorf("%d workers: recovered %v, want %v", workers, got, want)
				}
			}()
			_, _ = linearizability.Check(m, h, linearizability.Options{Workers: workers})
		}()
	}
}
