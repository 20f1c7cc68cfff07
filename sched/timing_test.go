package sched_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// The classic timing and crash bugs of distributed code, each with a
// correct variant, in worlds with virtual time and faults.

// leaseStore is durable state kept by the root process: a lease (holder,
// expiry on the root clock, fencing token) and the writes it accepted.
// Every operation is one Durable step.
type leaseStore struct {
	holder  string
	expiry  time.Time
	token   int
	fencing bool // the correct variant: reject writes with a stale token
	// lastToken is the highest token a write carried (fencing).
	lastToken int
	// the oracle: no write is accepted from a holder whose lease has
	// been superseded (a newer token was issued)
	violation string
}

const leaseTerm = 10 * time.Second

// acquire takes the lease if it is free or expired and returns its
// token and expiry, or 0.
func (s *leaseStore) acquire(who string) (int, time.Time) {
	tok, exp := 0, time.Time{}
	sched.Durable(s, func() {
		now := sched.Now()
		if s.holder == "" || !now.Before(s.expiry) {
			s.token++
			s.holder, s.expiry = who, now.Add(leaseTerm)
			tok, exp = s.token, s.expiry
		}
	})
	return tok, exp
}

func (s *leaseStore) release(who string, token int) {
	sched.Durable(s, func() {
		if s.holder == who && s.token == token {
			s.holder = ""
		}
	})
}

func (s *leaseStore) write(who string, token int) {
	sched.Durable(s, func() {
		if s.fencing {
			if token < s.lastToken {
				return // fenced off
			}
			s.lastToken = token
		}
		if s.violation == "" && token < s.token {
			s.violation = fmt.Sprintf("%s wrote with token %d at +%v after token %d was issued to %s",
				who, token, sched.Since(sched.DefaultStart), s.token, s.holder)
		}
	})
}

// leaseProg: two client processes take turns holding a lease and write
// while they believe they hold it. A client checks its lease before each
// write, but a stall between the check and the write (a GC pause, a
// SIGSTOP) can outlast the lease: the other client takes over, and the
// stalled one writes anyway — the fencing bug. The correct store rejects
// writes whose fencing token is stale.
func leaseProg(correct bool) func() {
	return func() {
		store := &leaseStore{fencing: correct}
		var ps []*sched.Process
		for _, name := range []string{"a", "b"} {
			ps = append(ps, sched.StartProcess(name, func() {
				for range 2 {
					tok, exp := 0, time.Time{}
					for tok == 0 {
						if tok, exp = store.acquire(name); tok == 0 {
							sched.Sleep(time.Second)
						}
					}
					for range 3 {
						if sched.Now().After(exp.Add(-time.Second)) {
							break // too close to expiry: stop writing
						}
						store.write(name, tok)
						sched.Sleep(time.Second)
					}
					store.release(name, tok)
				}
			}, sched.ProcessOptions{}))
		}
		for _, p := range ps {
			p.Wait()
		}
		sched.Assertf(store.violation == "", "fencing: %s", store.violation)
	}
}

// timeoutProg: a client makes requests on a server with a timeout,
// reading the replies from one channel. A reply that comes after its
// request timed out is mistaken for the reply to the next request. The
// correct client matches the reply's request ID and drops stale replies.
// The server's latency is a choice: 50 ms, or 150 ms now and then.
func timeoutProg(correct bool) func() {
	return timeoutWorld(correct, func() {
		sched.Sleep(time.Duration(50+100*sched.Choose(2)) * time.Millisecond)
	})
}

// slowStepProg is timeoutProg with a server that computes (a few
// scheduling points, no sleep): its reply is late only if the strategy
// lets time pass during the computation (Config.MaxTimeStep).
func slowStepProg(correct bool) func() {
	return timeoutWorld(correct, func() {
		for range 3 {
			sched.Yield()
		}
	})
}

func timeoutWorld(correct bool, work func()) func() {
	type reply struct{ id, value int }
	return func() {
		req := sched.NewChan[int](0)
		resp := sched.NewChan[reply](3) // room for every reply: a late one never blocks the server
		sched.GoDaemon("server", func() {
			for {
				id := req.Recv()
				work()
				resp.Send(reply{id, id * 10})
			}
		})
		for id := 1; id <= 3; id++ {
			req.Send(id)
			timeout := sched.NewTimer(100 * time.Millisecond)
			for waiting := true; waiting; {
				sched.Select(
					resp.RecvCase(func(r reply, _ bool) {
						if correct && r.id != id {
							return // a late reply to an earlier request
						}
						waiting = false
						sched.Assertf(r.value == id*10, "request %d got the reply %d to request %d", id, r.value, r.id)
					}),
					timeout.C.RecvCase(func(time.Time, bool) { waiting = false }),
				)
			}
			timeout.Stop()
		}
	}
}

