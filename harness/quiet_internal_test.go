package harness

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

const (
	stateQuery = "config.QueryAtomic((PartitionKey eq 'mtable-config') and (RowKey eq 'state')) -> "
	leaseQuery = "config.QueryAtomic(((PartitionKey eq 'mtable-config') and (RowKey gt 'lease-')) and (RowKey lt 'lease.')) -> "
	state1     = "rows ['mtable-config'/'state' etag=\"cfg:5\" {state=1 version=1L}]"
	state2     = "rows ['mtable-config'/'state' etag=\"cfg:11\" {state=2 version=2L}]"
	leases1    = "rows ['mtable-config'/'lease-app0.2d' etag=\"cfg:10\" {acked=1L beat=2L client='app0'}]"
	// leases1 renewed: a new ETag and heartbeat, nothing else.
	leases1renewed = "rows ['mtable-config'/'lease-app0.2d' etag=\"cfg:13\" {acked=1L beat=3L client='app0'}]"
	leases1acked   = "rows ['mtable-config'/'lease-app0.2d' etag=\"cfg:13\" {acked=2L beat=3L client='app0'}]"
	leases2        = "rows ['mtable-config'/'lease-app0.2d' etag=\"cfg:13\" {acked=1L beat=3L client='app0'}; 'mtable-config'/'lease-app1.3e' etag=\"cfg:14\" {acked=1L beat=1L client='app1'}]"
	lockQuery      = "config.QueryAtomic((PartitionKey eq 'mtable-config') and (RowKey eq 'migrator')) -> "
	lock1          = "rows ['mtable-config'/'migrator' etag=\"cfg:21\" {beat=4L client='migrator' instance='01'}]"
	lock1renewed   = "rows ['mtable-config'/'migrator' etag=\"cfg:25\" {beat=5L client='migrator' instance='01'}]"
	lock2          = "rows ['mtable-config'/'migrator' etag=\"cfg:25\" {beat=1L client='migrator2' instance='02'}]"
	lockHeldMsg1   = `migrator: taking the lock: leaseconfig: another migrator is running: "migrator" (instance 01) holds the migration lock and renews it; wait for it to finish`
	lockHeldMsg2   = `migrator: taking the lock: leaseconfig: another migrator is running: "migrator" (instance 03) holds the migration lock and renews it; wait for it to finish`
)

