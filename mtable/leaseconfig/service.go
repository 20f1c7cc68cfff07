package leaseconfig

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// ErrLeaseLost is returned by Subscribe once the process's lease has
// expired or been taken away: the process may have missed a state, so it
// must not start calls until it opens the configuration again.
var ErrLeaseLost = errors.New("leaseconfig: the configuration lease of this process was lost (not renewed within its TTL); open the configuration service again")

// ErrMigratorRunning is returned (wrapped) by LockMigrator when another
// migrator holds the migration lock and keeps renewing it.
var ErrMigratorRunning = errors.New("another migrator is running")

// ErrOtherTables is returned (wrapped) by Open when the configuration
// partition belongs to another pair of tables: a migration of another
// pair needs its own partition or configuration table.
var ErrOtherTables = errors.New("the configuration belongs to another pair of tables")

// Service is one process's view of a configuration shared through a
// table: an mtable.ConfigService and an mtable.Fencer. See the package
// documentation. It is safe for concurrent use.
type Service struct {
	tbl      spec.Table
	opts     Options
	instance string
	leaseRK  string
	valid    validity // our lease's validity
	drain    drain    // unknown-outcome writes of this process
	fence    *fence
	subs     *mtable.Subscriptions

	mu        sched.Mutex
	state     mtable.State // the newest state known
	version   int64        // its version
	applied   int64        // the latest version applied locally (see "Leases")
	leaseETag spec.ETag    // current ETag of our lease row
	beat      int64        // our lease's renewal counter
	lock      *Lock        // the migration lock, while held

	kick      *sched.Chan[struct{}] // a newer version to apply (buffer 1)
	stop      *sched.Chan[struct{}] // closed by Close
	loops     sched.WaitGroup
	closeOnce sched.Once
	closeErr  error
}

var (
	_ mtable.ConfigService = (*Service)(nil)
	_ mtable.Fencer        = (*Service)(nil)
)

// newInstance returns a nonce that tells this instance apart from the
// others given the same ClientID: random outside the scheduler; under it
// (where randomness would break determinism), the calling machine's ID
// and the step, which no other Open of the run shares (Open reaches a
// scheduling point before it returns).
func newInstance() string {
	if sched.Controlled() {
		return fmt.Sprintf("%08x%08x", uint32(sched.MachineID()), uint32(sched.Step()))
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func (s *Service) is(b mtable.Bug) bool { return s.opts.Bug == b }

// Open checks opts (see Options; nothing is sent when they are refused),
// registers this process's lease in tbl, reads the current state
// (creating the state row as mtable.UseOldHideMetadata, with the pair of
// tables, if there is none; an error wrapping ErrOtherTables if it
// belongs to another pair) and starts renewing the lease and following
// the state in the background (machines of the caller's process under
// the scheduler). Close releases the lease.
func Open(ctx context.Context, tbl spec.Table, opts Options) (*Service, error) {
	opts, err := checkOptions(tbl, opts)
	if err != nil {
		return nil, err
	}
	s := &Service{tbl: tbl, opts: opts, kick: sched.NewChan[struct{}](1), stop: sched.NewChan[struct{}](0)}
	s.kick.Name, s.stop.Name = "leaseconfig kick", "leaseconfig stop"
	// A configuration of another pair is refused before anything is
	// written (openState checks again once the lease is registered).
	if row, err := s.readState(ctx, false); err != nil {
		return nil, err
	} else if row.exists && (!row.old.IsZero() || row.version > 0) {
		if err := s.checkPair(row); err != nil {
			return nil, err
		}
	}
	// The lease first, then the state: a push that writes the state
	// after our read sees our lease and waits for us.
	for attempt := 0; ; attempt++ {
		s.instance = newInstance()
		s.leaseRK = leasePrefix + opts.ClientID + "." + s.instance
		start := sched.Now()
		res, err := s.do(ctx, func(ctx context.Context) ([]spec.Result, error) {
			return tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: s.leaseEntity(-1, 0)}})
		})
		if spec.StatusOf(err) == spec.StatusConflict && attempt < 3 {
			continue // the nonce is taken (only possible under the scheduler): draw another
		}
		if err != nil {
			if spec.StatusOf(err) == 0 {
				s.deleteLease() // it may have been written after all
			}
			return nil, fmt.Errorf("leaseconfig: registering the configuration lease of %q: %w", opts.ClientID, err)
		}
		s.leaseETag = res[0].ETag
		s.valid.extend(start.Add(opts.LeaseTTL))
		break
	}
	s.fence = &fence{what: fmt.Sprintf("the configuration lease of %q (instance %s)", opts.ClientID, s.instance), v: &s.valid,
		maxInFlight: opts.MaxInFlight, skew: opts.ClockSkew, timeout: opts.RequestTimeout, drain: &s.drain}
	st, ver, err := s.openState(ctx)
	if err != nil {
		s.deleteLease()
		return nil, err
	}
	s.state, s.version, s.applied = st, ver, ver
	s.subs = mtable.NewSubscriptions(st)
	if err := s.renew(ctx); err != nil {
		s.deleteLease()
		return nil, err
	}
	s.every("lease-renew", func(ctx context.Context) bool { return !errors.Is(s.renew(ctx), ErrLeaseLost) })
	s.every("lease-poll", s.poll)
	// Not among s.loops: it may wait for calls in flight, which Close
	// does not wait for. It ends at its next wake-up after Close.
	sched.GoDaemon("lease-apply", s.applyLoop)
	return s, nil
}

