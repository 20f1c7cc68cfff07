package sched_test

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// TestChanSemantics: buffered and unbuffered channels deliver every value
// in order, close ends the receivers' loops, and Len and Cap report the
// buffer, under every strategy and many schedules.
func TestChanSemantics(t *testing.T) {
	for _, capacity := range []int{0, 1, 3} {
		for _, strategy := range []string{"random", "pct", "pos"} {
			t.Run(fmt.Sprintf("cap%d/%s", capacity, strategy), func(t *testing.T) {
				for seed := uint64(0); seed < 100; seed++ {
					res := mustRun(t, sched.Config{Strategy: strategy, Seed: seed}, func() {
						ch := sched.NewChan[int](capacity)
						sched.Assertf(ch.Cap() == capacity, "Cap: got %d, want %d", ch.Cap(), capacity)
						var got []int
						done := sched.NewChan[struct{}](0)
						sched.GoNamed("consumer", func() {
							for {
								v, ok := ch.RecvOK()
								if !ok {
									break
								}
								got = append(got, v)
							}
							done.Close()
						})
						for i := range 5 {
							ch.Send(i)
							sched.Assertf(ch.Len() <= capacity, "Len %d above Cap %d", ch.Len(), capacity)
						}
						ch.Close()
						_, ok := done.RecvOK()
						sched.Assertf(!ok, "receive from a closed channel: ok true")
						sched.Assertf(fmt.Sprint(got) == "[0 1 2 3 4]", "received %v, want [0 1 2 3 4]", got)
					})
					if res.Failure != nil {
						t.Fatalf("seed %d: %v", seed, res.Failure)
					}
				}
			})
		}
	}
}

// TestChanUnbufferedHandoff: an unbuffered send completes only when a
// receiver takes the value; a buffered one does not wait.
func TestChanUnbufferedHandoff(t *testing.T) {
	for _, tt := range []struct {
		capacity int
		want     string
	}{{0, "recv send"}, {1, "send recv"}} {
		for seed := uint64(0); seed < 50; seed++ {
			var log []string
			res := mustRun(t, sched.Config{Seed: seed}, func() {
				ch := sched.NewChan[int](tt.capacity)
				sched.GoNamed("receiver", func() {
					sched.Sleep(time.Second) // the sender goes first
					log = append(log, "recv")
					ch.Recv()
				})
				ch.Send(1)
				log = append(log, "send")
				sched.Sleep(2 * time.Second)
			})
			if res.Failure != nil {
				t.Fatalf("cap %d seed %d: %v", tt.capacity, seed, res.Failure)
			}
			if got := strings.Join(log, " "); got != tt.want {
				t.Fatalf("cap %d seed %d: order %q, want %q", tt.capacity, seed, got, tt.want)
			}
		}
	}
}

func TestChanMisuseTexts(t *testing.T) {
	tests := []struct {
		name string
		prog func()
		want string
	}{
		{"send on closed", func() {
			ch := sched.NewChan[int](1)
			ch.Close()
			ch.Send(1) // @send-closed
		}, `panic in machine 0 "main" at step 3: sched: send on closed channel (chan_test.go:@send-closed)`},
		{"close of closed", func() {
			ch := sched.NewChan[int](0)
			ch.Name = "jobs"
			ch.Close()
			ch.Close()
		}, `panic in machine 0 "main" at step 3: sched: close of closed channel "jobs"`},
		{"blocked sender when closed", func() {
			ch := sched.NewChan[int](0)
			ch.Name = "jobs"
			sched.GoNamed("sender", func() { ch.Send(1) })
			sched.Sleep(time.Second)
			ch.Close()
			sched.Sleep(time.Second)
		}, `panic in machine 1 "sender" at step 7: sched: send on closed channel "jobs"`},
		{"send case on closed", func() {
			ch := sched.NewChan[int](0)
			ch.Name = "jobs"
			ch.Close()
			sched.Select(ch.SendCase(1, nil))
		}, `panic in machine 0 "main" at step 3: sched: send on closed channel "jobs"`},
		{"close of nil", func() {
			var ch *sched.Chan[int]
			ch.Close()
		}, `panic in machine 0 "main" at step 1: sched: close of nil channel`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRun(t, sched.Config{Strategy: "dfs"}, tt.prog)
			if res.Failure == nil || res.Failure.Kind != sched.Panic {
				t.Fatalf("got %v, want a panic failure", res.Failure)
			}
			if got, want := res.Failure.Error(), lines(t, tt.want); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if !strings.Contains(res.Failure.Stack, "chan_test.go") {
				t.Errorf("stack does not show the test's line:\n%s", res.Failure.Stack)
			}
		})
	}
}

