package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/harness"
)

// defaultHistoryLimit is -history-limit's default: about 200,000
// iterations of the default workload (about 5 KB each).
const defaultHistoryLimit = 1 << 30

// minHistoryLimit is the smallest -history-limit other than 0: room
// for the array and the closing note.
const minHistoryLimit = 1 << 10

// noteRoom is what the closing note and the array's end may take; a
// history is written only if this much room is left after it, so the
// file never grows past the limit.
const noteRoom = 512

// historyWriter writes, for -history-out, the recorded history of every
// iteration run, in iteration order, as a JSON array of harness.History.
// Each history is written as its iteration completes, so a long run
// needs no memory for them. When the next history would take the file
// past the limit, recording stops with a note on stderr; the array then
// ends with a note element instead of a history (historyNote), as it
// does when the run was interrupted, and it is always closed.
type historyWriter struct {
	o       *output
	bw      *bufio.Writer
	stderr  io.Writer
	limit   int64 // 0: none
	written int64
	n       int
	full    bool
	err     error
}

// historyNote is the last element of a -history-out array that does not
// hold every history it should: it has no "iteration" field, which
// every history has.
type historyNote struct {
	Note        string `json:"note"`
	Histories   int    `json:"histories"`
	Truncated   bool   `json:"truncated,omitempty"`
	LimitBytes  int64  `json:"limitBytes,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"`
}

func openHistories(path string, limit int64, overwrite bool, stderr io.Writer) (*historyWriter, error) {
	o, err := createOutput("-history-out", path, overwrite)
	if err != nil {
		return nil, err
	}
	h := &historyWriter{o: o, bw: bufio.NewWriter(o), stderr: stderr, limit: limit}
	h.write("[")
	return h, nil
}

func (h *historyWriter) write(s string) {
	if h.err == nil {
		var n int
		n, h.err = h.bw.WriteString(s)
		h.written += int64(n)
	}
}

// add writes one iteration's history; the first error sticks.
func (h *historyWriter) add(it *harness.Iteration) {
	if h.err != nil || h.full {
		return
	}
	// Records hold "->" and quotes: write them as they are, not escaped
	// for HTML.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(it.History()); err != nil {
		h.err = err
		return
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	sep := ",\n"
	if h.n == 0 {
		sep = "\n"
	}
	if h.limit > 0 && h.written+int64(len(sep)+len(b))+noteRoom > h.limit {
		h.full = true
		fmt.Fprintf(h.stderr, "mtabletest: -history-out %s: stopped recording at the %s limit after %d histories (iteration %d was not recorded; -history-limit raises it)\n",
			h.o.path, formatSize(h.limit), h.n, it.Index)
		return
	}
	h.n++
	h.write(sep)
	h.write(string(b))
}

// close ends the array, with the note when recording stopped at the
// limit or the run was interrupted, and reports the first error. On an
// error a file this writer created or was replacing is dropped.
func (h *historyWriter) close(interrupted bool) error {
	if h.full || interrupted {
		note := historyNote{Histories: h.n, Interrupted: interrupted}
		why := []string{fmt.Sprintf("this file holds the histories of %d iterations", h.n)}
		if h.full {
			note.Truncated, note.LimitBytes = true, h.limit
			why = append(why, fmt.Sprintf("recording stopped at the -history-limit of %s: the later iterations run are not here", formatSize(h.limit)))
		}
		if interrupted {
			why = append(why, "the run was interrupted (SIGINT) before its last iteration")
		}
		note.Note = strings.Join(why, "; ")
		b, _ := json.Marshal(note)
		if h.n > 0 {
			h.write(",")
		}
		h.write("\n" + string(b))
	}
	h.write("\n]\n")
	if err := h.bw.Flush(); h.err == nil {
		h.err = err
	}
	if h.err != nil {
		h.o.Abort()
		return fmt.Errorf("-history-out %s: %v", h.o.path, h.err)
	}
	return h.o.Commit()
}

// parseSize parses -history-limit: a whole number of bytes with an
// optional suffix K, M or G (powers of 1024; KiB, MiB, GiB and KB, MB,
// GB mean the same).
func parseSize(s string) (int64, error) {
	bad := fmt.Errorf("want a size such as 500M, 2G or 1048576 (bytes), or 0 for no limit")
	t := strings.ToUpper(strings.TrimSpace(s))
	t, iec := strings.CutSuffix(t, "IB")
	if !iec {
		t = strings.TrimSuffix(t, "B")
	}
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	if iec && mult == 1 {
		return 0, bad
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, bad
	}
	return n * mult, nil
}

// formatSize prints a size in the largest unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return fmt.Sprintf("%d %s", n/u.mult, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// sizeFlag is -history-limit.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return ""
	}
	return strings.ReplaceAll(formatSize(*f.n), " ", "")
}

func (f sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	if n > 0 && n < minHistoryLimit {
		return fmt.Errorf("%d bytes is less than the %s the array and its closing note need; 0 means no limit", n, formatSize(minHistoryLimit))
	}
	*f.n = n
	return nil
}
