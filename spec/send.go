package spec

import (
	"context"
	"time"
)

// This file holds the two small contracts between a layer that decides
// whether a request may still be sent (a lease's fence, in package
// mtable/leaseconfig) and a Table implementation that sends requests
// over a network (the Azure adapter): neither imports the other.

type sendCheckKey struct{}

// sendCheck is one link of the chain of checks a context carries.
type sendCheck struct {
	check  func() error
	parent *sendCheck
}

// WithSendCheck returns a copy of ctx that carries check, a condition
// for sending any request made with the returned context: a Table that
// sends requests over a network calls CheckSend with the request's
// context as late as it can before the request leaves (when it is
// handed to the connection, and again before each part of its body is
// written), and when CheckSend fails, it fails the request without
// sending it (or without finishing sending it, so that the service
// cannot apply it), with an error that wraps the check's error and
// ErrNotApplied.
//
// A Table that sends nothing (MemTable, or a wrapper that calls another
// Table) need not call CheckSend: whoever installed the check has
// checked the same condition just before calling it. A Table that
// stands for a network under the deterministic scheduler (package
// sched), where a process may be stalled at any scheduling point, calls
// CheckSend after its last scheduling point before the request takes
// effect. The check must be
// quick and must not block; it may be called from a goroutine of the
// transport, concurrently with other checks. Checks nest: a context
// derived from one that carries a check carries both.
func WithSendCheck(ctx context.Context, check func() error) context.Context {
	parent, _ := ctx.Value(sendCheckKey{}).(*sendCheck)
	return context.WithValue(ctx, sendCheckKey{}, &sendCheck{check: check, parent: parent})
}

// CheckSend runs the checks ctx carries (see WithSendCheck), the most
// recently added first, and returns the first error, or nil when every
// check passes or there is none.
func CheckSend(ctx context.Context) error {
	c, _ := ctx.Value(sendCheckKey{}).(*sendCheck)
	for ; c != nil; c = c.parent {
		if err := c.check(); err != nil {
			return err
		}
	}
	return nil
}

// RequestTimeouter is implemented by a Table whose every request has a
// client-side timeout (and, for a network service, asks the service for
// the same server-side timeout), so that a layer that must bound how
// long a request may take effect after it is sent (a lease's fence) can
// refuse a table that waits longer than it assumes. RequestTimeout
// returns that timeout.
type RequestTimeouter interface {
	RequestTimeout() time.Duration
}
