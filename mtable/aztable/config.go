package aztable

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
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

	propState    = "state"   // Int32: the mtable.State
	propVersion  = "version" // Int64: bumped by every push
	propOldEP    = "oldEndpoint"
	propOldName  = "oldTable" // String: the pair the configuration belongs to (TableID fields)
	propNewEP    = "newEndpoint"
	propNewName  = "newTable"
	propAcked    = "acked"    // Int64: the version a lease's process has applied
	propBeat     = "beat"     // Int64: bumped by every renewal
	propClient   = "client"   // String: the client's ID
	propInstance = "instance" // String: the instance's nonce
)

// Defaults of ConfigOptions. They satisfy the lease condition (see
// ConfigService, "Fencing"): 60s > 1s + 10s + 20s + 1s.
const (
	DefaultLeaseTTL     = 60 * time.Second
	DefaultPollInterval = time.Second
	DefaultClockSkew    = time.Second
	// DefaultMaxInFlight is twice DefaultRequestTimeout (see
	// ConfigOptions.MaxInFlight).
	DefaultMaxInFlight = 2 * DefaultRequestTimeout
)

// ConfigOptions configures a ConfigService.
type ConfigOptions struct {
	// ClientID names this process in its lease, the migration lock and
	// status reports (e.g. host name and process ID); it must be usable
	// in a RowKey. Required. It need not be unique: each ConfigService
	// draws a random instance nonce, and leases and the lock tell
	// instances apart by it.
	ClientID string
	// Old and New identify the pair of tables the configuration belongs
	// to (Table.ID). Required. The first process to open the
	// configuration records them; every later one must name the same
	// pair (see ErrOtherTables).
	Old, New TableID
	// Partition is the PartitionKey of the configuration rows
	// (default ConfigPartition).
	Partition string
	// LeaseTTL is how long a lease lives without renewal before a push
	// treats its process as gone (default DefaultLeaseTTL). It must be the
	// same in every process sharing the configuration (each process
	// fences itself with its own value, and pushers expire leases with
	// theirs).
	LeaseTTL time.Duration
	// PollInterval is how often the process renews its lease and looks
	// for a new state, and how often a push looks at the leases
	// (default DefaultPollInterval).
	PollInterval time.Duration
	// RequestTimeout is the longest this process waits for a request
	// (default: the configuration table's Account's RequestTimeout, or
	// DefaultRequestTimeout). The tables the process uses through
	// MigratingTable must not time out later: their requests are refused
	// otherwise.
	RequestTimeout time.Duration
	// MaxInFlight is the longest a request may take effect after it is
	// sent (default 2 × RequestTimeout). On Azure a request the client
	// gave up on after RequestTimeout cannot reach the service later, and
	// the service gives up on a request after its server-side timeout,
	// which the adapter sets to RequestTimeout: hence at least
	// 2 × RequestTimeout.
	MaxInFlight time.Duration
	// ClockSkew bounds how much this process's clock may run slow against
	// another process's over one LeaseTTL (rate drift, a virtual machine
	// paused by its host) (default DefaultClockSkew).
	ClockSkew time.Duration
}

// ErrLeaseLost is returned by Subscribe once the process's lease has
// expired or been taken away: the process may have missed a state, so it
// must not start calls until it opens the configuration service again.
var ErrLeaseLost = errors.New("aztable: the configuration lease of this process was lost (not renewed within its TTL); open the configuration service again")

// ErrMigratorRunning is returned (wrapped) by LockMigrator when another
// migrator holds the migration lock and keeps renewing it.
var ErrMigratorRunning = errors.New("another migrator is running")

// ErrOtherTables is returned (wrapped) by OpenConfigService when the
// configuration partition belongs to another pair of tables: a migration
// of another pair needs its own partition or configuration table.
var ErrOtherTables = errors.New("the configuration belongs to another pair of tables")

