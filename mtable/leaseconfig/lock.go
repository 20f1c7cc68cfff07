package leaseconfig

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// Lock is the migration lock held by one Service (see LockMigrator). It
// is safe for concurrent use.
type Lock struct {
	s     *Service
	key   spec.Key
	valid validity
	fence *fence
	ctx   context.Context
	lose  context.CancelCauseFunc

	mu   sched.Mutex
	etag spec.ETag
	beat int64

	done   *sched.Chan[struct{}] // closed by Release
	loop   sched.WaitGroup
	once   sched.Once
	relErr error
}

var _ mtable.Fencer = (*Lock)(nil)

// LockMigrator takes the migration lock, the row "migrator", so that
// only one migrator runs at a time. The lock is a lease like a
// process's: renewed every PollInterval, taken over by another migrator
// once it has shown no renewal for LeaseTTL. The row names the holder's
// ClientID and instance nonce, so two processes given the same ClientID
// are told apart.
//
// When the lock is held by another instance that keeps renewing it,
// LockMigrator returns an error wrapping ErrMigratorRunning, after at
// most LeaseTTL (the time it takes to tell a live holder from a dead
// one). A lock left by an instance that died is taken over, with
// If-Match on the row watched, after it has shown no renewal for
// LeaseTTL on this process's clock; when another process takes it over
// at the same time, one of the two gets ErrMigratorRunning.
//
// Run the migrator under the lock's Context (cancelled when the lock is
// lost or ctx is) and through its Fence: mtable.NewMigrator with
// MigratorConfig, whose Fence is the lock's while it is held. While the
// lock is held, this Service's Push writes the state through the fence
// too. Release gives the lock up.
func (s *Service) LockMigrator(ctx context.Context) (*Lock, error) {
	l := &Lock{s: s, key: s.key(migratorRowKey), done: sched.NewChan[struct{}](0)}
	l.done.Name = "leaseconfig lock release"
	l.fence = &fence{what: fmt.Sprintf("the migration lock of %q (instance %s)", s.opts.ClientID, s.instance), v: &l.valid,
		maxInFlight: s.opts.MaxInFlight, skew: s.opts.ClockSkew, timeout: s.opts.RequestTimeout, drain: &s.drain}
	var start time.Time
	for l.etag == "" {
		start = sched.Now()
		res, err := s.do(ctx, func(ctx context.Context) ([]spec.Result, error) {
			return s.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: l.row(0, "")}})
		})
		if err == nil {
			l.etag = res[0].ETag
			break
		}
		if spec.StatusOf(err) != spec.StatusConflict {
			l.abandonAttempt()
			return nil, fmt.Errorf("leaseconfig: taking the migration lock: %w", err)
		}
		e, ok, err := l.read(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		holder := describeHolder(e)
		if v, ok := e.Props[propBeat]; ok && v.Type() == spec.TypeInt64 {
			l.beat = v.AsInt() + 1
		}
		if str(e, propInstance) != s.instance {
			// Watch the holder's lock for one TTL, on our clock.
			since := sched.Now()
			for sched.Since(since) < s.opts.LeaseTTL {
				t := sched.NewTimer(s.opts.PollInterval)
				cancelled := sched.Select(sched.DoneCase(ctx, nil), t.C.RecvCase(nil)) == 0
				t.Stop()
				if cancelled {
					return nil, ctx.Err()
				}
				e2, ok, err := l.read(ctx)
				if err != nil {
					return nil, err
				}
				if !ok || e2.ETag != e.ETag {
					if ok {
						holder = describeHolder(e2)
					}
					return nil, fmt.Errorf("leaseconfig: %w: %s holds the migration lock and renews it; wait for it to finish, or stop it (a stopped migrator's lock is taken over %v after its last renewal)", ErrMigratorRunning, holder, s.opts.LeaseTTL)
				}
			}
		}
		takeover := spec.Op{Kind: spec.Replace, Entity: l.row(l.beat, e.ETag)}
		if s.is(mtable.BugMigratorLockNoIfMatch) {
			takeover = spec.Op{Kind: spec.InsertOrReplace, Entity: l.row(l.beat, "")} // the mistake: whatever is there now
		}
		start = sched.Now()
		res, err = s.do(ctx, func(ctx context.Context) ([]spec.Result, error) {
			return s.tbl.ExecuteBatch(ctx, []spec.Op{takeover})
		})
		if spec.StatusOf(err) == spec.StatusPreconditionFailed || spec.StatusOf(err) == spec.StatusNotFound {
			return nil, fmt.Errorf("leaseconfig: %w: another process took the migration lock at the same time", ErrMigratorRunning)
		}
		if err != nil {
			l.abandonAttempt()
			return nil, fmt.Errorf("leaseconfig: taking over the migration lock: %w", err)
		}
		l.etag = res[0].ETag
	}
	l.valid.extend(start.Add(s.opts.LeaseTTL))
	l.ctx, l.lose = context.WithCancelCause(ctx)
	s.mu.Lock()
	s.lock = l
	s.mu.Unlock()
	l.loop.Add(1)
	sched.GoDaemon("lock-renew", l.renewLoop)
	return l, nil
}

