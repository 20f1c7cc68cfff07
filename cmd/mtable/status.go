package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// partStats is one partition's line of the status report.
type partStats struct {
	oldRows    int
	oldState   string
	newRows    int
	tombstones int
}

// status prints the configuration and per-partition progress. It works
// whichever of the tables exist (before a migration, and after the old
// table was deleted at its end).
func status(ctx context.Context, env *environment, stdout, stderr io.Writer) int {
	err := statusReport(ctx, env, stdout)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "mtable status: %v\n", err)
	if _, ok := err.(refusal); ok {
		return exitUsage
	}
	return errorCode(ctx)
}

// refusal is an error that ends a command with exitUsage.
type refusal string

func (r refusal) Error() string { return string(r) }

func statusReport(ctx context.Context, env *environment, stdout io.Writer) error {
	o := env.opts
	exists := func(acct *aztable.Account, tbl *aztable.Table) (bool, error) {
		ok, err := acct.TableExists(ctx, tbl.Name())
		if err != nil {
			return false, fmt.Errorf("table %q at %s: %v", tbl.Name(), acct.Endpoint(), err)
		}
		return ok, nil
	}
	oldExists, err := exists(env.oldAcct, env.old)
	if err != nil {
		return err
	}
	newExists, err := exists(env.newAcct, env.new)
	if err != nil {
		return err
	}
	cfgExists, err := exists(env.newAcct, env.cfg)
	if err != nil {
		return err
	}
	absent := func(ok bool) string {
		if ok {
			return ""
		}
		return " (does not exist)"
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer w.Flush()
	fmt.Fprintf(w, "old table:\t%s at %s%s\n", o.oldTable, env.oldAcct.Endpoint(), absent(oldExists))
	fmt.Fprintf(w, "new table:\t%s at %s%s\n", o.newTable, env.newAcct.Endpoint(), absent(newExists))
	var cs leaseconfig.Status
	if cfgExists {
		if cs, err = leaseconfig.ReadStatus(ctx, env.cfg, o.configPart); err != nil {
			return err
		}
	}
	switch {
	case !cfgExists:
		fmt.Fprintf(w, "state:\t%s (no migration has started: configuration table %q does not exist)\n", mtable.UseOldHideMetadata, o.configTable)
	case !cs.Exists:
		fmt.Fprintf(w, "state:\t%s (no migration has started: partition %q of configuration table %q holds no configuration)\n", mtable.UseOldHideMetadata, o.configPart, o.configTable)
	default:
		if msg := pairProblem(env, cs); msg != "" {
			w.Flush()
			return refusal(msg)
		}
		if !cs.Old.IsZero() {
			fmt.Fprintf(w, "configuration:\tpartition %q of %q, for %s to %s\n", o.configPart, o.configTable, cs.Old, cs.New)
		}
		fmt.Fprintf(w, "state:\t%s (version %d)\n", cs.State, cs.Version)
		lock := "(none)"
		if cs.Migrator != "" {
			lock = fmt.Sprintf("%s (instance %s)", cs.Migrator, cs.MigratorInstance)
		}
		fmt.Fprintf(w, "migration lock:\t%s\n", lock)
		fmt.Fprintf(w, "leases:\t%d\n", len(cs.Leases))
		for _, l := range cs.Leases {
			applied := "applied"
			if l.Acked < cs.Version {
				applied = "NOT YET applied"
			}
			fmt.Fprintf(w, "  %s (instance %s)\tacknowledged version %d (%s)\n", l.Client, l.Instance, l.Acked, applied)
		}
	}
	parts := map[string]*partStats{}
	get := func(pk string) *partStats {
		if parts[pk] == nil {
			parts[pk] = &partStats{oldState: "-"}
		}
		return parts[pk]
	}
	if oldExists {
		if err := scan(ctx, env.old, func(e spec.Entity) {
			ps := get(e.PartitionKey)
			switch {
			case e.RowKey == mtable.MetaRowKey:
				if s, ok := mtable.DecodePartitionState(e); ok {
					ps.oldState = s.String()
				}
			case mtable.IsInternalKey(e.Key):
			default:
				ps.oldRows++
			}
		}); err != nil {
			return fmt.Errorf("scanning the old table: %v", err)
		}
	}
	if newExists {
		if err := scan(ctx, env.new, func(e spec.Entity) {
			ps := get(e.PartitionKey)
			if mtable.IsTombstone(e) {
				ps.tombstones++
			} else {
				ps.newRows++
			}
		}); err != nil {
			return fmt.Errorf("scanning the new table: %v", err)
		}
	}
	pks := make([]string, 0, len(parts))
	for pk := range parts {
		pks = append(pks, pk)
	}
	slices.Sort(pks)
	fmt.Fprintf(w, "partitions:\t%d\n", len(pks))
	if len(pks) > 0 {
		fmt.Fprintf(w, "  PARTITION\tOLD ROWS\tOLD STATE\tNEW ROWS\tTOMBSTONES\n")
		for _, pk := range pks {
			ps := parts[pk]
			fmt.Fprintf(w, "  %q\t%d\t%s\t%d\t%d\n", pk, ps.oldRows, ps.oldState, ps.newRows, ps.tombstones)
		}
	}
	return nil
}
