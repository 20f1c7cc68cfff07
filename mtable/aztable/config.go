package aztable

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// Rows of the configuration partition.
const (
	// ConfigPartition is the default PartitionKey of the configuration
	// rows.
	ConfigPartition = "mtable-config"
	stateRowKey     = "state"
	leasePrefix     = "lease-"
	migratorRowKey  = "migrator"

	propState   = "state"   // Int32: the mtable.State
	propVersion = "version" // Int64: bumped by every push
	propAcked   = "acked"   // Int64: the version a lease's process has applied
	propBeat    = "beat"    // Int64: bumped by every renewal
	propClient  = "client"  // String: the client's ID
)

// Defaults of ConfigOptions.
const (
	DefaultLeaseTTL     = 30 * time.Second
	DefaultPollInterval = time.Second
)

// ConfigOptions configures a ConfigService.
type ConfigOptions struct {
	// ClientID names this process's lease; it must be unique among the
	// processes sharing the configuration (e.g. host name and process
	// ID) and be usable in a RowKey. Required.
	ClientID string
	// Partition is the PartitionKey of the configuration rows
	// (default ConfigPartition).
	Partition string
	// LeaseTTL is how long a lease lives without renewal before a push
	// treats its process as gone (default DefaultLeaseTTL). It must be
	// at least three times PollInterval, and the same in every process
	// sharing the configuration (each process fences itself with its own
	// value, and pushers expire leases with theirs).
	LeaseTTL time.Duration
	// PollInterval is how often the process renews its lease and looks
	// for a new state, and how often a push looks at the leases
	// (default DefaultPollInterval).
	PollInterval time.Duration
}

// ErrLeaseLost is returned by Subscribe once the process's lease has
// expired or been taken away: the process may have missed a state, so it
// must not start calls until it opens the configuration service again.
var ErrLeaseLost = errors.New("aztable: the configuration lease of this process was lost (not renewed within its TTL); open the configuration service again")

// ErrMigratorRunning is returned (wrapped) by LockMigrator when another
// migrator holds the migration lock and keeps renewing it.
var ErrMigratorRunning = errors.New("another migrator is running")

// ConfigService is an mtable.ConfigService kept in a table, so that
// separate processes share one migration state. Each process opens one
// (OpenConfigService) and hands it to every mtable.Table and
// mtable.Migrator it creates.
//
// # Rows
//
// In one partition of the given table: the row "state" holds the
// current mtable.State and a version that every push increments; it is
// only ever changed with If-Match on the version read. Each process holds
// a row "lease-<ClientID>" that it renews every PollInterval, and on
// which it records the latest version it has applied ("acked"): applied
// means that every local Subscriber has returned from Apply and every
// local subscription begun under the earlier state has been cancelled.
// The row "migrator" is the migration lock (LockMigrator).
//
// # Push
//
// Push first waits for the current version to be applied everywhere
// (Settle), then writes the new state with If-Match, applies it locally,
// and waits until every live lease has acknowledged it. A lease that
// shows no renewal for LeaseTTL, as measured by the pushing process's own
// clock from the moment it first saw the lease's current version, is
// treated as gone: the pusher deletes it (If-Match, so a renewal that
// races with the deletion wins) and stops waiting for it. A crashed
// client therefore delays a push by at most about LeaseTTL.
//
// # Fencing
//
// Only durations measured by one clock are compared, never two
// processes' clocks. A process counts its lease valid until LeaseTTL
// after the start of its last successful renewal; past that, Subscribe
// fails with ErrLeaseLost, before any pusher can consider the lease
// expired. A renewal that finds its lease deleted or changed also loses
// it. Calls already in flight when a process stalls for longer than
// LeaseTTL are not stopped: a deployment must choose LeaseTTL well above
// its longest call.
//
// This service blocks on real time and goroutines; it is for
// production processes and Azure tests, not for the deterministic
// scheduler (use mtable.MemConfig there).
type ConfigService struct {
	tbl  spec.Table
	opts ConfigOptions

	mu         sync.Mutex
	state      mtable.State
	version    int64         // the version of state
	applied    int64         // the latest version fully applied locally
	leaseETag  spec.ETag     // current ETag of our lease row
	beat       int64         // our lease's renewal counter
	validUntil time.Time     // our lease is valid until then (local clock)
	lost       bool          // the lease was lost
	subs       []*cfgSub     // local subscriptions
	changed    chan struct{} // closed and replaced on every local change
	nextID     uint64

	stop    chan struct{}
	stopped chan struct{}
	closeMu sync.Once
}

