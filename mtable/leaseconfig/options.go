package leaseconfig

import (
	"errors"
	"fmt"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// Defaults of Options. They satisfy the lease condition (see the
// package documentation): 60s > 1s + 10s + 20s + 1s.
const (
	DefaultLeaseTTL       = 60 * time.Second
	DefaultPollInterval   = time.Second
	DefaultRequestTimeout = 10 * time.Second
	DefaultClockSkew      = time.Second
	// DefaultMaxInFlight is twice DefaultRequestTimeout (see
	// Options.MaxInFlight).
	DefaultMaxInFlight = 2 * DefaultRequestTimeout
)

// Options configures a Service. Every process that shares a
// configuration must use the same LeaseTTL (each fences itself with its
// own value, and pushers expire leases with theirs).
type Options struct {
	// ClientID names this process in its lease, the migration lock and
	// status reports (e.g. host name and process ID); it must be usable
	// in a RowKey. Required. It need not be unique: each Service draws an
	// instance nonce, and leases and the lock tell instances apart by it.
	ClientID string
	// Old and New identify the pair of tables the configuration belongs
	// to. Required. The first process to open the configuration records
	// them; every later one must name the same pair (see ErrOtherTables).
	Old, New Identity
	// ConfigTable, when not zero, identifies the configuration table
	// itself, and Open refuses it when it is the old or the new table (the
	// configuration rows would mix with the data).
	ConfigTable Identity
	// Partition is the PartitionKey of the configuration rows (default
	// DefaultPartition).
	Partition string
	// LeaseTTL is how long a lease lives without renewal before a push
	// treats its process as gone (default DefaultLeaseTTL).
	LeaseTTL time.Duration
	// PollInterval is how often the process renews its lease and looks
	// for a new state, and how often a push looks at the leases (default
	// DefaultPollInterval).
	PollInterval time.Duration
	// RequestTimeout is the longest this process waits for any request:
	// the service's own and every request through its fences, enforced
	// with a context deadline on the caller's clock (sched.WithTimeout).
	// Default: the configuration table's own timeout when it reports one
	// (spec.RequestTimeouter), else DefaultRequestTimeout. A table that
	// reports a longer timeout is refused, by Open for the configuration
	// table and by the fences for the tables they guard.
	RequestTimeout time.Duration
	// MaxInFlight is the longest a request may take effect after it is
	// sent (default 2 × RequestTimeout), an assumption about the backend:
	// a request can reach the service as long as the client waits for it
	// (RequestTimeout), and a service that gives up on a request after a
	// server-side timeout equal to the client's (as the Azure adapter
	// asks for) works on it at most as long again. It must be at least
	// 2 × RequestTimeout.
	MaxInFlight time.Duration
	// ClockSkew bounds how much this process's clock may run slow against
	// another process's over one LeaseTTL (rate drift, a virtual machine
	// paused by its host), an assumption (default DefaultClockSkew).
	ClockSkew time.Duration
	// Bug selects one of the service's bug switches
	// (mtable.BugPushExpiresLeaseEarly, BugServeAfterLeaseExpiry,
	// BugMigratorLockNoIfMatch, BugMigratorResumeFromCachedState,
	// BugConfigNoRetry), for
	// the verification. Any other value,
	// the zero value and mtable.NoBug included, is the correct service,
	// so one Bug can be given to the service, every Table and the
	// Migrator.
	Bug mtable.Bug
}

// checkOptions fills in the defaults of o and checks it, before
// anything is sent. tbl is the configuration table.
func checkOptions(tbl spec.Table, o Options) (Options, error) {
	if tbl == nil {
		return o, errors.New("leaseconfig: no configuration table (got nil)")
	}
	if o.Partition == "" {
		o.Partition = DefaultPartition
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = DefaultRequestTimeout
		if rt, ok := tbl.(spec.RequestTimeouter); ok {
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
		return o, errors.New("leaseconfig: Options.ClientID is required (a name for this process)")
	}
	if err := spec.ValidateKey(spec.Key{PartitionKey: o.Partition, RowKey: leasePrefix + o.ClientID + ".0123456789abcdef"}); err != nil {
		return o, fmt.Errorf("leaseconfig: ClientID %q or Partition %q cannot be used in a key: %v", o.ClientID, o.Partition, err)
	}
	if o.Old.IsZero() || o.New.IsZero() {
		return o, errors.New("leaseconfig: Options.Old and New are required: the identities of the old and new tables")
	}
	if o.Old == o.New {
		return o, fmt.Errorf("leaseconfig: the old and new tables are the same table (%s)", o.Old)
	}
	if id := o.ConfigTable; !id.IsZero() && (id == o.Old || id == o.New) {
		return o, fmt.Errorf("leaseconfig: the configuration table %s is the old or the new table; keep the configuration in a table of its own", id)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"LeaseTTL", o.LeaseTTL}, {"PollInterval", o.PollInterval}, {"RequestTimeout", o.RequestTimeout}, {"MaxInFlight", o.MaxInFlight}, {"ClockSkew", o.ClockSkew}} {
		if d.v < 0 {
			return o, fmt.Errorf("leaseconfig: %s %v is negative", d.name, d.v)
		}
	}
	if rt, ok := tbl.(spec.RequestTimeouter); ok && rt.RequestTimeout() > o.RequestTimeout {
		return o, fmt.Errorf("leaseconfig: RequestTimeout %v is shorter than the configuration table's request timeout %v; raise RequestTimeout", o.RequestTimeout, rt.RequestTimeout())
	}
	if o.MaxInFlight < 2*o.RequestTimeout {
		return o, fmt.Errorf("leaseconfig: MaxInFlight %v is less than 2 × RequestTimeout %v: a request may reach the service until the client gives up on it and the service may work on it as long again; raise MaxInFlight or lower RequestTimeout", o.MaxInFlight, o.RequestTimeout)
	}
	if need := o.PollInterval + o.RequestTimeout + o.MaxInFlight + o.ClockSkew; o.LeaseTTL <= need {
		return o, fmt.Errorf("leaseconfig: LeaseTTL %v is too short: it must exceed PollInterval %v + RequestTimeout %v + MaxInFlight %v + ClockSkew %v = %v, or a process renewing on schedule would find its fence closed; raise LeaseTTL (or lower one of the others)",
			o.LeaseTTL, o.PollInterval, o.RequestTimeout, o.MaxInFlight, o.ClockSkew, need)
	}
	return o, nil
}

// CheckOptions checks opts as Open does, for a configuration kept in
// tbl, without sending anything: a command can refuse bad options before
// it creates any table.
func CheckOptions(tbl spec.Table, opts Options) error {
	_, err := checkOptions(tbl, opts)
	return err
}