// do runs one request of the service's own with RequestTimeout.
func (s *Service) do(ctx context.Context, f func(context.Context) ([]spec.Result, error)) ([]spec.Result, error) {
	ctx, cancel := sched.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	return f(ctx)
}

// openState reads (or creates) the state row and checks its pair of
// tables; a row without a pair that no push has changed yet (version 0)
// is given ours.
func (s *Service) openState(ctx context.Context) (mtable.State, int64, error) {
	for {
		row, err := s.readState(ctx, true)
		if err != nil {
			return 0, 0, err
		}
		if row.old.IsZero() && row.version == 0 {
			e := s.stateEntity(row.state, 0)
			e.ETag = row.etag
			_, err := s.do(ctx, func(ctx context.Context) ([]spec.Result, error) {
				return s.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: e}})
			})
			if err != nil && spec.StatusOf(err) != spec.StatusPreconditionFailed && spec.StatusOf(err) != spec.StatusNotFound {
				return 0, 0, fmt.Errorf("leaseconfig: recording the tables in the configuration state: %w", err)
			}
			continue
		}
		if err := s.checkPair(row); err != nil {
			return 0, 0, err
		}
		return row.state, row.version, nil
	}
}

func (s *Service) checkPair(row stateRow) error {
	if row.old.IsZero() {
		return fmt.Errorf("leaseconfig: %w: the configuration state in partition %q (%s, version %d) records no tables (it was written by an earlier version); finish that migration with it, or use another Partition",
			ErrOtherTables, s.opts.Partition, row.state, row.version)
	}
	if row.old != s.opts.Old || row.new != s.opts.New {
		return fmt.Errorf("leaseconfig: %w: the configuration in partition %q belongs to the migration of %s to %s (%s, version %d), not of %s to %s; give this migration its own configuration partition or table",
			ErrOtherTables, s.opts.Partition, row.old, row.new, row.state, row.version, s.opts.Old, s.opts.New)
	}
	return nil
}

func (s *Service) key(rk string) spec.Key {
	return spec.Key{PartitionKey: s.opts.Partition, RowKey: rk}
}

func (s *Service) leaseEntity(acked, beat int64) spec.Entity {
	return spec.Entity{Key: s.key(s.leaseRK), Props: spec.Props{
		propAcked: spec.Int64(acked), propBeat: spec.Int64(beat), propClient: spec.String(s.opts.ClientID), propInstance: spec.String(s.instance),
	}}
}

func (s *Service) stateEntity(st mtable.State, ver int64) spec.Entity {
	return spec.Entity{Key: s.key(stateRowKey), Props: spec.Props{
		propState: spec.Int32(int32(st)), propVersion: spec.Int64(ver),
		propOldEP: spec.String(s.opts.Old.Endpoint), propOldName: spec.String(s.opts.Old.Name),
		propNewEP: spec.String(s.opts.New.Endpoint), propNewName: spec.String(s.opts.New.Name),
	}}
}

