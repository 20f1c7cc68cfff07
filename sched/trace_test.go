package sched_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// lostUpdate: two machines increment a shared counter with an
// unsynchronised read-modify-write; the monitor asserts both updates.
func lostUpdate() {
	x := 0
	var wg sched.WaitGroup
	for _, name := range []string{"inc1", "inc2"} {
		wg.Add(1)
		sched.GoNamed(name, func() {
			defer wg.Done()
			v := x
			sched.Yield()
			x = v + 1
		})
	}
	wg.Wait()
	sched.Assertf(x == 2, "counter is %d, want 2", x)
}

func roundTrip(t *testing.T, tr *sched.Trace) *sched.Trace {
	t.Helper()
	var b bytes.Buffer
	if err := tr.Write(&b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	got, err := sched.Parse(&b)
	if err != nil {
		t.Fatalf("Parse of written trace: %v\n%s", err, b.String())
	}
	return got
}

func TestTraceRoundTrip(t *testing.T) {
	res := mustRun(t, sched.Config{Strategy: "pct", Seed: 99, Params: []sched.Param{
		{Key: "bug", Value: "3"}, {Key: "note", Value: "two words # and \"quotes\""}, {Key: "empty", Value: ""},
	}}, busy)
	res.Trace.Comment = []string{"first", "second"}
	got := roundTrip(t, res.Trace)
	if !reflect.DeepEqual(got, res.Trace) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got, res.Trace)
	}
	if v, ok := got.Param("note"); !ok || v != "two words # and \"quotes\"" {
		t.Errorf("Param(note): got %q, %v", v, ok)
	}
}

func TestReplayReproducesFailure(t *testing.T) {
	for _, strategy := range []string{"random", "pct", "pos"} {
		t.Run(strategy, func(t *testing.T) {
			orig := findFailure(t, sched.Config{Strategy: strategy, Params: []sched.Param{{Key: "prog", Value: "lostUpdate"}}}, lostUpdate)
			tr := roundTrip(t, orig.Trace)
			if len(tr.Comment) == 0 || tr.Comment[0] != orig.Failure.Error() {
				t.Errorf("trace comment: got %q, want the failure %q", tr.Comment, orig.Failure.Error())
			}
			for i := 0; i < 3; i++ {
				rep := mustRun(t, sched.Config{Strategy: "replay", Replay: tr}, lostUpdate)
				if rep.Failure == nil || rep.Failure.Error() != orig.Failure.Error() {
					t.Fatalf("replay %d: got failure %v, want %v", i, rep.Failure, orig.Failure)
				}
				if !reflect.DeepEqual(rep.Trace.Decisions, orig.Trace.Decisions) {
					t.Fatalf("replay %d: decisions differ:\ngot  %v\nwant %v", i, rep.Trace.Decisions, orig.Trace.Decisions)
				}
				if rep.Trace.Strategy != strategy || rep.Trace.Seed != orig.Trace.Seed {
					t.Errorf("replay trace header: got %s/%d, want %s/%d", rep.Trace.Strategy, rep.Trace.Seed, strategy, orig.Trace.Seed)
				}
			}
		})
	}
}

func TestReplayDivergence(t *testing.T) {
	orig := findFailure(t, sched.Config{}, lostUpdate)
	tests := []struct {
		name string
		prog func()
		want string // prefix of the failure text
	}{
		{
			name: "fewer machines",
			prog: func() {
				sched.GoNamed("only", func() { sched.Yield() })
				sched.Yield()
				sched.Yield()
				sched.Yield()
				sched.Yield()
			},
			want: "schedule diverged at step ",
		},
		{
			name: "choice instead of schedule",
			prog: func() {
				sched.Choose(3)
			},
			want: `schedule diverged at step 2: trace says schedule machine `,
		},
		{
			name: "finishes early",
			prog: func() {},
			want: `schedule diverged at step 2: trace says schedule machine `,
		},
		{
			name: "runs longer",
			prog: func() {
				lostUpdate()
				for {
					sched.Yield()
				}
			},
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, sched.Config{Strategy: "replay", Replay: orig.Trace}, tt.prog)
			if tt.name == "runs longer" {
				// The same program reproduces the original assertion
				// before it could run longer.
				if res.Failure == nil || res.Failure.Error() != orig.Failure.Error() {
					t.Fatalf("got %v, want the original failure %v", res.Failure, orig.Failure)
				}
				return
			}
			if res.Failure == nil || res.Failure.Kind != sched.Divergence {
				t.Fatalf("got %v, want a divergence", res.Failure)
			}
			if !strings.HasPrefix(res.Failure.Error(), tt.want) {
				t.Errorf("got %q, want prefix %q", res.Failure.Error(), tt.want)
			}
		})
	}
}

