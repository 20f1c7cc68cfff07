package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// startedLine and closedLine are what Azurite prints once it accepts
// requests and once a graceful shutdown has saved its data.
const (
	startedLine = "Azurite Table service successfully started"
	closedLine  = "Azurite Table service successfully closed"
)

// azurite is the emulator, persisting to a directory so that it can be
// restarted from disk, on a fixed loopback port.
type azurite struct {
	node, script string
	dir          string // its workspace (the data)
	logPath      string
	port         int
	cmd          *exec.Cmd
	exited       chan struct{}
	closed       chan struct{} // closed when it printed closedLine
}

// moduleRoot walks up from the working directory to this module's root.
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
			return "", errors.New("run mtablechaos from the module (the directory of go.mod of github.com/migratingtable/migratingtable, or below)")
		}
		dir = parent
	}
}

func newAzurite(root, work string) (*azurite, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("Node.js (node) is not on PATH: the campaign needs the Azurite emulator (install Node.js 20, then `make azurite`)")
	}
	script, err := filepath.EvalSymlinks(filepath.Join(root, "tools", "azurite", "node_modules", ".bin", "azurite-table"))
	if err != nil {
		return nil, errors.New("Azurite is not installed: run `make azurite` (npm ci --prefix tools/azurite)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	a := &azurite{node: node, script: script, dir: filepath.Join(work, "azurite"), logPath: filepath.Join(work, "azurite.log"), port: port}
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *azurite) endpoint() string {
	return "http://127.0.0.1:" + strconv.Itoa(a.port) + "/devstoreaccount1"
}

// start starts the emulator on its data and waits until it accepts
// requests.
func (a *azurite) start() error {
	logf, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(a.node, a.script, "--location", a.dir, "--disableTelemetry", "--silent",
		"--tableHost", "127.0.0.1", "--tablePort", strconv.Itoa(a.port))
	cmd.Dir = a.dir
	cmd.Env = append(os.Environ(), "AZURITE_ACCOUNTS=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting Azurite: %v", err)
	}
	a.cmd, a.exited, a.closed = cmd, make(chan struct{}), make(chan struct{})
	started := make(chan struct{})
	go func() {
		defer logf.Close()
		sc := bufio.NewScanner(out)
		seenStart, seenClose := false, false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if !seenStart && strings.Contains(line, startedLine) {
				seenStart = true
				close(started)
			}
			if !seenClose && strings.Contains(line, closedLine) {
				seenClose = true
				close(a.closed)
			}
		}
		_ = cmd.Wait()
		close(a.exited)
	}()
	select {
	case <-started:
		return nil
	case <-a.exited:
		return fmt.Errorf("Azurite exited before it started; see %s", a.logPath)
	case <-time.After(2 * time.Minute):
		a.kill()
		return errors.New("Azurite did not start within 2 minutes")
	}
}

// stopGracefully interrupts the emulator (SIGINT: it stops accepting
// requests, saves its data and exits; SIGTERM would exit without saving)
// and waits for it. It reports whether it said it closed cleanly.
func (a *azurite) stopGracefully() (clean bool, err error) {
	if err := a.cmd.Process.Signal(os.Interrupt); err != nil {
		return false, err
	}
	select {
	case <-a.exited:
	case <-time.After(time.Minute):
		a.kill()
		return false, errors.New("Azurite did not exit within a minute of SIGINT")
	}
	select {
	case <-a.closed:
		return true, nil
	default:
		return false, nil
	}
}

func (a *azurite) kill() {
	if a.cmd != nil && a.cmd.Process != nil {
		_ = a.cmd.Process.Kill()
		<-a.exited
	}
}