type cfgSub struct {
	id      uint64
	sub     mtable.Subscriber
	version int64 // the version current when it subscribed
	active  bool
}

var _ mtable.ConfigService = (*ConfigService)(nil)

// OpenConfigService registers this process's lease in tbl, reads the
// current state (creating the state row as mtable.UseOldHideMetadata if
// there is none) and starts renewing the lease in the background. Close
// releases the lease.
func OpenConfigService(ctx context.Context, tbl spec.Table, opts ConfigOptions) (*ConfigService, error) {
	if opts.Partition == "" {
		opts.Partition = ConfigPartition
	}
	if opts.LeaseTTL == 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.ClientID == "" {
		return nil, errors.New("aztable: ConfigOptions.ClientID is required (a name unique to this process)")
	}
	if opts.PollInterval < 0 || opts.LeaseTTL < 3*opts.PollInterval {
		return nil, fmt.Errorf("aztable: LeaseTTL %v must be at least three times PollInterval %v (both positive)", opts.LeaseTTL, opts.PollInterval)
	}
	if err := spec.ValidateKey(spec.Key{PartitionKey: opts.Partition, RowKey: leasePrefix + opts.ClientID}); err != nil {
		return nil, fmt.Errorf("aztable: ClientID %q or Partition %q cannot be used in a key: %v", opts.ClientID, opts.Partition, err)
	}
	c := &ConfigService{tbl: tbl, opts: opts, changed: make(chan struct{}), stop: make(chan struct{}), stopped: make(chan struct{})}
	// The lease first, then the state: a push that writes the state
	// after our read sees our lease and waits for us.
	start := time.Now()
	res, err := tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.InsertOrReplace, Entity: c.leaseEntity(-1, 0)}})
	if err != nil {
		return nil, fmt.Errorf("aztable: registering the configuration lease %q: %w", opts.ClientID, err)
	}
	c.leaseETag, c.validUntil = res[0].ETag, start.Add(opts.LeaseTTL)
	st, ver, _, err := c.readState(ctx, true)
	if err != nil {
		c.deleteLease(context.Background())
		return nil, err
	}
	c.state, c.version, c.applied = st, ver, ver
	if err := c.renew(ctx); err != nil {
		c.deleteLease(context.Background())
		return nil, err
	}
	go c.loop()
	return c, nil
}

func (c *ConfigService) key(rk string) spec.Key {
	return spec.Key{PartitionKey: c.opts.Partition, RowKey: rk}
}

func (c *ConfigService) leaseEntity(acked, beat int64) spec.Entity {
	return spec.Entity{Key: c.key(leasePrefix + c.opts.ClientID), Props: spec.Props{
		propAcked: spec.Int64(acked), propBeat: spec.Int64(beat), propClient: spec.String(c.opts.ClientID),
	}}
}

// readState reads the state row; create makes it when absent.
func (c *ConfigService) readState(ctx context.Context, create bool) (mtable.State, int64, spec.ETag, error) {
	for {
		e, ok, err := spec.Retrieve(ctx, c.tbl, c.key(stateRowKey))
		if err != nil {
			return 0, 0, "", fmt.Errorf("aztable: reading the configuration state: %w", err)
		}
		if ok {
			st, ver, err := decodeStateRow(e)
			return st, ver, e.ETag, err
		}
		if !create {
			return mtable.UseOldHideMetadata, 0, "", nil
		}
		_, err = c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: c.key(stateRowKey), Props: spec.Props{
			propState: spec.Int32(int32(mtable.UseOldHideMetadata)), propVersion: spec.Int64(0)}}}})
		if err != nil && spec.StatusOf(err) != spec.StatusConflict {
			return 0, 0, "", fmt.Errorf("aztable: creating the configuration state: %w", err)
		}
	}
}