// TestClassify: each kind of quiet event is quiet, each kind of event a
// user needs is not, after the events before it in the run (which the
// configuration reads are judged against).
func TestClassify(t *testing.T) {
	ev := func(m int, name, text string) sched.Event {
		return sched.Event{Step: 9, Machine: m, Name: name, Text: text}
	}
	lr := func(text string) sched.Event { return ev(3, "lease-poll", text) }
	for _, c := range []struct {
		name   string
		before []sched.Event
		e      sched.Event
		want   quietKind
	}{
		// Quiet.
		{"a lease machine waits", nil, ev(3, "lease-renew", "waits on Select"), quietWait},
		{"the migrator waits", nil, ev(1, "migrator", "waits on Select"), quietWait},
		{"an application waits", nil, ev(2, "app0", "waits on WaitGroup.Wait"), quietWait},
		{"spawn of a lease machine", nil, ev(2, "app0", `spawn machine 7 "lease-renew"`), quietSpawn},
		{"spawn of a push machine", nil, ev(1, "migrator", `spawn machine 11 "config-push-lease-apply"`), quietSpawn},
		{"exit of a push machine", nil, ev(11, "config-push-app0", "exit"), quietExit},
		{"a state read as the previous one", []sched.Event{lr(stateQuery + state1)}, lr(stateQuery + state1), quietConfigRead},
		{"a read as the previous one of another machine", []sched.Event{ev(1, "migrator", stateQuery+state1)}, lr(stateQuery + state1), quietConfigRead},
		{"a read as the previous one, another query between", []sched.Event{lr(stateQuery + state1), lr(leaseQuery + leases1)}, lr(stateQuery + state1), quietConfigRead},
		{"an empty read as the previous one", []sched.Event{lr(leaseQuery + "rows []")}, lr(leaseQuery + "rows []"), quietConfigRead},
		{"a state read before the configuration was created", nil, lr(stateQuery + "rows []"), quietNoConfig},
		{"a state read before the configuration was created, again", []sched.Event{lr(stateQuery + "rows []")}, lr(stateQuery + "rows []"), quietNoConfig},
		{"a lease read that found the leases only renewed", []sched.Event{lr(leaseQuery + leases1)}, lr(leaseQuery + leases1renewed), quietConfigRead},
		{"a lock read that found the lock only renewed", []sched.Event{lr(lockQuery + lock1)}, lr(lockQuery + lock1renewed), quietConfigRead},
		{"a migrator reads back the state it stored", []sched.Event{lr(stateQuery + state1), ev(1, "migrator", "configuration: PREFER_NEW stored")}, ev(1, "migrator", stateQuery+state2), quietOwnRead},
		{"a clock jump", nil, ev(-1, "", "clock jumps to +2s"), quietClock},
		{"main starts a process", nil, ev(0, "main", `start process 2 "app0"`), quietStart},
		{"a push stores the state it pushes", []sched.Event{ev(1, "migrator", "push PREFER_NEW: start")}, ev(1, "migrator", "configuration: PREFER_NEW stored"), quietStore},
		{"a pushing migrator finds only acknowledgements advanced", []sched.Event{lr(leaseQuery + leases1), ev(1, "migrator", "push PREFER_NEW: start")}, ev(1, "migrator", leaseQuery+leases1acked), quietAcks},
		{"a pushing migrator finds the leases only renewed", []sched.Event{lr(leaseQuery + leases1), ev(1, "migrator", "push PREFER_NEW: start")}, ev(1, "migrator", leaseQuery+leases1renewed), quietConfigRead},
		{"a migrator finds the lock held again by the same holder", []sched.Event{ev(1, "migrator2", lockHeldMsg1)}, ev(1, "migrator2", lockHeldMsg1), quietLockHeld},

		// Never quiet.
		{"a migrator reads a state it did not store", []sched.Event{lr(stateQuery + state1), ev(1, "migrator", "configuration: PREFER_OLD stored")}, ev(1, "migrator", stateQuery+state2), loud},
		{"another migrator reads the state one stored", []sched.Event{lr(stateQuery + state1), ev(1, "migrator", "configuration: PREFER_NEW stored")}, ev(4, "migrator2", stateQuery+state2), loud},
		{"an application learns the state a migrator stored", []sched.Event{lr(stateQuery + state1), ev(1, "migrator", "configuration: PREFER_NEW stored")}, lr(stateQuery + state2), loud},
		{"a migrator's second read after its store", []sched.Event{lr(stateQuery + state1), ev(1, "migrator", "configuration: PREFER_NEW stored"), ev(1, "migrator", leaseQuery+leases1)}, ev(1, "migrator", stateQuery+state2), loud},
		{"a lease read that found a new acknowledgement", []sched.Event{lr(leaseQuery + leases1)}, lr(leaseQuery + leases1acked), loud},
		{"a lease read that found a new lease", []sched.Event{lr(leaseQuery + leases1)}, lr(leaseQuery + leases2), loud},
		{"a lock read that found another owner", []sched.Event{lr(lockQuery + lock1)}, lr(lockQuery + lock2), loud},
		{"a state read that found a new state", []sched.Event{lr(stateQuery + state1)}, lr(stateQuery + state2), loud},
		{"a state read that found no state after one was found", []sched.Event{lr(stateQuery + state1)}, lr(stateQuery + "rows []"), loud},
		{"a call", nil, ev(2, "app0", "call 0: batch[Delete 'p0'/'3' if-match \"*\"]"), loud},
		{"a call's return", nil, ev(2, "app0", `call 0 returned: ok [""]`), loud},
		{"a read of the old table", nil, ev(2, "app0", "old.QueryAtomic((PartitionKey eq 'p0') and (RowKey eq '3')) -> rows []"), loud},
		{"the same read of the old table again", []sched.Event{ev(2, "app0", "old.QueryAtomic(a eq 1) -> rows []")}, ev(2, "app0", "old.QueryAtomic(a eq 1) -> rows []"), loud},
		{"a streamed read of the new table", nil, ev(2, "app0", "new.QueryStreamed(isHappy eq false)"), loud},
		{"a write to the new table", nil, ev(1, "migrator", `new.ExecuteBatch[Insert 'p0'/'3' {a=1}] -> ok ["new:1"]`), loud},
		{"a configuration stored", nil, ev(1, "migrator", "configuration: PREFER_NEW stored"), loud},
		{"a push stores another state than it pushes", []sched.Event{ev(1, "migrator", "push PREFER_NEW: start")}, ev(1, "migrator", "configuration: USE_NEW_WITH_TOMBSTONES stored"), loud},
		{"a state stored after the push is done", []sched.Event{ev(1, "migrator", "push PREFER_NEW: start"), ev(1, "migrator", "push PREFER_NEW: done (err=<nil>)")}, ev(1, "migrator", "configuration: PREFER_NEW stored"), loud},
		{"a state stored by another machine than the pushing one", []sched.Event{ev(1, "migrator", "push PREFER_NEW: start")}, ev(4, "migrator2", "configuration: PREFER_NEW stored"), loud},
		{"acknowledgements advanced, found by a machine not pushing", []sched.Event{lr(leaseQuery + leases1), ev(1, "migrator", "push PREFER_NEW: start")}, ev(4, "migrator2", leaseQuery+leases1acked), loud},
		{"acknowledgements advanced, found after the push", []sched.Event{lr(leaseQuery + leases1), ev(1, "migrator", "push PREFER_NEW: start"), ev(1, "migrator", "push PREFER_NEW: done (err=<nil>)")}, ev(1, "migrator", leaseQuery+leases1acked), loud},
		{"a pushing migrator finds an acknowledgement gone back", []sched.Event{lr(leaseQuery + leases1acked), ev(1, "migrator", "push PREFER_NEW: start")}, ev(1, "migrator", leaseQuery+leases1), loud},
		{"a pushing migrator finds a new lease", []sched.Event{lr(leaseQuery + leases1), ev(1, "migrator", "push PREFER_NEW: start")}, ev(1, "migrator", leaseQuery+leases2), loud},
		{"a pushing migrator finds a lease gone", []sched.Event{lr(leaseQuery + leases2), ev(1, "migrator", "push PREFER_NEW: start")}, ev(1, "migrator", leaseQuery+leases1acked), loud},
		{"a pushing migrator's first read of the leases", []sched.Event{ev(1, "migrator", "push PREFER_NEW: start")}, ev(1, "migrator", leaseQuery+leases1), loud},
		{"a migrator first finds the lock held", nil, ev(1, "migrator2", lockHeldMsg1), loud},
		{"a migrator finds the lock held by another holder", []sched.Event{ev(1, "migrator2", lockHeldMsg1)}, ev(1, "migrator2", lockHeldMsg2), loud},
		{"another migrator finds the lock held", []sched.Event{ev(1, "migrator2", lockHeldMsg1)}, ev(5, "migrator3", lockHeldMsg1), loud},
		{"a migrator finds the lock held after its Run returned", []sched.Event{ev(1, "migrator2", lockHeldMsg1), ev(1, "migrator2", "migrator: Run returned: <nil>")}, ev(1, "migrator2", lockHeldMsg1), loud},
		{"a push starts", nil, ev(1, "migrator", "push PREFER_OLD: start"), loud},
		{"a push is done", nil, ev(1, "migrator", "push PREFER_OLD: done (err=<nil>)"), loud},
		{"a lease lost", nil, ev(2, "app0", "app0: lease lost; opening the configuration again"), loud},
		{"a lease acquired (not a text the harness logs: unrecognised)", nil, ev(3, "lease-renew", "lease acquired"), loud},
		{"a lease expired (unrecognised)", nil, ev(3, "lease-renew", "lease expired"), loud},
		{"a fence refusal", nil, ev(2, "app0", "the fence of app0 refused a request: fenced"), loud},
		{"a backend fault", nil, ev(2, "app0", "backend fault: app0 old batch not applied"), loud},
		{"a late request lands", nil, ev(12, "in-flight", "a late request of app0 lands"), loud},
		{"a crash", nil, ev(-1, "", `crash process 2 "app0"`), loud},
		{"a stall", nil, ev(-1, "", `stall process 2 "app0" for 3s`), loud},
		{"a restart", nil, ev(-1, "", `restart process 2 "app0"`), loud},
		{"a process starts, not by main", nil, ev(1, "app0", `start process 2 "app1"`), loud},
		{"a failed check", nil, ev(2, "app0", "CHECK FAILED: streamed-query validity: row missing"), loud},
		{"the run failed", nil, ev(-1, "", "run failed: deadlock"), loud},
		{"a clock advance (a decision, not a jump)", nil, ev(-1, "", "clock advances by 1s to +3s"), loud},
		{"spawn of an application", nil, ev(0, "main", `spawn machine 2 "app0"`), loud},
		{"spawn of the migrator", nil, ev(0, "main", `spawn machine 1 "migrator"`), loud},
		{"spawn of a second migrator", nil, ev(0, "main", `spawn machine 1 "migrator2"`), loud},
		{"exit of an application", nil, ev(2, "app12", "exit"), loud},
		{"exit of a lease machine (its lease may be lost)", nil, ev(7, "lease-renew", "exit"), loud},
		{"exit of a lease poller", nil, ev(8, "lease-poll", "exit"), loud},
		{"exit of a lease applier", nil, ev(9, "lease-apply", "exit"), loud},
		{"exit of the lock's renewer (the lock may be lost)", nil, ev(10, "lock-renew", "exit"), loud},
		{"exit of the migrator", nil, ev(1, "migrator", "exit"), loud},
		{"exit of main", nil, ev(0, "main", "exit"), loud},
		{"the first read of a query", nil, lr(stateQuery + state1), loud},
		{"a read that found something new", []sched.Event{lr(stateQuery + state1)}, lr(stateQuery + state2), loud},
		{"a read as one before the previous", []sched.Event{lr(stateQuery + state1), lr(stateQuery + state2)}, lr(stateQuery + state1), loud},
		{"a read of another query's result", []sched.Event{lr(leaseQuery + state1)}, lr(stateQuery + state1), loud},
		{"a failed read as the previous one", []sched.Event{lr(stateQuery + "error 503 server busy")}, lr(stateQuery + "error 503 server busy"), loud},
		{"a garbled configuration read", []sched.Event{lr("config.QueryAtomic((a eq 1 -> rows []")}, lr("config.QueryAtomic((a eq 1 -> rows []"), loud},
		{"a configuration read whose literal holds a parenthesis", []sched.Event{lr("config.QueryAtomic(a eq ')') -> rows []")}, lr("config.QueryAtomic(a eq ')') -> rows [x]"), loud},
		{"a garbled spawn", nil, ev(0, "main", "spawn machine x lease-renew"), loud},
		{"something unknown", nil, ev(3, "lease-renew", "something else"), loud},
	} {
		t.Run(c.name, func(t *testing.T) {
			reads := newConfigReads()
			for _, e := range c.before {
				classify(e, reads)
			}
			if got := classify(c.e, reads); got != c.want {
				t.Errorf("classify(%q) after %d events: got %d, want %d", c.e, len(c.before), got, c.want)
			}
		})
	}
}