// TestSelectChoosesAmongReady: with two ready cases, Select's choice is a
// recorded decision; over many seeds both are taken; dfs enumerates both.
func TestSelectChoosesAmongReady(t *testing.T) {
	prog := func(got *int) func() {
		return func() {
			a, b := sched.NewChan[int](1), sched.NewChan[int](1)
			a.Send(1)
			b.Send(2)
			*got = sched.Select(a.RecvCase(nil), b.RecvCase(nil))
		}
	}
	seen := map[int]int{}
	for seed := uint64(0); seed < 50; seed++ {
		var got int
		res := mustRun(t, sched.Config{Seed: seed}, prog(&got))
		if res.Failure != nil {
			t.Fatal(res.Failure)
		}
		seen[got]++
		var choices []string
		for _, d := range res.Trace.Decisions {
			if d.Kind == sched.Choice {
				choices = append(choices, d.String())
			}
		}
		if want := fmt.Sprintf("[c %d/2]", got); fmt.Sprint(choices) != want {
			t.Fatalf("seed %d: choices %v, want %s", seed, choices, want)
		}
	}
	if seen[0] == 0 || seen[1] == 0 {
		t.Errorf("cases taken: %v, want both", seen)
	}
	ex, _ := sched.NewExplorer(sched.Config{Strategy: "dfs"})
	var taken []int
	for !ex.Exhausted() {
		var got int
		if _, err := ex.Next(prog(&got)); err != nil {
			t.Fatal(err)
		}
		taken = append(taken, got)
	}
	if fmt.Sprint(taken) != "[0 1]" {
		t.Errorf("dfs took %v, want [0 1]", taken)
	}
}