func decodeStateRow(e spec.Entity) (mtable.State, int64, error) {
	s, ok1 := e.Props[propState]
	v, ok2 := e.Props[propVersion]
	if !ok1 || !ok2 || s.Type() != spec.TypeInt32 || v.Type() != spec.TypeInt64 || s.AsInt() < 0 || s.AsInt() > int64(mtable.UseNewHideMetadata) {
		return 0, 0, fmt.Errorf("aztable: the configuration state row %v is malformed (want Int32 %q in 0..4 and Int64 %q)", e.Key, propState, propVersion)
	}
	return mtable.State(s.AsInt()), v.AsInt(), nil
}

// renew bumps the lease's beat and records the applied version.
func (c *ConfigService) renew(ctx context.Context) error {
	c.mu.Lock()
	if c.lost {
		c.mu.Unlock()
		return ErrLeaseLost
	}
	c.beat++
	e := c.leaseEntity(c.applied, c.beat)
	e.ETag = c.leaseETag
	c.mu.Unlock()
	start := time.Now()
	res, err := c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: e}})
	c.mu.Lock()
	defer c.mu.Unlock()
	switch st := spec.StatusOf(err); {
	case err == nil:
		c.leaseETag = res[0].ETag
		c.validUntil = start.Add(c.opts.LeaseTTL)
		return nil
	case st == spec.StatusNotFound || st == spec.StatusPreconditionFailed:
		c.lost = true
		c.signal()
		return ErrLeaseLost
	default:
		return fmt.Errorf("aztable: renewing the configuration lease: %w", err)
	}
}

// signal wakes everything waiting for a local change. c.mu is held.
func (c *ConfigService) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// loop renews the lease and picks up new states until Close, in two
// goroutines so that a slow state read never delays a renewal.
func (c *ConfigService) loop() {
	defer close(c.stopped)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	every := func(f func() bool) {
		tick := time.NewTicker(c.opts.PollInterval)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				cancel()
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if !f() {
				cancel()
				return
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		every(func() bool {
			if st, ver, _, err := c.readState(ctx, false); err == nil {
				c.deliver(st, ver)
			}
			return true
		})
	}()
	go func() {
		defer wg.Done()
		every(func() bool { return !errors.Is(c.renew(ctx), ErrLeaseLost) })
	}()
	wg.Wait()
}

// deliver makes (st, ver) the local state if it is newer, and starts
// applying it to the local subscribers.
func (c *ConfigService) deliver(st mtable.State, ver int64) {
	c.mu.Lock()
	if ver <= c.version {
		c.mu.Unlock()
		return
	}
	c.state, c.version = st, ver
	var waiting []*cfgSub
	for _, s := range c.subs {
		if s.active && s.version < ver {
			waiting = append(waiting, s)
		}
	}
	c.signal()
	c.mu.Unlock()
	go c.apply(st, ver, waiting)
}

// apply calls Apply on each subscriber and waits for every waiting
// subscription to acknowledge or be cancelled; then ver is applied.
func (c *ConfigService) apply(st mtable.State, ver int64, waiting []*cfgSub) {
	acked := make(map[uint64]bool)
	var wg sync.WaitGroup
	var ackMu sync.Mutex
	for _, s := range waiting {
		if s.sub == nil {
			continue
		}
		wg.Add(1)
		go func(s *cfgSub) {
			defer wg.Done()
			_ = s.sub.Apply(context.Background(), st)
			ackMu.Lock()
			acked[s.id] = true
			ackMu.Unlock()
			c.mu.Lock()
			c.signal()
			c.mu.Unlock()
		}(s)
	}
	for {
		c.mu.Lock()
		done := true
		ackMu.Lock()
		for _, s := range waiting {
			if s.active && !acked[s.id] {
				done = false
			}
		}
		ackMu.Unlock()
		if done {
			if ver > c.applied {
				c.applied = ver
			}
			c.signal()
			c.mu.Unlock()
			wg.Wait()
			return
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-c.stop:
			return
		}
	}
}

// Subscribe implements mtable.ConfigService: it registers sub and
// returns the state this process currently applies. It fails with
// ErrLeaseLost when the lease is no longer valid.
func (c *ConfigService) Subscribe(ctx context.Context, sub mtable.Subscriber) (mtable.State, func(), error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lost || time.Now().After(c.validUntil) {
		return 0, nil, ErrLeaseLost
	}
	c.nextID++
	s := &cfgSub{id: c.nextID, sub: sub, version: c.version, active: true}
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
		c.signal()
	}
	return c.state, cancel, nil
}