// TestSplitConfigRead: the filter ends at its closing parenthesis, not
// at one inside a literal.
func TestSplitConfigRead(t *testing.T) {
	for _, c := range []struct{ text, q, r string }{
		{stateQuery + state1, "(PartitionKey eq 'mtable-config') and (RowKey eq 'state')", state1},
		{"config.QueryAtomic(a eq ') -> x') -> rows []", "a eq ') -> x'", "rows []"},
		{"config.QueryAtomic(a eq 'it''s (') -> rows []", "a eq 'it''s ('", "rows []"},
		{"config.QueryAtomic() -> rows []", "", "rows []"},
	} {
		q, r, ok := splitConfigRead(c.text)
		if !ok || q != c.q || r != c.r {
			t.Errorf("splitConfigRead(%q): got %q, %q, %v; want %q, %q, true", c.text, q, r, ok, c.q, c.r)
		}
	}
	for _, text := range []string{"config.QueryAtomic(a eq 1", "config.QueryAtomic(a eq 1) rows", "config.QueryAtomic(a eq ')"} {
		if q, r, ok := splitConfigRead(text); ok {
			t.Errorf("splitConfigRead(%q): got %q, %q, true; want a refusal", text, q, r)
		}
	}
}

// TestQuietEventsGuard: the failing machine's reads in the last
// TailSteps logged steps are shown even when quiet, its earlier ones,
// its waits and the other machines' events are not; after the
// scheduler's verdict each machine's last event is shown.
func TestQuietEventsGuard(t *testing.T) {
	evs := []sched.Event{{Step: 1, Machine: 4, Name: "lease-renew", Text: stateQuery + state1}}
	for s := int64(1); s <= 40; s++ {
		evs = append(evs, sched.Event{Step: s, Machine: 2, Name: "app0", Text: stateQuery + state1},
			sched.Event{Step: s, Machine: 2, Name: "app0", Text: "waits on Select"},
			sched.Event{Step: s, Machine: 3, Name: "lease-poll", Text: "waits on Select"})
	}
	evs = append(evs, sched.Event{Step: 41, Machine: 2, Name: "app0", Text: "CHECK FAILED: x"})
	it := &Iteration{Sched: &sched.Result{Events: evs, Steps: 45},
		Failure: &IterationFailure{Kind: "assertion", Check: &CheckFailure{Machine: "app0", Step: 41}}}
	q := quietEvents(it)
	for i, e := range evs[1:] {
		// Steps 12..41 are the last 30 that logged something.
		want := e.Name != "app0" || e.Step < 12 || strings.HasPrefix(e.Text, waitsPrefix)
		if e.Step == 41 {
			want = false
		}
		if got := q[i+1] != loud; got != want {
			t.Errorf("check failure: %v quiet got %v, want %v", e, got, want)
		}
	}

	it.Failure = &IterationFailure{Kind: "deadlock", Sched: &sched.Failure{Machine: -1}}
	it.Sched.Events = evs[:len(evs)-1]
	q = quietEvents(it)
	for i, e := range it.Sched.Events {
		lastOfMachine := !slices.ContainsFunc(it.Sched.Events[i+1:], func(f sched.Event) bool { return f.Machine == e.Machine })
		if got, want := q[i] != loud, !lastOfMachine; got != want {
			t.Errorf("deadlock: %v quiet got %v, want %v", e, got, want)
		}
	}
}

// TestClosingExits: a lease machine's exit is quiet when its process's
// next event is its main machine's exit, and shown when the process
// goes on (a lease lost), when the process crashed between, or when the
// run does not name its machines' processes.
func TestClosingExits(t *testing.T) {
	machines := []sched.TraceMachine{{Process: "root", Name: "main"}, {Process: "app0", Name: "app0"},
		{Process: "app0", Name: "lease-renew"}, {Process: "app0", Name: "lease-poll"}, {Process: "app1", Name: "app1"}}
	ev := func(step int64, m int, text string) sched.Event {
		name := ""
		if m >= 0 {
			name = machines[m].Name
		}
		return sched.Event{Step: step, Machine: m, Name: name, Text: text}
	}
	for _, c := range []struct {
		name    string
		events  []sched.Event
		unnamed bool
		want    []bool // of the events, in order
	}{
		{"the process ends", []sched.Event{ev(1, 2, "exit"), ev(2, 4, "call 0: stream()"), ev(3, 3, "waits on Select"), ev(4, 3, "exit"), ev(5, 1, "exit")},
			false, []bool{true, false, true, true, false}},
		{"the process goes on", []sched.Event{ev(1, 2, "exit"), ev(2, 1, "app0: lease lost; opening the configuration again"), ev(3, 1, "exit")},
			false, []bool{false, false, false}},
		{"a crash between", []sched.Event{ev(1, 2, "exit"), ev(2, -1, `crash process 1 "app0"`), ev(3, 1, "exit")},
			false, []bool{false, false, false}},
		{"another process's crash between", []sched.Event{ev(1, 2, "exit"), ev(2, -1, `crash process 2 "app1"`), ev(3, 1, "exit")},
			false, []bool{true, false, false}},
		{"the main machine never exits", []sched.Event{ev(1, 2, "exit"), ev(2, 3, "waits on Select")},
			false, []bool{false, true}},
		{"no process names", []sched.Event{ev(1, 2, "exit"), ev(2, 1, "exit")},
			true, []bool{false, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.unnamed {
				checkQuiet(t, nil, c.events, c.want)
			} else {
				checkQuiet(t, machines, c.events, c.want)
			}
		})
	}
}