// ConfigService is an mtable.ConfigService kept in a table, so that
// separate processes share one migration state. Each process opens one
// (OpenConfigService) and hands it to every mtable.Table and
// mtable.Migrator it creates.
//
// # Rows
//
// In one partition of the given table: the row "state" holds the
// current mtable.State, a version that every push increments, and the
// pair of tables (Old, New) the configuration belongs to; it is only ever
// changed with If-Match on the version read. Each process holds a row
// "lease-<ClientID>.<instance>" that it renews every PollInterval, and on
// which it records the latest version it has applied ("acked"): applied
// means that every local Subscriber has returned from Apply and every
// local subscription begun under the earlier state has been cancelled.
// The row "migrator" is the migration lock (LockMigrator).
//
// # One pair of tables per configuration
//
// The state row records the TableIDs of the old and new tables when it
// is created; OpenConfigService refuses, with ErrOtherTables, a process
// that names another pair, and a configuration table that is the old or
// the new table itself. The default partition is the same for every
// pair on purpose: two processes that spelled one table differently
// (and so might compute different identities) meet in the same
// partition and the second is refused, rather than each following a
// migration state of its own. A second migration that shares a
// configuration table therefore names its own Partition.
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
// processes' clocks. The holder of a lease (a process's configuration
// lease, or the migration lock) counts it valid until LeaseTTL after the
// start of its last successful renewal, on its own monotonic clock; any
// other process considers it expired only after it has seen it unchanged
// for LeaseTTL on its clock, which begins after that renewal took
// effect. A request the holder sends at time t may take effect until
// t + MaxInFlight, and the holder's clock may lag the other's by
// ClockSkew over a lease. So the fence (Fence, MigratorLock.Fence) sends
// a request only while
//
//	now + MaxInFlight + ClockSkew < validUntil
//
// and every request it lets through takes effect before anyone can act
// on the lease's expiry. Requests are refused without being sent once
// the fence has closed, and cut off (outcome unknown) if still in flight
// when it closes; both errors wrap ErrFenced. For the fence to stay open
// while a process renews on schedule, a renewal started at most
// PollInterval after the previous one and answered within RequestTimeout
// must land before the fence closes; OpenConfigService refuses options
// that break
//
//	LeaseTTL > PollInterval + RequestTimeout + MaxInFlight + ClockSkew
//
// naming the term to change. The defaults satisfy it with room for
// about 28 failed renewals in a row.
//
// The fence is checked as late as the HTTP transport allows (as the
// request goes out and as its body is read) but cannot be atomic with
// the write to the network: a process stopped in the few instructions
// between the last check and that write, for longer than the fence's
// remaining time, still sends its request late. Assumptions: MaxInFlight
// bounds the delay from send to effect (on Azure: RequestTimeout on the
// client, plus the server-side timeout the adapter asks for, at most
// 30 s); ClockSkew bounds the clock's lag, including any time the holder's
// machine was suspended (the monotonic clock does not count it); a
// stopped process (SIGSTOP) is fine, its monotonic clock runs on.
//
// This service blocks on real time and goroutines; it is for
// production processes and Azure tests, not for the deterministic
// scheduler (use mtable.MemConfig there).
type ConfigService struct {
	tbl      spec.Table
	opts     ConfigOptions
	instance string // this ConfigService's nonce
	leaseRK  string // RowKey of our lease
	now      func() time.Time
	valid    validity // our lease's validity
	fence    *fence

	mu        sync.Mutex
	state     mtable.State
	version   int64         // the version of state
	applied   int64         // the latest version fully applied locally
	leaseETag spec.ETag     // current ETag of our lease row
	beat      int64         // our lease's renewal counter
	subs      []*cfgSub     // local subscriptions
	changed   chan struct{} // closed and replaced on every local change
	nextID    uint64
	lock      *MigratorLock // the migration lock, while held

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

var (
	_ mtable.ConfigService = (*ConfigService)(nil)
	_ mtable.Fencer        = (*ConfigService)(nil)
)

// newInstance returns a random nonce that tells this instance apart.
func newInstance() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// checkOptions fills in the defaults of o and checks it, before
// anything is sent. tbl is the configuration table.
func checkOptions(tbl spec.Table, o ConfigOptions) (ConfigOptions, error) {
	if o.Partition == "" {
		o.Partition = ConfigPartition
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
		if rt, ok := tbl.(interface{ RequestTimeout() time.Duration }); ok {
			o.RequestTimeout = rt.RequestTimeout()
		}
	}
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 2 * o.RequestTimeout
	}
	if o.ClockSkew == 0 {
		o.ClockSkew = DefaultClockSkew
	}
	if o.ClientID == "" {
		return o, errors.New("aztable: ConfigOptions.ClientID is required (a name for this process)")
	}
	if err := spec.ValidateKey(spec.Key{PartitionKey: o.Partition, RowKey: leasePrefix + o.ClientID + ".0123456789abcdef"}); err != nil {
		return o, fmt.Errorf("aztable: ClientID %q or Partition %q cannot be used in a key: %v", o.ClientID, o.Partition, err)
	}
	if o.Old == (TableID{}) || o.New == (TableID{}) {
		return o, errors.New("aztable: ConfigOptions.Old and New are required: the TableIDs of the old and new tables (Table.ID)")
	}
	if o.Old == o.New {
		return o, fmt.Errorf("aztable: the old and new tables are the same table (%s)", o.Old)
	}
	if t, ok := tbl.(*Table); ok {
		if id := t.ID(); id == o.Old || id == o.New {
			return o, fmt.Errorf("aztable: the configuration table %s is the old or the new table; keep the configuration in a table of its own", id)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"LeaseTTL", o.LeaseTTL}, {"PollInterval", o.PollInterval}, {"RequestTimeout", o.RequestTimeout}, {"MaxInFlight", o.MaxInFlight}, {"ClockSkew", o.ClockSkew}} {
		if d.v < 0 {
			return o, fmt.Errorf("aztable: %s %v is negative", d.name, d.v)
		}
	}
	if rt, ok := tbl.(interface{ RequestTimeout() time.Duration }); ok && rt.RequestTimeout() > o.RequestTimeout {
		return o, fmt.Errorf("aztable: RequestTimeout %v is shorter than the configuration table's request timeout %v; raise RequestTimeout", o.RequestTimeout, rt.RequestTimeout())
	}
	if o.MaxInFlight < 2*o.RequestTimeout {
		return o, fmt.Errorf("aztable: MaxInFlight %v is less than 2 × RequestTimeout %v: a request may reach the service until the client gives up on it and the service may work on it as long again; raise MaxInFlight or lower RequestTimeout", o.MaxInFlight, o.RequestTimeout)
	}
	if need := o.PollInterval + o.RequestTimeout + o.MaxInFlight + o.ClockSkew; o.LeaseTTL <= need {
		return o, fmt.Errorf("aztable: LeaseTTL %v is too short: it must exceed PollInterval %v + RequestTimeout %v + MaxInFlight %v + ClockSkew %v = %v, or a process renewing on schedule would find its fence closed; raise LeaseTTL (or lower one of the others)",
			o.LeaseTTL, o.PollInterval, o.RequestTimeout, o.MaxInFlight, o.ClockSkew, need)
	}
	return o, nil
}

