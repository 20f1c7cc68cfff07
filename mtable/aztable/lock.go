package aztable

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// MigratorLock is the migration lock held by one ConfigService (see
// LockMigrator). It is safe for concurrent use.
type MigratorLock struct {
	c     *ConfigService
	key   spec.Key
	valid validity
	fence *fence
	ctx   context.Context
	lose  context.CancelCauseFunc

	mu   sync.Mutex
	etag spec.ETag
	beat int64

	done     chan struct{}
	finished chan struct{}
	once     sync.Once
	relErr   error
}

var _ mtable.Fencer = (*MigratorLock)(nil)

// LockMigrator takes the migration lock, the row "migrator", so that
// only one migrator runs at a time. The lock is a lease like a client's:
// renewed every PollInterval, taken over by another migrator once it has
// shown no renewal for LeaseTTL. The row names the holder's ClientID and
// instance nonce, so two processes given the same ClientID are told
// apart.
//
// When the lock is held by another instance that keeps renewing it,
// LockMigrator returns an error wrapping ErrMigratorRunning, after at
// most LeaseTTL (the time it takes to tell a live holder from a dead
// one). A lock left by an instance that died is taken over after it has
// shown no renewal for LeaseTTL.
//
// Run the migrator under the lock's Context (cancelled when the lock is
// lost or ctx is) and through its Fence (mtable.NewMigrator with a
// configuration service whose Fence is the lock's); while the lock is
// held, this ConfigService's Push writes the state through the fence
// too. Release gives the lock up.
func (c *ConfigService) LockMigrator(ctx context.Context) (*MigratorLock, error) {
	l := &MigratorLock{c: c, key: c.key(migratorRowKey), done: make(chan struct{}), finished: make(chan struct{})}
	l.fence = &fence{what: fmt.Sprintf("the migration lock of %q (instance %s)", c.opts.ClientID, c.instance), v: &l.valid,
		maxInFlight: c.opts.MaxInFlight, skew: c.opts.ClockSkew, maxTimeout: c.opts.RequestTimeout, now: c.now}
	var start time.Time
	for l.etag == "" {
		start = c.now()
		res, err := c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: l.row(0, "")}})
		if err == nil {
			l.etag = res[0].ETag
			break
		}
		if spec.StatusOf(err) != spec.StatusConflict {
			l.abandonAttempt()
			return nil, fmt.Errorf("aztable: taking the migration lock: %w", err)
		}
		e, ok, err := spec.Retrieve(ctx, c.tbl, l.key)
		if err != nil {
			return nil, fmt.Errorf("aztable: reading the migration lock: %w", err)
		}
		if !ok {
			continue
		}
		holder := describeHolder(e)
		l.beat = e.Props[propBeat].AsInt() + 1
		if e.Props[propInstance].Str() != c.instance {
			// Watch the holder's lock for one TTL.
			since := c.now()
			for c.now().Sub(since) < c.opts.LeaseTTL {
				t := time.NewTimer(c.opts.PollInterval)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, ctx.Err()
				case <-t.C:
				}
				e2, ok, err := spec.Retrieve(ctx, c.tbl, l.key)
				if err != nil {
					return nil, fmt.Errorf("aztable: reading the migration lock: %w", err)
				}
				if !ok || e2.ETag != e.ETag {
					if ok {
						holder = describeHolder(e2)
					}
					return nil, fmt.Errorf("aztable: %w: %s holds the migration lock and renews it; wait for it to finish, or stop it (a stopped migrator's lock is taken over %v after its last renewal)", ErrMigratorRunning, holder, c.opts.LeaseTTL)
				}
			}
		}
		start = c.now()
		res, err = c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: l.row(l.beat, e.ETag)}})
		if spec.StatusOf(err) == spec.StatusPreconditionFailed || spec.StatusOf(err) == spec.StatusNotFound {
			return nil, fmt.Errorf("aztable: %w: another process took the migration lock at the same time", ErrMigratorRunning)
		}
		if err != nil {
			l.abandonAttempt()
			return nil, fmt.Errorf("aztable: taking over the migration lock: %w", err)
		}
		l.etag = res[0].ETag
	}
	l.valid.extend(start.Add(c.opts.LeaseTTL))
	l.ctx, l.lose = context.WithCancelCause(ctx)
	c.mu.Lock()
	c.lock = l
	c.mu.Unlock()
	go l.renewLoop()
	return l, nil
}

// abandonAttempt deletes the lock if a request that failed without an
// outcome (interrupted, timed out) took it for us after all.
func (l *MigratorLock) abandonAttempt() {
	ctx := context.Background()
	if cur, ok, err := spec.Retrieve(ctx, l.c.tbl, l.key); err == nil && ok && cur.Props[propInstance].Str() == l.c.instance {
		_, _ = l.c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: l.key, ETag: cur.ETag}}})
	}
}

func describeHolder(e spec.Entity) string {
	return fmt.Sprintf("%q (instance %s)", e.Props[propClient].Str(), e.Props[propInstance].Str())
}