// readState reads the state row; create makes it when absent (with our
// pair of tables).
func (s *Service) readState(ctx context.Context, create bool) (stateRow, error) {
	ctx, cancel := sched.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	return readStateRow(ctx, s.tbl, s.opts.Partition, func() (spec.Entity, bool) {
		return s.stateEntity(mtable.UseOldHideMetadata, 0), create
	})
}

func (s *Service) leases(ctx context.Context) ([]Lease, error) {
	ctx, cancel := sched.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	return readLeases(ctx, s.tbl, s.opts.Partition)
}

// renew bumps the lease's beat and records the applied version. Its
// validity is extended from the moment the renewal was sent.
func (s *Service) renew(ctx context.Context) error {
	if _, lost := s.valid.get(); lost {
		return ErrLeaseLost
	}
	s.mu.Lock()
	s.beat++
	e := s.leaseEntity(s.applied, s.beat)
	e.ETag = s.leaseETag
	s.mu.Unlock()
	start := sched.Now()
	res, err := s.do(ctx, func(ctx context.Context) ([]spec.Result, error) {
		return s.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: e}})
	})
	switch st := spec.StatusOf(err); {
	case err == nil:
		s.mu.Lock()
		s.leaseETag = res[0].ETag
		s.mu.Unlock()
		s.valid.extend(start.Add(s.opts.LeaseTTL))
		return nil
	case st == spec.StatusPreconditionFailed:
		// Our previous renewal may have taken effect without our hearing
		// of it (it timed out): the row is then still ours. Take its ETag
		// (its validity is not extended: we do not know when it landed).
		rctx, cancel := sched.WithTimeout(ctx, s.opts.RequestTimeout)
		cur, ok, rerr := spec.Retrieve(rctx, s.tbl, s.key(s.leaseRK))
		cancel()
		if rerr == nil && ok && str(cur, propInstance) == s.instance {
			s.mu.Lock()
			s.leaseETag = cur.ETag
			s.mu.Unlock()
			return errors.New("leaseconfig: renewing the configuration lease: an earlier renewal took effect unseen; retrying")
		}
		if rerr != nil {
			return fmt.Errorf("leaseconfig: renewing the configuration lease: %w", rerr)
		}
		s.valid.lose()
		return ErrLeaseLost
	case st == spec.StatusNotFound:
		s.valid.lose()
		return ErrLeaseLost
	default:
		return fmt.Errorf("leaseconfig: renewing the configuration lease: %w", err)
	}
}

// every runs f every PollInterval in a daemon machine named name until
// Close, or until f returns false.
func (s *Service) every(name string, f func(context.Context) bool) {
	s.loops.Add(1)
	sched.GoDaemon(name, func() {
		defer s.loops.Done()
		tick := sched.NewTicker(s.opts.PollInterval)
		defer tick.Stop()
		for {
			if sched.Select(s.stop.RecvCase(nil), tick.C.RecvCase(nil)) == 0 {
				return
			}
			if !f(context.Background()) {
				return
			}
		}
	})
}

// poll reads the state row and delivers a newer state.
func (s *Service) poll(ctx context.Context) bool {
	if _, lost := s.valid.get(); lost {
		return false
	}
	if row, err := s.readState(ctx, false); err == nil && row.exists {
		s.deliver(row.state, row.version)
	}
	return true
}

// deliver makes (st, ver) the newest known state if it is newer, and
// wakes the apply loop.
func (s *Service) deliver(st mtable.State, ver int64) {
	s.mu.Lock()
	newer := ver > s.version
	if newer {
		s.state, s.version = st, ver
	}
	s.mu.Unlock()
	if newer {
		sched.Select(s.kick.SendCase(struct{}{}, nil), sched.Default(nil))
	}
}