// CheckConfigOptions checks opts as OpenConfigService does, for a
// configuration kept in tbl, without sending anything: a command can
// refuse bad options before it creates any table.
func CheckConfigOptions(tbl spec.Table, opts ConfigOptions) error {
	_, err := checkOptions(tbl, opts)
	return err
}

// OpenConfigService checks opts (see ConfigOptions; nothing is sent when
// they are refused), registers this process's lease in tbl, reads the
// current state (creating the state row as mtable.UseOldHideMetadata,
// with the pair of tables, if there is none; an error wrapping
// ErrOtherTables if it belongs to another pair) and starts renewing the
// lease in the background. Close releases the lease.
func OpenConfigService(ctx context.Context, tbl spec.Table, opts ConfigOptions) (*ConfigService, error) {
	opts, err := checkOptions(tbl, opts)
	if err != nil {
		return nil, err
	}
	c := &ConfigService{tbl: tbl, opts: opts, instance: newInstance(), now: time.Now,
		changed: make(chan struct{}), stop: make(chan struct{}), stopped: make(chan struct{})}
	c.leaseRK = leasePrefix + opts.ClientID + "." + c.instance
	c.fence = &fence{what: fmt.Sprintf("the configuration lease of %q (instance %s)", opts.ClientID, c.instance), v: &c.valid,
		maxInFlight: opts.MaxInFlight, skew: opts.ClockSkew, maxTimeout: opts.RequestTimeout, now: c.now}
	// A configuration of another pair is refused before anything is
	// written (openState checks again once the lease is registered).
	if row, err := c.readState(ctx, false); err != nil {
		return nil, err
	} else if row.exists && (row.old != (TableID{}) || row.version > 0) {
		if err := c.checkPair(row); err != nil {
			return nil, err
		}
	}
	// The lease first, then the state: a push that writes the state
	// after our read sees our lease and waits for us.
	start := c.now()
	res, err := tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: c.leaseEntity(-1, 0)}})
	if err != nil {
		if spec.StatusOf(err) == 0 {
			c.deleteLease(context.Background()) // it may have been written after all
		}
		return nil, fmt.Errorf("aztable: registering the configuration lease of %q: %w", opts.ClientID, err)
	}
	c.leaseETag = res[0].ETag
	c.valid.extend(start.Add(opts.LeaseTTL))
	st, ver, err := c.openState(ctx)
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