func TestReplayDivergenceTexts(t *testing.T) {
	two := func() {
		sched.GoNamed("a", func() {})
		sched.Choose(3)
	}
	tr := &sched.Trace{Strategy: "random", Decisions: []sched.Decision{
		{Kind: sched.Schedule, Value: 0}, {Kind: sched.Schedule, Value: 0}, {Kind: sched.Choice, Value: 1, Bound: 4},
	}}
	tests := []struct {
		name string
		tr   *sched.Trace
		prog func()
		want string
	}{
		{"choice bound", tr, two, `schedule diverged at step 3: trace says choice 1 of Choose(4) ("c 1/4"), program calls Choose(3)`},
		{"machine not enabled", &sched.Trace{Strategy: "random", Decisions: []sched.Decision{{Kind: sched.Schedule, Value: 0}, {Kind: sched.Schedule, Value: 2}}}, two,
			`schedule diverged at step 2: trace says schedule machine 2 ("s 2"), program has machines [0 1] enabled`},
		{"trace exhausted", &sched.Trace{Strategy: "random", Decisions: []sched.Decision{{Kind: sched.Schedule, Value: 0}}}, two,
			`schedule diverged at step 2: trace says end of schedule, program schedules one of machines [0 1]`},
		{"program finished", &sched.Trace{Strategy: "random", Decisions: []sched.Decision{{Kind: sched.Schedule, Value: 0}, {Kind: sched.Schedule, Value: 0}}},
			func() {}, `schedule diverged at step 2: trace says schedule machine 0 ("s 0"), program finished`},
		{"program failed", &sched.Trace{Strategy: "random", Decisions: append(slices.Clone(tr.Decisions), sched.Decision{Kind: sched.Schedule, Value: 1})}, func() {
			sched.GoNamed("a", func() {})
			sched.Fail(errors.New("broken"))
		}, `schedule diverged at step 3: trace says choice 1 of Choose(4) ("c 1/4") and 1 more decision, program failed: assertion failed in machine 0 "main" at step 2: broken`},
		{"program deadlocked", &sched.Trace{Strategy: "random", Decisions: []sched.Decision{{Kind: sched.Schedule, Value: 0}, {Kind: sched.Schedule, Value: 0}, {Kind: sched.Choice, Value: 0, Bound: 2}, {Kind: sched.Schedule, Value: 0}, {Kind: sched.Schedule, Value: 0}}},
			func() { sched.NewFuture[int]().Wait() }, // @future-wait
			`schedule diverged at step 3: trace says choice 0 of Choose(2) ("c 0/2") and 2 more decisions, program failed: deadlock at step 2: no machine enabled; machine 0 "main" waits on Future.Wait (trace_test.go:@future-wait)`},
		{"choice where schedule", &sched.Trace{Strategy: "random", Decisions: []sched.Decision{{Kind: sched.Schedule, Value: 0}, {Kind: sched.Choice, Value: 0, Bound: 2}}}, two,
			`schedule diverged at step 2: trace says choice 0 of Choose(2) ("c 0/2"), program schedules one of machines [0 1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, sched.Config{Strategy: "replay", Replay: tt.tr}, tt.prog)
			if res.Failure == nil {
				t.Fatalf("got no failure, want %q", tt.want)
			}
			if got, want := res.Failure.Error(), lines(t, tt.want); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	good := "sched-trace 1\nstrategy random\nseed 5\nparam a=b\n# comment\ns 0\nc 1/2\nend 2\n"
	if _, err := sched.Parse(strings.NewReader(good)); err != nil {
		t.Fatalf("good trace: %v", err)
	}
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", "trace is empty: corrupt trace"},
		{"not a trace", "hello\n", `trace line 1: not a sched trace (first line "hello", want "sched-trace 3"): corrupt trace`},
		{"future version", "sched-trace 9\n", "trace line 1: unsupported trace version 9 (this package reads versions 1 to 3): corrupt trace"},
		{"version 0", "sched-trace 0\n", "trace line 1: unsupported trace version 0 (this package reads versions 1 to 3): corrupt trace"},
		{"truncated", strings.TrimSuffix(good, "end 2\n"), `trace line 7: truncated: no "end N" line after 2 decisions: corrupt trace`},
		{"cut mid-line", "sched-trace 1\nstrategy random\ns 0\nc 1/", `trace line 4: bad choice decision "c 1/" (want "c V/N" with 0 <= V < N): corrupt trace`},
		{"wrong count", strings.Replace(good, "end 2", "end 3", 1), "trace line 8: end line says 3 decisions, file holds 2: corrupt trace"},
		{"bad seed", strings.Replace(good, "seed 5", "seed x", 1), `trace line 3: bad seed value "x": corrupt trace`},
		{"unknown header", strings.Replace(good, "seed 5", "color red", 1), `trace line 3: unknown header "color": corrupt trace`},
		{"unknown strategy", strings.Replace(good, "strategy random", "strategy bfs", 1), `trace line 2: unknown strategy "bfs": corrupt trace`},
		{"duplicate header", strings.Replace(good, "seed 5", "strategy pct", 1), `trace line 3: duplicate header "strategy": corrupt trace`},
		{"choice out of range", strings.Replace(good, "c 1/2", "c 2/2", 1), `trace line 7: bad choice decision "c 2/2" (want "c V/N" with 0 <= V < N): corrupt trace`},
		{"bad schedule", strings.Replace(good, "s 0", "s -1", 1), `trace line 6: bad schedule decision "s -1" (want "s ID"): corrupt trace`},
		{"garbage among decisions", strings.Replace(good, "c 1/2", "c 1/2\nseed 3", 1), `trace line 8: unexpected line "seed 3" among decisions (want a decision line or "end N"): corrupt trace`},
		{"after end", good + "s 1\n", `trace line 9: text after the end line: "s 1": corrupt trace`},
		{"no strategy", "sched-trace 1\nend 0\n", "trace: header has no strategy line: corrupt trace"},
		{"param without =", strings.Replace(good, "param a=b", "param ab", 1), `trace line 4: param "ab" has no '=': corrupt trace`},
		{"bad quoted param", strings.Replace(good, "param a=b", `param a="b`, 1), `trace line 4: param a: bad quoted value "b: corrupt trace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sched.Parse(strings.NewReader(tt.text))
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err, tt.want)
			}
			if !errors.Is(err, sched.ErrCorruptTrace) {
				t.Errorf("error does not wrap ErrCorruptTrace")
			}
		})
	}
}

