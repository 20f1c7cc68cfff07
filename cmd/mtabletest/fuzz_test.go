package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// The fuzz tests replay trace files through run, as mtabletest -replay
// FILE does, and check the contract of the exit status: a file that is
// malformed, or whose replay does not make exactly its decisions, is
// refused with one line on stderr and exit 2; any other file is a real
// run of the harness (exit 0 passed, 1 failed) whose report covers
// every decision of the file. Never a panic, a hang, or a panic inside
// the harness reported as the library's failure.
//
// Their seeds are the corpus in testdata/seeds, so without -fuzz they
// replay it once more (plus a few edits); with -fuzz they run for as
// long as asked:
//
//	go test ./cmd/mtabletest -run '^$' -fuzz FuzzReplayTraceFile -fuzztime 10m
//	go test ./cmd/mtabletest -run '^$' -fuzz FuzzReplayEditedDecision -fuzztime 10m

// seedFiles returns the seed corpus's trace files, in name order.
func seedFiles(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join(seedDir, "*.trace"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seed traces in %s: %v", seedDir, err)
	}
	var out [][]byte
	for _, p := range paths {
		out = append(out, mustRead(f, p))
	}
	return out
}

var reStepsRun = regexp.MustCompile(`, (\d+) steps run, `)

// checkReplay runs mtabletest -replay on text and checks the contract.
func checkReplay(t *testing.T, text []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fuzz.trace")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"-replay", path}, &out, &errb)
	stdout, stderr := out.String(), errb.String()
	if strings.Contains(stderr, "internal error") || strings.Contains(stdout, "--- failing check: panic ---") {
		t.Fatalf("a panic (exit code %d):\n%s\n%s", code, stderr, stdout)
	}
	switch code {
	case exitUsage:
		if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "mtabletest: -replay "+path+": ") {
			t.Fatalf("exit 2 with stderr %q: want one line naming the file", stderr)
		}
		return
	case exitPass, exitFailure:
	default:
		t.Fatalf("exit code %d; stderr %s", code, stderr)
	}
	if stderr != "" {
		t.Fatalf("exit %d with stderr %q: want nothing", code, stderr)
	}
	// The run was a replay of the whole file: the file is well formed
	// and the report (of a failure) covers each of its decisions.
	tr, err := sched.Parse(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("exit %d for a file Parse refuses (%v)", code, err)
	}
	if code == exitPass {
		if !strings.Contains(stdout, "--- replay passed: every check passed ---") {
			t.Fatalf("exit 0 without the verdict:\n%s", stdout)
		}
		return
	}
	m := reStepsRun.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("exit 1 without a failure report:\n%s", stdout)
	}
	if n, _ := strconv.Atoi(m[1]); n != len(tr.Decisions) {
		t.Fatalf("exit 1, but the replay ran %d steps of the %d decisions the file holds:\n%s", n, len(tr.Decisions), stdout)
	}
	if strings.Contains(stdout, "diverged") {
		t.Fatalf("exit 1, but the output says the schedule diverged:\n%s", stdout)
	}
}

// FuzzReplayTraceFile mutates whole trace files: headers, parameters,
// comments, decisions, the end line.
func FuzzReplayTraceFile(f *testing.F) {
	for _, s := range seedFiles(f) {
		f.Add(s)
	}
	f.Add([]byte("sched-trace 1\nstrategy random\nseed 1\nend 0\n"))
	f.Add([]byte("sched-trace 1\nstrategy pos\nmax-steps 1\nparam bug=none\nend 0\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		checkReplay(t, text)
	})
}

var reDecision = regexp.MustCompile(`(?m)^([sc]) (\d+)(?:/(\d+))?$`)

// editDecision returns seed with its decision number at (modulo their
// count) replaced by another valid-looking one: a choice c V/N by
// c value%N/N, a schedule decision s ID by s value%8; with cut, the
// decisions after it are dropped and the end line fixed.
func editDecision(seed []byte, at, value uint16, cut bool) []byte {
	locs := reDecision.FindAllSubmatchIndex(seed, -1)
	if len(locs) == 0 {
		return seed
	}
	k := int(at) % len(locs)
	loc := locs[k]
	var repl string
	if loc[6] >= 0 { // c V/N
		n, _ := strconv.Atoi(string(seed[loc[6]:loc[7]]))
		repl = fmt.Sprintf("c %d/%d", int(value)%n, n)
	} else {
		repl = fmt.Sprintf("s %d", int(value)%8)
	}
	var b bytes.Buffer
	b.Write(seed[:loc[0]])
	b.WriteString(repl)
	if cut {
		fmt.Fprintf(&b, "\nend %d\n", k+1)
	} else {
		b.Write(seed[loc[1]:])
	}
	return b.Bytes()
}

// FuzzReplayEditedDecision edits one decision of a seed trace into
// another valid-looking one (and may cut the trace there): the kind of
// edit that made replays panic.
func FuzzReplayEditedDecision(f *testing.F) {
	seeds := seedFiles(f)
	for i := range seeds {
		f.Add(uint8(i), uint16(0), uint16(1), false)   // the swarm's first draw
		f.Add(uint8(i), uint16(40), uint16(7), false)  // early in the run
		f.Add(uint8(i), uint16(200), uint16(2), true)  // cut in the middle
		f.Add(uint8(i), uint16(9999), uint16(3), true) // anywhere
	}
	f.Fuzz(func(t *testing.T, file uint8, at, value uint16, cut bool) {
		checkReplay(t, editDecision(seeds[int(file)%len(seeds)], at, value, cut))
	})
}
