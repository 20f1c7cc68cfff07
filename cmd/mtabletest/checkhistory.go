package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/linearizability"
)

// runCheckHistory is -check-history FILE: it reads a -history-out file
// and judges every history in it again, with linearizability alone, as
// oracle 2 did during the run: exit 0 when every history is
// linearizable, 1 when one is not, 2 when the file is bad input or a
// verdict is unknown (the search ran out of its budget).
func (c *config) runCheckHistory(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	var in io.Reader
	name := c.checkHistory
	if name == "-" {
		in, name = os.Stdin, "standard input"
	} else {
		f, err := os.Open(c.checkHistory)
		if err != nil {
			return exitUsage, fmt.Errorf("-check-history: %v", err)
		}
		defer f.Close()
		in = f
	}
	fmt.Fprintf(stdout, "=== mtabletest -check-history %s ===\n", name)
	var st checkStats
	err := checkHistories(ctx, in, runtime.GOMAXPROCS(0), func(r checked) {
		st.add(stdout, r)
	})
	if err != nil {
		return exitUsage, fmt.Errorf("-check-history %s: %v", name, err)
	}
	fmt.Fprintf(stdout, "\n--- summary ---\n%s\n", st.summary())
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stdout, "interrupted: the histories after the last one judged were not read\n")
		return exitInterrupted, nil
	case st.unknown > 0:
		return exitUsage, nil
	case st.illegal > 0:
		return exitFailure, nil
	}
	return exitPass, nil
}

// checked is one history judged again.
type checked struct {
	h   *harness.History
	rep linearizability.RecordReport
}

// checkStats counts the verdicts and prints one line per history that
// is not ok or whose verdict differs from the recorded one, with the
// first illegal history's explanation.
type checkStats struct {
	n, ok, illegal, unknown, differ, notes int
	explained                              bool
}

func (st *checkStats) add(w io.Writer, r checked) {
	if r.h == nil {
		st.notes++
		return
	}
	st.n++
	got := r.rep.Result.String()
	switch r.rep.Result {
	case linearizability.Ok:
		st.ok++
	case linearizability.Illegal:
		st.illegal++
	default:
		st.unknown++
	}
	differs := r.h.Verdict != got && r.h.Verdict != harness.VerdictOff
	if differs {
		st.differ++
	}
	if got == "ok" && !differs {
		return
	}
	line := fmt.Sprintf("iteration %d (seed %d, %s): %s", r.h.Iteration, r.h.Seed, r.h.Strategy, got)
	if differs {
		line += fmt.Sprintf(" (DIFFERS: the run recorded %s)", r.h.Verdict)
	}
	fmt.Fprintln(w, line)
	if r.rep.Result != linearizability.Ok && !st.explained {
		st.explained = true
		for _, l := range strings.Split(r.rep.Explanation, "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
}

func (st *checkStats) summary() string {
	s := fmt.Sprintf("%d histories judged: %d linearizable, %d not, %d unknown", st.n, st.ok, st.illegal, st.unknown)
	if st.differ > 0 {
		s += fmt.Sprintf("; %d verdicts differ from the ones recorded", st.differ)
	} else if st.n > 0 {
		s += "; every verdict is the one recorded"
	}
	if st.notes > 0 {
		s += fmt.Sprintf("\nnote in the file: the array ends with a note (recording was cut short)")
	}
	return s
}

// checkHistories reads a -history-out array from r and judges each
// history on workers goroutines, calling report for each in file order
// (with a nil History for the closing note). It stops reading when ctx
// is cancelled. An error is bad input, naming the element.
func checkHistories(ctx context.Context, r io.Reader, workers int, report func(checked)) error {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fmt.Errorf("not a -history-out file: want a JSON array of histories")
	}
	type job struct {
		h    *harness.History
		rec  linearizability.TableRecord
		done chan struct{}
		rep  linearizability.RecordReport
		err  error
	}
	jobs := make(chan *job)
	queue := make(chan *job, 4*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.rep, j.err = linearizability.CheckTableRecord(j.rec, linearizability.Options{MaxSteps: harness.DefaultLinBudget, Workers: 1})
				close(j.done)
			}
		}()
	}
	var readErr error
	go func() {
		defer close(queue)
		defer close(jobs)
		for i := 0; dec.More(); i++ {
			if ctx.Err() != nil {
				return
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				readErr = fmt.Errorf("element %d: %v", i, err)
				return
			}
			h, err := decodeHistory(raw)
			if err != nil {
				readErr = fmt.Errorf("element %d: %v", i, err)
				return
			}
			j := &job{h: h, done: make(chan struct{})}
			if h == nil {
				close(j.done)
				queue <- j
				continue
			}
			if j.rec, err = h.ParseRecord(); err != nil {
				readErr = err
				return
			}
			queue <- j
			jobs <- j
		}
		if _, err := dec.Token(); err != nil {
			readErr = fmt.Errorf("the array does not end: %v", err)
		}
	}()
	var checkErr error
	for j := range queue {
		<-j.done
		if checkErr != nil {
			continue
		}
		if j.err != nil {
			checkErr = fmt.Errorf("iteration %d: %v", j.h.Iteration, j.err)
			continue
		}
		report(checked{h: j.h, rep: j.rep})
	}
	wg.Wait()
	return errors.Join(readErr, checkErr)
}

// decodeHistory reads one element of a -history-out array: a history,
// or (nil) the closing note, an object with "note" and no "iteration".
func decodeHistory(raw json.RawMessage) (*harness.History, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("not an object: %v", err)
	}
	if _, isNote := probe["note"]; isNote {
		if _, hasIt := probe["iteration"]; !hasIt {
			return nil, nil
		}
	}
	for _, field := range []string{"iteration", "verdict", "record"} {
		if _, ok := probe[field]; !ok {
			return nil, fmt.Errorf("not a history: no %q field", field)
		}
	}
	var h harness.History
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("not a history: %v", err)
	}
	switch h.Verdict {
	case "ok", "illegal", "unknown", harness.VerdictOff:
	default:
		return nil, fmt.Errorf("iteration %d: unknown verdict %q (want ok, illegal, unknown or off)", h.Iteration, h.Verdict)
	}
	return &h, nil
}
