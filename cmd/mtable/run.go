package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2 // bad usage, or a refusal before anything was written
	exitLocked      = 3
	exitInterrupted = 4
)

// Environment variables.
const (
	envOldTable = "MTABLE_OLD_TABLE"
	envNewTable = "MTABLE_NEW_TABLE"
	envOldConn  = "MTABLE_OLD_CONNECTION_STRING"
	envNewConn  = "MTABLE_NEW_CONNECTION_STRING"
	envConn     = "MTABLE_CONNECTION_STRING"
)

const usage = `usage: mtable migrate|status [flags]

  migrate  migrate the old table to the new one, live (resumable)
  status   print the migration state and per-partition progress

Run "mtable migrate -h" or "mtable status -h" for the flags.
Connection strings come from the environment: MTABLE_OLD_CONNECTION_STRING
and MTABLE_NEW_CONNECTION_STRING, or MTABLE_CONNECTION_STRING for both.
`

// options are the flags of both commands.
type options struct {
	oldTable, newTable      string
	oldConn, newConn        string
	configTable, configPart string
	requestTimeout          time.Duration
	// migrate only
	clientID               string
	leaseTTL, poll         time.Duration
	maxInFlight, clockSkew time.Duration
	progress               time.Duration
	until                  string
	check                  bool
	untilState             mtable.State
}

