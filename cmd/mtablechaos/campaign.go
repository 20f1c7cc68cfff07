package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// devKey is the emulator's public, documented development key.
const devKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// proc is a process of the campaign: a writer or a migrator run.
type proc struct {
	name         string
	cmd          *exec.Cmd
	done         chan struct{}
	code         int
	stalledUntil time.Time // zero unless stopped by the campaign
	logPath      string
	logFrom      int64 // where its output begins in logPath
}

// output returns what the process has written so far.
func (p *proc) output() string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(p.logFrom, io.SeekStart); err != nil {
		return ""
	}
	out, _ := io.ReadAll(f)
	return string(out)
}

// holdsLock reports whether a migrator process has taken the migration
// lock (it says so on its standard error once it has): faults on a
// migrator that is still waiting for the lock test little.
func (p *proc) holdsLock() bool {
	return strings.Contains(p.output(), "waiting until every application process has applied it")
}

// phase is what a migrator process is doing, from its output: "copying"
// once PREFER_NEW is applied (until it pushes the next state).
func (p *proc) phase() string {
	out := p.output()
	switch {
	case strings.Contains(out, "pushing USE_NEW_WITH_TOMBSTONES") || strings.Contains(out, "stopped in state"):
		return "after the copy"
	case strings.Contains(out, "PREFER_NEW applied by every live application process") || strings.Contains(out, "state PREFER_NEW (version"):
		return "copying"
	}
	return "before the copy"
}

// copyStage is the stage in which the migrator copies.
func (c *campaign) copyStage() int {
	for i, s := range c.o.stages {
		if s == "PREFER_NEW" {
			return i
		}
	}
	return 0
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) running() bool { return p != nil && !p.exited() }

// campaign is the state of one run.
type campaign struct {
	o     *options
	work  string
	bin   string // the mtable binary
	self  string // this program, run again as a writer
	az    *azurite
	cs    string
	acct  *aztable.Account // direct access, for the load, canaries and the check
	rng   *rand.Rand
	t0    time.Time
	out   io.Writer
	logs  []string // writers' logs
	wr    []*proc
	wrAt  []time.Time // when to start writer i again (zero: running)
	mig   *proc
	migAt time.Time
	// stalled migrators, replaced by a new one when they were stopped;
	// continued, each must exit without having written (its fence).
	zombies []*proc

	stage     int
	stageDone bool

	killsW, killsM, stallsW, stallsM, restarts int
	migRuns, migFails, writerStarts            int
	canaries, canariesLost                     int
	failures                                   []string
}

func (c *campaign) logf(format string, args ...any) {
	fmt.Fprintf(c.out, "[%7.1fs] "+format+"\n", append([]any{time.Since(c.t0).Seconds()}, args...)...)
}

func (c *campaign) kills() int  { return c.killsW + c.killsM }
func (c *campaign) stalls() int { return c.stallsW + c.stallsM }

// share is the part of a quota due by the end of stage s.
func (c *campaign) share(total, s int) int {
	n := len(c.o.stages)
	return (total*(s+1) + n - 1) / n
}

func (c *campaign) quotasMet(s int) bool {
	return c.kills() >= c.share(c.o.kills, s) && c.stalls() >= c.share(c.o.stalls, s) && c.restarts >= c.share(c.o.restarts, s)
}

func runCampaign(o *options) int {
	c := &campaign{o: o, out: os.Stdout, rng: rand.New(rand.NewPCG(uint64(o.seed), 0x6d7461626c65)), t0: time.Now()}
	code, err := c.run()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mtablechaos: %v\n", err)
		if c.work != "" {
			fmt.Fprintf(os.Stderr, "mtablechaos: the logs and Azurite's data are in %s\n", c.work)
		}
		return 1
	}
	return code
}