// applyLoop applies each newer state to the local subscriptions, one
// after the other: Deliver returns once every subscription begun under
// an earlier state has acknowledged or been cancelled; then it waits
// until every write of this process whose outcome is unknown can no
// longer take effect (drain); only then is the version applied, which
// the next renewal acknowledges.
func (s *Service) applyLoop() {
	ctx := context.Background()
	for {
		if sched.Select(s.stop.RecvCase(nil), s.kick.RecvCase(nil)) == 0 {
			return
		}
		for {
			s.mu.Lock()
			st, ver, applied := s.state, s.version, s.applied
			s.mu.Unlock()
			if ver <= applied {
				break
			}
			_ = s.subs.Deliver(ctx, st) // a subscriber's error is its own; it has the state
			if until := s.drain.get(); sched.Now().Before(until) {
				t := sched.NewTimer(sched.Until(until))
				stopped := sched.Select(s.stop.RecvCase(nil), t.C.RecvCase(nil)) == 0
				t.Stop()
				if stopped {
					return
				}
			}
			s.mu.Lock()
			if ver > s.applied {
				s.applied = ver
			}
			s.mu.Unlock()
		}
	}
}

// Subscribe implements mtable.ConfigService: it registers sub and
// returns the newest state this process has begun to apply. It fails
// with ErrLeaseLost when the lease is no longer valid (on this process's
// clock), or lost.
func (s *Service) Subscribe(ctx context.Context, sub mtable.Subscriber) (mtable.State, func(), error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	if !s.is(mtable.BugServeAfterLeaseExpiry) {
		if until, lost := s.valid.get(); lost || !sched.Now().Before(until) {
			return 0, nil, ErrLeaseLost
		}
	}
	return s.subs.Subscribe(ctx, sub)
}

// Fence implements mtable.Fencer: the returned view of t sends each
// request only while this process's lease is surely valid (see
// "Fencing"), with RequestTimeout. mtable.New uses it for the old and
// new tables.
func (s *Service) Fence(t spec.Table) spec.Table {
	if s.is(mtable.BugServeAfterLeaseExpiry) {
		return t // the mistake: no fence
	}
	return s.fence.wrap(t)
}

// Push implements mtable.ConfigService; see "Pushes" in the package
// documentation. Pushing the current state again only waits for it to be
// applied everywhere; an earlier state is refused. While this process
// holds the migration lock, the write of the new state goes through the
// lock's fence.
func (s *Service) Push(ctx context.Context, st mtable.State) error {
	if st > mtable.UseNewHideMetadata {
		return fmt.Errorf("leaseconfig: push of invalid state %d: want 0..%d", st, mtable.UseNewHideMetadata)
	}
	for attempt := 1; ; attempt++ {
		row, err := s.settle(ctx)
		if err != nil {
			return err
		}
		if err := s.checkPair(row); err != nil {
			return err
		}
		if st < row.state {
			return fmt.Errorf("leaseconfig: push of %s refused: the current state %s is later, and states only advance", st, row.state)
		}
		if st == row.state {
			return nil // settled just now
		}
		e := s.stateEntity(st, row.version+1)
		e.ETag = row.etag // the version every live lease has acknowledged
		tbl := s.tbl
		s.mu.Lock()
		if s.lock != nil {
			tbl = s.lock.Fence(tbl)
		}
		s.mu.Unlock()
		_, err = s.do(ctx, func(ctx context.Context) ([]spec.Result, error) {
			return tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: e}})
		})
		if spec.StatusOf(err) == spec.StatusPreconditionFailed || spec.StatusOf(err) == spec.StatusNotFound {
			continue // another push raced with ours: settle and look again
		}
		if err != nil && s.retry(ctx, attempt, err) {
			// Not applied, or perhaps applied: the write's If-Match makes
			// a second try that meets the first's write fail with 412,
			// and the state read again shows it.
			continue
		}
		if err != nil {
			return fmt.Errorf("leaseconfig: writing the configuration state %s: %w", st, err)
		}
		s.deliver(st, row.version+1)
		_, err = s.settle(ctx)
		return err
	}
}

// Settle waits until every live lease (this process's included) has
// acknowledged the current state's version, deleting leases that have
// expired. A migrator resuming after a crash calls it before going on
// (Push does too), since the crashed run may have written a state
// without seeing it acknowledged.
func (s *Service) Settle(ctx context.Context) error {
	_, err := s.settle(ctx)
	return err
}