// openState reads (or creates) the state row and checks its pair of
// tables; a row without a pair that no push has changed yet (version 0)
// is given ours.
func (c *ConfigService) openState(ctx context.Context) (mtable.State, int64, error) {
	for {
		row, err := c.readState(ctx, true)
		if err != nil {
			return 0, 0, err
		}
		if row.old == (TableID{}) && row.version == 0 {
			e := c.stateEntity(row.state, 0)
			e.ETag = row.etag
			_, err := c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: e}})
			if err != nil && spec.StatusOf(err) != spec.StatusPreconditionFailed && spec.StatusOf(err) != spec.StatusNotFound {
				return 0, 0, fmt.Errorf("aztable: recording the tables in the configuration state: %w", err)
			}
			continue
		}
		if err := c.checkPair(row); err != nil {
			return 0, 0, err
		}
		return row.state, row.version, nil
	}
}

func (c *ConfigService) checkPair(row stateRow) error {
	if row.old == (TableID{}) {
		return fmt.Errorf("aztable: %w: the configuration state in partition %q (%s, version %d) records no tables (it was written by an earlier version of this package); finish that migration with it, or use another Partition",
			ErrOtherTables, c.opts.Partition, row.state, row.version)
	}
	if row.old != c.opts.Old || row.new != c.opts.New {
		return fmt.Errorf("aztable: %w: the configuration in partition %q belongs to the migration of %s to %s (%s, version %d), not of %s to %s; give this migration its own configuration partition or table",
			ErrOtherTables, c.opts.Partition, row.old, row.new, row.state, row.version, c.opts.Old, c.opts.New)
	}
	return nil
}

func (c *ConfigService) key(rk string) spec.Key {
	return spec.Key{PartitionKey: c.opts.Partition, RowKey: rk}
}

func (c *ConfigService) leaseEntity(acked, beat int64) spec.Entity {
	return spec.Entity{Key: c.key(c.leaseRK), Props: spec.Props{
		propAcked: spec.Int64(acked), propBeat: spec.Int64(beat), propClient: spec.String(c.opts.ClientID), propInstance: spec.String(c.instance),
	}}
}

