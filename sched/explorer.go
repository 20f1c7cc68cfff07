package sched

import (
	"errors"
	"fmt"
)

// ErrExhausted is returned by Explorer.Next once a "dfs" exploration
// has run every schedule.
var ErrExhausted = errors.New("sched: dfs exhausted: every schedule has been run")

// Explorer runs a program over many iterations, one schedule each.
//
// Iteration i runs with Seed IterationSeed(cfg.Seed, i) and Iteration i,
// so its schedule depends only on cfg, i and the program, never on how
// iterations are spread over workers: a worker may equally call Run
// itself with that seed. With "portfolio", iteration i uses the
// strategy PortfolioStrategy(i). With "dfs" the Explorer carries the
// search state from one iteration to the next: each iteration runs a
// schedule not run before, Exhausted reports when there is none left, and
// Schedules how many there were. A dfs exploration is sequential (one
// Explorer, one goroutine at a time).
type Explorer struct {
	cfg Config
	i   int
	dfs *dfsState
}

// NewExplorer validates cfg and returns an Explorer at iteration 0.
func NewExplorer(cfg Config) (*Explorer, error) {
	if _, err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	e := &Explorer{cfg: cfg}
	if cfg.Strategy == "dfs" {
		e.dfs = &dfsState{}
	}
	return e, nil
}

// Next runs the next iteration of main and returns its result. It
// returns ErrExhausted when a dfs exploration has no schedule left.
func (e *Explorer) Next(main func()) (*Result, error) {
	if main == nil {
		return nil, fmt.Errorf("%w: main is nil", ErrBadConfig)
	}
	if e.dfs != nil && e.dfs.exhausted {
		return nil, ErrExhausted
	}
	cfg := e.cfg
	cfg.Iteration = e.i
	if cfg.Strategy != "replay" {
		cfg.Seed = IterationSeed(e.cfg.Seed, e.i)
	}
	cfg.dfs = e.dfs
	res, err := Run(cfg, main)
	if err != nil {
		return nil, err
	}
	e.i++
	if e.dfs != nil {
		e.dfs.advance()
	}
	return res, nil
}

// Iteration returns the number of iterations run so far (the index of
// the next one).
func (e *Explorer) Iteration() int { return e.i }

// Exhausted reports whether a dfs exploration has run every schedule. It
// is always false for the other strategies.
func (e *Explorer) Exhausted() bool { return e.dfs != nil && e.dfs.exhausted }

// Schedules returns the number of distinct schedules run so far: for
// dfs, once Exhausted, the size of the schedule space (within
// Config.MaxSteps); for the other strategies the number of iterations.
func (e *Explorer) Schedules() int {
	if e.dfs != nil {
		return e.dfs.schedules
	}
	return e.i
}
