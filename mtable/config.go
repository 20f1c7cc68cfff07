package mtable

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/migratingtable/migratingtable/sched"
)

// MemConfig is an in-memory ConfigService for processes that share
// memory (tests, the verification harness, single-process deployments).
// It waits only on sched primitives, so it runs unchanged under the
// deterministic scheduler.
//
// Push delivers the new state to each subscriber in its own machine
// (sched.Go), so deliveries interleave with each other and with the
// subscribers' own work, and waits (a controlled wait) until each
// subscriber present when the push began has acknowledged or
// unsubscribed. Pushes are serialised.
type MemConfig struct {
	mu     sched.Mutex
	cond   *sched.Cond
	pushMu sched.Mutex
	state  State
	nextID uint64
	subs   []*memSub // in subscription order
}

type memSub struct {
	id     uint64
	sub    Subscriber // nil: never acknowledges
	active bool
}

var _ ConfigService = (*MemConfig)(nil)

// NewMemConfig returns a configuration service whose current state is
// initial.
func NewMemConfig(initial State) *MemConfig {
	c := &MemConfig{state: initial}
	c.cond = sched.NewCond(&c.mu)
	return c
}

// Current returns the current state (the last pushed, or the initial).
func (c *MemConfig) Current(ctx context.Context) State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Subscribe implements ConfigService. The returned cancel locks with a
// controlled lock, so under the scheduler it must be called from a
// machine of the run.
func (c *MemConfig) Subscribe(ctx context.Context, sub Subscriber) (State, func(), error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	s := &memSub{id: c.nextID, sub: sub, active: true}
	c.subs = append(c.subs, s)
	cancel := func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !s.active {
			return
		}
		s.active = false
		for i, x := range c.subs {
			if x == s {
				c.subs = append(c.subs[:i:i], c.subs[i+1:]...)
				break
			}
		}
		c.cond.Broadcast()
	}
	return c.state, cancel, nil
}

// Push implements ConfigService. A state before the current one is
// refused (the protocol only moves forward); pushing the current state
// again is allowed and waits like any push. Errors returned by
// subscribers' Apply are joined into Push's error after every subscriber
// has answered; the state is pushed regardless.
func (c *MemConfig) Push(ctx context.Context, s State) error {
	if s > UseNewHideMetadata {
		return fmt.Errorf("mtable: push of invalid state %d: want 0..%d", s, UseNewHideMetadata)
	}
	c.pushMu.Lock()
	defer c.pushMu.Unlock()

	c.mu.Lock()
	if s < c.state {
		cur := c.state
		c.mu.Unlock()
		return fmt.Errorf("mtable: push of %s refused: the current state %s is later, and states only advance", s, cur)
	}
	c.state = s
	waiting := append([]*memSub(nil), c.subs...)
	c.mu.Unlock()

	errs := make([]error, len(waiting))
	pending := make([]bool, len(waiting))
	for i, w := range waiting {
		if w.sub == nil {
			continue
		}
		pending[i] = true
		i, w := i, w
		sched.GoNamed("config-push-"+strconv.FormatUint(w.id, 10), func() {
			err := w.sub.Apply(ctx, s)
			c.mu.Lock()
			errs[i] = err
			pending[i] = false
			c.cond.Broadcast()
			c.mu.Unlock()
		})
	}

	c.mu.Lock()
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
		c.cond.Wait()
	}
	err := errors.Join(errs...)
	c.mu.Unlock()
	return err
}