// TestRunEndsAndLockHeld: how a migrator's Run releases its own lock as
// it returns, and its reads of a lock another holds that its "taking the
// lock" sums up, are quiet; a lock found another's, a lock-renew exit
// with the Run going on, and reads before anything else of the
// migrator's, are shown.
func TestRunEndsAndLockHeld(t *testing.T) {
	machines := []sched.TraceMachine{{Process: "root", Name: "main"}, {Process: "migrator", Name: "migrator"},
		{Process: "migrator", Name: "lock-renew"}, {Process: "migrator", Name: "lease-poll"}, {Process: "migrator2", Name: "migrator2"}}
	ev := func(step int64, m int, text string) sched.Event {
		return sched.Event{Step: step, Machine: m, Name: machines[m].Name, Text: text}
	}
	const returned, held = "migrator: Run returned: <nil>", `migrator: taking the lock: leaseconfig: another migrator is running: "migrator" (instance 01) holds the migration lock and renews it`
	for _, c := range []struct {
		name   string
		events []sched.Event
		want   []bool // quiet, of the events in order
	}{
		{"a Run releases its lock", []sched.Event{ev(1, 1, "push USE_NEW_HIDE_METADATA: done (err=<nil>)"), ev(2, 2, "exit"), ev(3, 3, stateQuery+state1),
			ev(4, 1, "waits on Select"), ev(5, 1, lockQuery+lock1), ev(6, 1, returned)},
			[]bool{false, true, true, true, true, false}},
		{"the lock found another's", []sched.Event{ev(1, 2, "exit"), ev(2, 1, lockQuery+lock2), ev(3, 1, returned)},
			[]bool{false, false, false}},
		{"the lock-renew exit long before the Run's end", []sched.Event{ev(1, 2, "exit"), ev(2, 1, "push PREFER_NEW: start"), ev(3, 1, lockQuery+lock1), ev(4, 1, returned)},
			[]bool{false, false, true, false}},
		{"another process's lock-renew exits", []sched.Event{ev(1, 2, "exit"), ev(2, 4, lockQuery+lock1), ev(3, 4, returned)},
			[]bool{false, false, false}},
		{"the lock found held by the holder named", []sched.Event{ev(1, 4, "push PREFER_NEW: start"), ev(2, 4, lockQuery+lock1), ev(3, 4, "waits on Sleep"), ev(4, 3, stateQuery+state1),
			ev(5, 4, lockQuery+lock1renewed), ev(6, 4, held)},
			[]bool{false, true, true, true, true, false}},
		{"the lock found held by another than named", []sched.Event{ev(1, 4, lockQuery+lock2), ev(2, 4, held)},
			[]bool{false, false}},
	} {
		t.Run(c.name, func(t *testing.T) { checkQuiet(t, machines, c.events, c.want) })
	}
}

// stepEvent is the event text logged by machine m (named name) at
// step s.
func stepEvent(s int64, m int, name, text string) sched.Event {
	return sched.Event{Step: s, Machine: m, Name: name, Text: text}
}

// checkQuiet checks which of events, a run of machines (Trace.Machines)
// that failed on a machine of none of them at step 10, quietEvents
// finds quiet: want, in order.
func checkQuiet(t *testing.T, machines []sched.TraceMachine, events []sched.Event, want []bool) {
	t.Helper()
	it := &Iteration{Sched: &sched.Result{Events: events, Steps: 10, Trace: &sched.Trace{Machines: machines}},
		Failure: &IterationFailure{Kind: "assertion", Check: &CheckFailure{Machine: "nobody", Step: 10}}}
	got := quietEvents(it)
	for i, e := range events {
		if q := got[i] != loud; q != want[i] {
			t.Errorf("%v: quiet %v, want %v", e, q, want[i])
		}
	}
}

// TestJoinEmptyStreamsAndRetries: a stream that ended at its first read
// is one line with its opening, and only then; a retry loop whose steps
// differ only in the clock's jumps is one step and a note naming the
// clock at its end.
func TestJoinEmptyStreamsAndRetries(t *testing.T) {
	e := stepEvent
	evs := []sched.Event{
		e(1, 1, "migrator", "old.QueryStreamed()"),
		e(2, 1, "migrator", "old.stream.Next -> end"),
		e(2, 1, "migrator", "push PREFER_NEW: start"),
		e(3, 1, "migrator", "new.QueryStreamed(a eq 1)"),
		e(4, 1, "migrator", "new.stream.Next -> 'p0'/'0' etag=\"new:1\" {a=1}"),
		e(5, 1, "migrator", "new.stream.Next -> end"),
		e(6, 1, "migrator", "old.QueryStreamed()"),
		e(7, 2, "app0", "call 0: retrieve('p0', '0')"),
		e(8, 1, "migrator", "old.stream.Next -> end"),
		e(9, 1, "migrator", "old.QueryStreamed()"),
		e(10, 1, "migrator", "new.stream.Next -> end"),
	}
	for i, s := range []int64{11, 13, 15} {
		evs = append(evs, e(s, 1, "migrator", "backend fault: read-fails (outage) request of migrator on the config table"),
			e(s, 1, "migrator", "waits on Sleep"), e(s, -1, "", fmt.Sprintf("clock jumps to +2.%03ds", 5+10*i)))
	}
	evs = append(evs, e(17, 2, "app0", "CHECK FAILED: x"))
	want := `step 2 [1 migrator]: old.QueryStreamed() -> end, no rows (opened at step 1)
step 2 [1 migrator]: push PREFER_NEW: start
step 3 [1 migrator]: new.QueryStreamed(a eq 1)
step 4 [1 migrator]: new.stream.Next -> 'p0'/'0' etag="new:1" {a=1}
step 5 [1 migrator]: new.stream.Next -> end
step 6 [1 migrator]: old.QueryStreamed()
step 7 [2 app0]: call 0: retrieve('p0', '0')
step 8 [1 migrator]: old.stream.Next -> end
step 9 [1 migrator]: old.QueryStreamed()
step 10 [1 migrator]: new.stream.Next -> end
step 11 [1 migrator]: backend fault: read-fails (outage) request of migrator on the config table
step 11 [1 migrator]: waits on Sleep
step 11 [sched]: clock jumps to +2.005s
(the step above repeats 2 more times, to step 15; clock +2.025s)
step 17 [2 app0]: CHECK FAILED: x
`
	for _, leases := range []string{"true", "false"} {
		it := syntheticRun(evs, 17, leases)
		var b bytes.Buffer
		writeStepLines(&b, listSteps(it).tail)
		if got := b.String(); got != want {
			t.Errorf("leases=%s: got\n%s\nwant\n%s", leases, got, want)
		}
		if got := ShownSteps(it); got != 11 {
			t.Errorf("leases=%s: ShownSteps %d, want 11", leases, got)
		}
	}
}

