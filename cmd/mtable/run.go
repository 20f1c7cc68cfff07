package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/spec"
	"golang.org/x/term"
)

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
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

// options are the flags both commands share.
type options struct {
	oldTable, newTable      string
	oldConn, newConn        string
	configTable, configPart string
	clientID                string
	leaseTTL, poll          time.Duration
	progress                time.Duration
	until                   string
}

func (o *options) register(fs *flag.FlagSet, getenv func(string) string, migrate bool) {
	fs.StringVar(&o.oldTable, "old-table", getenv(envOldTable), "name of the old table (default $"+envOldTable+")")
	fs.StringVar(&o.newTable, "new-table", getenv(envNewTable), "name of the new table (default $"+envNewTable+")")
	fs.StringVar(&o.oldConn, "old-connection-string", "", "connection string of the old table's account (visible in the process list: prefer $"+envOldConn+")")
	fs.StringVar(&o.newConn, "new-connection-string", "", "connection string of the new table's account (visible in the process list: prefer $"+envNewConn+")")
	fs.StringVar(&o.configTable, "config-table", "mtableconfig", "table holding the shared configuration, in the new table's account")
	fs.StringVar(&o.configPart, "config-partition", aztable.ConfigPartition, "partition of the configuration rows in -config-table")
	if migrate {
		host, _ := os.Hostname()
		fs.StringVar(&o.clientID, "client-id", "migrator-"+sanitize(host)+"-"+strconv.Itoa(os.Getpid()), "name of this migrator's lease (unique among the processes)")
		fs.DurationVar(&o.leaseTTL, "lease-ttl", aztable.DefaultLeaseTTL, "a process that has not renewed its lease for this long is treated as gone")
		fs.DurationVar(&o.poll, "poll", aztable.DefaultPollInterval, "how often leases are renewed and looked at")
		fs.DurationVar(&o.progress, "progress", 5*time.Second, "interval between progress lines when standard error is not a terminal")
		fs.StringVar(&o.until, "until", "", "stop before pushing any state after this one (e.g. PREFER_NEW)")
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
		fmt.Fprintf(stderr, "mtable %s: missing %s\n", cmd, strings.Join(missing, ", "))
		return exitUsage
	}
	if o.oldTable == o.newTable && o.oldConn == o.newConn {
		fmt.Fprintf(stderr, "mtable %s: the old and new tables are the same table %q\n", cmd, o.oldTable)
		return exitUsage
	}
	var until mtable.State = mtable.UseNewHideMetadata
	if o.until != "" {
		s, ok := parseState(o.until)
		if !ok {
			fmt.Fprintf(stderr, "mtable %s: -until %q is not a state (want one of %s)\n", cmd, o.until, stateNames())
			return exitUsage
		}
		until = s
	}
	env, err := connect(ctx, &o, cmd == "migrate")
	if err != nil {
		fmt.Fprintf(stderr, "mtable %s: %v\n", cmd, err)
		return exitError
	}
	if cmd == "status" {
		if err := status(ctx, env, stdout); err != nil {
			fmt.Fprintf(stderr, "mtable status: %v\n", err)
			return exitError
		}
		return exitOK
	}
	return migrate(ctx, env, until, stderr)
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
	opts               *options
	oldAcct, newAcct   *aztable.Account
	old, new, cfgTable *aztable.Table
	cfgExists          bool
}

// connect opens both accounts and checks the tables: the old one must
// exist; the new and configuration tables are created by migrate.
func connect(ctx context.Context, o *options, create bool) (*environment, error) {
	oldAcct, err := aztable.Connect(o.oldConn)
	if err != nil {
		return nil, fmt.Errorf("old table's account: %v", err)
	}
	newAcct, err := aztable.Connect(o.newConn)
	if err != nil {
		return nil, fmt.Errorf("new table's account: %v", err)
	}
	env := &environment{opts: o, oldAcct: oldAcct, newAcct: newAcct}
	check := func(acct *aztable.Account, name, what string, mustExist, mayCreate bool) (*aztable.Table, bool, error) {
		tbl, err := acct.Table(name)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %v", what, err)
		}
		ok, err := acct.TableExists(ctx, name)
		if err != nil {
			return nil, false, fmt.Errorf("%s %q at %s: %v", what, name, acct.Endpoint(), err)
		}
		if !ok && mustExist {
			return nil, false, fmt.Errorf("%s %q does not exist at %s", what, name, acct.Endpoint())
		}
		if !ok && mayCreate {
			if err := acct.CreateTable(ctx, name); err != nil {
				return nil, false, fmt.Errorf("creating the %s %q at %s: %v", what, name, acct.Endpoint(), err)
			}
			ok = true
		}
		return tbl, ok, nil
	}
	if env.old, _, err = check(oldAcct, o.oldTable, "old table", true, false); err != nil {
		return nil, err
	}
	var newExists bool
	if env.new, newExists, err = check(newAcct, o.newTable, "new table", false, create); err != nil {
		return nil, err
	}
	if !newExists {
		// status on a migration that has not started: read it as empty.
		env.new = nil
	}
	if env.cfgTable, env.cfgExists, err = check(newAcct, o.configTable, "configuration table", false, create); err != nil {
		return nil, err
	}
	return env, nil
}

