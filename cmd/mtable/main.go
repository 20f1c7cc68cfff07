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
// MTABLE_NEW_CONNECTION_STRING, or MTABLE_CONNECTION_STRING for both. The
// -old-connection-string and -new-connection-string flags exist too, but
// a flag is visible to every user of the machine in the process list:
// prefer the environment. No output of this command ever contains a
// connection string or key.
//
// The shared configuration (the migration state, one lease per
// application process, the migration lock) is kept in -config-table
// (default "mtableconfig", created if missing) of the new table's
// account, in partition -config-partition (default "mtable-config").
// Every application process must open aztable.OpenConfigService on the
// same table and partition, and use mtable.New over the same two tables.
//
// # migrate
//
// migrate checks that the old table exists (and creates the new one if
// it does not), takes the migration lock (a second migrator fails with
// exit status 3 while the first one keeps its lock alive), waits until
// every application process has applied the current state, then runs
// mtable's Migrator: PREFER_OLD, PREFER_NEW, copy, USE_NEW_WITH_TOMBSTONES,
// USE_NEW_HIDE_METADATA, clean-up. Each push returns once every live
// application process has acknowledged it; a process that stopped
// renewing its lease is dropped after -lease-ttl. Progress is shown on
// standard error: on a terminal one line redrawn in place, otherwise a
// line at each state change and every -progress interval.
//
// migrate is resumable: interrupted (Ctrl-C, a crash, a lost
// connection) at any point, running it again continues from the stored
// state. -until STATE stops before pushing any state after STATE, for a
// staged rollout.
//
// # status
//
// status prints the stored state and version, each application lease
// and the state version it has applied, the migration lock's holder,
// and per partition: the old table's rows and partition state (-,
// POPULATED, SWITCHED), and the new table's live rows and tombstones.
//
// # Exit status
//
// 0 success; 1 an error (bad credentials, a missing table, a failed
// migration: the message says which); 2 bad usage; 3 another migrator
// holds the lock; 4 interrupted (run migrate again to resume).
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