var (
	foldLine   = regexp.MustCompile(`^\(steps? (\d+)(?:-(\d+))?: (\d+) quiet steps?( of [^:]+: [a-z ,']+)?(;? ?:? ?clock \+\S+)?\)$`)
	repeatLine = regexp.MustCompile(`^\(the (?:step above repeats|\d+ steps above repeat) \d+ more times?, to step (\d+)(?:, (\d+) quiet steps? folded)?(?:; clock \+\S+)?\)$`)
	// pushLine is a push summarised (summarisePushes): the step it stands
	// at, the machine, its steps and the quiet steps it folds.
	pushLine = regexp.MustCompile(`^step (\d+) \[(\d+) [^\]]+\]: push [A-Z_]+, steps (\d+)-(\d+): (?:.*?(?:: |; )(\d+) quiet steps?(?: of [^;]*)? folded;)?`)
	// joinedLine is a stream that ended at its first read, joined with
	// its opening (joinEmptyStreams).
	joinedLine = regexp.MustCompile(`^step (\d+) (\[[^\]]*\]: )(([A-Za-z0-9_-]+)\.QueryStreamed\(.*\)) -> end, no rows \(opened at step (\d+)\)$`)
	stepLine   = regexp.MustCompile(`^step (\d+) \[`)
	header     = regexp.MustCompile(`^--- (?:every step \((\d+) shown, (\d+) quiet steps? folded; -v prints every step\)|last \d+ of \d+ shown \((\d+) quiet steps? folded; -v prints every step\)) ---$`)
)

// checkSteps checks the steps section of a report of it: every event
// from the first step it shows up to the check that is not quiet is
// printed verbatim or lies in a repeated block; every step it does not
// print lies in a fold line (whose steps all are quiet, as many as it
// says) or a repeated block; the header counts the folded steps.
func checkSteps(t *testing.T, it *Iteration, report string) {
	t.Helper()
	_, section, ok := strings.Cut(report, "\n--- every step (")
	if !ok {
		_, section, ok = strings.Cut(report, "\n--- last ")
		section = "--- last " + section
	} else {
		section = "--- every step (" + section
	}
	if !ok {
		t.Fatalf("no steps section in:\n%s", report)
	}
	lines := strings.Split(section, "\n")
	hm := header.FindStringSubmatch(lines[0])
	if hm == nil {
		t.Fatalf("steps header %q", lines[0])
	}
	headerFolded, _ := strconv.Atoi(hm[2] + hm[3])
	last := failureStep(it)
	quiet := quietEvents(it)
	verbatim := map[string]bool{}
	type span struct{ from, to int64 }
	var folds, repeats []span
	type foldShown struct {
		line string
		n    int
	}
	var foldLines []foldShown // the fold lines, indexed like folds
	type summary struct {
		span
		machine int
	}
	var summaries []summary
	first, prev := int64(-1), int64(0)
	folded := 0
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "(the run went on") || strings.HasPrefix(l, "---") || l == "" {
			break
		}
		switch {
		case pushLine.MatchString(l):
			m := pushLine.FindStringSubmatch(l)
			at, _ := strconv.ParseInt(m[1], 10, 64)
			machine, _ := strconv.Atoi(m[2])
			from, _ := strconv.ParseInt(m[3], 10, 64)
			to, _ := strconv.ParseInt(m[4], 10, 64)
			if at != to || from >= to {
				t.Errorf("%q: a push summary at step %d of steps %d-%d", l, at, from, to)
			}
			if m[5] != "" {
				n, _ := strconv.Atoi(m[5])
				folded += n
			}
			summaries = append(summaries, summary{span{from, to}, machine})
			prev = to
			if first < 0 {
				// A listing's tail may begin inside a push whose
				// summary shows other machines' lines in place: those
				// before the summary were cut with the rest.
				first = to
			}
		case stepLine.MatchString(l):
			verbatim[l] = true
			if m := joinedLine.FindStringSubmatch(l); m != nil {
				verbatim["step "+m[5]+" "+m[2]+m[3]] = true
				verbatim["step "+m[1]+" "+m[2]+m[4]+".stream.Next -> end"] = true
			}
			prev, _ = strconv.ParseInt(stepLine.FindStringSubmatch(l)[1], 10, 64)
			if first < 0 {
				first = prev
			}
		case foldLine.MatchString(l):
			m := foldLine.FindStringSubmatch(l)
			from, _ := strconv.ParseInt(m[1], 10, 64)
			to := from
			if m[2] != "" {
				to, _ = strconv.ParseInt(m[2], 10, 64)
			}
			n, _ := strconv.Atoi(m[3])
			folded += n
			foldLines = append(foldLines, foldShown{l, n})
			folds = append(folds, span{from, to})
			prev = to
			if first < 0 {
				first = from
			}
		case repeatLine.MatchString(l):
			m := repeatLine.FindStringSubmatch(l)
			to, _ := strconv.ParseInt(m[1], 10, 64)
			if m[2] != "" {
				n, _ := strconv.Atoi(m[2])
				folded += n
			}
			repeats = append(repeats, span{prev + 1, to})
			prev = to
		case strings.HasPrefix(l, "(up to step"):
		default:
			t.Errorf("unexpected line in the steps: %q", l)
		}
	}
	if folded != headerFolded {
		t.Errorf("the header says %d quiet steps folded, the fold lines %d", headerFolded, folded)
	}
	in := func(spans []span, s int64) bool {
		for _, sp := range spans {
			if s >= sp.from && s <= sp.to {
				return true
			}
		}
		return false
	}
	// A push summary stands for its machine's events in its steps (its
	// start and configuration reads; the quiet ones may be folded).
	summarised := func(e sched.Event) bool {
		return slices.ContainsFunc(summaries, func(s summary) bool {
			return e.Step >= s.from && e.Step <= s.to && e.Machine == s.machine
		})
	}
	// A fold line counts the steps in its range that logged something
	// other than what a push summary stands for.
	for k, f := range folds {
		steps := map[int64]bool{}
		for i, e := range it.Sched.Events {
			if e.Step >= f.from && e.Step <= f.to && !(quiet[i] == loud && summarised(e)) {
				steps[e.Step] = true
			}
		}
		if len(steps) != foldLines[k].n {
			t.Errorf("%q: %d steps logged something in %d-%d", foldLines[k].line, len(steps), f.from, f.to)
		}
	}
	for i, e := range it.Sched.Events {
		if e.Step < first || e.Step > last {
			continue
		}
		switch {
		case quiet[i] == loud && summarised(e):
		case in(folds, e.Step):
			if quiet[i] == loud {
				t.Errorf("folded but not quiet: %v", e)
			}
		case verbatim[e.String()] || in(repeats, e.Step):
		case summarised(e):
		case slices.ContainsFunc(summaries, func(s summary) bool {
			return e.Step >= s.from && e.Step <= s.to && (e.Machine == s.machine || quiet[i] != loud)
		}):
		case quiet[i] != loud:
			t.Errorf("quiet, not printed and in no fold line: %v", e)
		default:
			t.Errorf("not quiet and not printed: %v", e)
		}
	}
}