func (l *MigratorLock) row(beat int64, etag spec.ETag) spec.Entity {
	return spec.Entity{Key: l.key, ETag: etag, Props: spec.Props{
		propClient: spec.String(l.c.opts.ClientID), propInstance: spec.String(l.c.instance), propBeat: spec.Int64(beat)}}
}

// renewLoop renews the lock every PollInterval until Release or until
// the lock is lost. Its requests do not depend on the caller's context:
// an interrupted migrator still knows its lock's current ETag when it
// releases it.
func (l *MigratorLock) renewLoop() {
	defer close(l.finished)
	tick := time.NewTicker(l.c.opts.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-l.ctx.Done():
			return // interrupted or lost: Release deletes the lock if it is ours
		case <-tick.C:
		}
		l.mu.Lock()
		l.beat++
		e := l.row(l.beat, l.etag)
		l.mu.Unlock()
		start := l.c.now()
		res, err := l.c.tbl.ExecuteBatch(context.Background(), []spec.Op{{Kind: spec.Replace, Entity: e}})
		switch st := spec.StatusOf(err); {
		case err == nil:
			l.mu.Lock()
			l.etag = res[0].ETag
			l.mu.Unlock()
			l.valid.extend(start.Add(l.c.opts.LeaseTTL))
			continue
		case st == spec.StatusPreconditionFailed || st == spec.StatusNotFound:
			// Still ours if an earlier renewal took effect unseen.
			if cur, ok, rerr := spec.Retrieve(context.Background(), l.c.tbl, l.key); rerr == nil && ok && cur.Props[propInstance].Str() == l.c.instance {
				l.mu.Lock()
				l.etag = cur.ETag
				l.mu.Unlock()
				continue
			} else if rerr == nil {
				l.valid.lose()
				l.lose(errors.New("aztable: the migration lock was taken by another migrator"))
				return
			}
		}
		if until, _ := l.valid.get(); !l.c.now().Before(until) {
			l.valid.lose()
			l.lose(fmt.Errorf("aztable: the migration lock could not be renewed within %v: %v", l.c.opts.LeaseTTL, err))
			return
		}
	}
}

// Context returns a context that is cancelled when the lock is lost (not
// renewed within LeaseTTL, or taken over) or LockMigrator's ctx is
// cancelled; context.Cause says which.
func (l *MigratorLock) Context() context.Context { return l.ctx }

// Fence implements mtable.Fencer: the returned view of t sends each
// request only while the lock is surely still held (see ConfigService,
// "Fencing").
func (l *MigratorLock) Fence(t spec.Table) spec.Table { return l.fence.wrap(t) }

// Err returns nil while the fence of the lock is open, and otherwise an
// error (wrapping ErrFenced) that says the lock may have expired.
func (l *MigratorLock) Err() error {
	if _, err := l.fence.check(); err != nil {
		return err
	}
	return nil
}

// Release stops renewing and deletes the lock if and only if it is still
// this instance's: it reads the row and deletes it with If-Match on the
// ETag read, so a lock another migrator took over is left alone. It
// works after the context LockMigrator was given is cancelled (an
// interrupted migrator), and is safe to call more than once; it returns
// the error of the first call.
func (l *MigratorLock) Release() error {
	l.once.Do(func() {
		close(l.done)
		<-l.finished
		l.c.mu.Lock()
		if l.c.lock == l {
			l.c.lock = nil
		}
		l.c.mu.Unlock()
		l.valid.lose()
		defer l.lose(context.Canceled)
		ctx := context.Background()
		for attempt := 0; attempt < 10; attempt++ {
			cur, ok, err := spec.Retrieve(ctx, l.c.tbl, l.key)
			if err != nil {
				l.relErr = fmt.Errorf("aztable: releasing the migration lock: %w", err)
				return
			}
			if !ok || cur.Props[propInstance].Str() != l.c.instance {
				return // gone, or another migrator's now
			}
			_, err = l.c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: l.key, ETag: cur.ETag}}})
			switch st := spec.StatusOf(err); {
			case err == nil || st == spec.StatusNotFound:
				return
			case st == spec.StatusPreconditionFailed:
				continue // changed since we read it: look again
			default:
				l.relErr = fmt.Errorf("aztable: releasing the migration lock: %w", err)
				return
			}
		}
		l.relErr = errors.New("aztable: releasing the migration lock: it kept changing under us")
	})
	return l.relErr
}

// Abandon stops renewing the lock without releasing it, as a migrator
// that died would: another migrator takes it over after LeaseTTL. It is
// for tests of crash handling.
func (l *MigratorLock) Abandon() {
	l.once.Do(func() {
		close(l.done)
		<-l.finished
		l.c.mu.Lock()
		if l.c.lock == l {
			l.c.lock = nil
		}
		l.c.mu.Unlock()
		l.valid.lose()
		l.lose(context.Canceled)
	})
}
