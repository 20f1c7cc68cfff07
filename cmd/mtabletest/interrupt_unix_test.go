//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mkfifo makes a FIFO.
func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
}

// TestInterruptedMidRun cancels the run's context (as main does on
// SIGINT) while a long exploration runs, at a point the test knows has
// come: -history-out is a FIFO, and the test cancels once it has read
// the first history from it. The run stops, prints its summary, closes
// the -json summary and the history array, and exits 130.
func TestInterruptedMidRun(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "hist")
	mkfifo(t, fifo)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	read := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			read <- nil
			return
		}
		defer f.Close()
		br := bufio.NewReader(f)
		var all bytes.Buffer
		// The first history is complete when its line ends.
		for first := true; ; first = false {
			line, err := br.ReadBytes('\n')
			all.Write(line)
			if !first && bytes.HasPrefix(line, []byte(`{"iteration":`)) {
				cancel()
				break
			}
			if err != nil {
				break
			}
		}
		io.Copy(&all, br)
		read <- all.Bytes()
	}()

	const planned = 1_000_000_000 // not run to its end in any test
	var out, errb bytes.Buffer
	code := run(ctx, []string{"-iterations", itoa(planned), "-json", "-history-out", fifo, "-out", dir}, &out, &errb)
	data := <-read
	if code != exitInterrupted {
		t.Fatalf("exit code got %d, want %d: %s", code, exitInterrupted, errb.String())
	}
	js := decodeSummary(t, out.String())
	if !js.Interrupted || js.Iterations < 1 || js.Iterations >= planned || js.Planned != planned {
		t.Errorf("summary: interrupted %v after %d of %d iterations; want true after at least 1", js.Interrupted, js.Iterations, js.Planned)
	}
	if want := "interrupted: " + itoa(js.Iterations) + " of " + itoa(planned) + " iterations planned were run"; !strings.Contains(errb.String(), want) {
		t.Errorf("the human summary lacks %q:\n%s", want, errb.String())
	}
	hf := readHistoryFile(t, data)
	if len(hf.histories) != js.Iterations {
		t.Errorf("-history-out holds %d histories, the summary counts %d iterations", len(hf.histories), js.Iterations)
	}
	if nt := hf.note; nt == nil || !nt.Interrupted || nt.Histories != js.Iterations {
		t.Errorf("-history-out note got %+v, want interrupted after %d histories", hf.note, js.Iterations)
	}
}

// startProcess starts the command in a new process with pipes on its
// output, and returns once it has written its banner (so its SIGINT
// handler is in place).
func startProcess(t *testing.T, banner string, args ...string) (*exec.Cmd, *bufio.Reader, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MTABLETEST_RUN_MAIN=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	stderr := bufio.NewReader(errPipe)
	waitLine(t, stderr, banner)
	return cmd, stderr, &stdout
}

// waitLine reads r up to a line holding want.
func waitLine(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if strings.Contains(line, want) {
			return
		}
		if err != nil {
			t.Fatalf("the process's stderr ended without %q", want)
		}
	}
}

// TestProcessSIGINT sends SIGINT to a long run in a separate process:
// it exits 130 with the summary and closed JSON.
func TestProcessSIGINT(t *testing.T) {
	dir := t.TempDir()
	hist := filepath.Join(dir, "h.json")
	cmd, stderr, stdout := startProcess(t, "=== mtabletest ===",
		"-iterations", "1000000000", "-json", "-history-out", hist, "-out", dir)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("the process ended with %v, want exit status %d\nstderr: %s", err, exitInterrupted, rest)
	}
	for _, want := range []string{"mtabletest: interrupted: finishing the iterations in flight", "--- summary ---", "interrupted: "} {
		if !strings.Contains(string(rest), want) {
			t.Errorf("stderr lacks %q:\n%s", want, rest)
		}
	}
	js := decodeSummary(t, stdout.String())
	hf := readHistoryFile(t, mustRead(t, hist))
	if !js.Interrupted || len(hf.histories) != js.Iterations || hf.note == nil || !hf.note.Interrupted {
		t.Errorf("summary interrupted %v after %d iterations, history file %d histories, note %+v", js.Interrupted, js.Iterations, len(hf.histories), hf.note)
	}
}

// TestProcessSecondSIGINT: a second SIGINT ends the process at once,
// even when it cannot finish: here its -history-out is a FIFO no one
// opens, so it blocks in open(2) for good once the banner is out.
func TestProcessSecondSIGINT(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "hist")
	mkfifo(t, fifo)
	cmd, stderr, _ := startProcess(t, "=== mtabletest ===", "-json", "-iterations", "1000", "-history-out", fifo, "-out", dir)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// The first SIGINT is handled (the process says so and goes on) ...
	waitLine(t, stderr, "mtabletest: interrupted: finishing the iterations in flight (interrupt again to quit at once)")
	// ... the second one ends it.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the process ended with %v, want death by SIGINT", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("the process ended with %v, want death by SIGINT", err)
	}
}
