package harness

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
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
	w.Leases, w.Faults, w.ClockSkew, w.BackendFaults = false, 0, false, 0 // the moves are measured on the original world
	// Without a hot row: most operations would draw it, and a later one
	// that finds it taken moves to the next row key, so that dropping an
	// operation changes the row of the next one (lenient replay copes).
	w.HotRows = false
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
					// A DeleteIfExists drawn after the first operation is
					// generated as a Delete (it must be alone); moved
					// first by the cut, it is a DeleteIfExists again.
					movedFirst := i == 0 && o == 0 && want[i].Kind == spec.Delete && cut.Call.Ops[i].Kind == spec.DeleteIfExists
					if (cut.Call.Ops[i].Kind != want[i].Kind && !movedFirst) || cut.Call.Ops[i].Entity.Key != want[i].Entity.Key {
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

// TestMovesDropTheWorkOnRowsTheyTakeAway: a move that takes rows away
// (the wide partition's fillers, a filler with a row key, an initial
// row) drops the decisions the machines spent on them, so the run that
// remains is the run as it was without them: the same events of every
// machine in the same order, only those on the rows gone. (With an
// initial row gone the applications' queries return other rows: their
// events are compared by what they did, not by what they returned. An
// emptied partition is not compared: the library reads a partition
// without rows differently.)
func TestMovesDropTheWorkOnRowsTheyTakeAway(t *testing.T) {
	wide := DefaultWorkload()
	// (No streamed queries: an application reading a stream spends steps
	// of its own between two rows, which no backend call records.)
	wide.Swarm, wide.Apps, wide.Partitions, wide.WidePartition, wide.StreamWeight = false, 2, 2, true, 0
	wide.Leases, wide.Faults, wide.ClockSkew, wide.BackendFaults = false, 0, false, 0 // the moves are measured on the original world
	// (Only atomic queries, which name no row: with a row key fewer a
	// call would draw other rows, and writes would keep a row gone.)
	queries := wide
	queries.BatchWeight, queries.RetrieveWeight = 0, 0
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	etag := regexp.MustCompile(`(old|new):[0-9]+`)
	// (A wide partition's atomic queries leave the fillers out.)
	notFillers := regexp.MustCompile(`\(\((PartitionKey eq '[^']*')\) and \(RowKey lt '~'\)\)`)
	parens := regexp.MustCompile(`([()])[()]*`)
	fillersFrom := func(n int) func(text string) bool {
		return func(text string) bool {
			i := strings.Index(text, fillerPrefix)
			if i < 0 || i+len(fillerPrefix)+3 > len(text) {
				return false
			}
			f, err := strconv.Atoi(text[i+len(fillerPrefix) : i+len(fillerPrefix)+3])
			return err == nil && f >= n
		}
	}
	mentions := func(parts ...string) func(text string) bool {
		return func(text string) bool {
			return slices.ContainsFunc(parts, func(p string) bool { return strings.Contains(text, p) })
		}
	}
	// events returns the run's events but the workload's line and those
	// gone reports, with the machine, without steps and ETag values (the
	// fillers took ETags of their own); with coarse, an application's
	// events (all of them) only by their first three words.
	events := func(it *Iteration, gone func(text string) bool, coarse bool) []string {
		var out []string
		for _, e := range it.Sched.Events {
			app := coarse && strings.HasPrefix(e.Name, "app")
			if strings.HasPrefix(e.Text, "workload:") || (gone(e.Text) && !app) {
				continue
			}
			text := notFillers.ReplaceAllString(etag.ReplaceAllString(e.Text, "E"), "($1)")
			// (and with a drawn filter g, "(RowKey lt '~') and g", also
			// inside the library's reads: compared without it and its
			// parentheses.)
			text = parens.ReplaceAllString(strings.ReplaceAll(text, "(RowKey lt '~') and ", ""), "$1")
			// (An overlay query reads the new table once more when its
			// first read leaves an old row unsettled, so with a row fewer
			// an application may read once less: compared coarsely, its
			// calls, answers and linearization points must stay, not its
			// reads.)
			if app && (strings.HasPrefix(text, "old.") || strings.HasPrefix(text, "new.")) {
				continue
			}
			if f := strings.Fields(text); app && len(f) > 3 {
				text = strings.Join(f[:3], " ")
			}
			out = append(out, e.Name+": "+text)
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		w       Workload
		propose func(r shrinkRun) []candidate
		gone    func(text string) bool // the events on the rows gone
		coarse  bool
	}{
		{"no wide partition", wide, proposeNoWidePartition, fillersFrom(0), false},
		{"one row key fewer", queries, proposeFewerRowKeys, fillersFrom(WideFillers(wide.RowKeys - 1)), false},
		// (The last initial row goes first.)
		{"initial row 4 gone", queries, proposeFewerInitialRows, mentions("'p0'/'4'", "'p1'/'4'"), true},
	} {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			// (The original filters: the workload's others may name rows,
			// and the library's reads for them depend on how many rows
			// match.)
			opts := Options{Workload: tt.w, Bug: mtable.NoBug, track: true, happyFilters: true}
			found, err := RunOnce(opts, sched.Config{Strategy: "pct", Seed: seed, ExpectedSteps: ExpectedSteps, Params: Params(opts), NoEvents: true}, 0)
			if err != nil {
				t.Fatal(err)
			}
			it, err := RunOnce(opts, sched.Config{Strategy: "lenient", Replay: found.Sched.Trace, Params: Params(opts)}, 0)
			if err != nil {
				t.Fatal(err)
			}
			r := shrinkRun{opts: opts, it: it, size: sched.SizeOf(it.Sched)}
			cs := tt.propose(r)
			if len(cs) < 2 {
				t.Fatalf("seed %d, %s: %d candidates, want 2 (without the work on the rows gone, and as is)", seed, tt.name, len(cs))
			}
			tr := *it.Sched.Trace
			tr.Decisions, tr.Streams = cs[0].decisions, cs[0].streams
			got, err := RunOnce(cs[0].opts, sched.Config{Strategy: "lenient", Replay: &tr, Params: Params(cs[0].opts)}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := events(got, tt.gone, tt.coarse), events(it, tt.gone, tt.coarse); !slices.Equal(g, w) {
				i := 0
				for i < min(len(g), len(w)) && g[i] == w[i] {
					i++
				}
				from := max(i-3, 0)
				t.Errorf("seed %d, %s: the run's events (but those on the rows gone), from event %d:\n%s\nwant\n%s", seed, tt.name, from,
					strings.Join(g[from:min(i+3, len(g))], "\n"), strings.Join(w[from:min(i+3, len(w))], "\n"))
			}
			if got.Sched.Steps >= it.Sched.Steps {
				t.Errorf("seed %d, %s: %d steps, want fewer than %d", seed, tt.name, got.Sched.Steps, it.Sched.Steps)
			}
		}
	}
}