// migrate runs the Migrator with the lock, progress and -until.
func migrate(ctx context.Context, env *environment, until mtable.State, stderr io.Writer) int {
	o := env.opts
	out := &progress{w: stderr, tty: isTerminal(stderr)}
	cfg, err := aztable.OpenConfigService(ctx, env.cfgTable, aztable.ConfigOptions{
		ClientID: o.clientID, Partition: o.configPart, LeaseTTL: o.leaseTTL, PollInterval: o.poll,
	})
	if err != nil {
		fmt.Fprintf(stderr, "mtable migrate: %v\n", err)
		return exitError
	}
	defer cfg.Close()
	out.printf("taking the migration lock (as %s)", o.clientID)
	lctx, release, err := cfg.LockMigrator(ctx)
	if err != nil {
		if errors.Is(err, aztable.ErrMigratorRunning) {
			fmt.Fprintf(stderr, "mtable migrate: %v\n", err)
			return exitLocked
		}
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "mtable migrate: interrupted while taking the migration lock; nothing was changed\n")
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "mtable migrate: %v\n", err)
		return exitError
	}
	defer release()
	st, ver := cfg.Current()
	out.printf("state %s (version %d): waiting until every application process has applied it", st, ver)
	if err := cfg.Settle(lctx); err != nil {
		return out.fail(ctx, lctx, cfg, err)
	}
	oldC := &counting{Table: env.old}
	newC := &counting{Table: env.new}
	pc := &pushCounter{ConfigService: cfg, until: until, out: out}
	out.setPhase(phaseFor(st))
	stopTicker := out.ticker(o.progress, func() string {
		s, v := cfg.Current()
		return fmt.Sprintf("state %s (version %d), %s | old: %d rows read, %d written | new: %d rows read, %d written",
			s, v, out.phaseName(), oldC.read.Load(), oldC.written.Load(), newC.read.Load(), newC.written.Load())
	})
	err = mtable.NewMigrator(oldC, newC, pc).Run(lctx)
	stopTicker()
	if errors.Is(err, errUntil) {
		s, _ := cfg.Current()
		out.printf("stopped in state %s as asked (-until %s); run migrate again to continue", s, until)
		return exitOK
	}
	if err != nil {
		return out.fail(ctx, lctx, cfg, err)
	}
	out.printf("migration complete: the new table holds the data without metadata and the old table is empty (this run: %d rows copied, %d old rows read, %d new rows read)",
		newC.inserted.Load(), oldC.read.Load(), newC.read.Load())
	return exitOK
}

func phaseFor(s mtable.State) string {
	switch s {
	case mtable.PreferNew:
		return "copying"
	case mtable.UseNewHideMetadata:
		return "cleaning up"
	}
	return "advancing"
}

// errUntil stops the migrator at the -until state.
var errUntil = errors.New("stopped at the -until state")

// pushCounter passes the configuration through, announcing each push
// and refusing those beyond -until.
type pushCounter struct {
	*aztable.ConfigService
	until mtable.State
	out   *progress
}

func (p *pushCounter) Push(ctx context.Context, s mtable.State) error {
	if s > p.until {
		return errUntil
	}
	p.out.printf("pushing %s: waiting until every application process has applied it", s)
	p.out.setPhase("pushing " + s.String())
	if err := p.ConfigService.Push(ctx, s); err != nil {
		return err
	}
	p.out.setPhase(phaseFor(s))
	p.out.printf("%s applied by every live application process", s)
	return nil
}

// counting counts a backend's traffic for the progress display.
type counting struct {
	spec.Table
	read, written, inserted atomic.Int64
}