// Push implements mtable.ConfigService; see the type's doc. Pushing the
// current state again only waits for it to be applied everywhere; an
// earlier state is refused.
func (c *ConfigService) Push(ctx context.Context, s mtable.State) error {
	if s > mtable.UseNewHideMetadata {
		return fmt.Errorf("aztable: push of invalid state %d: want 0..%d", s, mtable.UseNewHideMetadata)
	}
	if err := c.Settle(ctx); err != nil {
		return err
	}
	for {
		cur, ver, etag, err := c.readState(ctx, true)
		if err != nil {
			return err
		}
		if s < cur {
			return fmt.Errorf("aztable: push of %s refused: the current state %s is later, and states only advance", s, cur)
		}
		if s == cur {
			return c.Settle(ctx)
		}
		_, err = c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: spec.Entity{Key: c.key(stateRowKey), ETag: etag, Props: spec.Props{
			propState: spec.Int32(int32(s)), propVersion: spec.Int64(ver + 1)}}}})
		if spec.StatusOf(err) == spec.StatusPreconditionFailed || spec.StatusOf(err) == spec.StatusNotFound {
			continue // another push raced with ours: look again
		}
		if err != nil {
			return fmt.Errorf("aztable: writing the configuration state %s: %w", s, err)
		}
		c.deliver(s, ver+1)
		return c.Settle(ctx)
	}
}

