package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/linearizability"
)

// TestCheckHistoryRoundTrip records runs with -history-out and judges
// the file again with -check-history: every verdict must be the one
// oracle 2 gave during the run, and the exit code must follow it (0
// when every history is linearizable, 1 when one is not), for the
// correct library, a bug oracle 2 catches and a bug only the errors
// oracle catches (its requests are ones Azure would refuse; every
// answer is still linearizable).
func TestCheckHistoryRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name        string
		args        []string
		runCode     int
		wantIllegal bool
	}{
		{"correct library", []string{"-iterations", "12"}, exitPass, false},
		{"bug 8, oracle 2 catches it", []string{"-bug", "8", "-iterations", "12", "-keep-going", "-shrink=false"}, exitFailure, true},
		{"bug 5, only the errors oracle catches it", []string{"-bug", "5", "-iterations", "12", "-keep-going", "-shrink=false"}, exitFailure, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "h.json")
			r := runCmd(t, append(tc.args, "-out", dir, "-history-out", file)...)
			if r.code != tc.runCode {
				t.Fatalf("run: exit %d, want %d\n%s", r.code, tc.runCode, r.stderr)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			hf := readHistoryFile(t, data)
			if got, want := len(hf.histories), 12; got != want {
				t.Fatalf("%d histories recorded, want %d", got, want)
			}
			illegal := 0
			for _, h := range hf.histories {
				if h.Verdict == "illegal" {
					illegal++
				}
				// The end-of-run read is in the record.
				if !hasPrefixLine(h.Record, "final ") {
					t.Errorf("iteration %d: the record has no final line (the end-of-run read)", h.Iteration)
				}
				// Judged here, the record gives the recorded verdict.
				rec, err := h.ParseRecord()
				if err != nil {
					t.Fatal(err)
				}
				rep, err := linearizability.CheckTableRecord(rec, linearizability.Options{MaxSteps: harness.DefaultLinBudget})
				if err != nil {
					t.Fatal(err)
				}
				if got := rep.Result.String(); got != h.Verdict {
					t.Errorf("iteration %d: judged again %s, the run recorded %s", h.Iteration, got, h.Verdict)
				}
			}
			if got := illegal > 0; got != tc.wantIllegal {
				t.Fatalf("%d histories recorded illegal, want some: %v", illegal, tc.wantIllegal)
			}

			c := runCmd(t, "-check-history", file)
			want := exitPass
			if tc.wantIllegal {
				want = exitFailure
			}
			if c.code != want {
				t.Errorf("-check-history: exit %d, want %d\n%s%s", c.code, want, c.stdout, c.stderr)
			}
			if !strings.Contains(c.stdout, "every verdict is the one recorded") {
				t.Errorf("-check-history output does not say every verdict is the one recorded:\n%s", c.stdout)
			}
		})
	}
}

// TestCheckHistoryJudgesTheFile: -check-history judges what the file
// says, not what the run said: a recorded history of the correct library
// whose end-of-run read loses a row, or whose call reads a row that
// never was, is not linearizable, and the output says the verdict
// differs from the recorded one.
func TestCheckHistoryJudgesTheFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "h.json")
	if r := runCmd(t, "-iterations", "1", "-out", dir, "-history-out", file); r.code != exitPass {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	orig, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(string) string
	}{
		{"a row lost at the end", func(s string) string {
			// Without the content's changes (an untracked record, so
			// without the streamed queries judged by them), the
			// end-of-run read of the first partition holding rows loses
			// them, in the view and in the plain read of the new table.
			var hs []harness.History
			if err := json.Unmarshal([]byte(s), &hs); err != nil {
				t.Fatal(err)
			}
			var rec []string
			emptied := ""
			for _, l := range hs[0].Record {
				switch {
				case l == "tracked" || strings.HasPrefix(l, "change ") || isStreamOp(l):
					continue
				case emptied == "" && strings.HasPrefix(l, "final ") && !strings.HasSuffix(l, " []"):
					emptied = strings.Fields(l)[1]
					l = "final " + emptied + " []"
				case emptied != "" && strings.HasPrefix(l, "plain "+emptied+" "):
					l = "plain " + emptied + " []"
				}
				rec = append(rec, l)
			}
			if emptied == "" {
				t.Fatal("no final partition holds rows")
			}
			hs[0].Record = rec
			b, err := json.Marshal(hs)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}},
		{"an initial row's value changed", func(s string) string {
			return strings.Replace(s, `isHappy=true`, `isHappy=false`, 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edited := filepath.Join(t.TempDir(), "edited.json")
			if err := os.WriteFile(edited, []byte(tc.edit(string(orig))), 0o644); err != nil {
				t.Fatal(err)
			}
			c := runCmd(t, "-check-history", edited)
			if c.code != exitFailure {
				t.Fatalf("-check-history of an edited file: exit %d, want %d\n%s%s", c.code, exitFailure, c.stdout, c.stderr)
			}
			if !strings.Contains(c.stdout, "illegal (DIFFERS: the run recorded ok)") {
				t.Errorf("output does not say the verdict differs:\n%s", c.stdout)
			}
		})
	}
}

// TestCheckHistoryBadInput: a file that is not a -history-out file, or
// holds a history that cannot be read, exits 2 with a one-line error
// naming the element.
func TestCheckHistoryBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"not JSON", "hello", "not a -history-out file"},
		{"an object, not an array", `{"iteration":0}`, "not a -history-out file"},
		{"an element without a record", `[{"iteration":0,"verdict":"ok"}]`, `element 0: not a history: no "record" field`},
		{"an unknown verdict", `[{"iteration":0,"verdict":"maybe","record":[]}]`, `unknown verdict "maybe"`},
		{"an unknown field", `[{"iteration":0,"verdict":"ok","record":[],"extra":1}]`, "element 0: not a history"},
		{"a record line that does not parse", `[{"iteration":4,"verdict":"ok","record":["op 1 2 3 frobnicate('p'/'1') -> []"]}]`, "iteration 4:"},
		{"the array does not end", `[{"iteration":0,"verdict":"ok","record":[]}`, "the array does not end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "h.json")
			if err := os.WriteFile(file, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			c := runCmd(t, "-check-history", file)
			if c.code != exitUsage {
				t.Fatalf("exit %d, want %d\n%s%s", c.code, exitUsage, c.stdout, c.stderr)
			}
			if !strings.Contains(c.stderr, tc.want) || strings.Count(strings.TrimSpace(c.stderr), "\n") != 0 {
				t.Errorf("stderr %q: want one line mentioning %q", c.stderr, tc.want)
			}
		})
	}
	if c := runCmd(t, "-check-history", filepath.Join(t.TempDir(), "missing.json")); c.code != exitUsage {
		t.Errorf("a missing file: exit %d, want %d", c.code, exitUsage)
	}
	if c := runCmd(t, "-check-history", "h.json", "-iterations", "3"); c.code != exitUsage || !strings.Contains(c.stderr, "-check-history takes no other flag") {
		t.Errorf("-check-history with -iterations: exit %d, stderr %q", c.code, c.stderr)
	}
}

func hasPrefixLine(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// isStreamOp reports whether a record line is a streamed query's.
func isStreamOp(l string) bool {
	f := strings.Fields(l)
	return len(f) > 4 && f[0] == "op" && strings.HasPrefix(f[4], "stream(")
}