func (o *options) register(fs *flag.FlagSet, getenv func(string) string, migrate bool) {
	fs.StringVar(&o.oldTable, "old-table", getenv(envOldTable), "name of the old table (default $"+envOldTable+")")
	fs.StringVar(&o.newTable, "new-table", getenv(envNewTable), "name of the new table (default $"+envNewTable+")")
	fs.StringVar(&o.oldConn, "old-connection-string", "", "connection string of the old table's account (visible in the process list: prefer $"+envOldConn+")")
	fs.StringVar(&o.newConn, "new-connection-string", "", "connection string of the new table's account (visible in the process list: prefer $"+envNewConn+")")
	fs.StringVar(&o.configTable, "config-table", "mtableconfig", "table holding the shared configuration, in the new table's account")
	fs.StringVar(&o.configPart, "config-partition", leaseconfig.DefaultPartition, "partition of the configuration rows in -config-table (one per migration)")
	fs.DurationVar(&o.requestTimeout, "request-timeout", aztable.DefaultRequestTimeout, "client-side timeout of every request to Azure")
	if migrate {
		host, _ := os.Hostname()
		fs.StringVar(&o.clientID, "client-id", "migrator-"+sanitize(host)+"-"+strconv.Itoa(os.Getpid()), "name of this migrator in its lease and the lock")
		fs.DurationVar(&o.leaseTTL, "lease-ttl", leaseconfig.DefaultLeaseTTL, "a process that has not renewed its lease for this long is treated as gone (the same in every process)")
		fs.DurationVar(&o.poll, "poll", leaseconfig.DefaultPollInterval, "how often leases are renewed and looked at")
		fs.DurationVar(&o.maxInFlight, "max-in-flight", 0, "the longest a request may take effect after it is sent (default 2 × -request-timeout)")
		fs.DurationVar(&o.clockSkew, "clock-skew", leaseconfig.DefaultClockSkew, "how far this machine's clock may lag another's over one -lease-ttl")
		fs.DurationVar(&o.progress, "progress", 5*time.Second, "interval between progress lines when standard error is not a terminal (0: none)")
		fs.StringVar(&o.until, "until", "", "stop before pushing any state after this one (e.g. PREFER_NEW)")
		fs.BoolVar(&o.check, "check", false, "only check that the migration can start (tables, configuration, the old table's rows); write nothing")
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '#' || r == '?' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}

// configOptions are the configuration service's options for o.
func (o *options) configOptions(env *environment) leaseconfig.Options {
	return leaseconfig.Options{
		ClientID: o.clientID, Partition: o.configPart, Old: identity(env.old.ID()), New: identity(env.new.ID()), ConfigTable: identity(env.cfg.ID()),
		LeaseTTL: o.leaseTTL, PollInterval: o.poll, RequestTimeout: o.requestTimeout, MaxInFlight: o.maxInFlight, ClockSkew: o.clockSkew,
	}
}

// identity is the configuration's identity of an Azure table: its
// TableID, which compares tables however they were spelled.
func identity(id aztable.TableID) leaseconfig.Identity {
	return leaseconfig.Identity{Endpoint: id.Endpoint, Name: id.Name}
}

// flagNames maps the configuration options' names, as the leaseconfig
// package's errors print them, to this command's flags.
var flagNames = strings.NewReplacer(
	"Options.ClientID", "-client-id", "ClientID", "-client-id",
	"Partition", "-config-partition",
	"LeaseTTL", "-lease-ttl", "PollInterval", "-poll", "RequestTimeout", "-request-timeout",
	"MaxInFlight", "-max-in-flight", "ClockSkew", "-clock-skew",
)

// run is the whole command; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd := args[0]
	if cmd != "migrate" && cmd != "status" {
		fmt.Fprintf(stderr, "mtable: unknown command %q\n%s", cmd, usage)
		return exitUsage
	}
	fs := flag.NewFlagSet("mtable "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	o.register(fs, getenv, cmd == "migrate")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mtable %s: unexpected arguments %q\n", cmd, fs.Args())
		return exitUsage
	}
	// Everything the user gave is checked before anything is sent.
	env, err := prepare(&o, getenv, cmd == "migrate")
	if err != nil {
		fmt.Fprintf(stderr, "mtable %s: %v\n", cmd, err)
		return exitUsage
	}
	if cmd == "status" {
		return status(ctx, env, stdout, stderr)
	}
	return migrate(ctx, env, stdout, stderr)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func parseState(s string) (mtable.State, bool) {
	for st := mtable.UseOldHideMetadata; st <= mtable.UseNewHideMetadata; st++ {
		if strings.EqualFold(s, st.String()) {
			return st, true
		}
	}
	return 0, false
}

func stateNames() string {
	var names []string
	for st := mtable.UseOldHideMetadata; st <= mtable.UseNewHideMetadata; st++ {
		names = append(names, st.String())
	}
	return strings.Join(names, ", ")
}

// environment is what both commands work on.
type environment struct {
	opts             *options
	oldAcct, newAcct *aztable.Account
	old, new, cfg    *aztable.Table
}

// prepare checks the flags and the environment and parses the
// connection strings, without sending anything; every error is a usage
// error.
func prepare(o *options, getenv func(string) string, migrate bool) (*environment, error) {
	if o.oldConn == "" {
		o.oldConn = firstNonEmpty(getenv(envOldConn), getenv(envConn))
	}
	if o.newConn == "" {
		o.newConn = firstNonEmpty(getenv(envNewConn), getenv(envConn))
	}
	var missing []string
	if o.oldTable == "" {
		missing = append(missing, "-old-table (or $"+envOldTable+")")
	}
	if o.newTable == "" {
		missing = append(missing, "-new-table (or $"+envNewTable+")")
	}
	if o.oldConn == "" {
		missing = append(missing, "the old account's connection string ($"+envOldConn+" or $"+envConn+")")
	}
	if o.newConn == "" {
		missing = append(missing, "the new account's connection string ($"+envNewConn+" or $"+envConn+")")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	o.untilState = mtable.UseNewHideMetadata
	if o.until != "" {
		s, ok := parseState(o.until)
		if !ok {
			return nil, fmt.Errorf("-until %q is not a state (want one of %s)", o.until, stateNames())
		}
		o.untilState = s
	}
	type durationFlag struct {
		flag     string
		v        time.Duration
		positive bool // else 0 or more
	}
	durations := []durationFlag{{"-request-timeout", o.requestTimeout, true}}
	if migrate {
		durations = append(durations, durationFlag{"-lease-ttl", o.leaseTTL, true}, durationFlag{"-poll", o.poll, true},
			durationFlag{"-max-in-flight", o.maxInFlight, false}, durationFlag{"-clock-skew", o.clockSkew, false}, durationFlag{"-progress", o.progress, false})
	}
	for _, d := range durations {
		switch {
		case d.positive && d.v <= 0:
			return nil, fmt.Errorf("%s %v: want a positive duration", d.flag, d.v)
		case d.v < 0:
			return nil, fmt.Errorf("%s %v: want a duration of 0 or more", d.flag, d.v)
		}
	}
	oldAcct, err := aztable.Connect(o.oldConn, aztable.WithRequestTimeout(o.requestTimeout))
	if err != nil {
		return nil, fmt.Errorf("old table's account: %v", err)
	}
	newAcct, err := aztable.Connect(o.newConn, aztable.WithRequestTimeout(o.requestTimeout))
	if err != nil {
		return nil, fmt.Errorf("new table's account: %v", err)
	}
	env := &environment{opts: o, oldAcct: oldAcct, newAcct: newAcct}
	if env.old, err = oldAcct.Table(o.oldTable); err != nil {
		return nil, fmt.Errorf("-old-table: %v", err)
	}
	if env.new, err = newAcct.Table(o.newTable); err != nil {
		return nil, fmt.Errorf("-new-table: %v", err)
	}
	if env.cfg, err = newAcct.Table(o.configTable); err != nil {
		return nil, fmt.Errorf("-config-table: %v", err)
	}
	// Tables are compared by identity (account endpoint and case-folded
	// name), never by how they were spelled.
	if env.old.ID() == env.new.ID() {
		return nil, fmt.Errorf("the old and new tables are the same table (%s): migrating a table onto itself would delete every row; name two different tables", env.old.ID())
	}
	for _, t := range []struct {
		which string
		id    aztable.TableID
	}{{"old", env.old.ID()}, {"new", env.new.ID()}} {
		if env.cfg.ID() == t.id {
			return nil, fmt.Errorf("the configuration table is the %s table (%s): the configuration rows would mix with the data; give -config-table another table", t.which, t.id)
		}
	}
	if err := spec.ValidateKey(spec.Key{PartitionKey: o.configPart, RowKey: "state"}); err != nil || o.configPart == "" {
		return nil, fmt.Errorf("-config-partition %q cannot be used as a PartitionKey", o.configPart)
	}
	if migrate {
		if err := leaseconfig.CheckOptions(env.cfg, o.configOptions(env)); err != nil {
			return nil, errors.New(flagNames.Replace(err.Error()))
		}
	}
	return env, nil
}
