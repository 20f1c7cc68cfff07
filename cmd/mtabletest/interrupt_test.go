package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/harness"
)

// historyFile is a -history-out file: the histories, and the closing
// note if recording stopped early.
type historyFile struct {
	histories []harness.History
	note      *historyNote
}

// readHistoryFile parses a -history-out file strictly: a JSON array of
// histories, of which only the last element may be the note (an object
// without "iteration").
func readHistoryFile(t *testing.T, data []byte) historyFile {
	t.Helper()
	var elems []json.RawMessage
	if err := json.Unmarshal(data, &elems); err != nil {
		t.Fatalf("-history-out is not a JSON array: %v\n%.300s", err, data)
	}
	var hf historyFile
	for i, e := range elems {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(e, &keys); err != nil {
			t.Fatalf("element %d is not an object: %v", i, err)
		}
		if _, ok := keys["iteration"]; ok {
			var h harness.History
			dec := json.NewDecoder(bytes.NewReader(e))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&h); err != nil {
				t.Fatalf("element %d is not a history: %v", i, err)
			}
			hf.histories = append(hf.histories, h)
			continue
		}
		if i != len(elems)-1 {
			t.Fatalf("element %d of %d is a note: only the last may be", i, len(elems))
		}
		var n historyNote
		dec := json.NewDecoder(bytes.NewReader(e))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&n); err != nil || n.Note == "" {
			t.Fatalf("last element is neither a history nor a note: %v\n%s", err, e)
		}
		hf.note = &n
	}
	return hf
}

// TestInterruptedBeforeStart: with the context cancelled (SIGINT) before
// the first iteration, every mode says so, writes closed JSON and exits
// 130.
func TestInterruptedBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	runCtx := func(args ...string) result {
		var out, errb bytes.Buffer
		code := run(ctx, args, &out, &errb)
		return result{code, out.String(), errb.String()}
	}

	t.Run("explore", func(t *testing.T) {
		dir := t.TempDir()
		hist := filepath.Join(dir, "h.json")
		r := runCtx("-iterations", "100", "-json", "-history-out", hist, "-out", dir)
		if r.code != exitInterrupted {
			t.Fatalf("exit code got %d, want %d: %s", r.code, exitInterrupted, r.stderr)
		}
		js := decodeSummary(t, r.stdout)
		if !js.Interrupted || js.Iterations != 0 || js.Planned != 100 {
			t.Errorf("summary: interrupted %v, %d of %d iterations; want true, 0 of 100", js.Interrupted, js.Iterations, js.Planned)
		}
		if !strings.Contains(r.stderr, "interrupted: 0 of 100 iterations planned were run") {
			t.Errorf("the human summary does not say it was interrupted:\n%s", r.stderr)
		}
		hf := readHistoryFile(t, mustRead(t, hist))
		if len(hf.histories) != 0 || hf.note == nil || !hf.note.Interrupted || hf.note.Truncated {
			t.Errorf("-history-out: %d histories, note %+v; want none and an interrupted note", len(hf.histories), hf.note)
		}
	})
	t.Run("bug all", func(t *testing.T) {
		r := runCtx("-bug", "all", "-iterations", "10", "-json", "-out", t.TempDir())
		if r.code != exitInterrupted {
			t.Fatalf("exit code got %d, want %d: %s", r.code, exitInterrupted, r.stderr)
		}
		var all allJSON
		if err := json.Unmarshal([]byte(r.stdout), &all); err != nil || !all.Interrupted || all.Passed {
			t.Errorf("-json: %+v (%v); want interrupted, not passed", all, err)
		}
		if !strings.Contains(r.stderr, "interrupted: the table is incomplete") {
			t.Errorf("the table does not say it was interrupted:\n%s", r.stderr)
		}
	})
	t.Run("seeds", func(t *testing.T) {
		dir := t.TempDir()
		r := runCtx("-seeds", dir, "-iterations", "10")
		if r.code != exitInterrupted || !strings.Contains(r.stdout, "interrupted") {
			t.Errorf("exit code %d (want %d), output:\n%s%s", r.code, exitInterrupted, r.stdout, r.stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("-seeds wrote %d files, want none", len(entries))
		}
	})
	t.Run("replay", func(t *testing.T) {
		// A replay cannot stop halfway: it runs, reports, and exits 130.
		r := runCtx("-replay", seedTrace, "-json")
		if r.code != exitInterrupted {
			t.Fatalf("exit code got %d, want %d: %s", r.code, exitInterrupted, r.stderr)
		}
		var js replayJSON
		if err := json.Unmarshal([]byte(r.stdout), &js); err != nil || !js.Interrupted || !js.Reproduced {
			t.Errorf("-json: %+v (%v); want interrupted, reproduced", js, err)
		}
	})
}

// TestHistoryLimit: -history-out stops recording before the file grows
// past -history-limit, says so on stderr and in the file, keeps the
// JSON valid, and the run goes on to its end.
func TestHistoryLimit(t *testing.T) {
	dir := t.TempDir()
	hist := filepath.Join(dir, "h.json")
	const limit = 20 << 10
	r := runCmd(t, "-iterations", "30", "-history-out", hist, "-history-limit", "20K", "-out", dir)
	if r.code != exitPass {
		t.Fatalf("exit code got %d, want 0: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "30 iterations in") {
		t.Errorf("the run did not go on to its end:\n%s", r.stdout)
	}
	data := mustRead(t, hist)
	if len(data) > limit {
		t.Errorf("the file holds %d bytes, more than the %d limit", len(data), limit)
	}
	hf := readHistoryFile(t, data)
	n := len(hf.histories)
	if n == 0 || n >= 30 {
		t.Fatalf("%d histories recorded, want some but not all 30 within 20 KiB", n)
	}
	for i, h := range hf.histories {
		if h.Iteration != i {
			t.Fatalf("history %d is of iteration %d: want the first ones in order", i, h.Iteration)
		}
	}
	if nt := hf.note; nt == nil || !nt.Truncated || nt.Interrupted || nt.Histories != n || nt.LimitBytes != limit || !strings.Contains(nt.Note, "20 KiB") {
		t.Errorf("note got %+v, want truncated at 20 KiB after %d histories", hf.note, n)
	}
	want := "mtabletest: -history-out " + hist + ": stopped recording at the 20 KiB limit after " + itoa(n) + " histories"
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("stderr got %q, want one line starting %q", r.stderr, want)
	}

	// The default limit does not stop a normal run, and no limit is 0.
	for _, args := range [][]string{nil, {"-history-limit", "0"}} {
		hist := filepath.Join(t.TempDir(), "h.json")
		r := runCmd(t, append([]string{"-iterations", "30", "-history-out", hist, "-out", dir}, args...)...)
		hf := readHistoryFile(t, mustRead(t, hist))
		if r.code != exitPass || r.stderr != "" || len(hf.histories) != 30 || hf.note != nil {
			t.Errorf("%v: exit code %d, stderr %q, %d histories, note %+v; want 0, nothing, 30 and no note", args, r.code, r.stderr, len(hf.histories), hf.note)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1048576", 1 << 20, true}, {"500M", 500 << 20, true}, {"2G", 2 << 30, true},
		{"1GiB", 1 << 30, true}, {"20k", 20 << 10, true}, {"3MB", 3 << 20, true}, {"100B", 100, true},
		{"", 0, false}, {"-1", 0, false}, {"lots", 0, false}, {"1T", 0, false}, {"1iB", 0, false},
		{"99999999999G", 0, false}, {"9223372036854775807", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q): got %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