// realSleepProg: a retry loop that sleeps on the real clock (code not
// ported to sched's Sleep). The scheduler cannot move that clock: the
// watchdog reports uncontrolled blocking instead of letting the run
// hang. The correct variant sleeps with sched.Sleep.
func realSleepProg(correct bool) func() {
	return func() {
		ready := false
		sched.GoNamed("service", func() {
			sched.Sleep(3 * time.Second)
			ready = true
		})
		for attempt := 0; !ready; attempt++ {
			sched.Assertf(attempt < 10, "service not ready after 10 attempts")
			if correct {
				sched.Sleep(time.Second)
			} else {
				time.Sleep(300 * time.Millisecond)
			}
		}
	}
}

// lostWakeupProg: a worker waits in a select for a notification or its
// heartbeat timer; the notifier sends without blocking (dropping the
// notification when nobody is receiving). If the notification comes
// while the worker is busy with a heartbeat, it is lost and the job is
// never done. The correct variant keeps one pending notification in a
// buffer of one.
func lostWakeupProg(correct bool) func() {
	return func() {
		capacity := 0
		if correct {
			capacity = 1
		}
		notify := sched.NewChan[struct{}](capacity)
		pending, done := false, sched.NewChan[bool](1)
		sched.GoDaemon("worker", func() {
			tick := sched.NewTicker(time.Second)
			for {
				sched.Select(
					notify.RecvCase(func(struct{}, bool) {
						if pending {
							pending = false
							done.Send(true)
						}
					}),
					tick.C.RecvCase(func(time.Time, bool) {
						sched.Sleep(100 * time.Millisecond) // heartbeat
					}),
				)
			}
		})
		sched.Sleep(time.Duration(sched.Choose(3)) * 500 * time.Millisecond)
		pending = true
		sched.Select(notify.SendCase(struct{}{}, nil), sched.Default(nil))
		got := false
		sched.Select(done.RecvCase(func(bool, bool) { got = true }), sched.After(time.Minute).RecvCase(nil))
		sched.Assertf(got, "lost wake-up: the job was not done within a minute")
	}
}

// twoStepProg: a mover process moves items from queue X to queue Y in
// two durable steps (remove from X, append to Y). A crash between the
// steps loses the item; the restarted mover cannot know. The correct
// mover records its intent durably first and, on restart, completes an
// interrupted move.
func twoStepProg(correct bool) func() {
	return func() {
		x, y := []int{1, 2, 3}, []int(nil)
		intent := 0 // the item being moved, 0 if none (durable)
		p := sched.StartProcess("mover", func() {
			if correct && sched.CurrentProcess().Restarts() > 0 {
				sched.Durable(&x, func() {
					if intent != 0 {
						if !slices.Contains(y, intent) {
							y = append(y, intent)
						}
						x = slices.DeleteFunc(x, func(v int) bool { return v == intent })
						intent = 0
					}
				})
			}
			for {
				var item int
				sched.Durable(&x, func() {
					if len(x) > 0 {
						item = x[0]
						if correct {
							intent = item
						} else {
							x = x[1:]
						}
					}
				})
				if item == 0 {
					return
				}
				if correct {
					sched.Durable(&x, func() { x = x[1:] })
				}
				sched.Durable(&x, func() {
					y = append(y, item)
					if correct {
						intent = 0
					}
				})
			}
		}, sched.ProcessOptions{Restart: true})
		p.Wait()
		all := append(append([]int(nil), x...), y...)
		slices.Sort(all)
		sched.Assertf(slices.Equal(all, []int{1, 2, 3}), "items after the moves: x %v y %v (lost or doubled)", x, y)
	}
}

type timingBug struct {
	name  string
	prog  func(correct bool) func()
	cfg   sched.Config // the world: faults, time decisions, watchdog
	kinds []sched.Kind
	dfs   bool // dfs can find it (no fault or time-advance decision needed)
	iters int  // budget
}

