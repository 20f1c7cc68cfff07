package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
	"golang.org/x/term"
)

// migrate checks that the migration can go on, refusing before it
// writes anything when it cannot, then runs the Migrator with the lock,
// progress and -until.
func migrate(ctx context.Context, env *environment, stdout, stderr io.Writer) int {
	o := env.opts
	pre, code := preflight(ctx, env, stdout, stderr)
	if pre == nil {
		return code
	}
	if o.check {
		return code
	}
	out := &progress{w: stderr, tty: isTerminal(stderr)}
	// The first writes: the new table and the configuration table.
	for _, t := range []struct {
		what   string
		acct   *aztable.Account
		tbl    *aztable.Table
		exists bool
	}{{"new table", env.newAcct, env.new, pre.newExists}, {"configuration table", env.newAcct, env.cfg, pre.cfgExists}} {
		if !t.exists {
			if err := t.acct.CreateTable(ctx, t.tbl.Name()); err != nil {
				if ctx.Err() != nil {
					fmt.Fprintf(stderr, "mtable migrate: interrupted while creating the %s; no state was pushed\n", t.what)
					return exitInterrupted
				}
				fmt.Fprintf(stderr, "mtable migrate: creating the %s %q at %s: %v\n", t.what, t.tbl.Name(), t.acct.Endpoint(), err)
				return exitError
			}
		}
	}
	cfg, err := leaseconfig.Open(ctx, env.cfg, o.configOptions(env))
	if err != nil {
		switch {
		case ctx.Err() != nil:
			fmt.Fprintf(stderr, "mtable migrate: interrupted while opening the configuration; no state was pushed\n")
			return exitInterrupted
		case errors.Is(err, leaseconfig.ErrOtherTables):
			fmt.Fprintf(stderr, "mtable migrate: refusing to migrate: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "mtable migrate: %v\n", err)
		return exitError
	}
	defer cfg.Close()
	out.printf("taking the migration lock (as %s, instance %s)", o.clientID, cfg.Instance())
	lock, err := cfg.LockMigrator(ctx)
	if err != nil {
		if errors.Is(err, leaseconfig.ErrMigratorRunning) {
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
	defer func() {
		if err := lock.Release(); err != nil {
			out.printf("could not release the migration lock (another migrator takes it over %v after its last renewal): %v", o.leaseTTL, err)
		}
	}()
	lctx := lock.Context()
	st, ver := cfg.Current()
	out.printf("state %s (version %d): waiting until every application process has applied it", st, ver)
	if err := cfg.Settle(lctx); err != nil {
		return out.fail(ctx, lock, cfg, err)
	}
	oldC := &counting{Table: env.old, hook: testHookOldRowRead}
	newC := &counting{Table: env.new}
	pc := &pushCounter{Service: cfg, lock: lock, until: o.untilState, out: out}
	out.setPhase(phaseFor(st))
	stopTicker := out.ticker(o.progress, func() string {
		s, v := cfg.Current()
		return fmt.Sprintf("state %s (version %d), %s | old: %d rows read, %d written | new: %d rows read, %d written",
			s, v, out.phaseName(), oldC.read.Load(), oldC.written.Load(), newC.read.Load(), newC.written.Load())
	})
	// pc is a Fencer whose fence is the lock's: every request of the
	// migrator is sent only while the lock is surely held.
	err = mtable.NewMigrator(oldC, newC, pc).Run(lctx)
	stopTicker()
	if errors.Is(err, errUntil) {
		s, _ := cfg.Current()
		out.printf("stopped in state %s as asked (-until %s); run migrate again to continue", s, o.untilState)
		return exitOK
	}
	if err != nil {
		return out.fail(ctx, lock, cfg, err)
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
// and refusing those beyond -until. Its Fence is the migration lock's.
type pushCounter struct {
	*leaseconfig.Service
	lock  *leaseconfig.Lock
	until mtable.State
	out   *progress
}

var _ mtable.Fencer = (*pushCounter)(nil)

// Fence implements mtable.Fencer with the lock's fence (not the
// configuration lease's, which ConfigService would give).
func (p *pushCounter) Fence(t spec.Table) spec.Table { return p.lock.Fence(t) }

func (p *pushCounter) Push(ctx context.Context, s mtable.State) error {
	if s > p.until {
		return errUntil
	}
	p.out.printf("pushing %s: waiting until every application process has applied it", s)
	p.out.setPhase("pushing " + s.String())
	if err := p.Service.Push(ctx, s); err != nil {
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
	hook                    func(n int64)
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
	return &countingStream{Stream: s, n: &c.read, hook: c.hook}, nil
}

type countingStream struct {
	spec.Stream
	n    *atomic.Int64
	hook func(n int64) // testHookRowRead, for the streams of the old table
}

func (s *countingStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	e, ok, err := s.Stream.Next(ctx)
	if ok {
		n := s.n.Add(1)
		if s.hook != nil {
			s.hook(n)
		}
	}
	return e, ok, err
}

// testHookOldRowRead, when set (only by this package's tests), is called
// with the count of old-table rows the migrator has read so far, after
// each one: a test stops the process there, between two requests.
var testHookOldRowRead func(n int64)

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
func (p *progress) fail(ctx context.Context, lock *leaseconfig.Lock, cfg *leaseconfig.Service, err error) int {
	s, _ := cfg.Current()
	switch {
	case ctx.Err() != nil:
		p.printf("interrupted in state %s; run migrate again to resume from there", s)
		return exitInterrupted
	case lock.Context().Err() != nil || errors.Is(err, leaseconfig.ErrFenced) || lock.Err() != nil:
		// Stalled (stopped, suspended) or cut off from the service for
		// too long: the fence has kept it from writing since.
		cause := err
		if lock.Context().Err() != nil {
			cause = context.Cause(lock.Context())
		}
		p.printf("stopped in state %s: this migrator lost its migration lock, or may have (it was stalled, or could not renew the lock), and has sent nothing since: %v; another migrator may have taken over: run migrate again to resume", s, cause)
		return exitError
	}
	p.printf("failed in state %s: %v; run migrate again to resume once the cause is fixed", s, err)
	return exitError
}

var _ = time.Second
