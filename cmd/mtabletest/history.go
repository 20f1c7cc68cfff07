package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/migratingtable/migratingtable/harness"
)

// historyWriter writes, for -history-out, the recorded history of every
// iteration run, in iteration order, as a JSON array of harness.History.
// Each history is written as its iteration completes, so a long run
// needs no memory for them.
type historyWriter struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	n    int
	err  error
}

func openHistories(path string) (*historyWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-history-out: %v", err)
	}
	h := &historyWriter{path: path, f: f, bw: bufio.NewWriter(f)}
	h.bw.WriteString("[")
	return h, nil
}

// add writes one iteration's history; the first error sticks.
func (h *historyWriter) add(it *harness.Iteration) {
	if h.err != nil {
		return
	}
	b, err := json.Marshal(it.History())
	if err != nil {
		h.err = err
		return
	}
	sep := ",\n"
	if h.n == 0 {
		sep = "\n"
	}
	h.n++
	h.bw.WriteString(sep)
	_, h.err = h.bw.Write(b)
}

// close ends the array and reports the first error.
func (h *historyWriter) close() error {
	h.bw.WriteString("\n]\n")
	if err := h.bw.Flush(); h.err == nil {
		h.err = err
	}
	if err := h.f.Close(); h.err == nil {
		h.err = err
	}
	if h.err != nil {
		return fmt.Errorf("-history-out %s: %v", h.path, h.err)
	}
	return nil
}
