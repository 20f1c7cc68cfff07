// Command mtablechaos is the fault campaign of `mtable migrate`: a real
// migration on Azurite while application processes write through
// MigratingTable and the campaign kills (SIGKILL) and stalls (SIGSTOP
// past the lease, then SIGCONT) the migrator and the writers, and
// restarts Azurite from disk. At the end it checks every key against the
// writers' logs of acknowledged writes and prints what it did and what
// it found; it exits 1 unless no acknowledged write was lost.
//
// Usage (from the module; `make chaos`, or `make chaos-short` for the
// short version CI runs):
//
//	go run ./cmd/mtablechaos [-short] [-kills 30] [-stalls 5] [-restarts 3] [-seed 1]
//
// # What runs
//
// The campaign builds cmd/mtable, starts Azurite on a free loopback port
// with its data on disk (in -work, a temporary directory unless given),
// and loads an old table: -rows filler rows no writer writes, and
// -keys keys per writer, spread over -partitions partitions. Each
// writer is this program run again as a process (-writer N): it opens
// the configuration service with a lease of its own and writes its own
// keys through mtable.New, in batches of one or two operations of every
// kind, each leaving a row holding one value or absent. Before sending a
// batch it appends the batch to its log and fsyncs; after, the outcome:
// acknowledged, not applied (the service's or the library's answer), or
// unknown (any other error); a batch without an outcome (the writer was
// killed) is unknown too. A killed writer is started again and goes on
// with its log.
//
// The migration runs in stages (mtable migrate -until PREFER_OLD, then
// PREFER_NEW, then USE_NEW_WITH_TOMBSTONES, then to the end; with
// -short, PREFER_NEW then the end), so faults hit every state: a stage
// ends when migrate has returned 0 and the stage's share of the faults
// has been injected. A migrator that was killed, or exited with an
// error, is started again.
//
// Faults come every 1 to 3 seconds, chosen from -seed: kill -9 a writer
// or the migrator (once it holds the migration lock; either is started
// again after up to a second), stall one
// (SIGSTOP for the lease TTL plus 2 seconds, then SIGCONT; a stalled
// migrator — the first one during its copy, when it holds a page of rows
// to copy — is replaced at once by a new one, which takes its lock over
// and finishes the migration, and is continued only at the end, after
// the writers have stopped, so that anything it still sends shows in the
// check), or restart
// Azurite gracefully (SIGINT, which saves its data; it is started again
// on the same port and directory). Before each restart the campaign
// writes canary rows to a table of their own and reads them back after:
// Azurite itself must not lose an acknowledged write. (It does on
// SIGTERM or SIGKILL, which exit without saving: its data is written to
// disk every 5 seconds and when it is interrupted. So restarts are
// graceful only.)
//
// # The check
//
// After the migration has finished and every quota is met, the writers
// are stopped (SIGTERM: they finish their batch), every filler row is
// deleted through MigratingTable (logged like a writer's batches), the
// stalled migrators are continued and waited for, and the final new
// table is read. For every key the table must hold the state the last
// acknowledged write left, or the state of a write whose outcome is
// unknown (one may have taken effect at any time after it was sent); a
// deleted key must be absent, or hold such a value (so a filler row a
// stalled migrator copied back shows). No row may exist that nothing
// wrote, the old
// table must be empty and no row may keep metadata. The campaign prints
// the kills survived, the stalls, the restarts, the writes checked and
// the writes lost, and exits 0 only when nothing was lost and every
// quota was met within -timeout.
//
// Everything listens on 127.0.0.1 only.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

// envConn passes the emulator's connection string to the processes.
const envConn = "MTABLE_CONNECTION_STRING"