// read reads the lock row.
func (l *Lock) read(ctx context.Context) (spec.Entity, bool, error) {
	ctx, cancel := sched.WithTimeout(ctx, l.s.opts.RequestTimeout)
	defer cancel()
	e, ok, err := spec.Retrieve(ctx, l.s.tbl, l.key)
	if err != nil {
		return spec.Entity{}, false, fmt.Errorf("leaseconfig: reading the migration lock: %w", err)
	}
	return e, ok, nil
}

// abandonAttempt deletes the lock if a request that failed without an
// outcome (interrupted, timed out) took it for us after all.
func (l *Lock) abandonAttempt() {
	ctx := context.Background()
	if cur, ok, err := l.read(ctx); err == nil && ok && str(cur, propInstance) == l.s.instance {
		l.s.do(ctx, func(ctx context.Context) ([]spec.Result, error) {
			return l.s.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: l.key, ETag: cur.ETag}}})
		})
	}
}

func describeHolder(e spec.Entity) string {
	return fmt.Sprintf("%q (instance %s)", str(e, propClient), str(e, propInstance))
}

func (l *Lock) row(beat int64, etag spec.ETag) spec.Entity {
	return spec.Entity{Key: l.key, ETag: etag, Props: spec.Props{
		propClient: spec.String(l.s.opts.ClientID), propInstance: spec.String(l.s.instance), propBeat: spec.Int64(beat)}}
}

// renewLoop renews the lock every PollInterval until Release or until
// the lock is lost. Its requests do not depend on the caller's context:
// an interrupted migrator still knows its lock's current ETag when it
// releases it.
func (l *Lock) renewLoop() {
	defer l.loop.Done()
	tick := sched.NewTicker(l.s.opts.PollInterval)
	defer tick.Stop()
	bg := context.Background()
	for {
		if sched.Select(l.done.RecvCase(nil), sched.DoneCase(l.ctx, nil), tick.C.RecvCase(nil)) != 2 {
			return // released, or interrupted or lost: Release deletes the lock if it is ours
		}
		l.mu.Lock()
		l.beat++
		e := l.row(l.beat, l.etag)
		l.mu.Unlock()
		start := sched.Now()
		res, err := l.s.do(bg, func(ctx context.Context) ([]spec.Result, error) {
			return l.s.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: e}})
		})
		switch st := spec.StatusOf(err); {
		case err == nil:
			l.mu.Lock()
			l.etag = res[0].ETag
			l.mu.Unlock()
			l.valid.extend(start.Add(l.s.opts.LeaseTTL))
			continue
		case st == spec.StatusPreconditionFailed || st == spec.StatusNotFound:
			// Still ours if an earlier renewal took effect unseen.
			if cur, ok, rerr := l.read(bg); rerr == nil && ok && str(cur, propInstance) == l.s.instance {
				l.mu.Lock()
				l.etag = cur.ETag
				l.mu.Unlock()
				continue
			} else if rerr == nil {
				l.valid.lose()
				l.lose(errors.New("leaseconfig: the migration lock was taken by another migrator"))
				return
			}
		}
		if until, _ := l.valid.get(); !sched.Now().Before(until) {
			l.valid.lose()
			l.lose(fmt.Errorf("leaseconfig: the migration lock could not be renewed within %v: %v", l.s.opts.LeaseTTL, err))
			return
		}
	}
}

// Context returns a context that is cancelled when the lock is lost (not
// renewed within LeaseTTL, or taken over) or LockMigrator's ctx is
// cancelled; context.Cause says which. Under the scheduler, wait for it
// with sched.DoneCase.
func (l *Lock) Context() context.Context { return l.ctx }

// Fence implements mtable.Fencer: the returned view of t sends each
// request only while the lock is surely still held (see "Fencing"), with
// RequestTimeout.
func (l *Lock) Fence(t spec.Table) spec.Table { return l.fence.wrap(t) }

// Err returns nil while the fence of the lock is open, and otherwise an
// error (wrapping ErrFenced) that says the lock may have expired.
func (l *Lock) Err() error {
	if _, err := l.fence.check(); err != nil {
		return err
	}
	return nil
}

