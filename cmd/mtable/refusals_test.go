package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
)

// The regression tests of issue 10's refusals. They use only the
// command's run and flags that every version of it accepted, so that
// they can be run against the code before the fixes. The lease is long
// enough for the lease condition under the default request timeout; no
// test waits for a lease to expire.
var refusalLease = []string{"-lease-ttl", "40s", "-poll", "100ms"}

// seedOld fills an old table with rows in three partitions.
func seedOld(t *testing.T, srv *azuritetest.Server, prefix string, extra ...spec.Entity) (name string, rows int) {
	t.Helper()
	tbl := srv.NewTable(t, prefix)
	for p := 0; p < 3; p++ {
		var ops []spec.Op
		for r := 0; r < 4; r++ {
			ops = append(ops, spec.Op{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: fmt.Sprint("p", p), RowKey: fmt.Sprint("r", r)}, Props: spec.Props{"n": spec.Int32(int32(r))}}})
		}
		if _, err := tbl.ExecuteBatch(context.Background(), ops); err != nil {
			t.Fatal(err)
		}
	}
	rows = 12
	for _, e := range extra {
		insertRaw(t, srv, tbl.Name(), e)
		rows++
	}
	return tbl.Name(), rows
}

// insertRaw inserts e with the SDK directly, as an application that does
// not use MigratingTable would (the adapter refuses what MigratingTable
// reserves, and a row whose PartitionKey is empty).
func insertRaw(t *testing.T, srv *azuritetest.Server, table string, e spec.Entity) {
	t.Helper()
	svc, err := aztables.NewServiceClientFromConnectionString(srv.ConnectionString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"PartitionKey":%q,"RowKey":%q`, e.PartitionKey, e.RowKey)
	for _, name := range e.Props.Names() {
		fmt.Fprintf(&b, `,%q:%q`, name, e.Props[name].Str())
	}
	b.WriteString("}")
	if _, err := svc.NewClient(table).AddEntity(context.Background(), []byte(b.String()), nil); err != nil {
		t.Fatalf("inserting %v with the SDK: %v", e.Key, err)
	}
}

// tableRows counts a table's rows (-1 when it does not exist, or cannot:
// an invalid name).
func tableRows(t *testing.T, srv *azuritetest.Server, name string) int {
	t.Helper()
	if _, err := srv.Account().Table(name); err != nil {
		return -1
	}
	ok, err := srv.Account().TableExists(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return -1
	}
	tbl, _ := srv.Account().Table(name)
	return len(readAll(t, tbl))
}

// wantRefused checks a refusal: exit status 2, a message naming the
// problem (and the way out), and nothing written: the new and
// configuration tables not created, the old table unchanged.
func wantRefused(t *testing.T, srv *azuritetest.Server, env map[string]string, oldName string, oldRows int, cfgName string, args []string, want ...string) {
	t.Helper()
	newName := env[envNewTable]
	newBefore, cfgBefore := tableRows(t, srv, newName), tableRows(t, srv, cfgName)
	code, stdout, stderr := cli(t, context.Background(), srv, env, args...)
	if code != exitUsage {
		t.Errorf("mtable %v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, exitUsage, stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stdout+stderr, w) {
			t.Errorf("mtable %v: output does not say %q:\n%s%s", args, w, stdout, stderr)
		}
	}
	if got := tableRows(t, srv, oldName); got != oldRows {
		t.Errorf("old table after the refusal: %d rows, want %d", got, oldRows)
	}
	if got := tableRows(t, srv, newName); got != newBefore {
		t.Errorf("new table %s after the refusal: %d rows (-1: absent), want %d", newName, got, newBefore)
	}
	if got := tableRows(t, srv, cfgName); got != cfgBefore {
		t.Errorf("configuration table %s after the refusal: %d rows (-1: absent), want %d", cfgName, got, cfgBefore)
	}
}

// TestRefusedBeforeAnyWrite covers issue 10 items 2, 6 and 12: the same
// table under two spellings, the configuration table equal to a data
// table, and bad flags are refused with exit status 2 before any table
// is created or written.
func TestRefusedBeforeAnyWrite(t *testing.T) {
	srv := azuritetest.Shared(t)
	oldName, oldRows := seedOld(t, srv, "refold")
	newName, cfgName := srv.NewTableName("refnew"), srv.NewTableName("refcfg")
	cs := srv.ConnectionString() // ends with ';'
	env := map[string]string{envConn: cs, envOldTable: oldName, envNewTable: newName}
	with := func(kv ...string) map[string]string {
		e := maps.Clone(env)
		for i := 0; i < len(kv); i += 2 {
			e[kv[i]] = kv[i+1]
		}
		return e
	}
	migrate := func(extra ...string) []string {
		return append(append([]string{"migrate", "-config-table", cfgName}, refusalLease...), extra...)
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		// Item 2: one table, two spellings.
		{"same table in another case", with(envNewTable, strings.ToUpper(oldName)), migrate(), []string{"the old and new tables are the same table"}},
		{"same account with a trailing semicolon", with(envOldConn, strings.TrimSuffix(cs, ";"), envNewConn, cs, envNewTable, oldName), migrate(), []string{"same table"}},
		{"same account spelled otherwise", with(envNewConn, strings.Replace(cs, srv.Endpoint(), strings.ToUpper(srv.Endpoint())+"/", 1), envNewTable, oldName), migrate(), []string{"same table"}},
		// Item 6: the configuration in a data table.
		{"configuration table is the old table", env, append([]string{"migrate", "-config-table", strings.ToUpper(oldName)}, refusalLease...), []string{"configuration table is the old table", "-config-table"}},
		{"configuration table is the new table", env, append([]string{"migrate", "-config-table", newName}, refusalLease...), []string{"configuration table is the new table", "-config-table"}},
		// Item 12: every flag is checked first.
		{"zero lease", env, append(migrate(), "-lease-ttl", "0"), []string{"-lease-ttl 0s"}},
		{"negative lease", env, append(migrate(), "-lease-ttl", "-5s"), []string{"-lease-ttl -5s"}},
		{"lease too short", env, append(migrate(), "-lease-ttl", "10s"), []string{"-lease-ttl 10s is too short", "-poll", "-request-timeout", "-max-in-flight", "-clock-skew"}},
		{"zero poll", env, append(migrate(), "-poll", "0"), []string{"-poll 0s"}},
		{"client id with a slash", env, append(migrate(), "-client-id", "a/b"), []string{"-client-id", "a/b"}},
		{"empty client id", env, append(migrate(), "-client-id", ""), []string{"-client-id is required"}},
		{"short old table name", with(envOldTable, "ab"), migrate(), []string{"-old-table", `"ab"`}},
		{"bad new table name", with(envNewTable, "1table"), migrate(), []string{"-new-table", `"1table"`}},
		{"bad configuration table name", env, append([]string{"migrate", "-config-table", "cfg-table"}, refusalLease...), []string{"-config-table", `"cfg-table"`}},
		{"bad configuration partition", env, append(migrate(), "-config-partition", "a/b"), []string{"-config-partition"}},
		{"zero request timeout", env, append(migrate(), "-request-timeout", "0"), []string{"-request-timeout"}},
		{"in-flight bound below the timeout", env, append(migrate(), "-max-in-flight", "5s"), []string{"-max-in-flight 5s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantRefused(t, srv, c.env, oldName, oldRows, cfgName, c.args, c.want...)
		})
	}
}

// TestReservedRowsRefused covers issue 10 items 4 and 5: rows of the old
// table that use the library's reserved names, or an empty PartitionKey,
// are listed and refused before the first push; -check lists them
// without writing; nothing is written; once they are gone the migration
// runs.
func TestReservedRowsRefused(t *testing.T) {
	srv := azuritetest.Shared(t)
	bad := []spec.Entity{
		{Key: spec.Key{PartitionKey: "p0", RowKey: "_mtable_probe"}, Props: spec.Props{"x": spec.String("a")}},
		{Key: spec.Key{PartitionKey: "p1", RowKey: "user"}, Props: spec.Props{"_mtable_deleted": spec.String("not a bool")}},
		{Key: spec.Key{PartitionKey: "", RowKey: "nopk"}, Props: spec.Props{"x": spec.String("b")}},
	}
	oldName, oldRows := seedOld(t, srv, "resold", bad...)
	newName, cfgName := srv.NewTableName("resnew"), srv.NewTableName("rescfg")
	env := map[string]string{envConn: srv.ConnectionString(), envOldTable: oldName, envNewTable: newName}
	args := append([]string{"migrate", "-config-table", cfgName}, refusalLease...)
	want := []string{"3 of the old table's 15 rows cannot be migrated", `'p0'/'_mtable_probe': its RowKey begins with the reserved prefix "_mtable_"`,
		`'p1'/'user': its property "_mtable_deleted" begins with the reserved prefix`, `''/'nopk': its PartitionKey is empty`, "mtable migrate -check"}
	t.Run("migrate", func(t *testing.T) {
		wantRefused(t, srv, env, oldName, oldRows, cfgName, args, want...)
	})
	t.Run("check", func(t *testing.T) {
		wantRefused(t, srv, env, oldName, oldRows, cfgName, append(args, "-check"), want...)
	})
	t.Run("bounded list", func(t *testing.T) {
		name, rows := seedOld(t, srv, "manyold")
		for i := 0; i < maxListedForTest+5; i++ {
			insertRaw(t, srv, name, spec.Entity{Key: spec.Key{PartitionKey: "p9", RowKey: fmt.Sprintf("_mtable_%02d", i)}})
			rows++
		}
		e := maps.Clone(env)
		e[envOldTable] = name
		wantRefused(t, srv, e, name, rows, cfgName, args, fmt.Sprintf("%d of the old table's %d rows", maxListedForTest+5, rows), "… and 5 more")
	})
	t.Run("clean table", func(t *testing.T) {
		name, rows := seedOld(t, srv, "cleanold")
		e := maps.Clone(env)
		e[envOldTable] = name
		code, stdout, stderr := cli(t, context.Background(), srv, e, append(args, "-check")...)
		if code != exitOK || !strings.Contains(stdout, "the migration can start") || !strings.Contains(stdout, fmt.Sprint(rows, " rows in 3 partitions")) {
			t.Errorf("-check of a clean table: exit %d, stdout %q, stderr %q; want 0 and a clean report", code, stdout, stderr)
		}
		if got := tableRows(t, srv, newName); got != -1 {
			t.Errorf("-check created the new table (%d rows)", got)
		}
		if got := tableRows(t, srv, cfgName); got != -1 {
			t.Errorf("-check created the configuration table (%d rows)", got)
		}
	})
}

// maxListedForTest is how many rows a refusal lists.
const maxListedForTest = 20

// TestSecondPairRefused is issue 10 item 1: a second migration that
// shares the (default) configuration with a finished one is refused
// before it writes anything, and runs with its own partition; status
// shows the pair.
func TestSecondPairRefused(t *testing.T) {
	srv := azuritetest.Shared(t)
	ctx := context.Background()
	aOld, _ := seedOld(t, srv, "aold")
	aNew, cfgName := srv.NewTableName("anew"), srv.NewTableName("paircfg")
	t.Cleanup(func() {
		srv.Account().DeleteTable(context.Background(), aNew)
		srv.Account().DeleteTable(context.Background(), cfgName)
	})
	base := append([]string{"migrate", "-config-table", cfgName}, refusalLease...)
	envA := map[string]string{envConn: srv.ConnectionString(), envOldTable: aOld, envNewTable: aNew}
	if code, _, stderr := cli(t, ctx, srv, envA, base...); code != exitOK {
		t.Fatalf("first migration: exit %d:\n%s", code, stderr)
	}
	bOld, bRows := seedOld(t, srv, "bold")
	bNew := srv.NewTableName("bnew")
	t.Cleanup(func() { srv.Account().DeleteTable(context.Background(), bNew) })
	envB := map[string]string{envConn: srv.ConnectionString(), envOldTable: bOld, envNewTable: bNew}
	wantRefused(t, srv, envB, bOld, bRows, cfgName, base, "belongs to the migration of "+strings.ToLower(aOld), "-config-partition")

	code, stdout, stderr := cli(t, ctx, srv, envA, "status", "-config-table", cfgName)
	if code != exitOK || !strings.Contains(stdout, strings.ToLower(aOld)+" at ") || !strings.Contains(stdout, "USE_NEW_HIDE_METADATA") {
		t.Errorf("status of the first migration: exit %d, want 0 and the pair shown:\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, ctx, srv, envB, "status", "-config-table", cfgName)
	if code != exitUsage || !strings.Contains(stderr, "belongs to the migration of") {
		t.Errorf("status of the second pair against the first's configuration: exit %d, want %d and the pair named:\n%s%s", code, exitUsage, stdout, stderr)
	}

	// With its own partition the second migration runs.
	code, _, stderr = cli(t, ctx, srv, envB, append(base, "-config-partition", "bmigration")...)
	if code != exitOK {
		t.Fatalf("second migration in its own partition: exit %d:\n%s", code, stderr)
	}
	if got := tableRows(t, srv, bNew); got != bRows {
		t.Errorf("second migration: new table holds %d rows, want %d", got, bRows)
	}
}

// TestStatusAfterOldTableDeleted is issue 10 item 12: the README's last
// step deletes the old table; status still reports.
func TestStatusAfterOldTableDeleted(t *testing.T) {
	srv := azuritetest.Shared(t)
	ctx := context.Background()
	oldName, rows := seedOld(t, srv, "delold")
	newName, cfgName := srv.NewTableName("delnew"), srv.NewTableName("delcfg")
	t.Cleanup(func() {
		srv.Account().DeleteTable(context.Background(), newName)
		srv.Account().DeleteTable(context.Background(), cfgName)
	})
	env := map[string]string{envConn: srv.ConnectionString(), envOldTable: oldName, envNewTable: newName}
	if code, _, stderr := cli(t, ctx, srv, env, append([]string{"migrate", "-config-table", cfgName}, refusalLease...)...); code != exitOK {
		t.Fatalf("migrate: exit %d:\n%s", code, stderr)
	}
	if err := srv.Account().DeleteTable(ctx, oldName); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"status", "-config-table", cfgName}, func(k string) string { return env[k] }, &stdout, &stderr)
	if code != exitOK || !strings.Contains(stdout.String(), "USE_NEW_HIDE_METADATA") || !hasLine(stdout.String(), "partitions:", "3") || !hasLine(stdout.String(), `"p0"`, "0", "-", "4", "0") {
		t.Errorf("status after the old table was deleted: exit %d, want 0 with the state and the new table's %d rows in 3 partitions:\n%s%s", code, rows, stdout.String(), stderr.String())
	}
}

// hasLine reports whether some line of out consists of fields.
func hasLine(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		if slices.Equal(strings.Fields(line), fields) {
			return true
		}
	}
	return false
}
