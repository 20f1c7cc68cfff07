package mtable

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/migratingtable/migratingtable/sched"
)

// Subscriptions is the part of a configuration service that lives in
// one process: the subscriptions of its calls and streamed queries, the
// state they are given, and the delivery of a new state to them. It is
// written once for every configuration service: MemConfig is
// Subscriptions and nothing more; a service shared by processes
// (package mtable/leaseconfig) keeps one per process and delivers to it
// each state it learns of, then acknowledges that state for the process
// once Deliver has returned.
//
// It waits only on sched primitives, so it runs unchanged under the
// deterministic scheduler. The zero Subscriptions is not usable: make one
// with NewSubscriptions.
type Subscriptions struct {
	mu      sched.Mutex
	cond    *sched.Cond
	deliver sched.Mutex // serialises Deliver
	state   State
	nextID  uint64
	subs    []*localSub // in subscription order
}

type localSub struct {
	id     uint64
	sub    Subscriber // nil: never acknowledges
	active bool
	// by is the name of the machine that subscribed, under the
	// scheduler (sched.MachineName).
	by string
}

// NewSubscriptions returns an empty set of subscriptions whose current
// state is initial.
func NewSubscriptions(initial State) *Subscriptions {
	s := &Subscriptions{state: initial}
	s.cond = sched.NewCond(&s.mu)
	return s
}

// Current returns the current state: the last delivered, or the initial
// one.
func (s *Subscriptions) Current() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Subscribe registers sub and returns the current state, as
// ConfigService.Subscribe specifies (a nil sub never acknowledges; a
// Deliver begun after Subscribe returned waits until cancel is called).
// It fails only when ctx is done. The returned cancel locks with a
// controlled lock, so under the scheduler it must be called from a
// machine of the run.
func (s *Subscriptions) Subscribe(ctx context.Context, sub Subscriber) (State, func(), error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	ls := &localSub{id: s.nextID, sub: sub, active: true, by: sched.MachineName()}
	s.subs = append(s.subs, ls)
	cancel := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !ls.active {
			return
		}
		ls.active = false
		for i, x := range s.subs {
			if x == ls {
				s.subs = append(s.subs[:i:i], s.subs[i+1:]...)
				break
			}
		}
		s.cond.Broadcast()
	}
	return s.state, cancel, nil
}

// Deliver makes st the current state, so that Subscribe returns it from
// now on, and delivers it: each subscriber present when Deliver began
// gets Apply(ctx, st), each in a machine of its own (sched.GoNamed,
// named "config-push-" and the name of the machine that subscribed, or
// the subscription's number outside the scheduler: a name that does not
// depend on how many subscriptions came before), so deliveries
// interleave with each other and with the subscribers' own work. Deliver
// returns when every subscription present when it began has acknowledged
// (its Apply has returned) or been cancelled; a subscription with a nil
// Subscriber only by being cancelled. The errors Apply returned are
// joined into Deliver's error; the state is delivered regardless.
//
// A state before the current one is refused, and nothing is delivered:
// states only advance. Delivering the current state again delivers it
// like any other. Deliveries are serialised: a Deliver waits for the one
// in progress to return.
func (s *Subscriptions) Deliver(ctx context.Context, st State) error {
	s.deliver.Lock()
	defer s.deliver.Unlock()

	s.mu.Lock()
	if st < s.state {
		cur := s.state
		s.mu.Unlock()
		return fmt.Errorf("mtable: push of %s refused: the current state %s is later, and states only advance", st, cur)
	}
	s.state = st
	waiting := append([]*localSub(nil), s.subs...)
	s.mu.Unlock()

	errs := make([]error, len(waiting))
	pending := make([]bool, len(waiting))
	for i, w := range waiting {
		if w.sub == nil {
			continue
		}
		pending[i] = true
		name := w.by
		if name == "" {
			name = strconv.FormatUint(w.id, 10)
		}
		sched.GoNamed("config-push-"+name, func() {
			err := w.sub.Apply(ctx, st)
			s.mu.Lock()
			errs[i] = err
			pending[i] = false
			s.cond.Broadcast()
			s.mu.Unlock()
		})
	}

	s.mu.Lock()
	for {
		done := true
		for i, w := range waiting {
			if w.active && (w.sub == nil || pending[i]) {
				done = false
				break
			}
		}
		if done {
			break
		}
		s.cond.Wait()
	}
	err := errors.Join(errs...)
	s.mu.Unlock()
	return err
}