// Release stops renewing and deletes the lock if and only if it is still
// this instance's: it reads the row and deletes it with If-Match on the
// ETag read, so a lock another migrator took over is left alone. Before
// that it waits until no request the lock's fence let through can still
// take effect (see Service.Close), so the next migrator, which takes a
// released lock at once, never overlaps with this one. It
// works after the context LockMigrator was given is cancelled (an
// interrupted migrator), and is safe to call more than once; it returns
// the error of the first call.
func (l *Lock) Release() error {
	l.once.Do(func() {
		l.done.Close()
		l.loop.Wait()
		l.s.mu.Lock()
		if l.s.lock == l {
			l.s.lock = nil
		}
		l.s.mu.Unlock()
		l.valid.lose()      // the fence admits nothing more
		l.fence.waitQuiet() // what it let through has landed
		defer l.lose(context.Canceled)
		ctx := context.Background()
		for attempt := 0; attempt < 10; attempt++ {
			cur, ok, err := l.read(ctx)
			if err != nil {
				l.relErr = fmt.Errorf("leaseconfig: releasing the migration lock: %w", err)
				return
			}
			if !ok || str(cur, propInstance) != l.s.instance {
				return // gone, or another migrator's now
			}
			_, err = l.s.do(ctx, func(ctx context.Context) ([]spec.Result, error) {
				return l.s.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: l.key, ETag: cur.ETag}}})
			})
			switch st := spec.StatusOf(err); {
			case err == nil || st == spec.StatusNotFound:
				return
			case st == spec.StatusPreconditionFailed:
				continue // changed since we read it: look again
			default:
				l.relErr = fmt.Errorf("leaseconfig: releasing the migration lock: %w", err)
				return
			}
		}
		l.relErr = errors.New("leaseconfig: releasing the migration lock: it kept changing under us")
	})
	return l.relErr
}

// MigratorConfig returns s as the configuration service of an
// mtable.Migrator: Subscribe and Push are s's, and its Fence sends each
// request only while s holds the migration lock (LockMigrator), through
// that lock's fence; while s holds no lock, every request is refused,
// unsent. One Migrator can so outlive the locks of several attempts.
func (s *Service) MigratorConfig() mtable.ConfigService { return migratorConfig{s} }

type migratorConfig struct{ s *Service }

var _ mtable.Fencer = migratorConfig{}

// Subscribe is the service's Subscribe, except that the state returned
// is the one stored in the table when it is newer than this process's:
// a migrator resumes from there (mtable.Migrator.Run), and another
// migrator may have advanced the state since this process last polled
// it (it held the lock while this one was stalled, say). Resuming from
// the process's older state would push a state earlier than the
// stored one, which Push refuses, and the Run would fail.
func (m migratorConfig) Subscribe(ctx context.Context, sub mtable.Subscriber) (mtable.State, func(), error) {
	st, cancel, err := m.s.Subscribe(ctx, sub)
	if err != nil || m.s.is(mtable.BugMigratorResumeFromCachedState) {
		return st, cancel, err
	}
	var row stateRow
	err = m.s.retried(ctx, func() (err error) {
		row, err = m.s.readState(ctx, false)
		return err
	})
	if err != nil {
		cancel()
		return 0, nil, fmt.Errorf("leaseconfig: reading the configuration state: %w", err)
	}
	if row.exists {
		m.s.deliver(row.state, row.version)
		if row.state > st {
			st = row.state
		}
	}
	return st, cancel, nil
}

func (m migratorConfig) Push(ctx context.Context, st mtable.State) error { return m.s.Push(ctx, st) }

func (m migratorConfig) Fence(t spec.Table) spec.Table {
	if t == nil {
		return nil
	}
	return lockFenced{t: t, s: m.s}
}

// lockFenced sends each request through the fence of the lock its
// Service holds at the time.
type lockFenced struct {
	t spec.Table
	s *Service
}

func (lf lockFenced) current() (spec.Table, error) {
	lf.s.mu.Lock()
	l := lf.s.lock
	lf.s.mu.Unlock()
	if l == nil {
		return nil, &fenceError{msg: fmt.Sprintf("leaseconfig: request not sent: %q (instance %s) does not hold the migration lock (%v)", lf.s.opts.ClientID, lf.s.instance, ErrFenced)}
	}
	return l.Fence(lf.t), nil
}

func (lf lockFenced) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	t, err := lf.current()
	if err != nil {
		return nil, err
	}
	return t.ExecuteBatch(ctx, ops)
}

func (lf lockFenced) QueryAtomic(ctx context.Context, filter spec.Filter) ([]spec.Entity, error) {
	t, err := lf.current()
	if err != nil {
		return nil, err
	}
	return t.QueryAtomic(ctx, filter)
}

func (lf lockFenced) QueryStreamed(ctx context.Context, filter spec.Filter) (spec.Stream, error) {
	t, err := lf.current()
	if err != nil {
		return nil, err
	}
	return t.QueryStreamed(ctx, filter) // its Next calls keep that lock's fence
}
