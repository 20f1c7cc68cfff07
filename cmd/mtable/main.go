// Command mtable migrates an Azure table to a new table live, with
// MigratingTable, while applications keep using it, and reports a
// migration's progress.
//
// Usage:
//
//	mtable migrate [flags]   drive the migration to its end (resumable)
//	mtable status  [flags]   print the stored state and per-partition progress
//
// # Tables and credentials
//
// -old-table and -new-table name the two tables (or MTABLE_OLD_TABLE and
// MTABLE_NEW_TABLE). Their accounts come from connection strings, read
// from the environment: MTABLE_OLD_CONNECTION_STRING and
// MTABLE_NEW_CONNECTION_STRING, or MTABLE_CONNECTION_STRING for both
// (an account key, or a shared access signature; every request goes to
// the TableEndpoint the connection string names, if it names one). The
// -old-connection-string and -new-connection-string flags exist too, but
// a flag is visible to every user of the machine in the process list:
// prefer the environment. No output of this command ever contains a
// connection string or key. Tables are compared by identity (the
// account's normalised endpoint and the case-folded name), never by how
// they were spelled.
//
// The shared configuration (the migration state, the pair of tables it
// belongs to, one lease per application process, the migration lock) is
// kept in -config-table (default "mtableconfig", created if missing) of
// the new table's account, in partition -config-partition (default
// "mtable-config"). A configuration belongs to one migration: a second
// migration sharing the table names its own -config-partition. Every
// application process must open leaseconfig.Open on the same table and
// partition, for the same two tables (Options.Old and New: the tables'
// aztable.TableID as a leaseconfig.Identity), with the same lease
// timings, and use mtable.New over those tables.
//
// Every request to Azure times out after -request-timeout (default
// 10s). The lease timings must satisfy
//
//	-lease-ttl > -poll + -request-timeout + -max-in-flight + -clock-skew
//
// (defaults 60s > 1s + 10s + 20s + 1s; see package mtable/leaseconfig,
// "The lease condition"), and -max-in-flight must be at least twice
// -request-timeout; a migrator or application process sends no request
// once its lease may have expired.
//
// # Refusals
//
// Before anything is written, migrate refuses, with exit status 2 and a
// message naming the problem and the way out:
//
//   - a bad flag (a duration, the lease condition above, -client-id,
//     -config-partition, a table name Azure would refuse, -until);
//   - the old and new tables being one table (names differing only in
//     case, connection strings differing only in spelling), or the
//     configuration table being one of them;
//   - a configuration that belongs to another pair of tables;
//   - before the first push only: a new table that already holds rows,
//     and rows of the old table that cannot be migrated — a RowKey or a
//     property name beginning with "_mtable_" (reserved by the library)
//     or an empty PartitionKey (the Azure adapter cannot address it).
//     At most 20 are listed, with the count of the others.
//
// migrate -check makes every one of these checks, writes nothing, and
// reports on standard output: exit status 0 when the migration can
// start (or resume), 2 when migrate would refuse.
//
// # migrate
//
// migrate checks that the old table exists, makes the checks above,
// creates the new and configuration tables if they do not exist, takes
// the migration lock (a second migrator, even one given the same
// -client-id, fails with exit status 3 while the first one keeps its
// lock alive), waits until every application process has applied the
// current state, then runs mtable's Migrator: PREFER_OLD, PREFER_NEW,
// copy, USE_NEW_WITH_TOMBSTONES, USE_NEW_HIDE_METADATA, clean-up. Each
// push returns once every live application process has acknowledged it;
// a process that stopped renewing its lease is dropped after -lease-ttl.
// Progress is shown on standard error: on a terminal one line redrawn in
// place, otherwise a line at each state change and every -progress
// interval.
//
// migrate is resumable: interrupted (Ctrl-C, a crash, a lost
// connection) at any point, running it again continues from the stored
// state. Ctrl-C releases the migration lock, so the next run starts at
// once; after a crash the next run takes the lock over once it has not
// been renewed for -lease-ttl. A migrator stalled past its lease (stopped,
// suspended, cut off) sends nothing more and exits with status 1 when it
// wakes. -until STATE stops before pushing any state after STATE, for a
// staged rollout.
//
// # status
//
// status prints the tables (and whether they exist: it works before a
// migration and after the old table was deleted at its end), the stored
// state and version and the pair of tables the configuration belongs to,
// each application lease and the state version it has applied, the
// migration lock's holder, and per partition: the old table's rows and
// partition state (-, POPULATED, SWITCHED), and the new table's live rows
// and tombstones. A configuration of another pair of tables is refused
// (exit status 2).
//
// # Exit status
//
// 0 success; 1 an error (bad credentials, a missing old table, a failed
// migration: the message says which); 2 bad usage or a refusal (nothing
// was written); 3 another migrator holds the lock; 4 interrupted (run
// migrate again to resume).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