// settle is Settle; it returns the state row it found acknowledged by
// every live lease read after it.
func (s *Service) settle(ctx context.Context) (stateRow, error) {
	type seen struct {
		etag  spec.ETag
		since time.Time
	}
	watch := map[string]seen{} // by lease RowKey; looked up, never iterated
	for {
		var row stateRow
		err := s.retried(ctx, func() (err error) {
			row, err = s.readState(ctx, true)
			return err
		})
		if err != nil {
			return stateRow{}, err
		}
		var leases []Lease
		err = s.retried(ctx, func() (err error) {
			leases, err = s.leases(ctx)
			return err
		})
		if err != nil {
			return stateRow{}, err
		}
		pending, ours := 0, false
		now := sched.Now() // after the read: every lease read took effect before now
		for _, l := range leases {
			if l.rowKey == s.leaseRK {
				ours = true
			}
			if l.Acked >= row.version {
				continue
			}
			if l.rowKey == s.leaseRK {
				pending++ // ours: the local apply will acknowledge it
				continue
			}
			w, ok := watch[l.rowKey]
			if !ok || w.etag != l.etag {
				watch[l.rowKey] = seen{l.etag, now}
				pending++
				continue
			}
			if now.Sub(w.since) < s.opts.LeaseTTL && !s.is(mtable.BugPushExpiresLeaseEarly) {
				pending++
				continue
			}
			// Unchanged for LeaseTTL on our clock: its holder is gone or
			// fenced. Remove it, unless it was renewed meanwhile.
			_, err := s.do(ctx, func(ctx context.Context) ([]spec.Result, error) {
				return s.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: s.key(l.rowKey), ETag: l.etag}}})
			})
			if err != nil && spec.StatusOf(err) != spec.StatusNotFound && spec.StatusOf(err) != spec.StatusPreconditionFailed &&
				!(s.transient(err) && !s.is(mtable.BugConfigNoRetry)) {
				return stateRow{}, fmt.Errorf("leaseconfig: removing the expired lease of %q: %w", l.Client, err)
			}
			if err != nil {
				pending++
			}
		}
		if _, lost := s.valid.get(); lost {
			return stateRow{}, ErrLeaseLost
		}
		if !ours {
			// Our lease is gone: someone judged us dead.
			s.valid.lose()
			return stateRow{}, ErrLeaseLost
		}
		if pending == 0 {
			return row, nil
		}
		s.deliver(row.state, row.version) // in case our own poll has not seen it yet
		t := sched.NewTimer(s.opts.PollInterval)
		done := sched.Select(sched.DoneCase(ctx, nil), t.C.RecvCase(nil)) == 0
		t.Stop()
		if done {
			return stateRow{}, ctx.Err()
		}
	}
}

// Current returns the newest state this process knows of and its
// version.
func (s *Service) Current() (mtable.State, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.version
}

// Instance returns this Service's instance nonce, which tells it apart
// from other processes given the same ClientID.
func (s *Service) Instance() string { return s.instance }

// Close stops renewing and deletes the lease, so pushes stop waiting for
// this process at once; Subscribe then fails with ErrLeaseLost and the
// fence refuses every request. Before deleting the lease it waits until
// no request the fence let through can still take effect (MaxInFlight
// after the last one still in flight was sent, and after any write whose
// outcome is unknown): at once when there is none. It does not release
// the migration lock (Release it first) and does not wait for calls in
// flight to return. It is safe to call more than once; it returns the
// first call's error.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.stop.Close()
		s.loops.Wait()
		s.valid.lose()      // the fence admits nothing more
		s.fence.waitQuiet() // what it let through has landed
		s.closeErr = s.deleteLease()
	})
	return s.closeErr
}

// Abandon stops renewing without deleting the lease, as a process that
// died would: pushes wait for the lease to expire. It is for wall-clock
// tests of crash handling (under the scheduler, crash the process
// instead); Close after it does nothing.
func (s *Service) Abandon() {
	s.closeOnce.Do(func() {
		s.stop.Close()
		s.loops.Wait()
		s.valid.lose()
	})
}

func (s *Service) deleteLease() error {
	_, err := s.do(context.Background(), func(ctx context.Context) ([]spec.Result, error) {
		return s.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.DeleteIfExists, Entity: spec.Entity{Key: s.key(s.leaseRK)}}})
	})
	if err != nil {
		return fmt.Errorf("leaseconfig: releasing the configuration lease: %w", err)
	}
	return nil
}