func (c *campaign) run() (int, error) {
	o := c.o
	root, err := moduleRoot()
	if err != nil {
		return 1, err
	}
	c.work = o.work
	if c.work == "" {
		if c.work, err = os.MkdirTemp("", "mtablechaos-"); err != nil {
			return 1, err
		}
	} else if err := os.MkdirAll(c.work, 0o755); err != nil {
		return 1, err
	}
	if c.self, err = os.Executable(); err != nil {
		return 1, err
	}
	c.bin = filepath.Join(c.work, "mtable")
	build := exec.Command("go", "build", "-o", c.bin, "./cmd/mtable")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 1, fmt.Errorf("building cmd/mtable: %v", err)
	}
	if c.az, err = newAzurite(root, c.work); err != nil {
		return 1, err
	}
	defer c.cleanup()
	if err := c.az.start(); err != nil {
		return 1, err
	}
	c.cs = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + devKey + ";TableEndpoint=" + c.az.endpoint() + ";"
	if c.acct, err = aztable.Connect(c.cs, aztable.WithRequestTimeout(30*time.Second)); err != nil {
		return 1, err
	}
	fmt.Fprintf(c.out, "=== mtablechaos ===\n")
	fmt.Fprintf(c.out, "seed %d; %d writers x %d keys, %d filler rows in %d partitions; stages %s\n", o.seed, o.writers, o.keysPerWriter, o.rows, o.partitions, stagesString(o.stages))
	fmt.Fprintf(c.out, "quotas: >= %d kills, >= %d stalls, >= %d Azurite restarts; time bound %v\n", o.kills, o.stalls, o.restarts, o.timeout)
	fmt.Fprintf(c.out, "lease %v, poll %v, request timeout %v, max in flight %v, clock skew %v\n", o.leaseTTL, o.poll, o.requestTimeout, o.maxInFlight, o.clockSkew)
	fmt.Fprintf(c.out, "Azurite %s, data and logs in %s\n", c.az.endpoint(), c.work)

	initial, err := c.load()
	if err != nil {
		return 1, err
	}
	c.logf("old table loaded: %d rows", len(initial))
	c.wr = make([]*proc, o.writers)
	c.wrAt = make([]time.Time, o.writers)
	c.logs = make([]string, o.writers)
	for i := range c.wr {
		c.logs[i] = filepath.Join(c.work, fmt.Sprintf("writer%d.log", i))
		if err := c.startWriter(i); err != nil {
			return 1, err
		}
	}
	if err := c.loop(); err != nil {
		return 1, err
	}
	c.stopWriters()
	if err := c.deleteFillers(initial); err != nil {
		return 1, err
	}
	c.wakeZombies()
	pass, err := c.check(initial)
	if err != nil {
		return 1, err
	}
	if !pass {
		fmt.Fprintf(c.out, "FAIL (logs and Azurite's data kept in %s)\n", c.work)
		return 1, nil
	}
	fmt.Fprintln(c.out, "PASS")
	if o.work == "" {
		os.RemoveAll(c.work)
	}
	return 0, nil
}

func stagesString(stages []string) string {
	var s []string
	for _, st := range stages {
		if st == "" {
			st = "the end"
		}
		s = append(s, st)
	}
	return strings.Join(s, ", then ")
}