// Settle waits until every live lease (this process's included) has
// acknowledged the current state's version, deleting leases that have
// expired. A migrator resuming after a crash calls it before going on,
// since the crashed run may have written a state without seeing it
// acknowledged.
func (c *ConfigService) Settle(ctx context.Context) error {
	type seen struct {
		etag  spec.ETag
		since time.Time
	}
	watch := map[string]seen{}
	for {
		cur, ver, _, err := c.readState(ctx, true)
		if err != nil {
			return err
		}
		leases, err := c.leases(ctx)
		if err != nil {
			return err
		}
		pending := 0
		now := time.Now()
		for _, l := range leases {
			if l.Acked >= ver {
				continue
			}
			if l.Client == c.opts.ClientID {
				pending++ // ours: the local apply will acknowledge it
				continue
			}
			w, ok := watch[l.Client]
			if !ok || w.etag != l.etag {
				watch[l.Client] = seen{l.etag, now}
				pending++
				continue
			}
			if now.Sub(w.since) < c.opts.LeaseTTL {
				pending++
				continue
			}
			// Expired: remove it, unless it was renewed meanwhile.
			_, err := c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: c.key(leasePrefix + l.Client), ETag: l.etag}}})
			if err != nil && spec.StatusOf(err) != spec.StatusNotFound && spec.StatusOf(err) != spec.StatusPreconditionFailed {
				return fmt.Errorf("aztable: removing the expired lease of %q: %w", l.Client, err)
			}
			if err != nil {
				pending++
			}
		}
		if pending == 0 {
			return nil
		}
		c.mu.Lock()
		if c.lost {
			c.mu.Unlock()
			return ErrLeaseLost
		}
		c.mu.Unlock()
		c.deliver(cur, ver) // in case our own loop has not seen it yet
		t := time.NewTimer(c.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Lease is one process's lease as stored.
type Lease struct {
	Client string // the process's ClientID
	Acked  int64  // the latest state version it has applied (-1: none yet)
	Beat   int64  // its renewal counter
	etag   spec.ETag
}

func (c *ConfigService) leases(ctx context.Context) ([]Lease, error) {
	return readLeases(ctx, c.tbl, c.opts.Partition)
}

func readLeases(ctx context.Context, tbl spec.Table, partition string) ([]Lease, error) {
	rows, err := tbl.QueryAtomic(ctx, spec.AndFilters(spec.PartitionFilter(partition),
		spec.Comparison{Property: spec.RowKeyProp, Op: spec.Gt, Value: spec.String(leasePrefix)},
		spec.Comparison{Property: spec.RowKeyProp, Op: spec.Lt, Value: spec.String("lease.")})) // "." follows "-"
	if err != nil {
		return nil, fmt.Errorf("aztable: reading the configuration leases: %w", err)
	}
	var out []Lease
	for _, r := range rows {
		if !strings.HasPrefix(r.RowKey, leasePrefix) {
			continue
		}
		l := Lease{Client: strings.TrimPrefix(r.RowKey, leasePrefix), Acked: -1, etag: r.ETag}
		if v, ok := r.Props[propAcked]; ok && v.Type() == spec.TypeInt64 {
			l.Acked = v.AsInt()
		}
		if v, ok := r.Props[propBeat]; ok && v.Type() == spec.TypeInt64 {
			l.Beat = v.AsInt()
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Client < out[j].Client })
	return out, nil
}

// ConfigStatus is the stored configuration as ReadConfig reports it.
type ConfigStatus struct {
	State   mtable.State
	Version int64
	Leases  []Lease // sorted by Client
	// Migrator is the ClientID holding the migration lock, or "".
	Migrator string
}

// ReadConfig reads the configuration stored in partition of tbl
// (ConfigPartition when empty) without registering a lease. A table
// without configuration rows reports UseOldHideMetadata, version 0.
func ReadConfig(ctx context.Context, tbl spec.Table, partition string) (ConfigStatus, error) {
	if partition == "" {
		partition = ConfigPartition
	}
	c := &ConfigService{tbl: tbl, opts: ConfigOptions{Partition: partition}}
	st, ver, _, err := c.readState(ctx, false)
	if err != nil {
		return ConfigStatus{}, err
	}
	leases, err := readLeases(ctx, tbl, partition)
	if err != nil {
		return ConfigStatus{}, err
	}
	out := ConfigStatus{State: st, Version: ver, Leases: leases}
	if e, ok, err := spec.Retrieve(ctx, tbl, c.key(migratorRowKey)); err != nil {
		return ConfigStatus{}, fmt.Errorf("aztable: reading the migration lock: %w", err)
	} else if ok {
		out.Migrator = e.Props[propClient].Str()
	}
	return out, nil
}

// Current returns the state this process applies and its version.
func (c *ConfigService) Current() (mtable.State, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.version
}

// Close stops renewing and deletes the lease, so pushes stop waiting for
// this process at once. It is safe to call more than once.
func (c *ConfigService) Close() error {
	var err error
	c.closeMu.Do(func() {
		close(c.stop)
		<-c.stopped
		c.mu.Lock()
		c.lost = true
		c.mu.Unlock()
		err = c.deleteLease(context.Background())
	})
	return err
}

// Abandon stops renewing without deleting the lease, as a crashed
// process would: pushes wait for the lease to expire. It is for tests of
// crash handling.
func (c *ConfigService) Abandon() {
	c.closeMu.Do(func() {
		close(c.stop)
		<-c.stopped
		c.mu.Lock()
		c.lost = true
		c.mu.Unlock()
	})
}

func (c *ConfigService) deleteLease(ctx context.Context) error {
	_, err := c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.DeleteIfExists, Entity: spec.Entity{Key: c.key(leasePrefix + c.opts.ClientID)}}})
	if err != nil {
		return fmt.Errorf("aztable: releasing the configuration lease: %w", err)
	}
	return nil
}