// options are the flags of the campaign and of a writer process.
type options struct {
	short                 bool
	kills, stalls         int
	restarts              int
	writers               int
	rows, partitions      int
	keysPerWriter         int
	seed                  int64
	timeout               time.Duration
	work                  string
	keep                  bool
	leaseTTL, poll        time.Duration
	requestTimeout        time.Duration
	maxInFlight           time.Duration
	clockSkew             time.Duration
	writerID              int
	writerLog             string
	oldTable, newTable    string
	configTable           string
	canaryTable           string
	stages                []string
	stallFor              time.Duration
	faultMin, faultSpread time.Duration
}

func main() {
	o := &options{}
	fs := flag.NewFlagSet("mtablechaos", flag.ExitOnError)
	fs.BoolVar(&o.short, "short", false, "the short campaign CI runs: 4 kills, 1 stall, 1 restart, a smaller table, two stages")
	fs.IntVar(&o.kills, "kills", 30, "kill -9 at least this many processes (writers and migrator)")
	fs.IntVar(&o.stalls, "stalls", 5, "stall at least this many processes past the lease")
	fs.IntVar(&o.restarts, "restarts", 3, "restart Azurite from disk at least this many times")
	fs.IntVar(&o.writers, "writers", 3, "writer processes")
	fs.IntVar(&o.rows, "rows", 2000, "filler rows of the old table")
	fs.IntVar(&o.partitions, "partitions", 8, "partitions of the old table")
	fs.IntVar(&o.keysPerWriter, "keys", 24, "keys of each writer")
	fs.Int64Var(&o.seed, "seed", 1, "seed of the fault schedule and the writers' choices")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up (and fail) after this long")
	fs.StringVar(&o.work, "work", "", "directory for the binaries, Azurite's data and the logs (default: a new temporary directory, removed after a passing run)")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 7*time.Second, "lease of every process")
	fs.DurationVar(&o.poll, "poll", 100*time.Millisecond, "renewal interval")
	fs.DurationVar(&o.requestTimeout, "request-timeout", 2*time.Second, "timeout of every request")
	fs.DurationVar(&o.maxInFlight, "max-in-flight", 4*time.Second, "bound on a request's time in flight")
	fs.DurationVar(&o.clockSkew, "clock-skew", 200*time.Millisecond, "clock skew allowance")
	// A writer process (the campaign starts them).
	fs.IntVar(&o.writerID, "writer", -1, "run as writer N (internal)")
	fs.StringVar(&o.writerLog, "writer-log", "", "the writer's log (internal)")
	fs.StringVar(&o.oldTable, "old-table", "chaosold", "old table (internal)")
	fs.StringVar(&o.newTable, "new-table", "chaosnew", "new table (internal)")
	fs.StringVar(&o.configTable, "config-table", "chaoscfg", "configuration table (internal)")
	fs.Parse(os.Args[1:])
	if o.writerID >= 0 {
		os.Exit(runWriter(o))
	}
	if o.short {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]*int{"kills": &o.kills, "stalls": &o.stalls, "restarts": &o.restarts, "writers": &o.writers, "rows": &o.rows} {
			if !set[name] {
				*v = map[string]int{"kills": 4, "stalls": 1, "restarts": 1, "writers": 2, "rows": 300}[name]
			}
		}
		if !set["timeout"] {
			o.timeout = 4 * time.Minute
		}
		o.stages = []string{"PREFER_NEW", ""}
	} else {
		o.stages = []string{"PREFER_OLD", "PREFER_NEW", "USE_NEW_WITH_TOMBSTONES", ""}
	}
	o.canaryTable = "chaoscanary"
	o.stallFor = o.leaseTTL + 2*time.Second
	o.faultMin, o.faultSpread = time.Second, 2*time.Second
	if o.kills < 0 || o.stalls < 0 || o.restarts < 0 || o.writers < 1 || o.rows < 0 || o.partitions < 1 || o.keysPerWriter < 2 {
		fmt.Fprintln(os.Stderr, "mtablechaos: -kills, -stalls, -restarts and -rows must be 0 or more, -writers and -partitions 1 or more, -keys 2 or more")
		os.Exit(2)
	}
	os.Exit(runCampaign(o))
}
