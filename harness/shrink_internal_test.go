package harness

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// callSketch is what a call does, without the names of its machine and
// the ETags it read: its kind, keys, filter, and operations' kinds.
func callSketch(c *callRecord) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", c.Call.Kind, c.Call.Key, describeFilter(c.Call))
	for _, op := range c.Call.Ops {
		fmt.Fprintf(&b, " %s %s", op.Kind, op.Entity.Key)
	}
	return b.String()
}

func describeFilter(c Call) string {
	if c.Kind == CallQuery || c.Kind == CallStream {
		return fmt.Sprint(c.Filter)
	}
	return ""
}

// sketches returns the sketch of each call of it by application, in call
// order.
func sketches(it *Iteration, apps int) [][]string {
	out := make([][]string, apps)
	for _, c := range it.world.calls {
		if c.MID < apps {
			out[c.MID] = append(out[c.MID], callSketch(c))
		}
	}
	return out
}

// TestMovesKeepTheOtherCalls: a move that drops a call, an application
// or a batch's operation edits the decisions so that every other call is
// drawn as before, whatever the schedule does: the choices are each
// machine's own, and the move drops exactly the choices of what it drops.
func TestMovesKeepTheOtherCalls(t *testing.T) {
	w := DefaultWorkload()
	w.Swarm, w.Apps, w.Partitions, w.MigratorDelay, w.SlowApp = false, 3, 2, true, true
	opts := Options{Workload: w, Bug: mtable.NoBug, track: true}
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		found, err := RunOnce(opts, sched.Config{Strategy: "pct", Seed: seed, ExpectedSteps: ExpectedSteps, Params: Params(opts), NoEvents: true}, 0)
		if err != nil {
			t.Fatal(err)
		}
		// As Shrink does: the run again, leniently, to name the streams
		// of its choices.
		it, err := RunOnce(opts, sched.Config{Strategy: "lenient", Replay: found.Sched.Trace, Params: Params(opts), NoEvents: true}, 0)
		if err != nil || !slices.Equal(it.Sched.Trace.Decisions, found.Sched.Trace.Decisions) || len(it.Sched.Trace.Streams) == 0 {
			t.Fatalf("the lenient run of the trace: %v, streams %v", err, it.Sched.Trace.Streams)
		}
		r := shrinkRun{opts: opts, it: it, size: sched.SizeOf(it.Sched)}
		before := sketches(it, w.Apps)
		run := func(c candidate) *Iteration {
			tr := *it.Sched.Trace
			tr.Decisions, tr.Streams = c.decisions, c.streams
			got, err := RunOnce(c.opts, sched.Config{Strategy: "lenient", Replay: &tr, Params: Params(c.opts), NoEvents: true}, 0)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		// Without call k of application j (the first candidate of each,
		// which drops the application's decisions during the call).
		cs := proposeFewerCalls(r)
		i := 0
		for j := w.Apps - 1; j >= 0; j-- {
			for k := w.CallsPerApp - 1; k >= 0; k-- {
				got := sketches(run(cs[i]), w.Apps)
				want := slices.Clone(before)
				want[j] = slices.Delete(slices.Clone(want[j]), k, k+1)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("seed %d, without call %d of app %d: calls\n%v\nwant\n%v", seed, k, j, got, want)
				}
				i += 2
			}
		}
		// Without application j: the others make their calls as before.
		for i, c := range proposeFewerApps(r) {
			j := w.Apps - 1 - i
			got := sketches(run(c), w.Apps-1)
			want := slices.Delete(slices.Clone(before), j, j+1)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("seed %d, without app %d: calls\n%v\nwant\n%v", seed, j, got, want)
			}
		}
		// A batch without one of its operations.
		for _, b := range batchCalls(r) {
			for o := b.size - 1; o >= 0; o-- {
				drop, set := map[int]bool{}, map[int]sched.Decision{}
				cutOps(r, b, b.size-1, o, false, drop, set)
				got := run(edit(r, opts, func(i int) bool { return drop[i] }, set, nil))
				var orig, cut *callRecord
				for _, c := range it.world.calls {
					if c.MID == b.app && c.Seq == b.call {
						orig = c
					}
				}
				for _, c := range got.world.calls {
					if c.MID == b.app && c.Seq == b.call {
						cut = c
					}
				}
				want := slices.Delete(slices.Clone(orig.Call.Ops), o, o+1)
				if cut == nil || len(cut.Call.Ops) != len(want) {
					t.Fatalf("seed %d, batch %+v without op %d: got %v", seed, b, o, cut)
				}
				for i := range want {
					if cut.Call.Ops[i].Kind != want[i].Kind || cut.Call.Ops[i].Entity.Key != want[i].Entity.Key {
						t.Errorf("seed %d, batch %+v without op %d: ops %s, want %v", seed, b, o, cut.Call, want)
					}
				}
			}
		}
	}
}

func TestAppCallsParam(t *testing.T) {
	w := DefaultWorkload()
	w.Swarm, w.AppCalls = false, []int{2, 0, 1, 3}
	opts := Options{Workload: w, Bug: mtable.BugDeletePrimaryKey}
	back, err := OptionsFromTrace(&sched.Trace{Params: Params(opts)})
	if err != nil || !slices.Equal(back.Workload.AppCalls, w.AppCalls) || back.Workload.totalCalls() != 6 {
		t.Errorf("app-calls round trip: got %+v, %v", back.Workload, err)
	}
	if p := Params(Options{Workload: DefaultWorkload()}); slices.ContainsFunc(p, func(p sched.Param) bool { return p.Key == "app-calls" }) {
		t.Errorf("app-calls written for a workload without it: %v", p)
	}
	for _, tt := range []struct {
		edit func(w *Workload)
		want string
	}{
		{func(w *Workload) { w.AppCalls = []int{1} }, "app calls lists 1 machines, apps is 4"},
		{func(w *Workload) { w.AppCalls = []int{1, 1, 1, -1} }, "app calls -1 out of range"},
		{func(w *Workload) { w.Swarm = true }, "app calls need swarm off"},
	} {
		w := w
		w.AppCalls = slices.Clone(w.AppCalls)
		tt.edit(&w)
		if err := w.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate: got %v, want %q", err, tt.want)
		}
	}
}
