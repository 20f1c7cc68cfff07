package mtable

import (
	"context"
	"fmt"
)

// MemConfig is an in-memory ConfigService for processes that share
// memory (tests, the verification harness, single-process deployments).
// It is Subscriptions and nothing more, so it waits only on sched
// primitives and runs unchanged under the deterministic scheduler.
//
// Push delivers the new state to each subscriber in its own machine
// (sched.GoNamed), so deliveries interleave with each other and with the
// subscribers' own work, and waits (a controlled wait) until each
// subscriber present when the push began has acknowledged or
// unsubscribed. Pushes are serialised.
type MemConfig struct {
	subs *Subscriptions
}

var _ ConfigService = (*MemConfig)(nil)

// NewMemConfig returns a configuration service whose current state is
// initial.
func NewMemConfig(initial State) *MemConfig {
	return &MemConfig{subs: NewSubscriptions(initial)}
}

// Current returns the current state (the last pushed, or the initial).
func (c *MemConfig) Current(ctx context.Context) State { return c.subs.Current() }

// Subscribe implements ConfigService. The returned cancel locks with a
// controlled lock, so under the scheduler it must be called from a
// machine of the run.
func (c *MemConfig) Subscribe(ctx context.Context, sub Subscriber) (State, func(), error) {
	return c.subs.Subscribe(ctx, sub)
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
	return c.subs.Deliver(ctx, s)
}
