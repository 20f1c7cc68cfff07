package mtable

import (
	"fmt"
	"strconv"
	"strings"
)

// Bug selects one deliberately re-introduced mistake (PROTOCOL.md
// section 4), so that the verification can show it catches it. NoBug is
// the correct library. The numbering is the catalogue's and the CLI's
// (-bug N).
type Bug int

// The bug catalogue, numbered as in PROTOCOL.md section 4, plus
// BugDeleteIfExistsHideMetadata, the original library's known defect,
// the lease bugs (13 to 16; see Bug.Lease) and
// BugDeleteIfExistsGuardTombstone.
const (
	NoBug Bug = -1

	BugQueryAtomicFilterShadowing           Bug = 0
	BugQueryStreamedFilterShadowing         Bug = 1
	BugQueryStreamedLock                    Bug = 2
	BugQueryStreamedBackUpNewStream         Bug = 3
	BugQueryStreamedSaveNewConfig           Bug = 4
	BugDeleteNoLeaveTombstonesETag          Bug = 5
	BugDeletePrimaryKey                     Bug = 6
	BugEnsurePartitionSwitchedFromPopulated Bug = 7
	BugTombstoneOutputETag                  Bug = 8
	BugMigrateSkipPreferOld                 Bug = 9
	BugMigrateSkipUseNewWithTombstones      Bug = 10
	BugInsertBehindMigrator                 Bug = 11
	BugDeleteIfExistsHideMetadata           Bug = 12

	// The lease bugs: mistakes of the lease-based configuration service
	// (package mtable/leaseconfig, selected with its Options.Bug) and of
	// a migrator that loses its lease (selected with WithBug).
	BugPushExpiresLeaseEarly    Bug = 13
	BugServeAfterLeaseExpiry    Bug = 14
	BugMigratorLockNoIfMatch    Bug = 15
	BugMigratorResumeFromMemory Bug = 16

	// The honest-DeleteIfExists bug (issue 14): the behaviour the
	// library had before DeleteIfExists was restricted to lone batches.
	BugDeleteIfExistsGuardTombstone Bug = 17

	// BugMigratorResumeFromCachedState, a lease bug found by the
	// harness's production world: a migrator that takes the lock over
	// resumes from its process's last polled state.
	BugMigratorResumeFromCachedState Bug = 18

	// BugConfigNoRetry, a lease bug found by the harness's backend
	// faults: a push does not retry a configuration-table request that
	// failed transiently.
	BugConfigNoRetry Bug = 19
)

// bugInfo is the catalogue: each bug's name, description, and whether
// it is a lease bug (see Bug.Lease).
var bugInfo = [...]struct {
	name, desc string
	lease      bool
}{
	{"QueryAtomicFilterShadowing", "atomic query reads only filter-matching new-table rows, so an old row shows through a new row that no longer matches", false},
	{"QueryStreamedFilterShadowing", "the streamed query's new-table stream uses the caller's filter, so an old row shows through a new row that no longer matches", false},
	{"QueryStreamedLock", "the streamed query's lock is a no-op, so a configuration push races with a read", false},
	{"QueryStreamedBackUpNewStream", "when the streamed query drops its old-table stream (on entering a new-table-only state) it does not restart the new stream at the continuation key, so rows are skipped", false},
	{"QueryStreamedSaveNewConfig", "the streamed query never records a pushed state (believed benign: each branch still fires at the right time)", false},
	{"DeleteNoLeaveTombstonesETag", "with tombstones off, the translated Delete/DeleteIfExists is sent with no If-Match", false},
	{"DeletePrimaryKey", "the translated delete or tombstone loses its primary key", false},
	{"EnsurePartitionSwitchedFromPopulated", "ensure-switched never reads the meta row and ignores a 409, so a POPULATED partition is never switched", false},
	{"TombstoneOutputETag", "a result's ETag is chosen by whether a translated operation was sent, not by the operation's kind", false},
	{"MigrateSkipPreferOld", "the migrator skips the PREFER_OLD push", false},
	{"MigrateSkipUseNewWithTombstones", "the migrator skips the USE_NEW_WITH_TOMBSTONES push", false},
	{"InsertBehindMigrator", "the migrator skips PREFER_NEW and copies while clients still write to the old table", false},
	{"DeleteIfExistsHideMetadata", "in USE_NEW_HIDE_METADATA a DeleteIfExists of an absent row is dropped from the batch (the original's defect; may send an empty batch)", false},
	{"PushExpiresLeaseEarly", "a push stops waiting for a lease that has not acknowledged once it has seen it unrenewed for one poll, without waiting out its TTL", true},
	{"ServeAfterLeaseExpiry", "a client keeps serving calls from its cached state after its lease expired: Subscribe does not check the lease and no request is fenced", true},
	{"MigratorLockNoIfMatch", "the migration lock is taken over without If-Match, overwriting whatever is there (another migrator's takeover or renewal)", true},
	{"MigratorResumeFromMemory", "a migrator Run again in the same process starts from the state it last pushed, kept in memory, instead of the configuration's", true},
	{"DeleteIfExistsGuardTombstone", "DeleteIfExists is accepted with other operations in a batch, and in USE_NEW_HIDE_METADATA an absent row's absence is asserted with a guard tombstone that a plain client of the new table can see (and a plain Insert of its key gets 409)", false},
	{"MigratorResumeFromCachedState", "a migrator's Run resumes from the state its process last polled, not the one stored, so after another migrator advanced the state it pushes an earlier one, is refused and fails", true},
	{"ConfigNoRetry", "a push (and Settle) gives up at the first configuration-table request that fails transiently (a 503, a timeout), so one failed read fails the migrator's Run", true},
}

