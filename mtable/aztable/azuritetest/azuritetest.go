// Package azuritetest runs Azurite, the official Azure Storage emulator,
// for tests: it starts the table service on a free loopback port with
// in-memory persistence and stops it when the tests end.
//
// Azurite is an npm package pinned in tools/azurite of this module; it
// is installed with
//
//	npm ci --prefix tools/azurite
//
// (InstallCommand). When Node.js is not on PATH the tests that need the
// emulator are skipped with a message saying so; when Node.js is there
// but Azurite is not installed they fail with the install command, so
// that a missing install step never passes silently.
//
// Typical use, one emulator per test binary:
//
//	func TestMain(m *testing.M) { os.Exit(azuritetest.Run(m)) }
//
//	func TestX(t *testing.T) {
//		srv := azuritetest.Shared(t)
//		tbl := srv.NewTable(t, "x")
//		...
//	}
//
// The connection string holds the emulator's well-known development key;
// it is treated as a secret all the same and never logged.
package azuritetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable/aztable"
)

// InstallCommand installs Azurite into tools/azurite/node_modules; run it
// from the module root.
const InstallCommand = "npm ci --prefix tools/azurite"

// AccountName is the emulator's development account.
const AccountName = "devstoreaccount1"

// devKey is the emulator's public, documented development key.
const devKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

// startedLine is what Azurite prints once it accepts requests.
const startedLine = "Azurite Table service successfully started"

// Server is a running Azurite table service.
type Server struct {
	endpoint string
	cmd      *exec.Cmd
	dir      string
	exited   chan struct{}
	tables   atomic.Int64
	stopOnce sync.Once
	acct     *aztable.Account
}

// Endpoint returns the table service URL,
// http://127.0.0.1:PORT/devstoreaccount1.
func (s *Server) Endpoint() string { return s.endpoint }

// ConnectionString returns a connection string for the emulator's
// account. It contains the account key: never log it.
func (s *Server) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + AccountName + ";AccountKey=" + devKey + ";TableEndpoint=" + s.endpoint + ";"
}

// AccountKey returns the emulator's account key, for tests that check
// it never leaks.
func (s *Server) AccountKey() string { return devKey }

// Account returns an aztable.Account connected to the emulator.
func (s *Server) Account() *aztable.Account { return s.acct }

// NewTable creates a table with a fresh name starting with prefix
// (letters only) and returns it. The table is deleted when tb ends.
func (s *Server) NewTable(tb testing.TB, prefix string) *aztable.Table {
	tb.Helper()
	name := s.NewTableName(prefix)
	ctx := context.Background()
	if err := s.acct.CreateTable(ctx, name); err != nil {
		tb.Fatalf("creating table %s on Azurite: %v", name, err)
	}
	tbl, err := s.acct.Table(name)
	if err != nil {
		tb.Fatalf("opening table %s: %v", name, err)
	}
	tb.Cleanup(func() { _ = s.acct.DeleteTable(context.Background(), name) })
	return tbl
}

// NewTableName returns a table name not yet handed out by this server:
// prefix followed by a counter (and "t" when prefix is empty).
func (s *Server) NewTableName(prefix string) string {
	if prefix == "" {
		prefix = "t"
	}
	return prefix + strconv.FormatInt(s.tables.Add(1), 10) + "x"
}

var (
	sharedMu  sync.Mutex
	shared    *Server
	sharedErr error
	sharedMsg string // skip message when Node.js is absent
)

// Shared returns the emulator shared by all tests of this test binary,
// starting it on first use. It skips tb when Node.js is not installed
// and fails tb when Azurite is not (the message gives InstallCommand).
// Run stops it after the tests.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil && sharedMsg == "" {
		shared, sharedMsg, sharedErr = start()
	}
	switch {
	case sharedMsg != "":
		tb.Skip(sharedMsg)
	case sharedErr != nil:
		tb.Fatal(sharedErr)
	}
	return shared
}

// Run runs the tests and then stops the shared emulator, if one was
// started. Use it as TestMain's body: os.Exit(azuritetest.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Stop()
		shared = nil
	}
	return code
}