// TestSelectWaits: a Select with no ready case waits until another
// machine sends, closes, or a timer fires; Default is taken when nothing
// is ready; the callback gets the value.
func TestSelectWaits(t *testing.T) {
	for seed := uint64(0); seed < 100; seed++ {
		var log []string
		res := mustRun(t, sched.Config{Seed: seed}, func() {
			data := sched.NewChan[string](0)
			quit := sched.NewChan[struct{}](0)
			idx := sched.Select(data.RecvCase(nil), sched.Default(func() { log = append(log, "default") }))
			sched.Assertf(idx == 1, "Select with nothing ready: got case %d, want the default 1", idx)
			sched.GoNamed("producer", func() {
				data.Send("x")
				sched.Sleep(time.Second)
				quit.Close()
			})
			for done := false; !done; {
				sched.Select(
					data.RecvCase(func(v string, ok bool) { log = append(log, "data "+v) }),
					quit.RecvCase(func(_ struct{}, ok bool) { log = append(log, fmt.Sprint("quit ", ok)); done = true }),
					sched.After(time.Hour).RecvCase(func(time.Time, bool) { log = append(log, "timeout"); done = true }),
				)
			}
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
		if got, want := strings.Join(log, ", "), "default, data x, quit false"; got != want {
			t.Fatalf("seed %d: %q, want %q", seed, got, want)
		}
	}
}

// TestSelectSendCase: a send case completes with a receiver; the other
// cases' registrations are removed (no stale wake-up later).
func TestSelectSendCase(t *testing.T) {
	for seed := uint64(0); seed < 100; seed++ {
		res := mustRun(t, sched.Config{Seed: seed}, func() {
			a, b := sched.NewChan[int](0), sched.NewChan[int](0)
			got := sched.NewChan[string](2)
			sched.GoNamed("rb", func() {
				v := b.Recv()
				got.Send(fmt.Sprint("b", v))
			})
			sched.GoNamed("ra", func() { a.Recv() })
			for range 2 {
				sched.Select(a.SendCase(1, func() { got.Send("a") }), b.SendCase(2, nil))
			}
			v1 := got.Recv()
			v2 := got.Recv()
			sched.Assertf(v1 != v2, "both selects took the same case: %s %s", v1, v2)
		})
		if res.Failure != nil {
			t.Fatalf("seed %d: %v", seed, res.Failure)
		}
	}
}

// TestNilChanAndEmptySelect: operations on a nil channel and an empty
// Select block forever: a deadlock, not a hang.
func TestNilChanAndEmptySelect(t *testing.T) {
	progs := map[string]func(){
		"recv": func() { var ch *sched.Chan[int]; ch.Recv() },  // @nil-recv
		"send": func() { var ch *sched.Chan[int]; ch.Send(1) }, // @nil-send
		"select": func() {
			var ch *sched.Chan[int]
			sched.Select(ch.RecvCase(nil)) // @nil-select
		},
		"empty select": func() { sched.Select() }, // @empty-select
	}
	want := map[string]string{
		"recv":         `deadlock at step 2: no machine enabled; machine 0 "main" waits on Chan.Recv (nil channel) (chan_test.go:@nil-recv)`,
		"send":         `deadlock at step 2: no machine enabled; machine 0 "main" waits on Chan.Send (nil channel) (chan_test.go:@nil-send)`,
		"select":       `deadlock at step 2: no machine enabled; machine 0 "main" waits on Select (chan_test.go:@nil-select)`,
		"empty select": `deadlock at step 2: no machine enabled; machine 0 "main" waits on Select (chan_test.go:@empty-select)`,
	}
	for name, prog := range progs {
		t.Run(name, func(t *testing.T) {
			res := mustRun(t, sched.Config{}, prog)
			if want := lines(t, want[name]); res.Failure == nil || res.Failure.Error() != want {
				t.Errorf("got  %v\nwant %s", res.Failure, want)
			}
		})
	}
}

// TestChanUncontrolled: outside a run a Chan is a Go channel and Select is
// reflect.Select (run with -race).
func TestChanUncontrolled(t *testing.T) {
	ch := sched.NewChan[int](0)
	quit := sched.NewChan[bool](1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 3 {
			ch.Send(i)
		}
		quit.Send(true)
	}()
	var got []int
	for done := false; !done; {
		sched.Select(
			ch.RecvCase(func(v int, _ bool) { got = append(got, v) }),
			quit.RecvCase(func(bool, bool) { done = true }),
		)
	}
	wg.Wait()
	if !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Errorf("got %v, want [0 1 2]", got)
	}
	if sched.Select(ch.RecvCase(nil), sched.Default(nil)) != 1 {
		t.Errorf("Select with nothing ready did not take Default")
	}
	tm := sched.NewTimer(time.Millisecond)
	if _, ok := tm.C.RecvOK(); !ok {
		t.Errorf("timer channel closed")
	}
	ch.Close()
	if _, ok := ch.RecvOK(); ok {
		t.Errorf("receive from closed channel: ok true")
	}
}

// TestChanSyntax: Recv, RecvOK and All stand for <-c, v, ok := <-c and
// for range c, under a run and outside one: All yields every value sent
// until the channel is closed, stops when the loop breaks, and Recv of
// a closed channel is the zero value.
func TestChanSyntax(t *testing.T) {
	prog := func() (got []int, first, zero int, ok bool) {
		ch := sched.NewChan[int](0)
		rest := sched.NewChan[int](3)
		sched.GoNamed("sender", func() {
			for i := range 5 {
				ch.Send(i)
			}
			ch.Close()
		})
		first = ch.Recv()
		for v := range ch.All() {
			got = append(got, v)
			if v == 2 {
				break
			}
		}
		for v := range ch.All() {
			got = append(got, v)
		}
		rest.Close()
		zero = ch.Recv()
		_, ok = rest.RecvOK()
		return got, first, zero, ok
	}
	check := func(t *testing.T, got []int, first, zero int, ok bool) {
		t.Helper()
		if first != 0 || fmt.Sprint(got) != "[1 2 3 4]" || zero != 0 || ok {
			t.Errorf("got first %d, ranged %v, Recv after close %d, RecvOK after close ok %v; want 0, [1 2 3 4], 0, false", first, got, zero, ok)
		}
	}
	t.Run("plain", func(t *testing.T) {
		got, first, zero, ok := prog()
		check(t, got, first, zero, ok)
	})
	t.Run("run", func(t *testing.T) {
		for seed := uint64(0); seed < 50; seed++ {
			var got []int
			var first, zero int
			var ok bool
			res := mustRun(t, sched.Config{Seed: seed}, func() { got, first, zero, ok = prog() })
			if res.Failure != nil {
				t.Fatalf("seed %d: %v", seed, res.Failure)
			}
			check(t, got, first, zero, ok)
		}
	})
}
