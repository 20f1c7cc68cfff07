package leaseconfig

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// Rows of the configuration partition. The property names are those the
// Azure adapter's service used before this package existed, so a
// configuration written by it is read unchanged.
const (
	// DefaultPartition is the default PartitionKey of the configuration
	// rows.
	DefaultPartition = "mtable-config"
	stateRowKey      = "state"
	leasePrefix      = "lease-"
	migratorRowKey   = "migrator"

	propState    = "state"   // Int32: the mtable.State
	propVersion  = "version" // Int64: bumped by every push
	propOldEP    = "oldEndpoint"
	propOldName  = "oldTable" // String: the pair the configuration belongs to (Identity fields)
	propNewEP    = "newEndpoint"
	propNewName  = "newTable"
	propAcked    = "acked"    // Int64: the version a lease's process has applied
	propBeat     = "beat"     // Int64: bumped by every renewal
	propClient   = "client"   // String: the client's ID
	propInstance = "instance" // String: the instance's nonce
)

// Identity identifies one table of the pair a configuration belongs to.
// It is opaque to this package: two Identities name the same table
// exactly when they are equal, so the caller builds them from a
// canonical form (for Azure Table storage, aztable.TableID: the
// normalised account endpoint and the case-folded table name).
type Identity struct {
	Endpoint string // where the table lives: an account endpoint, a database
	Name     string // the table's name there
}

// String returns "name at endpoint".
func (id Identity) String() string { return id.Name + " at " + id.Endpoint }

// IsZero reports whether id is the zero Identity (no table).
func (id Identity) IsZero() bool { return id == Identity{} }

// stateRow is the decoded state row.
type stateRow struct {
	state    mtable.State
	version  int64
	old, new Identity // zero when not recorded
	etag     spec.ETag
	exists   bool
}

// readStateRow reads the state row of partition; when it is absent and
// create returns an entity and true, it inserts that entity and reads
// again.
func readStateRow(ctx context.Context, tbl spec.Table, partition string, create func() (spec.Entity, bool)) (stateRow, error) {
	key := spec.Key{PartitionKey: partition, RowKey: stateRowKey}
	for {
		e, ok, err := spec.Retrieve(ctx, tbl, key)
		if err != nil {
			return stateRow{}, fmt.Errorf("leaseconfig: reading the configuration state: %w", err)
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
			return stateRow{}, fmt.Errorf("leaseconfig: creating the configuration state: %w", err)
		}
	}
}

func decodeStateRow(e spec.Entity) (stateRow, error) {
	s, ok1 := e.Props[propState]
	v, ok2 := e.Props[propVersion]
	if !ok1 || !ok2 || s.Type() != spec.TypeInt32 || v.Type() != spec.TypeInt64 || s.AsInt() < 0 || s.AsInt() > int64(mtable.UseNewHideMetadata) {
		return stateRow{}, fmt.Errorf("leaseconfig: the configuration state row %v is malformed (want Int32 %q in 0..4 and Int64 %q)", e.Key, propState, propVersion)
	}
	row := stateRow{state: mtable.State(s.AsInt()), version: v.AsInt(), etag: e.ETag, exists: true}
	row.old = Identity{Endpoint: str(e, propOldEP), Name: str(e, propOldName)}
	row.new = Identity{Endpoint: str(e, propNewEP), Name: str(e, propNewName)}
	if row.old.IsZero() != row.new.IsZero() || !row.old.IsZero() && (row.old.Endpoint == "" || row.old.Name == "" || row.new.Endpoint == "" || row.new.Name == "") {
		return stateRow{}, fmt.Errorf("leaseconfig: the configuration state row %v is malformed (its tables are incomplete)", e.Key)
	}
	return row, nil
}

// str returns e's String property name, or "".
func str(e spec.Entity, name string) string {
	if x, ok := e.Props[name]; ok && x.Type() == spec.TypeString {
		return x.Str()
	}
	return ""
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

func readLeases(ctx context.Context, tbl spec.Table, partition string) ([]Lease, error) {
	rows, err := tbl.QueryAtomic(ctx, spec.AndFilters(spec.PartitionFilter(partition),
		spec.Comparison{Property: spec.RowKeyProp, Op: spec.Gt, Value: spec.String(leasePrefix)},
		spec.Comparison{Property: spec.RowKeyProp, Op: spec.Lt, Value: spec.String("lease.")})) // "." follows "-"
	if err != nil {
		return nil, fmt.Errorf("leaseconfig: reading the configuration leases: %w", err)
	}
	var out []Lease
	for _, r := range rows {
		if !strings.HasPrefix(r.RowKey, leasePrefix) {
			continue
		}
		l := Lease{Client: strings.TrimPrefix(r.RowKey, leasePrefix), Acked: -1, etag: r.ETag, rowKey: r.RowKey}
		if v := str(r, propClient); v != "" {
			l.Client = v
		}
		l.Instance = str(r, propInstance)
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

// Status is the stored configuration as ReadStatus reports it.
type Status struct {
	// Exists is false when the partition holds no state row (no process
	// has opened the configuration); State is then UseOldHideMetadata.
	Exists  bool
	State   mtable.State
	Version int64
	// Old and New are the pair of tables the configuration belongs to
	// (zero when none is recorded).
	Old, New Identity
	Leases   []Lease // sorted by ClientID, then instance
	// Migrator is the ClientID holding the migration lock, or "", and
	// MigratorInstance its instance.
	Migrator, MigratorInstance string
}

// ReadStatus reads the configuration stored in partition of tbl
// (DefaultPartition when empty) without registering a lease and without
// writing anything.
func ReadStatus(ctx context.Context, tbl spec.Table, partition string) (Status, error) {
	if tbl == nil {
		return Status{}, errors.New("leaseconfig: ReadStatus needs a configuration table (got nil)")
	}
	if partition == "" {
		partition = DefaultPartition
	}
	row, err := readStateRow(ctx, tbl, partition, func() (spec.Entity, bool) { return spec.Entity{}, false })
	if err != nil {
		return Status{}, err
	}
	leases, err := readLeases(ctx, tbl, partition)
	if err != nil {
		return Status{}, err
	}
	out := Status{Exists: row.exists, State: row.state, Version: row.version, Old: row.old, New: row.new, Leases: leases}
	if e, ok, err := spec.Retrieve(ctx, tbl, spec.Key{PartitionKey: partition, RowKey: migratorRowKey}); err != nil {
		return Status{}, fmt.Errorf("leaseconfig: reading the migration lock: %w", err)
	} else if ok {
		out.Migrator, out.MigratorInstance = str(e, propClient), str(e, propInstance)
	}
	return out, nil
}
