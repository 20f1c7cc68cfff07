package sched_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// lines replaces each "FILE:@mark" in text by "FILE:N", N being the line
// of FILE (in this directory) that ends with the comment "// @mark", so
// that expected failure texts name lines without hard-coding them.
func lines(t testing.TB, text string) string {
	t.Helper()
	return markRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := markRE.FindStringSubmatch(m)
		data, err := os.ReadFile(sub[1])
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(data), "\n") {
			if strings.HasSuffix(l, "// @"+sub[2]) {
				return sub[1] + ":" + strconv.Itoa(i+1)
			}
		}
		t.Fatalf("no line marked @%s in %s", sub[2], sub[1])
		return ""
	})
}

var markRE = regexp.MustCompile(`([a-z_]+\.go):@([a-z0-9-]+)`)

// TestLeak: a machine still blocked after main returned is a leak (its
// own kind, with the resource's line); one still runnable finishes
// first; a daemon left behind is neither.
func TestLeak(t *testing.T) {
	res := mustRun(t, sched.Config{}, func() {
		ch := sched.NewChan[int](0)
		sched.GoNamed("w", func() { ch.Recv() }) // @leak-w
		sched.GoNamed("finisher", func() {
			for range 10 {
				sched.Yield()
			}
		})
		sched.GoDaemon("daemon", func() {
			tk := sched.NewTicker(time.Second)
			for {
				tk.C.Recv()
			}
		})
		sched.Yield()
	})
	if res.Failure == nil || res.Failure.Kind != sched.Leak {
		t.Fatalf("got %v, want a leak", res.Failure)
	}
	// The daemon's ticks are all that run after main and finisher have
	// returned: after ExpectedSteps (100) such steps w is a leak.
	want := lines(t, `leak at step 120: machine 1 "w" still blocked on Chan.Recv (report_test.go:@leak-w) after main returned`)
	if got := res.Failure.Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	res = mustRun(t, sched.Config{}, func() {
		sched.GoNamed("finisher", func() {
			for range 10 {
				sched.Yield()
			}
		})
		sched.GoDaemon("daemon", func() { sched.NewChan[int](0).Recv() })
	})
	if res.Failure != nil {
		t.Errorf("runnable machine and daemon left after main: %v", res.Failure)
	}
}

// TestReportStacks: a deadlock report shows each blocked machine's stack
// at the blocking call, trimmed to user frames; a misuse report shows the
// failing machine's.
func TestReportStacks(t *testing.T) {
	res := findFailure(t, sched.Config{}, lockOrder)
	rep := res.Report(0)
	for _, want := range []string{
		"--- machine 0 \"main\", blocked on Mutex.Lock\n",
		"--- machine 1 \"x\", blocked on Mutex.Lock\n",
		"sched_test.lockOrder\n\t", lines(t, "/sched/sched_test.go:@main-locks-a\n"),
		"sched_test.lockOrder.func1\n\t", lines(t, "/sched/sched_test.go:@x-locks-b\n"),
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	if strings.Contains(rep, "sched.(*") || strings.Contains(rep, "runtime.") {
		t.Errorf("report shows scheduler or runtime frames:\n%s", rep)
	}
	for _, b := range res.Failure.Blocked {
		if !strings.HasPrefix(b.Stack, "github.com/migratingtable/migratingtable/sched_test.lockOrder") {
			t.Errorf("machine %d's stack does not start at the blocking call:\n%s", b.Machine, b.Stack)
		}
	}

	res = mustRun(t, sched.Config{}, func() {
		var wg sched.WaitGroup
		wg.Name = "workers"
		wg.Done()
	})
	if got, want := res.Failure.Error(), `panic in machine 0 "main" at step 1: sched: negative WaitGroup counter "workers"`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !strings.HasPrefix(res.Failure.Stack, "github.com/migratingtable/migratingtable/sched_test.TestReportStacks.func1\n\t") {
		t.Errorf("misuse stack:\n%s", res.Failure.Stack)
	}
	if rep := res.Report(0); !strings.Contains(rep, "--- stack of the panicking machine\ngithub.com/migratingtable/migratingtable/sched_test.TestReportStacks.func1") {
		t.Errorf("report:\n%s", rep)
	}
}