func TestEventsAndTail(t *testing.T) {
	res := mustRun(t, sched.Config{Strategy: "dfs"}, func() {
		sched.Logf("hello %d", 1)
		f := sched.NewFuture[int]()
		sched.GoNamed("w", func() {
			sched.Logf("in %s id %d at %d", sched.MachineName(), sched.MachineID(), sched.Step())
			f.Resolve(1)
		})
		f.Wait()
	})
	var got []string
	for _, e := range res.Events {
		got = append(got, e.String())
	}
	want := []string{
		`step 1 [0 main]: hello 1`,
		`step 1 [0 main]: spawn machine 1 "w"`,
		`step 3 [0 main]: waits on Future.Wait`,
		`step 4 [1 w]: in w id 1 at 4`,
		`step 5 [0 main]: exit`,
		`step 6 [1 w]: exit`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events:\ngot  %q\nwant %q", got, want)
	}
	if res.Steps != 6 {
		t.Errorf("Steps: got %d, want 6", res.Steps)
	}
	if tail := res.Tail(2); len(tail) != 2 || tail[0].Text != "exit" || tail[1].Machine != 1 {
		t.Errorf("Tail(2): got %v, want the two exits", tail)
	}
}

func TestTraceStepMarkers(t *testing.T) {
	tr := &sched.Trace{Strategy: "random", Comment: []string{"failure text"}}
	for i := 0; i < 250; i++ {
		tr.Decisions = append(tr.Decisions, sched.Decision{Kind: sched.Schedule, Value: int32(i % 3)})
	}
	text := tr.String()
	lines := strings.Split(text, "\n")
	var markers []string
	for i, l := range lines {
		if strings.HasPrefix(l, "# step ") {
			markers = append(markers, l)
			// The marker precedes the decision of that step.
			if want := tr.Decisions[len(markers)*100].String(); lines[i+1] != want {
				t.Errorf("line after %q: got %q, want %q", l, lines[i+1], want)
			}
		}
	}
	if want := []string{"# step 101", "# step 201"}; !reflect.DeepEqual(markers, want) {
		t.Errorf("markers: got %q, want %q", markers, want)
	}
	got := roundTrip(t, tr)
	if !reflect.DeepEqual(got.Comment, tr.Comment) || len(got.Decisions) != 250 {
		t.Errorf("round trip: got comment %q and %d decisions, want %q and 250", got.Comment, len(got.Decisions), tr.Comment)
	}
}

