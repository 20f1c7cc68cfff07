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
	c.mu.Lock(ctx)
	defer c.mu.Unlock(ctx)
	return c.state
}

// Subscribe implements ConfigService. The returned cancel uses ctx for
// its (controlled) locking, so it must be called from the same machine.
func (c *MemConfig) Subscribe(ctx context.Context, sub Subscriber) (State, func(), error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	c.mu.Lock(ctx)
	defer c.mu.Unlock(ctx)
	c.nextID++
	s := &memSub{id: c.nextID, sub: sub, active: true}
	c.subs = append(c.subs, s)
	cancel := func() {
		c.mu.Lock(ctx)
		defer c.mu.Unlock(ctx)
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
		c.cond.Broadcast(ctx)
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
	c.pushMu.Lock(ctx)
	defer c.pushMu.Unlock(ctx)

	c.mu.Lock(ctx)
	if s < c.state {
		cur := c.state
		c.mu.Unlock(ctx)
		return fmt.Errorf("mtable: push of %s refused: the current state %s is later, and states only advance", s, cur)
	}
	c.state = s
	waiting := append([]*memSub(nil), c.subs...)
	c.mu.Unlock(ctx)

	errs := make([]error, len(waiting))
	pending := make([]bool, len(waiting))
	for i, w := range waiting {
		if w.sub == nil {
			continue
		}
		pending[i] = true
		i, w := i, w
		sched.Go(ctx, "config-push-"+strconv.FormatUint(w.id, 10), func(ctx context.Context) {
			err := w.sub.Apply(ctx, s)
			c.mu.Lock(ctx)
			errs[i] = err
			pending[i] = false
			c.cond.Broadcast(ctx)
			c.mu.Unlock(ctx)
		})
	}

	c.mu.Lock(ctx)
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
		c.cond.Wait(ctx)
	}
	err := errors.Join(errs...)
	c.mu.Unlock(ctx)
	return err
}