// TestReportFoldsQuietSteps: over real runs of the production world
// (every failing iteration of a few bugs), the report of each prints
// every event that is not quiet and names every step it folds; so does
// the listing of all its steps up to the check.
func TestReportFoldsQuietSteps(t *testing.T) {
	iterations := 200
	if testing.Short() {
		iterations = 40
	}
	reports, folds, pushes := 0, 0, 0
	for _, bug := range []mtable.Bug{mtable.BugQueryStreamedFilterShadowing, mtable.BugDeleteNoLeaveTombstonesETag, mtable.BugPushExpiresLeaseEarly} {
		_, err := Explore(ExploreConfig{Options: Options{Workload: DefaultWorkload(), Bug: bug}, Strategy: "portfolio", Seed: 7,
			Iterations: iterations, Parallel: 2, KeepGoing: true,
			OnFailure: func(it *Iteration) {
				var b bytes.Buffer
				WriteReport(&b, it, "")
				checkSteps(t, it, b.String())
				l := listSteps(it)
				var all bytes.Buffer
				fmt.Fprintf(&all, "--- every step (%d shown, %s folded; -v prints every step) ---\n", l.shown, plural(l.folded, "quiet step"))
				writeStepLines(&all, stepLines(it.Sched.Events, 0, failureStep(it), quietEvents(it)))
				checkSteps(t, it, "\n"+all.String())
				for _, l := range strings.Split(all.String(), "\n") {
					if pushLine.MatchString(l) {
						pushes++
					}
				}
				reports++
				folds += l.folded
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if reports == 0 || folds == 0 || pushes == 0 {
		t.Fatalf("%d failing iterations checked, %d quiet steps folded, %d pushes summarised: want some of each", reports, folds, pushes)
	}
	t.Logf("%d reports, %d quiet steps folded, %d pushes summarised", reports, folds, pushes)
}

// TestReportBug1Shrunk: the shrunk report of bug 1 from seed 314159 (the
// README's example) fits on one screen with the story in it: the
// application's two calls, the migrator's copy and the failing check.
func TestReportBug1Shrunk(t *testing.T) {
	opts := Options{Workload: DefaultWorkload(), Bug: mtable.BugQueryStreamedFilterShadowing}
	sum, err := Explore(ExploreConfig{Options: opts, Strategy: "portfolio", Seed: 314159, Iterations: 2000, Parallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.First == nil {
		t.Fatal("bug 1 not found from seed 314159 in 2000 iterations")
	}
	sr, err := Shrink(context.Background(), opts, sum.First, ShrinkConfig{Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	WriteShrunkReport(&b, sr, "")
	report := b.String()
	for _, w := range []string{
		" app0]: call 0: ",
		" app0]: call 0 returned: ",
		" app0]: call 1: stream(",
		" migrator]: new.ExecuteBatch[Insert 'p0'/",
		" app0]: CHECK FAILED: streamed-query validity: ",
		" quiet steps folded; -v prints every step) ---\n",
	} {
		if !strings.Contains(report, w) {
			t.Errorf("the shrunk report lacks %q:\n%s", w, report)
		}
	}
	checkSteps(t, sr.Shrunk, report)
	t.Logf("%d steps shown\n%s", ShownSteps(sr.Shrunk), report)
}

// syntheticRun is an iteration of the production world (leases=true)
// with events evs, failing at step last on machine app0.
func syntheticRun(evs []sched.Event, last int64, leases string) *Iteration {
	return &Iteration{
		Sched: &sched.Result{Events: evs, Steps: last + 1, Trace: &sched.Trace{Params: []sched.Param{{Key: "leases", Value: leases}}}},
		Failure: &IterationFailure{Kind: "assertion",
			Check: &CheckFailure{Check: CheckStream, Machine: "app0", Step: last, Message: "x"}},
	}
}

// TestStepListing: the lines a report prints of a known run: a run of
// quiet steps folded into one line, a lone quiet event printed as it
// is, a repetition noted, and the count of what is shown; the original
// world prints every event.
func TestStepListing(t *testing.T) {
	e := stepEvent
	evs := []sched.Event{
		e(1, 2, "app0", "call 0: batch[Insert 'p0'/'0' {}]"),
		e(2, 3, "lease-renew", "waits on Select"),
		e(3, 4, "lease-poll", "waits on Select"),
		e(3, -1, "", "clock jumps to +1s"),
		e(4, 5, "config-push-app0", "exit"),
		e(4, 1, "migrator", `spawn machine 6 "config-push-app0"`),
		e(5, 2, "app0", `call 0 returned: ok ["old:1"]`),
		e(6, 4, "lease-poll", "waits on Select"),
		e(7, 1, "migrator", "push PREFER_OLD: start"),
	}
	for s := int64(8); s <= 13; s++ {
		evs = append(evs, e(s, 1, "migrator", "old.QueryAtomic(a eq 1) -> error 503 busy"))
	}
	evs = append(evs, e(14, 4, "lease-poll", "waits on Select"), e(15, 3, "lease-renew", "waits on Select"),
		e(16, 2, "app0", "CHECK FAILED: x"), e(17, 4, "lease-poll", "waits on Select"))
	want := `step 1 [2 app0]: call 0: batch[Insert 'p0'/'0' {}]
(steps 2-4: 3 quiet steps of lease-renew, lease-poll, config-push-app0, migrator: waits, spawns, exits; clock +1s)
step 5 [2 app0]: call 0 returned: ok ["old:1"]
step 6 [4 lease-poll]: waits on Select
step 7 [1 migrator]: push PREFER_OLD: start
step 8 [1 migrator]: old.QueryAtomic(a eq 1) -> error 503 busy
(the step above repeats 5 more times, to step 13)
(steps 14-15: 2 quiet steps of lease-poll, lease-renew: waits)
step 16 [2 app0]: CHECK FAILED: x
`
	it := syntheticRun(evs, 16, "true")
	l := listSteps(it)
	var b bytes.Buffer
	writeStepLines(&b, l.tail)
	if got := b.String(); got != want {
		t.Errorf("production world: got\n%s\nwant\n%s", got, want)
	}
	if l.shown != 8 || l.folded != 5 || ShownSteps(it) != 8 {
		t.Errorf("production world: shown %d (ShownSteps %d), folded %d; want 8, 5", l.shown, ShownSteps(it), l.folded)
	}
	b.Reset()
	writeFailure(&b, it)
	if w := "\n--- every step (8 shown, 5 quiet steps folded; -v prints every step) ---\n(up to step 16, where the check failed)\n" + want + "(the run went on to step 17; -v prints every step)\n"; !strings.HasSuffix(b.String(), w) {
		t.Errorf("production world report: got\n%s\nwant it to end with\n%s", b.String(), w)
	}

	it = syntheticRun(evs, 16, "false")
	b.Reset()
	writeFailure(&b, it)
	if w := "\n--- every step (11 of the 16 up to the check did something) ---\n"; !strings.Contains(b.String(), w) || strings.Contains(b.String(), "quiet") {
		t.Errorf("original world report: got\n%s\nwant %q and no fold line", b.String(), w)
	}
	if got := ShownSteps(it); got != 11 {
		t.Errorf("original world: ShownSteps got %d, want 11", got)
	}
}

// TestStepListingTail: a long production-world run shows its last
// TailSteps lines, folds applied, and says how many of how many.
func TestStepListingTail(t *testing.T) {
	var evs []sched.Event
	s := int64(0)
	for i := 0; i < 50; i++ {
		s++
		evs = append(evs, sched.Event{Step: s, Machine: 2, Name: "app0", Text: fmt.Sprintf("call %d: retrieve('p0', '0')", i)})
		for k := 0; k < 2; k++ {
			s++
			evs = append(evs, sched.Event{Step: s, Machine: 3, Name: "lease-renew", Text: "waits on Select"})
		}
	}
	s++
	evs = append(evs, sched.Event{Step: s, Machine: 2, Name: "app0", Text: "CHECK FAILED: x"})
	it := syntheticRun(evs, s, "true")
	if got, want := ShownSteps(it), 101; got != want {
		t.Errorf("ShownSteps got %d, want %d", got, want)
	}
	var b bytes.Buffer
	writeFailure(&b, it)
	report := b.String()
	// The failing machine's last steps are never folded, its quiet
	// events included: here the guard holds no quiet event of app0, so
	// the last 30 lines are 15 folds, 14 calls and the check.
	if w := "\n--- last 30 of 101 shown (30 quiet steps folded; -v prints every step) ---\n(up to step 151, where the check failed)\n(steps 107-108: 2 quiet steps of lease-renew: waits)\nstep 109 [2 app0]: call 36: "; !strings.Contains(report, w) {
		t.Errorf("got\n%s\nwant it to hold\n%s", report, w)
	}
	if n := strings.Count(report, "\n(steps "); n != 15 {
		t.Errorf("%d fold lines, want 15:\n%s", n, report)
	}
}

// TestPushSummary: a push with nothing shown between its start and its
// done is one line saying what it found, stored and waited for, the
// quiet steps it folds and its outcome; a push with another machine's
// shown event inside, or done at the step it started, is not
// summarised.
func TestPushSummary(t *testing.T) {
	e := stepEvent
	const leasesAB = "rows ['mtable-config'/'lease-app0.1' etag=\"cfg:3\" {acked=-1L beat=1L client='app0'}; 'mtable-config'/'lease-migrator.2' etag=\"cfg:4\" {acked=0L beat=1L client='migrator'}]"
	const leasesAB1 = "rows ['mtable-config'/'lease-app0.1' etag=\"cfg:7\" {acked=1L beat=2L client='app0'}; 'mtable-config'/'lease-migrator.2' etag=\"cfg:8\" {acked=1L beat=2L client='migrator'}]"
	const leasesB2 = "rows ['mtable-config'/'lease-migrator.2' etag=\"cfg:10\" {acked=2L beat=3L client='migrator'}]"
	evs := []sched.Event{
		e(1, 2, "app0", "call 0: retrieve('p0', '0')"),
		e(2, 1, "migrator", "push PREFER_OLD: start"),
		e(3, 1, "migrator", stateQuery+"rows ['mtable-config'/'state' etag=\"cfg:2\" {state=0 version=0L}]"),
		e(4, 1, "migrator", leaseQuery+leasesAB),
		e(5, 1, "migrator", "configuration: PREFER_OLD stored"),
		e(6, 3, "lease-renew", "waits on Select"),
		e(7, 4, "lease-renew", "waits on Select"),
		e(7, -1, "", "clock jumps to +1s"),
		e(8, 1, "migrator", leaseQuery+leasesAB1),
		e(8, 1, "migrator", "push PREFER_OLD: done (err=<nil>)"),
		// Another machine's line in the middle: it stays, the push's
		// own lines are summarised at its done, and the lease that went
		// while it waited is named.
		e(8, 1, "migrator", "push PREFER_NEW: start"),
		e(9, 1, "migrator", stateQuery+"rows ['mtable-config'/'state' etag=\"cfg:9\" {state=1 version=1L}]"),
		e(10, 2, "app0", "call 0 returned: ok []"),
		e(11, 1, "migrator", leaseQuery+leasesAB1),
		e(12, 3, "lease-renew", "waits on Select"),
		e(12, -1, "", "clock jumps to +2s"),
		e(13, 1, "migrator", leaseQuery+leasesB2),
		e(13, 1, "migrator", "push PREFER_NEW: done (err=<nil>)"),
		e(14, 1, "migrator", "push USE_NEW_WITH_TOMBSTONES: start"),
		e(14, 1, "migrator", "push USE_NEW_WITH_TOMBSTONES: done (err=fenced)"),
		e(15, 2, "app0", "CHECK FAILED: x"),
	}
	want := `step 1 [2 app0]: call 0: retrieve('p0', '0')
step 8 [1 migrator]: push PREFER_OLD, steps 2-8: found USE_OLD_HIDE_METADATA (version 0); stored at step 5; leases at step 8: app0 acked 1, migrator acked 1; 3 quiet steps of migrator, lease-renew folded; clock +1s; done (err=<nil>)
step 10 [2 app0]: call 0 returned: ok []
(steps 11-12: 2 quiet steps of migrator, lease-renew: waits, configuration reads that found nothing new; clock +2s)
step 13 [1 migrator]: push PREFER_NEW, steps 8-13: found PREFER_OLD (version 1) at step 9; leases at step 11: app0 acked 1, migrator acked 1; at step 13: migrator acked 2; done (err=<nil>)
step 14 [1 migrator]: push USE_NEW_WITH_TOMBSTONES: start
step 14 [1 migrator]: push USE_NEW_WITH_TOMBSTONES: done (err=fenced)
step 15 [2 app0]: CHECK FAILED: x
`
	it := syntheticRun(evs, 15, "true")
	it.Sched.Trace.Machines = []sched.TraceMachine{{Process: "root", Name: "main"}, {Process: "migrator", Name: "migrator"},
		{Process: "app0", Name: "app0"}, {Process: "app0", Name: "lease-renew"}, {Process: "migrator", Name: "lease-renew"}}
	l := listSteps(it)
	var b bytes.Buffer
	writeStepLines(&b, l.tail)
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if l.shown != 7 || l.folded != 5 {
		t.Errorf("shown %d, folded %d; want 7, 5", l.shown, l.folded)
	}
	// The original world summarises nothing.
	it.Sched.Trace.Params = []sched.Param{{Key: "leases", Value: "false"}}
	b.Reset()
	writeStepLines(&b, listSteps(it).tail)
	if strings.Contains(b.String(), "steps 2-8") {
		t.Errorf("the original world summarised a push:\n%s", b.String())
	}
}

// TestDescribeConfig: the state and the leases as a push summary says
// them, and the raw result where it cannot.
func TestDescribeConfig(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{describeState("rows []"), "no state"},
		{describeState("rows ['mtable-config'/'state' etag=\"cfg:2\" {newTable='new' state=2 version=5L}]"), "PREFER_NEW (version 5)"},
		{describeState("rows [garbled]"), "rows [garbled]"},
		{describeLeases("rows []"), "none"},
		{describeLeases("rows ['mtable-config'/'lease-a' etag=\"x\" {acked=-1L beat=0L client='it''s'}]"), "it's acked nothing"},
		{describeLeases("rows ['mtable-config'/'lease-a' etag=\"x\" {beat=0L client='a'}]"), "rows ['mtable-config'/'lease-a' etag=\"x\" {beat=0L client='a'}]"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestJoinEmptyStreamOverQuietSteps: in the production world an empty
// stream's opening joins its end over quiet steps between, which stay
// folded before the joined line; a shown step between keeps them apart.
func TestJoinEmptyStreamOverQuietSteps(t *testing.T) {
	e := stepEvent
	evs := []sched.Event{
		e(1, 1, "migrator", "old.QueryStreamed()"),
		e(2, 3, "lease-renew", "waits on Select"),
		e(3, 4, "lease-poll", "waits on Select"),
		e(4, 1, "migrator", "old.stream.Next -> end"),
		e(5, 1, "migrator", "new.QueryStreamed()"),
		e(6, 2, "app0", "call 0: retrieve('p0', '0')"),
		e(7, 1, "migrator", "new.stream.Next -> end"),
		e(8, 2, "app0", "CHECK FAILED: x"),
	}
	want := `(steps 2-3: 2 quiet steps of lease-renew, lease-poll: waits)
step 4 [1 migrator]: old.QueryStreamed() -> end, no rows (opened at step 1)
step 5 [1 migrator]: new.QueryStreamed()
step 6 [2 app0]: call 0: retrieve('p0', '0')
step 7 [1 migrator]: new.stream.Next -> end
step 8 [2 app0]: CHECK FAILED: x
`
	var b bytes.Buffer
	writeStepLines(&b, listSteps(syntheticRun(evs, 8, "true")).tail)
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestRepeatNote: the note of a repetition names the period and the
// repetitions, in the singular or the plural.
func TestRepeatNote(t *testing.T) {
	var evs []sched.Event
	for s := int64(1); s <= 6; s++ {
		evs = append(evs, sched.Event{Step: s, Machine: 1, Name: "app0", Text: fmt.Sprintf("try %d", s%2)})
	}
	for s := int64(7); s <= 9; s++ {
		evs = append(evs, sched.Event{Step: s, Machine: 1, Name: "app0", Text: "again"})
	}
	var b bytes.Buffer
	writeStepLines(&b, stepLines(evs, 0, 9, nil))
	want := `step 1 [1 app0]: try 1
step 2 [1 app0]: try 0
(the 2 steps above repeat 2 more times, to step 6)
step 7 [1 app0]: again
(the step above repeats 2 more times, to step 9)
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestRepeatNoteOverQuietSteps: a retry loop whose backoff lets quiet
// steps of other machines in between is folded all the same; the note
// counts the quiet steps it folds with the repetitions, and the header's
// count of folded steps includes them.
func TestRepeatNoteOverQuietSteps(t *testing.T) {
	var evs []sched.Event
	var kinds []quietKind
	add := func(e sched.Event, k quietKind) {
		evs, kinds = append(evs, e), append(kinds, k)
	}
	for s := int64(10); s <= 40; s += 10 {
		add(sched.Event{Step: s, Machine: 2, Name: "migrator", Text: "backend fault: read-fails request of migrator on the config table"}, loud)
		add(sched.Event{Step: s, Machine: -1, Name: "sched", Text: fmt.Sprintf("clock jumps to +%ds", s)}, quietWait)
		if s < 40 {
			// Between the retries, two quiet steps of another machine.
			add(sched.Event{Step: s + 2, Machine: 5, Name: "lease-renew", Text: "waits on Select"}, quietWait)
			add(sched.Event{Step: s + 4, Machine: 5, Name: "lease-renew", Text: "waits on Select"}, quietWait)
		}
	}
	add(sched.Event{Step: 50, Machine: 2, Name: "migrator", Text: "gave up"}, loud)
	ps := stepLines(evs, 0, 50, kinds)
	var b bytes.Buffer
	writeStepLines(&b, ps)
	want := `step 10 [2 migrator]: backend fault: read-fails request of migrator on the config table
step 10 [sched]: clock jumps to +10s
(the step above repeats 3 more times, to step 40, 6 quiet steps folded; clock +40s)
step 50 [2 migrator]: gave up
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if n := countFolded(ps); n != 6 {
		t.Errorf("%d quiet steps counted folded, want 6", n)
	}
	if n := countShown(ps); n != 2 {
		t.Errorf("%d steps counted shown, want 2", n)
	}
}