// TestReplayEveryKind: a recorded failure of every kind the schedule
// decides replays to the identical failure and decisions.
func TestReplayEveryKind(t *testing.T) {
	tests := []struct {
		name string
		cfg  sched.Config
		prog func()
		kind sched.Kind
	}{
		{"assertion", sched.Config{}, lostUpdate, sched.Assertion},
		{"deadlock", sched.Config{}, lockOrder, sched.Deadlock},
		{"step bound", sched.Config{MaxSteps: 300, LivenessSteps: -1}, livelockProg(false), sched.StepBound},
		{"liveness", sched.Config{MaxSteps: 300, LivenessSteps: 40}, spinUntilDone(true), sched.Liveness},
		{"panic", sched.Config{}, atomicityProg(false), sched.Panic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := findFailure(t, tt.cfg, tt.prog)
			if orig.Failure.Kind != tt.kind {
				t.Fatalf("recorded run: got %v, want a %v failure", orig.Failure, tt.kind)
			}
			tr := roundTrip(t, orig.Trace)
			rep := mustRun(t, sched.Config{Strategy: "replay", Replay: tr}, tt.prog)
			if rep.Failure == nil || rep.Failure.Error() != orig.Failure.Error() {
				t.Fatalf("replay: got %v, want %v", rep.Failure, orig.Failure)
			}
			if !reflect.DeepEqual(rep.Trace.Decisions, orig.Trace.Decisions) {
				t.Errorf("replay decisions differ")
			}
		})
	}
}

func TestTraceV3RoundTrip(t *testing.T) {
	tr := &sched.Trace{
		Version: sched.TraceVersion, Strategy: "pos", Seed: 7, Depth: 3, ExpectedSteps: 100, MaxSteps: 1000, LivenessSteps: 500,
		Start:       time.Date(2030, 5, 6, 7, 8, 9, 10, time.UTC),
		MaxTimeStep: 1500 * time.Millisecond, MaxClockSkew: 100 * time.Millisecond, Faults: 2, MaxStall: 30 * time.Second, NoCrash: true,
		Params:   []sched.Param{{Key: "k", Value: "v"}},
		Machines: []sched.TraceMachine{{Process: "root", Name: "main"}, {Process: "root", Name: ""}, {Process: "db server", Name: "serve #1"}},
		Decisions: []sched.Decision{
			{Kind: sched.ClockOffset, Value: 1, Duration: -20 * time.Millisecond},
			{Kind: sched.Schedule, Value: 0},
			{Kind: sched.Choice, Value: 1, Bound: 3},
			{Kind: sched.TimeAdvance, Duration: 250*time.Millisecond + 1},
			{Kind: sched.FaultInjection, Fault: sched.Stall, Value: 1, Duration: 12 * time.Second},
			{Kind: sched.FaultInjection, Fault: sched.Crash, Value: 2},
			{Kind: sched.FaultInjection, Fault: sched.Restart, Value: 2},
		},
	}
	text := tr.String()
	for _, line := range []string{"sched-trace 3\n", "machine 0 root main\n", "machine 1 root \"\"\n", "machine 2 \"db server\" \"serve #1\"\n", "start 2030-05-06T07:08:09.00000001Z\n", "max-time-step 1.5s\n", "max-clock-skew 100ms\n",
		"faults 2\n", "max-stall 30s\n", "no-crash true\n", "o 1 -20ms\n", "t 250.000001ms\n", "f stall 1 12s\n", "f crash 2\n", "f restart 2\n", "end 7\n"} {
		if !strings.Contains(text, line) {
			t.Errorf("trace text lacks %q:\n%s", line, text)
		}
	}
	if got := roundTrip(t, tr); !reflect.DeepEqual(got, tr) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got, tr)
	}
}