func (c *ConfigService) stateEntity(s mtable.State, ver int64) spec.Entity {
	return spec.Entity{Key: c.key(stateRowKey), Props: spec.Props{
		propState: spec.Int32(int32(s)), propVersion: spec.Int64(ver),
		propOldEP: spec.String(c.opts.Old.Endpoint), propOldName: spec.String(c.opts.Old.Name),
		propNewEP: spec.String(c.opts.New.Endpoint), propNewName: spec.String(c.opts.New.Name),
	}}
}

// stateRow is the decoded state row.
type stateRow struct {
	state    mtable.State
	version  int64
	old, new TableID // zero when not recorded
	etag     spec.ETag
	exists   bool
}

// readState reads the state row; create makes it when absent (with our
// pair of tables).
func (c *ConfigService) readState(ctx context.Context, create bool) (stateRow, error) {
	return readStateRow(ctx, c.tbl, c.opts.Partition, func() (spec.Entity, bool) {
		return c.stateEntity(mtable.UseOldHideMetadata, 0), create
	})
}

func readStateRow(ctx context.Context, tbl spec.Table, partition string, create func() (spec.Entity, bool)) (stateRow, error) {
	key := spec.Key{PartitionKey: partition, RowKey: stateRowKey}
	for {
		e, ok, err := spec.Retrieve(ctx, tbl, key)
		if err != nil {
			return stateRow{}, fmt.Errorf("aztable: reading the configuration state: %w", err)
		}
		if ok {
			return decodeStateRow(e)
		}
		row, doCreate := create()
		if !doCreate {
			return stateRow{state: mtable.UseOldHideMetadata}, nil
		}
		_, err = tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Insert, Entity: row}})
		if err != nil && spec.StatusOf(err) != spec.StatusConflict {
			return stateRow{}, fmt.Errorf("aztable: creating the configuration state: %w", err)
		}
	}
}

func decodeStateRow(e spec.Entity) (stateRow, error) {
	s, ok1 := e.Props[propState]
	v, ok2 := e.Props[propVersion]
	if !ok1 || !ok2 || s.Type() != spec.TypeInt32 || v.Type() != spec.TypeInt64 || s.AsInt() < 0 || s.AsInt() > int64(mtable.UseNewHideMetadata) {
		return stateRow{}, fmt.Errorf("aztable: the configuration state row %v is malformed (want Int32 %q in 0..4 and Int64 %q)", e.Key, propState, propVersion)
	}
	row := stateRow{state: mtable.State(s.AsInt()), version: v.AsInt(), etag: e.ETag, exists: true}
	str := func(name string) string {
		if x, ok := e.Props[name]; ok && x.Type() == spec.TypeString {
			return x.Str()
		}
		return ""
	}
	row.old = TableID{Endpoint: str(propOldEP), Name: str(propOldName)}
	row.new = TableID{Endpoint: str(propNewEP), Name: str(propNewName)}
	if (row.old == TableID{}) != (row.new == TableID{}) || row.old != (TableID{}) && (row.old.Endpoint == "" || row.old.Name == "" || row.new.Endpoint == "" || row.new.Name == "") {
		return stateRow{}, fmt.Errorf("aztable: the configuration state row %v is malformed (its tables are incomplete)", e.Key)
	}
	return row, nil
}

// renew bumps the lease's beat and records the applied version.
func (c *ConfigService) renew(ctx context.Context) error {
	if _, lost := c.valid.get(); lost {
		return ErrLeaseLost
	}
	c.mu.Lock()
	c.beat++
	e := c.leaseEntity(c.applied, c.beat)
	e.ETag = c.leaseETag
	c.mu.Unlock()
	start := c.now()
	res, err := c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: e}})
	switch st := spec.StatusOf(err); {
	case err == nil:
		c.mu.Lock()
		c.leaseETag = res[0].ETag
		c.mu.Unlock()
		c.valid.extend(start.Add(c.opts.LeaseTTL))
		return nil
	case st == spec.StatusPreconditionFailed:
		// Our previous renewal may have taken effect without our hearing
		// of it (it timed out): the row is then still ours. Take its ETag
		// (its validity is not extended: we do not know when it landed).
		cur, ok, rerr := spec.Retrieve(ctx, c.tbl, c.key(c.leaseRK))
		if rerr == nil && ok && cur.Props[propInstance].Str() == c.instance {
			c.mu.Lock()
			c.leaseETag = cur.ETag
			c.mu.Unlock()
			return fmt.Errorf("aztable: renewing the configuration lease: an earlier renewal took effect unseen; retrying")
		}
		if rerr != nil {
			return fmt.Errorf("aztable: renewing the configuration lease: %w", rerr)
		}
		c.loseLease()
		return ErrLeaseLost
	case st == spec.StatusNotFound:
		c.loseLease()
		return ErrLeaseLost
	default:
		return fmt.Errorf("aztable: renewing the configuration lease: %w", err)
	}
}

