// Package context is a drop-in replacement for the standard library's
// package context whose deadlines are package sched's virtual ones: code
// ported to sched changes its import of "context" to
// "github.com/migratingtable/migratingtable/sched/context".
//
// Controlled (virtual time under a run, the context package outside one;
// see sched's package documentation, "Virtual time"): WithTimeout,
// WithDeadline, WithTimeoutCause and WithDeadlineCause, and WithValue,
// which keeps a controlled parent's synchronous cancellation for the
// contexts derived from it (see sched.WithValue). Their contexts
// behave as standard ones; wait for one (or for any context) with
// sched.DoneCase in a sched.Select where the original receives from
// ctx.Done(): a plain receive from a Go channel blocks outside the
// scheduler's control.
//
// Everything else is the context package's own, re-exported unchanged:
// Context, CancelFunc, CancelCauseFunc, Background, TODO, WithCancel,
// WithCancelCause, WithoutCancel, Cause, Canceled and DeadlineExceeded; contexts they derive from a controlled one are
// cancelled synchronously with it. AfterFunc is not controlled: it runs
// f in a plain goroutine, which is not a machine, so f must not use the
// controlled primitives of a run.
package context

import (
	"context"
	"time"

	"github.com/migratingtable/migratingtable/sched"
)

// Controlled: virtual deadlines under a run.

// WithTimeout is sched.WithTimeout.
func WithTimeout(parent Context, timeout time.Duration) (Context, CancelFunc) {
	return sched.WithTimeout(parent, timeout)
}

// WithDeadline is sched.WithDeadline.
func WithDeadline(parent Context, d time.Time) (Context, CancelFunc) {
	return sched.WithDeadline(parent, d)
}

// WithTimeoutCause is sched.WithTimeoutCause.
func WithTimeoutCause(parent Context, timeout time.Duration, cause error) (Context, CancelFunc) {
	return sched.WithTimeoutCause(parent, timeout, cause)
}

// WithDeadlineCause is sched.WithDeadlineCause.
func WithDeadlineCause(parent Context, d time.Time, cause error) (Context, CancelFunc) {
	return sched.WithDeadlineCause(parent, d, cause)
}

// WithValue is sched.WithValue: context.WithValue, and contexts derived
// from the result are cancelled synchronously with a controlled parent.
func WithValue(parent Context, key, val any) Context { return sched.WithValue(parent, key, val) }

// Not controlled: the context package's own.

type (
	Context         = context.Context
	CancelFunc      = context.CancelFunc
	CancelCauseFunc = context.CancelCauseFunc
)

var (
	// Canceled is context.Canceled.
	Canceled = context.Canceled
	// DeadlineExceeded is context.DeadlineExceeded.
	DeadlineExceeded = context.DeadlineExceeded
)

// Background is context.Background.
func Background() Context { return context.Background() }

// TODO is context.TODO.
func TODO() Context { return context.TODO() }

// WithCancel is context.WithCancel.
func WithCancel(parent Context) (Context, CancelFunc) { return context.WithCancel(parent) }

// WithCancelCause is context.WithCancelCause.
func WithCancelCause(parent Context) (Context, CancelCauseFunc) {
	return context.WithCancelCause(parent)
}

// WithoutCancel is context.WithoutCancel.
func WithoutCancel(parent Context) Context { return context.WithoutCancel(parent) }

// Cause is context.Cause.
func Cause(c Context) error { return context.Cause(c) }

// AfterFunc is context.AfterFunc (not controlled: f runs in a plain
// goroutine).
func AfterFunc(ctx Context, f func()) (stop func() bool) { return context.AfterFunc(ctx, f) }