// all returns every process of the campaign.
func (c *campaign) all() []*proc {
	var ps []*proc
	for _, p := range append(append(append([]*proc{}, c.wr...), c.mig), c.zombies...) {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

// cleanup stops whatever is still running.
func (c *campaign) cleanup() {
	for _, p := range c.all() {
		if p.running() {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	if c.az != nil {
		c.az.kill()
	}
}

// load creates the old table with the filler rows and every writer's
// keys, and returns what it holds.
func (c *campaign) load() (map[spec.Key]string, error) {
	ctx := context.Background()
	o := c.o
	if err := c.acct.CreateTable(ctx, o.oldTable); err != nil {
		return nil, err
	}
	old, err := c.acct.Table(o.oldTable)
	if err != nil {
		return nil, err
	}
	initial := map[spec.Key]string{}
	for r := 0; r < o.rows; r++ {
		initial[spec.Key{PartitionKey: fmt.Sprintf("p%02d", r%o.partitions), RowKey: fmt.Sprintf("f%05d", r)}] = fmt.Sprintf("filler%d", r)
	}
	for w := 0; w < o.writers; w++ {
		for _, k := range writerKeys(w, o.partitions, o.keysPerWriter) {
			initial[k] = "init"
		}
	}
	byPart := map[string][]spec.Op{}
	for k, v := range initial {
		byPart[k.PartitionKey] = append(byPart[k.PartitionKey], spec.Op{Kind: spec.InsertOrReplace, Entity: spec.Entity{Key: k, Props: spec.Props{valueProp: spec.String(v)}}})
	}
	for _, ops := range byPart {
		for len(ops) > 0 {
			n := min(len(ops), 99)
			if _, err := old.ExecuteBatch(ctx, ops[:n]); err != nil {
				return nil, fmt.Errorf("loading the old table: %v", err)
			}
			ops = ops[n:]
		}
	}
	return initial, nil
}

// leaseFlags are the lease timings, as mtable's flags.
func (c *campaign) leaseFlags() []string {
	o := c.o
	return []string{"-lease-ttl", o.leaseTTL.String(), "-poll", o.poll.String(), "-request-timeout", o.requestTimeout.String(),
		"-max-in-flight", o.maxInFlight.String(), "-clock-skew", o.clockSkew.String()}
}

func (c *campaign) start(name string, path string, args []string, logPath string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	from, _ := logf.Seek(0, io.SeekEnd)
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), envConn+"="+c.cs, "MTABLE_OLD_TABLE="+c.o.oldTable, "MTABLE_NEW_TABLE="+c.o.newTable)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), logPath: logPath, logFrom: from}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (c *campaign) startWriter(i int) error {
	o := c.o
	args := append([]string{"-writer", strconv.Itoa(i), "-writer-log", c.logs[i], "-seed", strconv.FormatInt(o.seed, 10),
		"-partitions", strconv.Itoa(o.partitions), "-keys", strconv.Itoa(o.keysPerWriter),
		"-old-table", o.oldTable, "-new-table", o.newTable, "-config-table", o.configTable}, c.leaseFlags()...)
	p, err := c.start(fmt.Sprintf("writer %d", i), c.self, args, filepath.Join(c.work, fmt.Sprintf("writer%d.err", i)))
	if err != nil {
		return err
	}
	c.wr[i], c.wrAt[i] = p, time.Time{}
	c.writerStarts++
	return nil
}

func (c *campaign) startMigrator() error {
	until := c.o.stages[c.stage]
	args := append([]string{"migrate", "-config-table", c.o.configTable, "-client-id", "migrator", "-progress", "2s"}, c.leaseFlags()...)
	if until != "" {
		args = append(args, "-until", until)
	}
	logPath := filepath.Join(c.work, "migrator.log")
	if f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintf(f, "=== run %d: mtable %s\n", c.migRuns+1, strings.Join(args, " "))
		f.Close()
	}
	p, err := c.start("migrator", c.bin, args, logPath)
	if err != nil {
		return err
	}
	c.mig = p
	c.migRuns++
	return nil
}