func (c *ConfigService) loseLease() {
	c.valid.lose()
	c.mu.Lock()
	c.signal()
	c.mu.Unlock()
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
			if row, err := c.readState(ctx, false); err == nil && row.exists {
				c.deliver(row.state, row.version)
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
	if until, lost := c.valid.get(); lost || !c.now().Before(until) {
		return 0, nil, ErrLeaseLost
	}
	c.mu.Lock()
	defer c.mu.Unlock()
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

// Fence implements mtable.Fencer: the returned view of t sends each
// request only while this process's configuration lease is surely valid
// (see Fencing). mtable.New uses it for the old and new tables.
func (c *ConfigService) Fence(t spec.Table) spec.Table { return c.fence.wrap(t) }

// Push implements mtable.ConfigService; see the type's doc. Pushing the
// current state again only waits for it to be applied everywhere; an
// earlier state is refused. While this process holds the migration lock
// (LockMigrator), the write of the new state goes through the lock's
// fence.
func (c *ConfigService) Push(ctx context.Context, s mtable.State) error {
	if s > mtable.UseNewHideMetadata {
		return fmt.Errorf("aztable: push of invalid state %d: want 0..%d", s, mtable.UseNewHideMetadata)
	}
	if err := c.Settle(ctx); err != nil {
		return err
	}
	for {
		row, err := c.readState(ctx, true)
		if err != nil {
			return err
		}
		if err := c.checkPair(row); err != nil {
			return err
		}
		if s < row.state {
			return fmt.Errorf("aztable: push of %s refused: the current state %s is later, and states only advance", s, row.state)
		}
		if s == row.state {
			return c.Settle(ctx)
		}
		e := c.stateEntity(s, row.version+1)
		e.ETag = row.etag
		tbl := c.tbl
		c.mu.Lock()
		if c.lock != nil {
			tbl = c.lock.Fence(tbl)
		}
		c.mu.Unlock()
		_, err = tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Replace, Entity: e}})
		if spec.StatusOf(err) == spec.StatusPreconditionFailed || spec.StatusOf(err) == spec.StatusNotFound {
			continue // another push raced with ours: look again
		}
		if err != nil {
			return fmt.Errorf("aztable: writing the configuration state %s: %w", s, err)
		}
		c.deliver(s, row.version+1)
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
	watch := map[string]seen{} // by lease RowKey
	for {
		row, err := c.readState(ctx, true)
		if err != nil {
			return err
		}
		leases, err := c.leases(ctx)
		if err != nil {
			return err
		}
		pending := 0
		now := c.now()
		for _, l := range leases {
			if l.Acked >= row.version {
				continue
			}
			if l.rowKey == c.leaseRK {
				pending++ // ours: the local apply will acknowledge it
				continue
			}
			w, ok := watch[l.rowKey]
			if !ok || w.etag != l.etag {
				watch[l.rowKey] = seen{l.etag, now}
				pending++
				continue
			}
			if now.Sub(w.since) < c.opts.LeaseTTL {
				pending++
				continue
			}
			// Expired: remove it, unless it was renewed meanwhile.
			_, err := c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.Delete, Entity: spec.Entity{Key: c.key(l.rowKey), ETag: l.etag}}})
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
		if _, lost := c.valid.get(); lost {
			return ErrLeaseLost
		}
		c.deliver(row.state, row.version) // in case our own loop has not seen it yet
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
	Client   string // the process's ClientID
	Instance string // the instance's nonce ("" in a lease written by an earlier version)
	Acked    int64  // the latest state version it has applied (-1: none yet)
	Beat     int64  // its renewal counter
	etag     spec.ETag
	rowKey   string
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
		l := Lease{Client: strings.TrimPrefix(r.RowKey, leasePrefix), Acked: -1, etag: r.ETag, rowKey: r.RowKey}
		if v, ok := r.Props[propClient]; ok && v.Type() == spec.TypeString {
			l.Client = v.Str()
		}
		if v, ok := r.Props[propInstance]; ok && v.Type() == spec.TypeString {
			l.Instance = v.Str()
		}
		if v, ok := r.Props[propAcked]; ok && v.Type() == spec.TypeInt64 {
			l.Acked = v.AsInt()
		}
		if v, ok := r.Props[propBeat]; ok && v.Type() == spec.TypeInt64 {
			l.Beat = v.AsInt()
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rowKey < out[j].rowKey })
	return out, nil
}