// Start starts a private emulator for tb and stops it when tb ends. It
// skips and fails as Shared does.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, skip, err := start()
	switch {
	case skip != "":
		tb.Skip(skip)
	case err != nil:
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Stop kills the emulator and waits for it to exit. It is safe to call
// more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
		}
		<-s.exited
		_ = os.RemoveAll(s.dir)
	})
}

// findAzurite returns node's path and Azurite's table entry point. A
// non-empty skip message means Node.js is absent.
func findAzurite() (node, script, skip string, err error) {
	node, lerr := exec.LookPath("node")
	if lerr != nil {
		return "", "", "Node.js (node) is not on PATH: skipping the tests that need the Azurite emulator; install Node.js 20 and run `" + InstallCommand + "` to run them", nil
	}
	if p := os.Getenv("AZURITE_TABLE"); p != "" {
		return node, p, "", nil
	}
	root, rerr := moduleRoot()
	if rerr != nil {
		return "", "", "", rerr
	}
	bin := filepath.Join(root, "tools", "azurite", "node_modules", ".bin", "azurite-table")
	script, rerr = filepath.EvalSymlinks(bin)
	if rerr != nil {
		return "", "", "", fmt.Errorf("Azurite is not installed (%s is missing); install it from the module root with:\n\t%s", filepath.Join("tools", "azurite", "node_modules", ".bin", "azurite-table"), InstallCommand)
	}
	return node, script, "", nil
}

// moduleRoot walks up from the working directory to the directory that
// holds this module's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(data), "module github.com/migratingtable/migratingtable") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("azuritetest: cannot find the module root (go.mod of github.com/migratingtable/migratingtable) above the working directory")
		}
		dir = parent
	}
}

func start() (*Server, string, error) {
	node, script, skip, err := findAzurite()
	if skip != "" || err != nil {
		return nil, skip, err
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := startOnce(node, script)
		if err == nil {
			return s, "", nil
		}
		lastErr = err
		if !strings.Contains(err.Error(), "EADDRINUSE") {
			break
		}
	}
	return nil, "", lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startOnce(node, script string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("azuritetest: finding a free loopback port: %v", err)
	}
	dir, err := os.MkdirTemp("", "azurite-")
	if err != nil {
		return nil, err
	}
	// --location cannot be combined with --inMemoryPersistence (Azurite
	// refuses); the working directory is its workspace instead.
	cmd := exec.Command(node, script,
		"--inMemoryPersistence", "--disableTelemetry", "--silent",
		"--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(port))
	cmd.Dir = dir
	setProcAttr(cmd)
	cmd.Env = append(os.Environ(), "AZURITE_ACCOUNTS=") // the default development account only
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("azuritetest: starting %s %s: %v", node, script, err)
	}
	s := &Server{endpoint: fmt.Sprintf("http://127.0.0.1:%d/%s", port, AccountName), cmd: cmd, dir: dir, exited: make(chan struct{})}
	started := make(chan struct{})
	var (
		logMu sync.Mutex
		log   []string
	)
	go func() {
		sc := bufio.NewScanner(out)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			if len(log) < 50 {
				log = append(log, line)
			}
			logMu.Unlock()
			if !seen && strings.Contains(line, startedLine) {
				seen = true
				close(started)
			}
		}
		_ = cmd.Wait()
		close(s.exited)
	}()
	// A bound so that a wedged emulator fails the run instead of hanging
	// it; Azurite normally starts in about a second.
	limit := time.NewTimer(2 * time.Minute)
	defer limit.Stop()
	select {
	case <-started:
	case <-s.exited:
		os.RemoveAll(dir)
		logMu.Lock()
		defer logMu.Unlock()
		return nil, fmt.Errorf("azuritetest: Azurite exited before it started; its output:\n%s", strings.Join(log, "\n"))
	case <-limit.C:
		s.Stop()
		return nil, errors.New("azuritetest: Azurite did not report that it started within 2 minutes")
	}
	acct, err := aztable.Connect(s.ConnectionString())
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.acct = acct
	return s, nil
}
