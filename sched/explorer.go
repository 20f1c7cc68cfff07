package sched

import (
	"errors"
	"fmt"
)

// ErrExhausted is returned by Explorer.Next once a "dfs" exploration
// has run every schedule (within its preemption bound).
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
//
// With "dfs" and Config.Depth D > 0 the Explorer deepens iteratively: it
// first runs every schedule with no preemption (a preemption is a switch
// away from a machine that could have gone on), then every schedule with
// at most 1, and so on up to D. Each bound's exploration starts afresh,
// so a schedule within bound b is run again under b+1; SchedulesPerBound
// counts them. It stops early when a bound's exploration never had to
// cut a schedule short (the whole space fits the bound: Complete). With
// Depth 0 it runs plain depth-first search, which is complete when
// exhausted.
type Explorer struct {
	cfg      Config
	i        int
	dfs      *dfsState
	maxBound int   // -1: no bound
	perBound []int // schedules run at each bound so far
	complete bool
	done     bool
}

// NewExplorer validates cfg and returns an Explorer at iteration 0.
func NewExplorer(cfg Config) (*Explorer, error) {
	if _, err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	e := &Explorer{cfg: cfg, maxBound: -1}
	if cfg.Strategy == "dfs" {
		if cfg.Depth > 0 {
			e.maxBound = cfg.Depth
			e.dfs = &dfsState{bound: 0}
		} else {
			e.dfs = &dfsState{bound: -1}
		}
		e.perBound = []int{0}
	}
	return e, nil
}

// Next runs the next iteration of main and returns its result. It
// returns ErrExhausted when a dfs exploration has no schedule left.
func (e *Explorer) Next(main func()) (*Result, error) {
	if main == nil {
		return nil, fmt.Errorf("%w: main is nil", ErrBadConfig)
	}
	if e.done {
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
	if d := e.dfs; d != nil {
		d.advance()
		e.perBound[len(e.perBound)-1]++
		if d.exhausted {
			switch {
			case !d.pruned:
				e.complete, e.done = true, true
			case d.bound < e.maxBound:
				e.dfs = &dfsState{bound: d.bound + 1}
				e.perBound = append(e.perBound, 0)
			default:
				e.done = true
			}
		}
	}
	return res, nil
}

// Bound returns the preemption bound of the dfs exploration in progress
// (the last one once Exhausted), or -1 without a bound.
func (e *Explorer) Bound() int {
	if e.dfs == nil {
		return -1
	}
	return e.dfs.bound
}

// SchedulesPerBound returns, for a dfs exploration, the number of
// schedules run at each preemption bound 0, 1, ... so far (one entry,
// the total, without a bound); nil for the other strategies.
func (e *Explorer) SchedulesPerBound() []int { return append([]int(nil), e.perBound...) }

// Complete reports whether a dfs exploration has run every schedule of
// the program: it is exhausted and its last bound cut no schedule short.
func (e *Explorer) Complete() bool { return e.complete }

// Iteration returns the number of iterations run so far (the index of
// the next one).
func (e *Explorer) Iteration() int { return e.i }

// Exhausted reports whether a dfs exploration has run every schedule
// within its last preemption bound (see Complete). It is always false
// for the other strategies.
func (e *Explorer) Exhausted() bool { return e.done }

// Schedules returns the number of schedules run so far: for dfs without
// a bound, once Exhausted, the size of the schedule space (within
// Config.MaxSteps); with a bound, the sum over the bounds; for the other
// strategies the number of iterations.
func (e *Explorer) Schedules() int { return e.i }