// TestParseVersion1: a version 1 file (the seed corpus's format) parses;
// version 2 lines in it are errors.
func TestParseVersion1(t *testing.T) {
	v1 := "sched-trace 1\nstrategy pct\nseed 5\ndepth 3\nexpected-steps 400\nmax-steps 5000\nliveness-steps 2500\nparam bug=none\n# failure\ns 0\nc 1/2\nend 2\n"
	tr, err := sched.Parse(strings.NewReader(v1))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Version != 1 || len(tr.Decisions) != 2 || !tr.Start.IsZero() {
		t.Errorf("parsed %+v", tr)
	}
	for _, tt := range []struct{ text, want string }{
		{strings.Replace(v1, "seed 5", "faults 1", 1), `trace line 3: unknown header "faults": corrupt trace`},
		{strings.Replace(v1, "c 1/2", "t 1s", 1), `trace line 11: unexpected line "t 1s" among decisions (want a decision line or "end N"): corrupt trace`},
	} {
		if _, err := sched.Parse(strings.NewReader(tt.text)); err == nil || err.Error() != tt.want {
			t.Errorf("got %v, want %s", err, tt.want)
		}
	}
}

// TestParseMachines: "machine" lines name the machines in ID order; a
// version 2 file has none (and may not have them).
func TestParseMachines(t *testing.T) {
	good := "sched-trace 3\nstrategy random\nseed 5\nmachine 0 root main\nmachine 1 root \"\"\nmachine 2 app0 \"x y\"\n# comment\ns 0\nend 1\n"
	tr, err := sched.Parse(strings.NewReader(good))
	if err != nil {
		t.Fatalf("good trace: %v", err)
	}
	want := []sched.TraceMachine{{Process: "root", Name: "main"}, {Process: "root"}, {Process: "app0", Name: "x y"}}
	if !reflect.DeepEqual(tr.Machines, want) {
		t.Errorf("machines: got %v, want %v", tr.Machines, want)
	}
	if got, want := tr.Machines[2].String()+" "+tr.Machines[0].String(), "app0/x y main"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
	v2 := strings.Replace(strings.Replace(strings.Replace(good, "sched-trace 3", "sched-trace 2", 1), "machine 1 root \"\"\n", "", 1), "machine 2 app0 \"x y\"\n", "", 1)
	tests := []struct{ name, text, want string }{
		{"out of order", strings.Replace(good, "machine 1 root", "machine 3 root", 1), `trace line 5: bad machine line "machine 3 root \"\"" (want "machine 1 PROCESS NAME", machines in ID order from 0): corrupt trace`},
		{"no name", strings.Replace(good, "machine 0 root main", "machine 0 root", 1), `trace line 4: bad machine line "machine 0 root" (want "machine 0 PROCESS NAME", machines in ID order from 0): corrupt trace`},
		{"extra field", strings.Replace(good, "machine 0 root main", "machine 0 root main x", 1), `trace line 4: bad machine line "machine 0 root main x" (want "machine 0 PROCESS NAME", machines in ID order from 0): corrupt trace`},
		{"bad quote", strings.Replace(good, `app0 "x y"`, `app0 "x y`, 1), `trace line 6: bad machine line "machine 2 app0 \"x y" (want "machine 2 PROCESS NAME", machines in ID order from 0): corrupt trace`},
		{"in version 2", v2, `trace line 4: unknown header "machine": corrupt trace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sched.Parse(strings.NewReader(tt.text))
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
	// A version 2 file without machine lines is read, without names.
	v2 = strings.Replace(v2, "machine 0 root main\n", "", 1)
	if tr, err := sched.Parse(strings.NewReader(v2)); err != nil || tr.Machines != nil || tr.Version != 2 {
		t.Errorf("version 2: got %+v, %v; want no machines", tr, err)
	}
}

func TestParseV2Errors(t *testing.T) {
	good := "sched-trace 2\nstrategy random\nseed 5\nfaults 1\nmax-stall 1s\ns 0\nt 1s\nf stall 1 2s\no 1 -1ms\nend 4\n"
	if _, err := sched.Parse(strings.NewReader(good)); err != nil {
		t.Fatalf("good trace: %v", err)
	}
	tests := []struct{ name, old, new, want string }{
		{"zero advance", "t 1s", "t 0s", `trace line 7: bad clock advance "t 0s" (want "t D" with a positive duration): corrupt trace`},
		{"bad advance", "t 1s", "t soon", `trace line 7: bad clock advance "t soon" (want "t D" with a positive duration): corrupt trace`},
		{"root fault", "f stall 1 2s", "f crash 0", `trace line 8: bad fault "f crash 0" (want "f crash P", "f stall P D" or "f restart P" with a process P >= 1): corrupt trace`},
		{"stall without duration", "f stall 1 2s", "f stall 1", `trace line 8: bad fault "f stall 1" (want "f crash P", "f stall P D" or "f restart P" with a process P >= 1): corrupt trace`},
		{"unknown fault", "f stall 1 2s", "f freeze 1", `trace line 8: bad fault "f freeze 1" (want "f crash P", "f stall P D" or "f restart P" with a process P >= 1): corrupt trace`},
		{"bad offset", "o 1 -1ms", "o x 1ms", `trace line 9: bad clock offset "o x 1ms" (want "o P D" with a process P >= 1): corrupt trace`},
		{"negative stall bound", "max-stall 1s", "max-stall -1s", `trace line 5: bad max-stall value "-1s": corrupt trace`},
		{"bad start", "faults 1", "start yesterday", `trace line 4: bad start value "yesterday": corrupt trace`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sched.Parse(strings.NewReader(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
			if !errors.Is(err, sched.ErrCorruptTrace) {
				t.Errorf("error does not wrap ErrCorruptTrace")
			}
		})
	}
}

// TestReplayFaultDivergence: a recorded fault the program cannot take
// is a divergence with a clear text.
func TestReplayFaultDivergence(t *testing.T) {
	tr := &sched.Trace{Strategy: "random", Faults: 1, Decisions: []sched.Decision{
		{Kind: sched.Schedule, Value: 0},
		{Kind: sched.FaultInjection, Fault: sched.Crash, Value: 1},
	}}
	res := mustRun(t, sched.Config{Strategy: "replay", Replay: tr}, func() { sched.Yield() })
	want := `schedule diverged at step 2: trace says crash of process 1 ("f crash 1"), program has processes 0..0`
	if res.Failure == nil || res.Failure.Error() != want {
		t.Errorf("got  %v\nwant %s", res.Failure, want)
	}
}

// TestReplayChecksMachineNames: an exact replay of a trace that names
// its machines diverges when the program starts a machine under another
// name than the trace records for its ID; a trace without names (version
// 2) replays by IDs alone.
func TestReplayChecksMachineNames(t *testing.T) {
	prog := func(first, second string) func() {
		return func() {
			var wg sched.WaitGroup
			for _, n := range []string{first, second} {
				wg.Add(1)
				sched.GoNamed(n, func() { defer wg.Done(); sched.Yield() })
			}
			wg.Wait()
		}
	}
	res, err := sched.Run(sched.Config{Strategy: "random", Seed: 3}, prog("a", "b"))
	if err != nil || res.Failure != nil {
		t.Fatalf("recording: %v %v", err, res.Failure)
	}
	if got, want := fmt.Sprint(res.Trace.Machines), "[main a b]"; got != want {
		t.Fatalf("machines got %s, want %s", got, want)
	}
	same, err := sched.Run(sched.Config{Strategy: "replay", Replay: res.Trace}, prog("a", "b"))
	if err != nil || same.Failure != nil {
		t.Fatalf("replay of the same program: %v %v", err, same.Failure)
	}
	swapped, err := sched.Run(sched.Config{Strategy: "replay", Replay: res.Trace}, prog("b", "a"))
	if err != nil {
		t.Fatal(err)
	}
	want := `trace names machine 1 "a", program starts it as "b"`
	if f := swapped.Failure; f == nil || f.Kind != sched.Divergence || !strings.Contains(f.Message, want) {
		t.Errorf("replay with the machines swapped: got %v, want a divergence: %s", f, want)
	}
	unnamed := *res.Trace
	unnamed.Machines = nil
	if byID, err := sched.Run(sched.Config{Strategy: "replay", Replay: &unnamed}, prog("b", "a")); err != nil || byID.Failure != nil {
		t.Errorf("replay without names: %v %v, want the run", err, byID.Failure)
	}
}
