package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/sched"
)

// replayJSON is the -json summary of a replay.
type replayJSON struct {
	Replay       string `json:"replay"`
	Bug          string `json:"bug"`
	Steps        int64  `json:"steps"`
	Failed       bool   `json:"failed"`
	Kind         string `json:"kind,omitempty"`
	Check        string `json:"check,omitempty"`
	RecordedKind string `json:"recordedKind,omitempty"`
	Reproduced   bool   `json:"reproduced"`
	Diverged     bool   `json:"diverged"`
	Interrupted  bool   `json:"interrupted,omitempty"`
}

// recordedIteration returns the iteration index a saved trace's comment
// records, or 0.
func recordedIteration(tr *sched.Trace) int {
	for _, l := range tr.Comment {
		if rest, ok := strings.CutPrefix(l, "iteration "); ok {
			num, _, _ := strings.Cut(rest, ",")
			if n, err := strconv.Atoi(num); err == nil {
				return n
			}
		}
	}
	return 0
}

func (c *config) runReplay(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	tr, err := readTrace(c.replay)
	if err != nil {
		return exitUsage, err
	}
	opts, err := harness.OptionsFromTrace(tr)
	if err != nil {
		return exitUsage, usagef("-replay %s: %v", c.replay, err)
	}
	human := stdout
	if c.json {
		human = stderr
	}
	fmt.Fprintf(human, "=== mtabletest replay ===\n")
	line := func(k, format string, args ...any) { fmt.Fprintf(human, "%-18s %s\n", k, fmt.Sprintf(format, args...)) }
	line("file", "%s", c.replay)
	line("strategy", "%s (recorded), seed %d, %d decisions", tr.Strategy, tr.Seed, len(tr.Decisions))
	for _, p := range tr.Params {
		line(p.Key, "%s", p.Value)
	}
	recKind, hasKind := recordedKind(tr)
	if hasKind {
		line("recorded failure", "%s", recKind)
	}
	fmt.Fprintln(human)

	it, err := harness.Replay(opts, tr, 0)
	if err != nil {
		return exitUsage, usagef("-replay %s: %v", c.replay, err)
	}
	it.Index = recordedIteration(tr)
	if c.verbose {
		writeEvents(human, it.Sched.Events)
	}
	if c.html != "" {
		page, err := timelineHTML(c.replay, it)
		if err != nil {
			return exitUsage, err
		}
		if err := writeOutput("-html", c.html, page, c.overwrite); err != nil {
			return exitUsage, err
		}
		fmt.Fprintf(human, "timeline written to %s\n\n", c.html)
	}
	if c.historyOut != "" {
		hw, err := openHistories(c.historyOut, c.histLimit, c.overwrite, stderr)
		if err != nil {
			return exitUsage, err
		}
		hw.add(it)
		if err := hw.close(false); err != nil {
			return exitUsage, err
		}
	}

	js := replayJSON{Replay: c.replay, Bug: bugName(opts.Bug), Steps: it.Sched.Steps, RecordedKind: recKind}
	code := exitPass
	var result error
	diverged := divergence(it)
	switch {
	case it.Failure == nil:
		fmt.Fprintf(human, "--- replay passed: every check passed ---\n")
		if hasKind {
			fmt.Fprintf(human, "the file recorded a failure (%s) that no longer occurs: was the bug fixed?\n", recKind)
		}
	case diverged != "":
		// The replay left the recorded schedule (possibly after a check
		// failed): whatever it found is not the recorded run.
		js.Failed, js.Kind, js.Diverged = true, it.Failure.Kind, true
		if it.Failure.Check != nil {
			js.Check = it.Failure.Check.Check
		}
		harness.WriteReport(human, it, "")
		fmt.Fprintf(human, "\n--- the schedule diverged ---\n"+
			"The replay did not make the decisions recorded in %s: the code\n"+
			"changed since the file was written (or the file was edited), so the\n"+
			"recorded run was not reproduced, and the report above is not of it.\n"+
			"Regenerate the trace with the command that found it.\n", c.replay)
		code = exitUsage
		result = usagef("-replay %s: the schedule diverged %s", c.replay, diverged)
	default:
		js.Failed, js.Kind = true, it.Failure.Kind
		if it.Failure.Check != nil {
			js.Check = it.Failure.Check.Check
		}
		js.Reproduced = !hasKind || recKind == it.Failure.Kind
		harness.WriteReport(human, it, "go run ./cmd/mtabletest -replay "+c.replay)
		if hasKind && recKind != it.Failure.Kind {
			fmt.Fprintf(human, "\nnote: the file recorded a failure of kind %s; the replay failed with %s\n", recKind, it.Failure.Kind)
		}
		code = exitFailure
	}
	if ctx.Err() != nil && result == nil {
		// SIGINT came while the replay ran; it cannot stop halfway, and
		// its report is complete, but the command was asked to stop.
		js.Interrupted = true
		fmt.Fprintf(human, "interrupted (the replay had run to its end)\n")
		code = exitInterrupted
	}
	if c.json {
		b, _ := json.MarshalIndent(js, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return code, result
}

// divergence says how the replay it left the recorded schedule ("at
// step 12: trace says ..., program ..."), or "" if it made exactly the
// recorded decisions. The scheduler reports every way a replay leaves
// its trace as a sched.Divergence (possibly after a check failed): a
// decision the trace does not hold, and a run that ended (it finished,
// deadlocked, failed a check, ...) before the trace's last decision,
// since the recorded run went on.
func divergence(it *harness.Iteration) string {
	if f := it.Failure; f != nil && f.Sched != nil && f.Sched.Kind == sched.Divergence {
		return fmt.Sprintf("at step %d: %s", f.Sched.Step, f.Sched.Message)
	}
	return ""
}

// replayFile replays the trace text data under the options it records;
// the seed test uses it.
func replayFile(data []byte) (*sched.Trace, *harness.Iteration, error) {
	tr, err := sched.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	opts, err := harness.OptionsFromTrace(tr)
	if err != nil {
		return tr, nil, err
	}
	it, err := harness.Replay(opts, tr, 0)
	return tr, it, err
}