// LockMigrator takes the migration lock, the row "migrator", so that
// only one migrator runs at a time. The lock is a lease like a client's:
// renewed every PollInterval, taken over by another migrator once it has
// shown no renewal for LeaseTTL.
//
// When the lock is held by another ClientID that keeps renewing it,
// LockMigrator returns an error wrapping ErrMigratorRunning, after at
// most LeaseTTL (the time it takes to tell a live holder from a dead
// one). A lock left by this same ClientID (an earlier run that died) is
// taken over at once.
//
// The returned context is cancelled when the lock is lost (not renewed
// within LeaseTTL, or taken away) or ctx is; run the migrator under it.
// release stops renewing and deletes the lock unless it was lost.
func (c *ConfigService) LockMigrator(ctx context.Context) (locked context.Context, release func(), err error) {
	key := c.key(migratorRowKey)
	row := func(beat int64, etag spec.ETag) spec.Entity {
		return spec.Entity{Key: key, ETag: etag, Props: spec.Props{propClient: spec.String(c.opts.ClientID), propBeat: spec.Int64(beat)}}
	}
	var etag spec.ETag
	var beat int64
	start := time.Now()
	for etag == "" {
		res, err := c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: row(0, "")}})
		if err == nil {
			etag = res[0].ETag
			break
		}
		if spec.StatusOf(err) != spec.StatusConflict {
			return nil, nil, fmt.Errorf("aztable: taking the migration lock: %w", err)
		}
		e, ok, err := spec.Retrieve(ctx, c.tbl, key)
		if err != nil {
			return nil, nil, fmt.Errorf("aztable: reading the migration lock: %w", err)
		}
		if !ok {
			continue
		}
		holder := e.Props[propClient].Str()
		beat = e.Props[propBeat].AsInt() + 1
		if holder != c.opts.ClientID {
			// Watch the holder's lease for one TTL.
			since := time.Now()
			for time.Since(since) < c.opts.LeaseTTL {
				t := time.NewTimer(c.opts.PollInterval)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, nil, ctx.Err()
				case <-t.C:
				}
				e2, ok, err := spec.Retrieve(ctx, c.tbl, key)
				if err != nil {
					return nil, nil, fmt.Errorf("aztable: reading the migration lock: %w", err)
				}
				if !ok || e2.ETag != e.ETag {
					if ok {
						holder = e2.Props[propClient].Str()
					}
					return nil, nil, fmt.Errorf("aztable: %w: %q holds the migration lock and renews it; wait for it to finish, or stop it (a stopped migrator's lock is taken over %v after its last renewal)", ErrMigratorRunning, holder, c.opts.LeaseTTL)
				}
			}
		}
		start = time.Now()
		res, err = c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: row(beat, e.ETag)}})
		if spec.StatusOf(err) == spec.StatusPreconditionFailed || spec.StatusOf(err) == spec.StatusNotFound {
			return nil, nil, fmt.Errorf("aztable: %w: another process took the migration lock at the same time", ErrMigratorRunning)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("aztable: taking over the migration lock: %w", err)
		}
		etag = res[0].ETag
	}
	lctx, cancel := context.WithCancelCause(ctx)
	var lost atomic.Bool
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		validUntil := start.Add(c.opts.LeaseTTL)
		tick := time.NewTicker(c.opts.PollInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-lctx.Done():
				return
			case <-tick.C:
			}
			beat++
			t0 := time.Now()
			res, err := c.tbl.ExecuteBatch(lctx, []spec.Op{{Kind: spec.Replace, Entity: row(beat, etag)}})
			switch {
			case err == nil:
				etag, validUntil = res[0].ETag, t0.Add(c.opts.LeaseTTL)
			case spec.StatusOf(err) == spec.StatusNotFound || spec.StatusOf(err) == spec.StatusPreconditionFailed:
				lost.Store(true)
				cancel(errors.New("aztable: the migration lock was taken by another migrator"))
				return
			case time.Now().After(validUntil):
				lost.Store(true)
				cancel(fmt.Errorf("aztable: the migration lock could not be renewed within %v: %v", c.opts.LeaseTTL, err))
				return
			}
		}
	}()
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(done)
			<-finished
			if !lost.Load() {
				// Also after ctx was cancelled (an interrupted migrator):
				// the next one need not wait for the lock to expire. A
				// 412 means it was taken over meanwhile: leave it.
				_, _ = c.tbl.ExecuteBatch(context.Background(), []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: key, ETag: etag}}})
			}
			cancel(context.Canceled)
		})
	}
	return lctx, release, nil
}