// ConfigStatus is the stored configuration as ReadConfig reports it.
type ConfigStatus struct {
	// Exists is false when the partition holds no state row (no process
	// has opened the configuration); State is then UseOldHideMetadata.
	Exists  bool
	State   mtable.State
	Version int64
	// Old and New are the pair of tables the configuration belongs to
	// (zero when none is recorded).
	Old, New TableID
	Leases   []Lease // sorted by ClientID, then instance
	// Migrator is the ClientID holding the migration lock, or "", and
	// MigratorInstance its instance.
	Migrator, MigratorInstance string
}

// ReadConfig reads the configuration stored in partition of tbl
// (ConfigPartition when empty) without registering a lease and without
// writing anything.
func ReadConfig(ctx context.Context, tbl spec.Table, partition string) (ConfigStatus, error) {
	if partition == "" {
		partition = ConfigPartition
	}
	row, err := readStateRow(ctx, tbl, partition, func() (spec.Entity, bool) { return spec.Entity{}, false })
	if err != nil {
		return ConfigStatus{}, err
	}
	leases, err := readLeases(ctx, tbl, partition)
	if err != nil {
		return ConfigStatus{}, err
	}
	out := ConfigStatus{Exists: row.exists, State: row.state, Version: row.version, Old: row.old, New: row.new, Leases: leases}
	if e, ok, err := spec.Retrieve(ctx, tbl, spec.Key{PartitionKey: partition, RowKey: migratorRowKey}); err != nil {
		return ConfigStatus{}, fmt.Errorf("aztable: reading the migration lock: %w", err)
	} else if ok {
		out.Migrator, out.MigratorInstance = e.Props[propClient].Str(), e.Props[propInstance].Str()
	}
	return out, nil
}

// Current returns the state this process applies and its version.
func (c *ConfigService) Current() (mtable.State, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.version
}

// Instance returns this ConfigService's instance nonce, which tells it
// apart from other processes given the same ClientID.
func (c *ConfigService) Instance() string { return c.instance }

// Close stops renewing and deletes the lease, so pushes stop waiting for
// this process at once. It is safe to call more than once.
func (c *ConfigService) Close() error {
	var err error
	c.closeMu.Do(func() {
		close(c.stop)
		<-c.stopped
		c.valid.lose()
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
		c.valid.lose()
	})
}

func (c *ConfigService) deleteLease(ctx context.Context) error {
	_, err := c.tbl.ExecuteBatch(ctx, []spec.Op{{Kind: spec.DeleteIfExists, Entity: spec.Entity{Key: c.key(c.leaseRK)}}})
	if err != nil {
		return fmt.Errorf("aztable: releasing the configuration lease: %w", err)
	}
	return nil
}
