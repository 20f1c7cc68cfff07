package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// maxListed bounds the rows a refusal lists.
const maxListed = 20

// preflightResult is what preflight found out.
type preflightResult struct {
	newExists, cfgExists bool
	cfg                  leaseconfig.Status
}

// preflight reads (and never writes) what migrate needs to decide
// whether it may go on: the tables exist as they should, the stored
// configuration belongs to this pair of tables, and, before the first
// push, the new table is empty and every row of the old table can be
// migrated. It returns nil and the exit status when migrate must stop
// (a refusal, an error, or -check's verdict); with -check it reports on
// stdout and returns nil too.
func preflight(ctx context.Context, env *environment, stdout, stderr io.Writer) (*preflightResult, int) {
	o := env.opts
	say := func(format string, args ...any) {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "mtable migrate: interrupted before anything was written\n")
			return
		}
		fmt.Fprintf(stderr, "mtable migrate: "+format+"\n", args...)
	}
	exists := func(acct *aztable.Account, tbl *aztable.Table) (bool, error) {
		ok, err := acct.TableExists(ctx, tbl.Name())
		if err != nil {
			return false, fmt.Errorf("table %q at %s: %v", tbl.Name(), acct.Endpoint(), err)
		}
		return ok, nil
	}
	ok, err := exists(env.oldAcct, env.old)
	if err != nil {
		say("old %v", err)
		return nil, errorCode(ctx)
	}
	if !ok {
		say("old table %q does not exist at %s", env.old.Name(), env.oldAcct.Endpoint())
		return nil, errorCode(ctx)
	}
	res := &preflightResult{}
	if res.newExists, err = exists(env.newAcct, env.new); err != nil {
		say("new %v", err)
		return nil, errorCode(ctx)
	}
	if res.cfgExists, err = exists(env.newAcct, env.cfg); err != nil {
		say("configuration %v", err)
		return nil, errorCode(ctx)
	}
	if res.cfgExists {
		if res.cfg, err = leaseconfig.ReadStatus(ctx, env.cfg, o.configPart); err != nil {
			say("reading the configuration: %v", err)
			return nil, errorCode(ctx)
		}
	}
	if msg := pairProblem(env, res.cfg); msg != "" {
		say("refusing to migrate: %s", msg)
		return nil, exitUsage
	}
	if res.cfg.Exists && res.cfg.Version > 0 {
		if o.check {
			fmt.Fprintf(stdout, "mtable migrate -check: the migration of %s to %s has started (state %s, version %d); the tables were checked before its first push. migrate can resume it.\n",
				env.old.ID(), env.new.ID(), res.cfg.State, res.cfg.Version)
			return nil, exitOK
		}
		return res, exitOK
	}
	// Nothing has been pushed: the data must be fit for a migration.
	if res.newExists {
		e, found, err := firstRow(ctx, env.new)
		if err != nil {
			say("reading the new table: %v", err)
			return nil, errorCode(ctx)
		}
		if found {
			say("refusing to migrate: the new table %q at %s already holds rows (the first: %s); the migration would mix them with the old table's. Migrate into an empty or absent table (or empty this one first).",
				env.new.Name(), env.newAcct.Endpoint(), e.Key)
			return nil, exitUsage
		}
	}
	rep, err := checkOldRows(ctx, env.old)
	if err != nil {
		say("scanning the old table: %v", err)
		return nil, errorCode(ctx)
	}
	if len(rep.problems) > 0 {
		w := stderr
		prefix := "mtable migrate: refusing to migrate: "
		if o.check {
			w, prefix = stdout, "mtable migrate -check: "
		}
		fmt.Fprintf(w, "%s%d of the old table's %d rows cannot be migrated:\n%s", prefix, rep.bad, rep.rows, rep.list())
		fmt.Fprintf(w, "Rename these rows or properties in the old table (no RowKey or property name may begin with %q, no PartitionKey may be empty), then run migrate again; \"mtable migrate -check\" lists them without migrating.\n", mtable.MetadataPrefix)
		return nil, exitUsage
	}
	if o.check {
		fmt.Fprintf(stdout, "mtable migrate -check: the migration can start: %d rows in %d partitions of %s checked, none uses a reserved name or an empty PartitionKey; the new table %s is %s.\n",
			rep.rows, rep.partitions, env.old.ID(), env.new.ID(), map[bool]string{true: "empty", false: "absent (migrate creates it)"}[res.newExists])
		return nil, exitOK
	}
	return res, exitOK
}