// Bugs returns every bug switch, in catalogue order (NoBug excluded).
func Bugs() []Bug {
	out := make([]Bug, len(bugInfo))
	for i := range out {
		out[i] = Bug(i)
	}
	return out
}

// Lease reports whether b is a lease bug: a mistake of the lease-based
// configuration service (package mtable/leaseconfig: 13, 14, 15, 18, 19,
// which its Options.Bug selects) or of a migrator that lost its lease and
// runs again (16, which WithBug selects for NewMigrator). They show only
// in a world of leases, process crashes, stalls and time: with MemConfig
// they change nothing. Each component reacts only to its own switches,
// so one Bug can be passed to the service, every Table and the Migrator.
func (b Bug) Lease() bool {
	return b.Valid() && bugInfo[b].lease
}

// Valid reports whether b is one of the catalogue's bugs (NoBug is not).
func (b Bug) Valid() bool { return b >= 0 && int(b) < len(bugInfo) }

// String returns the catalogue name, e.g. "QueryStreamedLock", or
// "NoBug".
func (b Bug) String() string {
	switch {
	case b == NoBug:
		return "NoBug"
	case b.Valid():
		return bugInfo[b].name
	}
	return "Bug(" + strconv.Itoa(int(b)) + ")"
}

// Description returns a one-line description of the mistake.
func (b Bug) Description() string {
	switch {
	case b == NoBug:
		return "the correct library"
	case b.Valid():
		return bugInfo[b].desc
	}
	return "unknown bug"
}

// ParseBug reads a bug by number ("3", "-1") or by name, with or
// without the "Bug" prefix and ignoring case ("QueryStreamedLock",
// "BugQueryStreamedLock", "NoBug", "none").
func ParseBug(s string) (Bug, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.Atoi(t); err == nil {
		b := Bug(n)
		if b == NoBug || b.Valid() {
			return b, nil
		}
		return NoBug, fmt.Errorf("mtable: bug number %d out of range: want -1 (none) or 0..%d (%s)", n, len(bugInfo)-1, bugList())
	}
	switch strings.ToLower(t) {
	case "nobug", "none":
		return NoBug, nil
	}
	name := t
	if len(name) > 3 && strings.EqualFold(name[:3], "bug") {
		name = name[3:]
	}
	for i, bi := range bugInfo {
		if strings.EqualFold(bi.name, name) {
			return Bug(i), nil
		}
	}
	return NoBug, fmt.Errorf("mtable: unknown bug %q: want a number or a name, one of %s", s, bugList())
}

func bugList() string {
	var b strings.Builder
	for i, bi := range bugInfo {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d=%s", i, bi.name)
	}
	return b.String()
}