// loop runs the migration stage by stage while injecting faults, until
// the migration is complete and every quota is met.
func (c *campaign) loop() error {
	o := c.o
	deadline := c.t0.Add(o.timeout)
	nextFault := time.Now().Add(c.faultDelay())
	for {
		now := time.Now()
		if now.After(deadline) {
			return fmt.Errorf("time bound %v reached in stage %d/%d (%s) with %d kills, %d stalls, %d restarts: the campaign could not finish (see %s)",
				o.timeout, c.stage+1, len(o.stages), stagesString(o.stages[c.stage:c.stage+1]), c.kills(), c.stalls(), c.restarts, c.work)
		}
		for _, p := range c.all() {
			if !p.stalledUntil.IsZero() && !now.Before(p.stalledUntil) {
				_ = p.cmd.Process.Signal(syscall.SIGCONT)
				p.stalledUntil = time.Time{}
				c.logf("SIGCONT %s (pid %d)", p.name, p.cmd.Process.Pid)
			}
		}
		for i, w := range c.wr {
			if w.exited() && c.wrAt[i].IsZero() {
				if w.code != -1 { // -1: killed by the campaign
					c.logf("%s exited with status %d (see writer%d.err)", w.name, w.code, i)
				}
				c.wrAt[i] = now.Add(c.jitter(time.Second))
			}
			if !c.wrAt[i].IsZero() && !now.Before(c.wrAt[i]) {
				if err := c.startWriter(i); err != nil {
					return err
				}
			}
		}
		if c.mig != nil && c.mig.exited() {
			switch c.mig.code {
			case 0:
				c.stageDone = true
				c.logf("migrate -until %s: done (run %d)", stagesString(o.stages[c.stage:c.stage+1]), c.migRuns)
			case -1:
			default:
				c.migFails++
				c.logf("migrate exited with status %d: %s", c.mig.code, lastLine(filepath.Join(c.work, "migrator.log")))
			}
			c.mig, c.migAt = nil, now.Add(c.jitter(time.Second))
		}
		if c.mig == nil && !c.stageDone && !now.Before(c.migAt) {
			if err := c.startMigrator(); err != nil {
				return err
			}
		}
		if c.stageDone && c.quotasMet(c.stage) {
			if c.stage == len(o.stages)-1 {
				c.logf("migration complete and every quota met")
				return nil
			}
			c.stage++
			c.stageDone = false
			c.logf("stage %d: migrate -until %s", c.stage+1, stagesString(o.stages[c.stage:c.stage+1]))
		}
		if c.o.stalls > 0 && c.stallsM == 0 && c.stage == c.copyStage() && c.mig.running() && c.mig.stalledUntil.IsZero() && c.mig.phase() == "copying" {
			// The campaign's set piece: the migrator stalled in its copy.
			if err := c.faultOn("stall", c.mig); err != nil {
				return err
			}
			nextFault = time.Now().Add(c.faultDelay())
		}
		if !now.Before(nextFault) {
			if err := c.fault(); err != nil {
				return err
			}
			nextFault = time.Now().Add(c.faultDelay())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *campaign) faultDelay() time.Duration {
	return c.o.faultMin + c.jitter(c.o.faultSpread)
}

func (c *campaign) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(c.rng.Int64N(int64(d)))
}

// fault injects one fault the current stage still needs.
func (c *campaign) fault() error {
	var kinds []string
	if c.kills() < c.share(c.o.kills, c.stage) {
		kinds = append(kinds, "kill", "kill", "kill")
	}
	if c.stalls() < c.share(c.o.stalls, c.stage) {
		kinds = append(kinds, "stall")
	}
	if c.restarts < c.share(c.o.restarts, c.stage) {
		kinds = append(kinds, "restart")
	}
	if len(kinds) == 0 {
		return nil
	}
	kind := kinds[c.rng.IntN(len(kinds))]
	if kind == "restart" {
		return c.restartAzurite()
	}
	// The target: the migrator, when it holds the lock, whenever it has
	// had less than a third of this kind of fault so far, and a third of
	// the time otherwise; else a writer.
	var targets []*proc
	for _, w := range c.wr {
		if w.running() && w.stalledUntil.IsZero() {
			targets = append(targets, w)
		}
	}
	migOK := c.mig.running() && c.mig.stalledUntil.IsZero() && c.mig.holdsLock()
	if kind == "stall" && c.stallsM == 0 && c.stage <= c.copyStage() {
		migOK = false // the first stall of the migrator is kept for its copy (loop)
	}
	behind := kind == "kill" && 3*c.killsM < c.kills() || kind == "stall" && 3*c.stallsM < c.stalls()
	var p *proc
	switch {
	case migOK && (len(targets) == 0 || behind || c.rng.IntN(3) == 0):
		p = c.mig
	case len(targets) > 0:
		p = targets[c.rng.IntN(len(targets))]
	default:
		return nil
	}
	return c.faultOn(kind, p)
}

// faultOn kills or stalls p.
func (c *campaign) faultOn(kind string, p *proc) error {
	switch kind {
	case "kill":
		if err := p.cmd.Process.Kill(); err != nil {
			return nil // it had just exited
		}
		<-p.done
		p.code = -1
		if p == c.mig {
			c.killsM++
		} else {
			c.killsW++
		}
		c.logf("kill -9 %s (pid %d): kill %d", p.name, p.cmd.Process.Pid, c.kills())
	case "stall":
		_ = p.cmd.Process.Signal(syscall.SIGSTOP)
		if p == c.mig {
			// As an operator would, start another migrator at once: it
			// takes the lock over once the stalled one's has expired,
			// and finishes the migration while the stalled one sleeps;
			// the stalled one is continued at the end, once the writers
			// have stopped, so that anything it sends then shows.
			c.stallsM++
			c.zombies = append(c.zombies, p)
			c.mig, c.migAt = nil, time.Now()
			p.stalledUntil = time.Now().Add(c.o.timeout) // until the end
			c.logf("SIGSTOP %s (pid %d) until the migration is over: stall %d (%s)", p.name, p.cmd.Process.Pid, c.stalls(), p.phase())
			return nil
		}
		c.stallsW++
		p.stalledUntil = time.Now().Add(c.o.stallFor)
		c.logf("SIGSTOP %s (pid %d) for %v: stall %d", p.name, p.cmd.Process.Pid, c.o.stallFor, c.stalls())
	}
	return nil
}

// restartAzurite restarts the emulator gracefully, checking that it
// keeps the canary rows acknowledged just before.
func (c *campaign) restartAzurite() error {
	ctx := context.Background()
	if err := c.acct.CreateTable(ctx, c.o.canaryTable); err != nil {
		return fmt.Errorf("canary table: %v", err)
	}
	canary, err := c.acct.Table(c.o.canaryTable)
	if err != nil {
		return err
	}
	var written []spec.Key
	for i := 0; i < 10; i++ {
		k := spec.Key{PartitionKey: "canary", RowKey: fmt.Sprintf("r%d-%d", c.restarts, i)}
		if _, err := canary.ExecuteBatch(ctx, []spec.Op{{Kind: spec.InsertOrReplace, Entity: spec.Entity{Key: k, Props: spec.Props{}}}}); err == nil {
			written = append(written, k)
		}
	}
	clean, err := c.az.stopGracefully()
	if err != nil {
		return err
	}
	if !clean {
		c.failures = append(c.failures, "Azurite did not report a clean close on SIGINT")
	}
	if err := c.az.start(); err != nil {
		return err
	}
	c.restarts++
	lost := 0
	for _, k := range written {
		if _, ok, err := spec.Retrieve(ctx, canary, k); err != nil {
			return fmt.Errorf("reading the canaries: %v", err)
		} else if !ok {
			lost++
		}
	}
	c.canaries += len(written)
	c.canariesLost += lost
	c.logf("Azurite restarted from disk (SIGINT, restart %d): %d of %d canary writes kept", c.restarts, len(written)-lost, len(written))
	return nil
}

// deleteFillers deletes every filler row through MigratingTable, as the
// issue's clients did once the migration was over, and logs the deletes
// like a writer (deleter.log), so that the model expects them absent: a
// stalled migrator that copied one afterwards would bring it back.
func (c *campaign) deleteFillers(initial map[spec.Key]string) error {
	o := c.o
	ctx := context.Background()
	acct, err := aztable.Connect(c.cs, aztable.WithRequestTimeout(o.requestTimeout))
	if err != nil {
		return err
	}
	old, _ := acct.Table(o.oldTable)
	newTbl, _ := acct.Table(o.newTable)
	cfgTbl, _ := acct.Table(o.configTable)
	cfg, err := leaseconfig.Open(ctx, cfgTbl, leaseconfig.Options{ClientID: "deleter", Old: identity(old.ID()), New: identity(newTbl.ID()), ConfigTable: identity(cfgTbl.ID()),
		LeaseTTL: o.leaseTTL, PollInterval: o.poll, RequestTimeout: o.requestTimeout, MaxInFlight: o.maxInFlight, ClockSkew: o.clockSkew})
	if err != nil {
		return fmt.Errorf("the deleter opening the configuration: %v", err)
	}
	defer cfg.Close()
	vt := mtable.New(old, newTbl, cfg)
	path := filepath.Join(c.work, "deleter.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	byPart := map[string][]spec.Key{}
	for k, v := range initial {
		if strings.HasPrefix(v, "filler") {
			byPart[k.PartitionKey] = append(byPart[k.PartitionKey], k)
		}
	}
	seq, deleted := int64(0), 0
	for _, pk := range sortedKeys(byPart) {
		keys := byPart[pk]
		slices.SortFunc(keys, spec.Key.Compare)
		for len(keys) > 0 {
			n := min(len(keys), 99)
			var ops []spec.Op
			var writes []write
			for _, k := range keys[:n] {
				// Delete, not DeleteIfExists: a batch may hold a
				// DeleteIfExists only alone, and only this deleter
				// removes fillers, so each exists.
				ops = append(ops, spec.Op{Kind: spec.Delete, Entity: spec.Entity{Key: k, ETag: spec.AnyETag}})
				writes = append(writes, write{key: k})
			}
			seq++
			fmt.Fprintln(f, intentLine(seq, writes))
			if _, err := vt.ExecuteBatch(ctx, ops); err != nil {
				fmt.Fprintf(f, "U %d %q\n", seq, oneLine(err))
				return fmt.Errorf("the deleter: %v", err)
			}
			fmt.Fprintf(f, "A %d\n", seq)
			if err := f.Sync(); err != nil {
				return err
			}
			deleted += n
			keys = keys[n:]
		}
	}
	c.logs = append(c.logs, path)
	c.logf("deleted the %d filler rows through MigratingTable", deleted)
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// wakeZombies continues the migrators stalled during the migration, now
// that it is over and the writers have stopped, and waits for each to
// exit: it must send nothing (its lock is long gone), so that the check
// sees anything it wrote.
func (c *campaign) wakeZombies() {
	for _, z := range c.zombies {
		_ = z.cmd.Process.Signal(syscall.SIGCONT)
		c.logf("SIGCONT the stalled migrator (pid %d), stopped %.0fs ago", z.cmd.Process.Pid, time.Since(z.stalledUntil.Add(-c.o.timeout)).Seconds())
		select {
		case <-z.done:
			c.logf("the stalled migrator (pid %d) exited with status %d: %s", z.cmd.Process.Pid, z.code, lastLine(z.logPath))
		case <-time.After(time.Minute):
			_ = z.cmd.Process.Kill()
			<-z.done
			c.failures = append(c.failures, fmt.Sprintf("the stalled migrator (pid %d) was still running a minute after SIGCONT", z.cmd.Process.Pid))
		}
	}
}

// stopWriters asks every writer to finish its batch and exit.
func (c *campaign) stopWriters() {
	for i, w := range c.wr {
		if !w.running() {
			continue
		}
		_ = w.cmd.Process.Signal(syscall.SIGCONT)
		_ = w.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-w.done:
		case <-time.After(30 * time.Second):
			_ = w.cmd.Process.Kill()
			<-w.done
			c.logf("writer %d did not stop within 30s of SIGTERM: killed", i)
		}
	}
	c.logf("writers stopped")
}

// check reads the final tables and compares them with the logs.
func (c *campaign) check(initial map[spec.Key]string) (bool, error) {
	o := c.o
	var logs [][]batch
	for i, path := range c.logs {
		f, err := os.Open(path)
		if err != nil {
			return false, err
		}
		b, err := parseLog(f)
		f.Close()
		if err != nil {
			return false, fmt.Errorf("writer %d's log: %v", i, err)
		}
		logs = append(logs, b)
	}
	m := newModel(initial, logs)
	newTbl, _ := c.acct.Table(o.newTable)
	old, _ := c.acct.Table(o.oldTable)
	final := map[spec.Key]string{}
	var problems []string
	rows, err := readTable(newTbl)
	if err != nil {
		return false, fmt.Errorf("reading the new table: %v", err)
	}
	for _, e := range rows {
		if mtable.IsInternalKey(e.Key) {
			problems = append(problems, fmt.Sprintf("the new table holds the internal row %s", e.Key))
			continue
		}
		for _, name := range e.Props.Names() {
			if mtable.IsMetadataProperty(name) {
				problems = append(problems, fmt.Sprintf("new table row %s keeps metadata property %s", e.Key, name))
			}
		}
		v, ok := e.Props[valueProp]
		if !ok || v.Type() != spec.TypeString {
			problems = append(problems, fmt.Sprintf("new table row %s has no string %s", e.Key, valueProp))
			continue
		}
		final[e.Key] = v.Str()
	}
	oldRows, err := readTable(old)
	if err != nil {
		return false, fmt.Errorf("reading the old table: %v", err)
	}
	if len(oldRows) > 0 {
		problems = append(problems, fmt.Sprintf("the old table holds %d rows after the migration (first %s)", len(oldRows), oldRows[0].Key))
	}
	v := m.check(final)
	batches, unknown := 0, 0
	for _, l := range logs {
		for _, b := range l {
			batches++
			if b.status == 'U' {
				unknown++
			}
		}
	}
	fmt.Fprintf(c.out, "=== result ===\n")
	fmt.Fprintf(c.out, "kills survived      %d (writers %d, migrator %d)\n", c.kills(), c.killsW, c.killsM)
	fmt.Fprintf(c.out, "stalls              %d past the %v lease (writers %d, %v each; migrator %d, replaced and continued after the migration)\n", c.stalls(), c.o.leaseTTL, c.stallsW, c.o.stallFor, c.stallsM)
	fmt.Fprintf(c.out, "Azurite restarts    %d from disk; canary writes kept %d of %d\n", c.restarts, c.canaries-c.canariesLost, c.canaries)
	fmt.Fprintf(c.out, "migration           complete after %d migrate runs (%d failed and were run again); %d writer processes started\n", c.migRuns, c.migFails, c.writerStarts)
	fmt.Fprintf(c.out, "writer batches      %d (%d of unknown outcome)\n", batches, unknown)
	fmt.Fprintf(c.out, "writes checked      %d acknowledged writes (%d of them the initial load) over %d keys, plus %d writes of unknown outcome\n", v.acked, len(initial), v.keys, v.unknown)
	fmt.Fprintf(c.out, "writes lost         %d\n", len(v.lost))
	for i, l := range v.lost {
		if i == 20 {
			fmt.Fprintf(c.out, "  … and %d more\n", len(v.lost)-20)
			break
		}
		fmt.Fprintf(c.out, "  lost: %s\n", l)
	}
	if c.canariesLost > 0 {
		problems = append(problems, fmt.Sprintf("Azurite lost %d acknowledged canary writes across graceful restarts", c.canariesLost))
	}
	problems = append(problems, c.failures...)
	for _, p := range problems {
		fmt.Fprintf(c.out, "  problem: %s\n", p)
	}
	quotas := c.kills() >= o.kills && c.stalls() >= o.stalls && c.restarts >= o.restarts
	if !quotas {
		fmt.Fprintf(c.out, "  problem: quotas not met\n")
	}
	fmt.Fprintf(c.out, "elapsed             %.0fs\n", time.Since(c.t0).Seconds())
	return len(v.lost) == 0 && len(problems) == 0 && quotas, nil
}

func readTable(t spec.Table) ([]spec.Entity, error) {
	ctx := context.Background()
	s, err := t.QueryStreamed(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var rows []spec.Entity
	for {
		e, ok, err := s.Next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return rows, nil
		}
		rows = append(rows, e)
	}
}

// lastLine returns the last non-empty line of a file (for reports).
func lastLine(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	s := lines[len(lines)-1]
	if len(s) > 240 {
		s = s[:240] + "…"
	}
	return s
}