// errorCode is the exit status of an error: exitInterrupted when ctx was
// cancelled (Ctrl-C), exitError otherwise.
func errorCode(ctx context.Context) int {
	if ctx.Err() != nil {
		return exitInterrupted
	}
	return exitError
}

// pairProblem says why the stored configuration cannot serve this
// migration, or "".
func pairProblem(env *environment, cs leaseconfig.Status) string {
	o := env.opts
	where := fmt.Sprintf("partition %q of the configuration table %q", o.configPart, env.cfg.Name())
	switch {
	case !cs.Exists:
		return ""
	case cs.Old.IsZero() && cs.Version > 0:
		return fmt.Sprintf("the configuration in %s (state %s, version %d) records no tables: it was written by an earlier version of mtable; finish that migration with it, or give this one another -config-partition", where, cs.State, cs.Version)
	case cs.Old.IsZero():
		return ""
	case cs.Old != identity(env.old.ID()) || cs.New != identity(env.new.ID()):
		return fmt.Sprintf("the configuration in %s belongs to the migration of %s to %s (state %s, version %d), not of %s to %s; give this migration its own configuration with -config-partition NAME (or -config-table)",
			where, cs.Old, cs.New, cs.State, cs.Version, env.old.ID(), env.new.ID())
	}
	return ""
}

func firstRow(ctx context.Context, t spec.Table) (spec.Entity, bool, error) {
	s, err := t.QueryStreamed(ctx, nil)
	if err != nil {
		return spec.Entity{}, false, err
	}
	defer s.Close()
	return s.Next(ctx)
}

// oldReport is the outcome of checkOldRows.
type oldReport struct {
	rows, partitions, bad int
	problems              []string // at most maxListed
}

func (r oldReport) list() string {
	var b strings.Builder
	for _, p := range r.problems {
		b.WriteString("  " + p + "\n")
	}
	if r.bad > len(r.problems) {
		fmt.Fprintf(&b, "  … and %d more\n", r.bad-len(r.problems))
	}
	return b.String()
}

// checkOldRows scans the old table for rows a migration cannot carry:
// a RowKey or property name with the library's reserved prefix (the row
// would be hidden, or its property stripped), and an empty PartitionKey
// (the Azure adapter cannot address such a row, so writes to it fail
// once the migration has started).
func checkOldRows(ctx context.Context, old spec.Table) (oldReport, error) {
	var rep oldReport
	prevPK, first := "", true
	err := scan(ctx, old, func(e spec.Entity) {
		rep.rows++
		if first || e.PartitionKey != prevPK {
			rep.partitions++
			prevPK, first = e.PartitionKey, false
		}
		var why []string
		if e.PartitionKey == "" {
			why = append(why, "its PartitionKey is empty (the Azure adapter cannot address such a row)")
		}
		if mtable.IsInternalKey(e.Key) {
			why = append(why, fmt.Sprintf("its RowKey begins with the reserved prefix %q", mtable.MetadataPrefix))
		}
		for _, name := range e.Props.Names() {
			if mtable.IsMetadataProperty(name) {
				why = append(why, fmt.Sprintf("its property %q begins with the reserved prefix %q", name, mtable.MetadataPrefix))
			}
		}
		if len(why) > 0 {
			rep.bad++
			if len(rep.problems) < maxListed {
				rep.problems = append(rep.problems, e.Key.String()+": "+strings.Join(why, "; "))
			}
		}
	})
	return rep, err
}

func scan(ctx context.Context, t spec.Table, f func(spec.Entity)) error {
	s, err := t.QueryStreamed(ctx, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		e, ok, err := s.Next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		f(e)
	}
}