var timingBugs = []timingBug{
	{"lease fencing", leaseProg, sched.Config{Faults: 1, NoCrash: true, MaxStall: 20 * time.Second, ExpectedSteps: 60}, []sched.Kind{sched.Assertion}, false, 1000},
	{"late reply", timeoutProg, sched.Config{ExpectedSteps: 40}, []sched.Kind{sched.Assertion}, true, 1000},
	{"late reply, slow step", slowStepProg, sched.Config{MaxTimeStep: 200 * time.Millisecond, ExpectedSteps: 40}, []sched.Kind{sched.Assertion}, false, 1000},
	{"real-clock retry", realSleepProg, sched.Config{Watchdog: 50 * time.Millisecond, ExpectedSteps: 20}, []sched.Kind{sched.UncontrolledBlocking}, true, 3},
	{"lost wake-up", lostWakeupProg, sched.Config{ExpectedSteps: 40}, []sched.Kind{sched.Assertion}, true, 1000},
	{"two-step write", twoStepProg, sched.Config{Faults: 1, ExpectedSteps: 30}, []sched.Kind{sched.Assertion}, false, 1000},
}

// TestTimingBugs runs each buggy program under every strategy with a
// stated budget of iterations (from base seed 2026), prints the first
// failing iteration and the failures per 1,000, and requires each
// strategy to find the bug; the correct variants must pass every
// iteration.
func TestTimingBugs(t *testing.T) {
	strategies := []string{"random", "pct", "pos", "dfs"}
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-22s %6s  %-17s %-17s %-17s %-17s\n", "bug", "budget", "random", "pct", "pos", "dfs")
	for _, bc := range timingBugs {
		iters := bc.iters
		if testing.Short() {
			iters = min(iters, 300)
		}
		fmt.Fprintf(&table, "%-22s %6d ", bc.name, iters)
		for _, strategy := range strategies {
			if strategy == "dfs" && !bc.dfs {
				fmt.Fprintf(&table, " %-17s", "n/a")
				continue
			}
			cfg := bc.cfg
			cfg.Strategy, cfg.Seed, cfg.NoEvents = strategy, 2026, true
			ex, err := sched.NewExplorer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			first, found := -1, 0
			for i := 0; i < iters && !ex.Exhausted(); i++ {
				res, err := ex.Next(bc.prog(false))
				if err != nil {
					t.Fatal(err)
				}
				if f := res.Failure; f != nil {
					if !slices.Contains(bc.kinds, f.Kind) {
						t.Errorf("%s/%s iteration %d: unexpected failure %v", bc.name, strategy, i, f)
					}
					if first < 0 {
						first = i
					}
					found++
				}
			}
			per1000 := found * 1000 / ex.Iteration()
			cell := fmt.Sprintf("%d (%d/1000)", first, per1000)
			if strategy == "dfs" {
				cell = fmt.Sprintf("%d (%d/%d)", first, found, ex.Schedules())
			}
			fmt.Fprintf(&table, " %-17s", cell)
			if found == 0 {
				t.Errorf("%s: strategy %s did not find the bug in %d iterations", bc.name, strategy, ex.Iteration())
			}
		}
		table.WriteString("\n")
	}
	table.WriteString("first failing iteration (failing iterations per 1,000); for dfs, failing/explored schedules;\n" +
		"n/a: dfs takes no fault or time-advance decision")
	t.Log(table.String())
}

func TestTimingBugsCorrectVariants(t *testing.T) {
	iters := 300
	if testing.Short() {
		iters = 100
	}
	for _, bc := range timingBugs {
		for _, strategy := range []string{"random", "pct", "pos", "dfs"} {
			if strategy == "dfs" && !bc.dfs {
				continue
			}
			t.Run(bc.name+"/"+strategy, func(t *testing.T) {
				cfg := bc.cfg
				cfg.Strategy, cfg.Seed, cfg.NoEvents = strategy, 2026, true
				ex, err := sched.NewExplorer(cfg)
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < min(iters, bc.iters*100); i++ {
					res, err := ex.Next(bc.prog(true))
					if errors.Is(err, sched.ErrExhausted) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if res.Failure != nil {
						t.Fatalf("iteration %d: %v", i, res.Failure)
					}
				}
			})
		}
	}
}

// TestSlowStepNeedsTimeAdvance: without MaxTimeStep the clock moves only
// when every machine waits, so a computing server always answers in time
// and the slow-step variant of the late-reply bug cannot happen.
func TestSlowStepNeedsTimeAdvance(t *testing.T) {
	for _, strategy := range []string{"random", "pct", "pos"} {
		ex, err := sched.NewExplorer(sched.Config{Strategy: strategy, Seed: 2026, ExpectedSteps: 40, NoEvents: true})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 200; i++ {
			res, err := ex.Next(slowStepProg(false))
			if err != nil {
				t.Fatal(err)
			}
			if res.Failure != nil {
				t.Fatalf("%s iteration %d: %v", strategy, i, res.Failure)
			}
		}
	}
}