func (c *counting) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	res, err := c.Table.ExecuteBatch(ctx, ops)
	if err == nil {
		c.written.Add(int64(len(ops)))
		for _, op := range ops {
			if op.Kind == spec.Insert && !mtable.IsInternalKey(op.Entity.Key) {
				c.inserted.Add(1)
			}
		}
	}
	return res, err
}

func (c *counting) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	rows, err := c.Table.QueryAtomic(ctx, f)
	c.read.Add(int64(len(rows)))
	return rows, err
}

func (c *counting) QueryStreamed(ctx context.Context, f spec.Filter) (spec.Stream, error) {
	s, err := c.Table.QueryStreamed(ctx, f)
	if err != nil {
		return nil, err
	}
	return &countingStream{Stream: s, n: &c.read}, nil
}

type countingStream struct {
	spec.Stream
	n *atomic.Int64
}

func (s *countingStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	e, ok, err := s.Stream.Next(ctx)
	if ok {
		s.n.Add(1)
	}
	return e, ok, err
}

// progress writes the progress display.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	phase string
	drawn bool // a redrawable line is on screen
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (p *progress) setPhase(s string) {
	p.mu.Lock()
	p.phase = s
	p.mu.Unlock()
}

func (p *progress) phaseName() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.phase
}

// printf prints a permanent line.
func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
	fmt.Fprintf(p.w, "mtable migrate: "+format+"\n", args...)
}

// ticker shows line() every interval (on a terminal: redrawn in place
// every second) until the returned stop is called.
func (p *progress) ticker(interval time.Duration, line func() string) (stop func()) {
	if p.tty {
		interval = time.Second
	}
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			s := line()
			p.mu.Lock()
			if p.tty {
				fmt.Fprint(p.w, "\r\033[K"+s)
				p.drawn = true
			} else {
				fmt.Fprintln(p.w, "mtable migrate: "+s)
			}
			p.mu.Unlock()
		}
	}()
	return func() {
		close(done)
		<-finished
		p.mu.Lock()
		if p.drawn {
			fmt.Fprint(p.w, "\r\033[K")
			p.drawn = false
		}
		p.mu.Unlock()
	}
}

// fail reports a migration that stopped before the end.
func (p *progress) fail(ctx, lctx context.Context, cfg *aztable.ConfigService, err error) int {
	s, _ := cfg.Current()
	switch {
	case ctx.Err() != nil:
		p.printf("interrupted in state %s; run migrate again to resume from there", s)
		return exitInterrupted
	case lctx.Err() != nil:
		p.printf("stopped in state %s: %v; run migrate again to resume", s, context.Cause(lctx))
		return exitError
	}
	p.printf("failed in state %s: %v; run migrate again to resume once the cause is fixed", s, err)
	return exitError
}

// partStats is one partition's line of the status report.
type partStats struct {
	oldRows    int
	oldState   string
	newRows    int
	tombstones int
}

// status prints the configuration and per-partition progress.
func status(ctx context.Context, env *environment, stdout io.Writer) error {
	o := env.opts
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "old table:\t%s at %s\n", o.oldTable, env.oldAcct.Endpoint())
	fmt.Fprintf(w, "new table:\t%s at %s\n", o.newTable, env.newAcct.Endpoint())
	if !env.cfgExists {
		fmt.Fprintf(w, "state:\t%s (no migration has started: configuration table %q does not exist)\n", mtable.UseOldHideMetadata, o.configTable)
	} else {
		cs, err := aztable.ReadConfig(ctx, env.cfgTable, o.configPart)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "state:\t%s (version %d)\n", cs.State, cs.Version)
		lock := cs.Migrator
		if lock == "" {
			lock = "(none)"
		}
		fmt.Fprintf(w, "migration lock:\t%s\n", lock)
		fmt.Fprintf(w, "leases:\t%d\n", len(cs.Leases))
		for _, l := range cs.Leases {
			applied := "applied"
			if l.Acked < cs.Version {
				applied = "NOT YET applied"
			}
			fmt.Fprintf(w, "  %s\tacknowledged version %d (%s)\n", l.Client, l.Acked, applied)
		}
	}
	parts := map[string]*partStats{}
	get := func(pk string) *partStats {
		if parts[pk] == nil {
			parts[pk] = &partStats{oldState: "-"}
		}
		return parts[pk]
	}
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
	if env.new != nil {
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
	return w.Flush()
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
