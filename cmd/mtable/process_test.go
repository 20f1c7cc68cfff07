package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// commandProcess is the command running as a process of its own (the
// test binary re-executed as main).
type commandProcess struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	seen  chan string // every line of standard error, as it comes
	done  chan struct{}
	code  int
}

func startCommand(t *testing.T, env map[string]string, args ...string) *commandProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envRunCommand+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &commandProcess{cmd: cmd, seen: make(chan string, 1000), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
			select {
			case p.seen <- sc.Text():
			default:
			}
		}
		err := cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		if err != nil && p.code < 0 {
			p.code = -1
		}
		close(p.seen)
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// waitFor waits until a line of standard error contains marker.
func (p *commandProcess) waitFor(t *testing.T, marker string) {
	t.Helper()
	for line := range p.seen {
		if strings.Contains(line, marker) {
			return
		}
	}
	t.Fatalf("the process ended without printing %q:\n%s", marker, p.output())
}

// wait waits for the process to end (at most limit, a guard against a
// hung test, far above what it needs) and returns its exit status.
func (p *commandProcess) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(limit):
		t.Fatalf("the process did not end within %v:\n%s", limit, p.output())
		return 0
	}
}

func (p *commandProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// seedRows fills tbl with rows rows in each of parts partitions.
func seedRows(t *testing.T, tbl spec.Table, parts, rows int) {
	t.Helper()
	for p := 0; p < parts; p++ {
		for start := 0; start < rows; start += 99 {
			var ops []spec.Op
			for r := start; r < min(start+99, rows); r++ {
				ops = append(ops, spec.Op{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: fmt.Sprint("p", p), RowKey: fmt.Sprintf("r%04d", r)}, Props: spec.Props{"n": spec.Int32(int32(r))}}})
			}
			if _, err := tbl.ExecuteBatch(context.Background(), ops); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestInterruptReleasesLock is issue 10 item 11: SIGINT to migrate, at
// any moment of a copy with frequent lock renewals, ends it with exit
// status 4 and leaves no migration lock behind.
func TestInterruptReleasesLock(t *testing.T) {
	srv := azuritetest.Shared(t)
	tries := 8
	if testing.Short() {
		tries = 4
	}
	for i := 0; i < tries; i++ {
		t.Run(fmt.Sprint("try", i), func(t *testing.T) {
			old := srv.NewTable(t, "sigold")
			seedRows(t, old, 4, 100)
			newName, cfgName := srv.NewTableName("signew"), srv.NewTableName("sigcfg")
			t.Cleanup(func() {
				srv.Account().DeleteTable(context.Background(), newName)
				srv.Account().DeleteTable(context.Background(), cfgName)
			})
			env := baseEnv(srv, old.Name(), newName)
			// Renewals every 20ms: one is often in flight when the
			// signal comes.
			args := append([]string{"migrate", "-config-table", cfgName, "-progress", "0", "-client-id", "sig"}, leaseFlags...)
			args = append(args, "-poll", "20ms")
			p := startCommand(t, env, args...)
			p.waitFor(t, "PREFER_NEW applied")
			time.Sleep(time.Duration(i) * 15 * time.Millisecond) // somewhere in the copy
			if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			code := p.wait(t, time.Minute)
			if code != exitInterrupted && code != exitOK {
				t.Errorf("exit status %d, want %d (or %d if the migration was over first):\n%s", code, exitInterrupted, exitOK, p.output())
			}
			cfgTbl, _ := srv.Account().Table(cfgName)
			st, err := leaseconfig.ReadStatus(context.Background(), cfgTbl, "")
			if err != nil {
				t.Fatal(err)
			}
			if st.Migrator != "" {
				t.Errorf("after the interrupted run the migration lock is held by %q (instance %s); want it released:\n%s", st.Migrator, st.MigratorInstance, p.output())
			}
		})
	}
}

// TestSameClientIDTwiceMigrate is issue 10 item 11: two migrates given
// the same -client-id do not kill each other: the second is refused as
// a second migrator, the first finishes.
func TestSameClientIDTwiceMigrate(t *testing.T) {
	srv := azuritetest.Shared(t)
	ctx := context.Background()
	old := srv.NewTable(t, "dupold")
	seedRows(t, old, 4, 250) // a copy that lasts a few seconds
	newName, cfgName := srv.NewTableName("dupnew"), srv.NewTableName("dupcfg")
	t.Cleanup(func() {
		srv.Account().DeleteTable(context.Background(), newName)
		srv.Account().DeleteTable(context.Background(), cfgName)
	})
	env := baseEnv(srv, old.Name(), newName)
	args := append([]string{"migrate", "-config-table", cfgName, "-progress", "0", "-client-id", "same"}, leaseFlags...)
	first := startCommand(t, env, args...)
	first.waitFor(t, "PREFER_OLD applied")
	code, _, stderr := cli(t, ctx, srv, env, args...)
	if code != exitLocked && code != exitOK {
		t.Errorf("second migrate with the same -client-id: exit %d, want %d (or %d after the first finished):\n%s", code, exitLocked, exitOK, stderr)
	}
	if code = first.wait(t, 2*time.Minute); code != exitOK {
		t.Errorf("first migrate: exit %d, want %d:\n%s", code, exitOK, first.output())
	}
	newTbl, _ := srv.Account().Table(newName)
	if got := len(readAll(t, newTbl)); got != 1000 {
		t.Errorf("new table after the migration: %d rows, want 1000", got)
	}
}

// TestStalledMigratorDoesNotResurrect is issue 10 item 3: a migrator
// stopped (SIGSTOP) while it copies, past its lease, while a second
// migrator finishes and clients delete rows, must not write when it is
// continued: no deleted row comes back, and it exits with a clear error.
func TestStalledMigratorDoesNotResurrect(t *testing.T) {
	srv := azuritetest.Shared(t)
	ctx := context.Background()
	acct := shortAccount(t, srv)
	old := table(t, acct, srv.NewTable(t, "stallold").Name())
	seedRows(t, old, 4, 150)
	newName, cfgName := srv.NewTableName("stallnew"), srv.NewTableName("stallcfg")
	t.Cleanup(func() {
		srv.Account().DeleteTable(context.Background(), newName)
		srv.Account().DeleteTable(context.Background(), cfgName)
	})
	env := baseEnv(srv, old.Name(), newName)
	args := append([]string{"migrate", "-config-table", cfgName, "-progress", "0"}, leaseFlags...)

	// A copies; it stops itself (SIGSTOP) once it has read 50 rows of
	// the old table in its copy, between two requests, with the rest of
	// the table in its buffered page: the next thing it does when it is
	// continued is to copy row 50.
	a := startCommand(t, map[string]string{envConn: env[envConn], envOldTable: env[envOldTable], envNewTable: env[envNewTable], envStopAfterOldRow: "50"},
		append(args, "-client-id", "stalled")...)
	a.waitFor(t, "PREFER_NEW applied")
	for !stopped(a.cmd.Process.Pid) {
		select {
		case <-a.done:
			t.Fatalf("the first migrator ended before it stopped:\n%s", a.output())
		case <-time.After(5 * time.Millisecond):
		}
	}
	newTbl := table(t, acct, newName)

	// B takes the lock over once A's has expired, and finishes.
	code, _, stderr := cli(t, ctx, srv, env, append(args, "-client-id", "second")...)
	if code != exitOK {
		t.Fatalf("second migrator: exit %d:\n%s", code, stderr)
	}
	// Clients delete every row (USE_NEW_HIDE_METADATA: real deletes).
	cfgTbl := table(t, acct, cfgName)
	cfg, err := leaseconfig.Open(ctx, cfgTbl, appOptions("deleter", old, newTbl))
	if err != nil {
		t.Fatal(err)
	}
	vt := mtable.New(old, newTbl, cfg)
	for p := 0; p < 4; p++ {
		for start := 0; start < 150; start += 75 {
			var ops []spec.Op
			for r := start; r < start+75; r++ {
				// Every row exists: Delete (a DeleteIfExists must be
				// alone in its batch).
				ops = append(ops, spec.Op{Kind: spec.Delete, Entity: spec.Entity{Key: spec.Key{PartitionKey: fmt.Sprint("p", p), RowKey: fmt.Sprintf("r%04d", r)}, ETag: spec.AnyETag}})
			}
			if _, err := vt.ExecuteBatch(ctx, ops); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg.Close()
	if rows := readAll(t, newTbl); len(rows) != 0 {
		t.Fatalf("the new table holds %d rows after the deletes, want none", len(rows))
	}

	// A continues: it must send nothing more.
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	code = a.wait(t, time.Minute)
	out := a.output()
	// The state it names is the newest it knows of: PREFER_NEW, where it
	// stalled, or a later one if its service learned of the other
	// migrator's progress before it gave up.
	if code != exitError || !regexp.MustCompile(`stopped in state (PREFER_NEW|USE_NEW_WITH_TOMBSTONES|USE_NEW_HIDE_METADATA): this migrator lost its migration lock, or may have`).MatchString(out) {
		t.Errorf("the stalled migrator: exit %d, want %d and a message that it lost its lock:\n%s", code, exitError, out)
	}
	if rows := readAll(t, newTbl); len(rows) != 0 {
		t.Errorf("the stalled migrator brought back %d deleted rows (first %v):\n%s", len(rows), rows[0].Key, out)
	}
	if rows := readAll(t, old); len(rows) != 0 {
		t.Errorf("the stalled migrator wrote %d rows to the old table (first %v)", len(rows), rows[0].Key)
	}
	t.Logf("the stalled migrator's output:\n%s", out)
}

var _ = errors.Is

// stopped reports whether the process is stopped (state T in /proc).
func stopped(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	i := strings.LastIndexByte(string(data), ')')
	return i >= 0 && i+2 < len(data) && data[i+2] == 'T'
}
