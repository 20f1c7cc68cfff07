package main

import (
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// TestMain lets the test binary act as the command: with
// MTABLETEST_RUN_MAIN=1 in its environment it runs main on its
// arguments, so tests can run the command as a separate process.
func TestMain(m *testing.M) {
	if os.Getenv("MTABLETEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// runProcess runs the command in a new process and returns its exit code
// and output.
func runProcess(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MTABLETEST_RUN_MAIN=1")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running the command: %v", err)
	}
	return result{code, out.String(), errb.String()}
}

// TestProcessExitCodes checks the exit status os.Exit really returns.
func TestProcessExitCodes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"clean", []string{"-iterations", "20", "-out", dir}, exitPass},
		{"bug found", []string{"-bug", foundBug, "-iterations", foundIn, "-out", dir}, exitFailure},
		{"bug 99", []string{"-bug", "99"}, exitUsage},
		{"missing trace", []string{"-replay", dir + "/missing.trace"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := runProcess(t, tt.args...); r.code != tt.want {
				t.Errorf("exit status got %d, want %d\nstderr: %s", r.code, tt.want, r.stderr)
			}
		})
	}
}

// TestProcessJSONRepeatable runs the same command in two processes: the
// -json summaries agree but for timings, trace file name included (the
// second run reuses the first one's identical trace).
func TestProcessJSONRepeatable(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-json", "-bug", foundBug, "-iterations", foundIn, "-out", dir}
	var sums []summaryJSON
	for range 2 {
		r := runProcess(t, args...)
		if r.code != exitFailure {
			t.Fatalf("exit status got %d, want %d: %s", r.code, exitFailure, r.stderr)
		}
		sums = append(sums, decodeSummary(t, r.stdout))
	}
	if !reflect.DeepEqual(sums[0], sums[1]) {
		t.Errorf("the second process's summary differs:\n got %+v\nwant %+v", sums[1], sums[0])
	}
}
