package sched

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// TraceVersion is the version of the trace file format that Write
// produces. Parse reads it, version 2 (no machine names) and version 1
// (no virtual time, no faults, no machine names).
const TraceVersion = 3

// DecisionKind distinguishes the kinds of decision.
type DecisionKind uint8

const (
	// Schedule: the strategy chose which machine runs next.
	Schedule DecisionKind = iota + 1
	// Choice: a machine called Choose or Bool, or a Select chose among
	// its ready cases.
	Choice
	// TimeAdvance: the strategy advanced the virtual clock by Duration
	// (Config.MaxTimeStep).
	TimeAdvance
	// FaultInjection: the strategy crashed, stalled (for Duration) or
	// restarted process Value (Config.Faults).
	FaultInjection
	// ClockOffset: process Value's clock is offset from the root's by
	// Duration (Config.MaxClockSkew), decided when it started.
	ClockOffset
)

// Decision is one decision of a run: step i of the run is Decisions[i-1].
type Decision struct {
	Kind DecisionKind
	// Fault is the fault's kind (FaultInjection only).
	Fault FaultKind
	// Value is the ID of the machine scheduled (Schedule), the value
	// chosen (Choice), or the process (FaultInjection, ClockOffset).
	// (32 bits keep a Decision at 24 bytes: a run holds one per step.)
	Value int32
	// Bound is n of Choose(n) (Choice only).
	Bound int32
	// Duration is the clock advance (TimeAdvance), the stall (a Stall
	// FaultInjection) or the clock offset (ClockOffset).
	Duration time.Duration
}

// String formats d as its trace line: "s 2", "c 1/3", "t 1.5s",
// "f crash 2", "f stall 2 3s", "f restart 2" or "o 2 -50ms".
func (d Decision) String() string {
	switch d.Kind {
	case Choice:
		return "c " + strconv.Itoa(int(d.Value)) + "/" + strconv.Itoa(int(d.Bound))
	case TimeAdvance:
		return "t " + d.Duration.String()
	case FaultInjection:
		s := "f " + d.Fault.String() + " " + strconv.Itoa(int(d.Value))
		if d.Fault == Stall {
			s += " " + d.Duration.String()
		}
		return s
	case ClockOffset:
		return "o " + strconv.Itoa(int(d.Value)) + " " + d.Duration.String()
	}
	return "s " + strconv.Itoa(int(d.Value))
}

func (d Decision) describe() string {
	switch d.Kind {
	case Choice:
		return fmt.Sprintf("choice %d of Choose(%d) (%q)", d.Value, d.Bound, d.String())
	case TimeAdvance:
		return fmt.Sprintf("clock advance by %v (%q)", d.Duration, d.String())
	case FaultInjection:
		return fmt.Sprintf("%s of process %d (%q)", d.Fault, d.Value, d.String())
	case ClockOffset:
		return fmt.Sprintf("clock offset %v of process %d (%q)", d.Duration, d.Value, d.String())
	}
	return fmt.Sprintf("schedule machine %d (%q)", d.Value, d.String())
}

// Trace is the record of one run: enough to replay it decision for
// decision.
//
// The file format (Write, Parse) is line based:
//
//	sched-trace 3
//	strategy pct
//	seed 314159
//	depth 3
//	expected-steps 1000
//	max-steps 100000
//	liveness-steps 50000
//	start 2026-01-01T00:00:00Z
//	max-time-step 1s
//	max-clock-skew 100ms
//	faults 2
//	max-stall 30s
//	no-crash true
//	param bug=3
//	param note="two words"
//	machine 0 root main
//	machine 1 root worker
//	machine 2 db serve
//	# deadlock at step 12: no machine enabled; ...
//	o 1 -20ms
//	s 0
//	s 1
//	c 1/3
//	t 250ms
//	f stall 1 12s
//	f crash 1
//	f restart 1
//	end 8
//
// The first line names the format and its version. Header lines follow
// in any order; "param" lines keep their order; "start" (RFC 3339),
// "max-time-step", "max-clock-skew", "faults", "max-stall" and "no-crash"
// are written only when set. "machine" lines name the machines of the
// run in ID order, from 0: "machine ID PROCESS NAME", the name given to
// Go, GoNamed, GoDaemon or StartProcess ("" for Go) and the name of its
// process ("root" for machines outside StartProcess's processes).
// Lines starting with "#" are comments (Write
// puts the failure there). Then one line per decision (see
// Decision.String): "s ID" (machine ID scheduled), "c V/N" (value V of
// Choose(N), or of a Select among N ready cases), "t D" (clock advanced
// by D), "f crash P", "f stall P D", "f restart P" (a fault of process P)
// and "o P D" (process P's clock offset); durations are written as
// time.Duration.String writes them. The k-th decision line is step k.
// Among the decisions, Write puts a comment "# step K" before step 101,
// 201, ..., for people; Parse ignores comments there. The last line,
// "end N", holds the number of decisions, so that a truncated file is
// detected. Param values that are empty or hold spaces, quotes, '#' or
// non-printable characters are written as Go quoted strings, and so are
// machine and process names.
//
// Version 2 files (no "machine" lines) and version 1 files (no virtual
// time, no processes: only the first seven headers, params, and "s" and
// "c" decisions) are read as well; their Machines is nil.
type Trace struct {
	Version       int
	Strategy      string // strategy of the recorded run (never "portfolio" or "replay")
	Seed          uint64
	Depth         int
	ExpectedSteps int
	MaxSteps      int
	LivenessSteps int
	// The world of the run (Config fields of the same names); Start is
	// zero in a version 1 trace.
	Start        time.Time
	MaxTimeStep  time.Duration
	MaxClockSkew time.Duration
	Faults       int
	MaxStall     time.Duration
	NoCrash      bool
	Params       []Param
	// Machines names the run's machines, by ID (nil in a trace of
	// version 1 or 2). A lenient replay matches machines by it.
	Machines []TraceMachine
	// Comment holds the comment lines (without "# "); Run puts the
	// failure's text there.
	Comment   []string
	Decisions []Decision
	// Streams, when it has one entry per decision, names the choice
	// stream (see ChooseIn) of each Choice decision ("" for Choose and
	// the other decisions). A "lenient" run records it; a lenient run
	// given it keeps each stream's choices apart. Write does not write
	// it and Parse leaves it nil: it is not part of the file format.
	Streams []string
}

// TraceMachine is what names a machine in a trace: its name and the name
// of its process ("root" outside StartProcess's processes).
type TraceMachine struct {
	Process, Name string
}

// String formats n as "NAME" for a machine of the root process, else
// "PROCESS/NAME".
func (n TraceMachine) String() string {
	if n.Process == rootName {
		return n.Name
	}
	return n.Process + "/" + n.Name
}

// rootName is the name of the root process.
const rootName = "root"

// quoteName quotes a machine or process name for a "machine" line when
// it is empty or holds spaces, quotes, '#' or non-printable characters.
func quoteName(v string) string {
	if needsQuote(v) {
		return strconv.Quote(v)
	}
	return v
}

// Param returns the value of the first param named key.
func (t *Trace) Param(key string) (string, bool) {
	for _, p := range t.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

func checkParamKey(k string) error {
	if k == "" {
		return errors.New("param key is empty")
	}
	for _, r := range k {
		if r <= ' ' || r == '=' || r == '"' || r == '#' || r > '~' {
			return fmt.Errorf("param key %q must be printable ASCII without spaces, '=', '\"' or '#'", k)
		}
	}
	return nil
}

func needsQuote(v string) bool {
	if v == "" {
		return true
	}
	for _, r := range v {
		if r <= ' ' || r == '"' || r == '#' || r > '~' {
			return true
		}
	}
	return false
}

// Write writes t in the trace file format.
func (t *Trace) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "sched-trace %d\n", TraceVersion)
	fmt.Fprintf(bw, "strategy %s\n", t.Strategy)
	fmt.Fprintf(bw, "seed %d\n", t.Seed)
	fmt.Fprintf(bw, "depth %d\n", t.Depth)
	fmt.Fprintf(bw, "expected-steps %d\n", t.ExpectedSteps)
	fmt.Fprintf(bw, "max-steps %d\n", t.MaxSteps)
	fmt.Fprintf(bw, "liveness-steps %d\n", t.LivenessSteps)
	if !t.Start.IsZero() {
		fmt.Fprintf(bw, "start %s\n", t.Start.Format(time.RFC3339Nano))
	}
	if t.MaxTimeStep != 0 {
		fmt.Fprintf(bw, "max-time-step %v\n", t.MaxTimeStep)
	}
	if t.MaxClockSkew != 0 {
		fmt.Fprintf(bw, "max-clock-skew %v\n", t.MaxClockSkew)
	}
	if t.Faults != 0 {
		fmt.Fprintf(bw, "faults %d\n", t.Faults)
	}
	if t.MaxStall != 0 {
		fmt.Fprintf(bw, "max-stall %v\n", t.MaxStall)
	}
	if t.NoCrash {
		fmt.Fprintf(bw, "no-crash true\n")
	}
	for _, p := range t.Params {
		if err := checkParamKey(p.Key); err != nil {
			return fmt.Errorf("sched: writing trace: %v", err)
		}
		v := p.Value
		if needsQuote(v) {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(bw, "param %s=%s\n", p.Key, v)
	}
	for i, m := range t.Machines {
		fmt.Fprintf(bw, "machine %d %s %s\n", i, quoteName(m.Process), quoteName(m.Name))
	}
	for _, c := range t.Comment {
		fmt.Fprintf(bw, "# %s\n", strings.ReplaceAll(c, "\n", " "))
	}
	var buf []byte
	for i, d := range t.Decisions {
		buf = buf[:0]
		if i > 0 && i%100 == 0 {
			buf = append(buf, "# step "...)
			buf = strconv.AppendInt(buf, int64(i+1), 10)
			buf = append(buf, '\n')
		}
		switch d.Kind {
		case Choice:
			buf = append(buf, "c "...)
			buf = strconv.AppendInt(buf, int64(d.Value), 10)
			buf = append(buf, '/')
			buf = strconv.AppendInt(buf, int64(d.Bound), 10)
		case Schedule:
			buf = append(buf, "s "...)
			buf = strconv.AppendInt(buf, int64(d.Value), 10)
		default:
			buf = append(buf, d.String()...)
		}
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	fmt.Fprintf(bw, "end %d\n", len(t.Decisions))
	return bw.Flush()
}

// String returns the trace file text.
func (t *Trace) String() string {
	var b strings.Builder
	if err := t.Write(&b); err != nil {
		return "invalid trace: " + err.Error()
	}
	return b.String()
}

// ErrCorruptTrace is wrapped by every error Parse returns for a file that
// is not a well-formed trace.
var ErrCorruptTrace = errors.New("corrupt trace")

// Parse reads a trace file written by Write. Errors name the line:
// "trace line 7: ...", and wrap ErrCorruptTrace.
func Parse(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	t := &Trace{}
	line := 0
	bad := func(format string, args ...any) error {
		return fmt.Errorf("trace line %d: %s: %w", line, fmt.Sprintf(format, args...), ErrCorruptTrace)
	}
	seen := map[string]bool{}
	ended, inBody := false, false
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			v, ok := strings.CutPrefix(text, "sched-trace ")
			if !ok {
				return nil, bad("not a sched trace (first line %q, want \"sched-trace %d\")", text, TraceVersion)
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, bad("bad version %q", v)
			}
			if n < 1 || n > TraceVersion {
				return nil, bad("unsupported trace version %d (this package reads versions 1 to %d)", n, TraceVersion)
			}
			t.Version = n
			continue
		}
		if ended {
			return nil, bad("text after the end line: %q", text)
		}
		if text == "" {
			continue
		}
		if c, ok := strings.CutPrefix(text, "#"); ok {
			if !inBody { // comments among the decisions are step markers
				t.Comment = append(t.Comment, strings.TrimPrefix(c, " "))
			}
			continue
		}
		key, val, _ := strings.Cut(text, " ")
		if (t.Version == 1 && v2Keys[key]) || (t.Version < 3 && key == "machine") {
			key = laterVersion + key // a line of a later version: unknown here
		}
		switch key {
		case "s", "c", "t", "f", "o":
			inBody = true
			d, err := parseDecision(key, val)
			if err != nil {
				return nil, bad("%v", err)
			}
			t.Decisions = append(t.Decisions, d)
			continue
		case "end":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return nil, bad("bad end line %q", text)
			}
			if n != len(t.Decisions) {
				return nil, bad("end line says %d decisions, file holds %d", n, len(t.Decisions))
			}
			ended = true
			continue
		}
		if inBody {
			return nil, bad("unexpected line %q among decisions (want a decision line or \"end N\")", text)
		}
		if key != "param" && key != "machine" {
			if seen[key] {
				return nil, bad("duplicate header %q", key)
			}
			seen[key] = true
		}
		var err error
		switch key {
		case "strategy":
			switch val {
			case "random", "pct", "pos", "dfs":
				t.Strategy = val
			default:
				return nil, bad("unknown strategy %q", val)
			}
		case "seed":
			t.Seed, err = strconv.ParseUint(val, 10, 64)
		case "depth":
			t.Depth, err = atoiNonNeg(val)
		case "expected-steps":
			t.ExpectedSteps, err = atoiNonNeg(val)
		case "max-steps":
			t.MaxSteps, err = atoiNonNeg(val)
		case "liveness-steps":
			t.LivenessSteps, err = strconv.Atoi(val)
		case "start":
			t.Start, err = time.Parse(time.RFC3339Nano, val)
			t.Start = t.Start.UTC()
		case "max-time-step":
			t.MaxTimeStep, err = parseNonNegDuration(val)
		case "max-clock-skew":
			t.MaxClockSkew, err = parseNonNegDuration(val)
		case "faults":
			t.Faults, err = atoiNonNeg(val)
		case "max-stall":
			t.MaxStall, err = parseNonNegDuration(val)
		case "no-crash":
			t.NoCrash, err = strconv.ParseBool(val)
		case "param":
			k, v, ok := strings.Cut(val, "=")
			if !ok {
				return nil, bad("param %q has no '='", val)
			}
			if err := checkParamKey(k); err != nil {
				return nil, bad("%v", err)
			}
			if strings.HasPrefix(v, `"`) {
				uq, qerr := strconv.Unquote(v)
				if qerr != nil {
					return nil, bad("param %s: bad quoted value %s", k, v)
				}
				v = uq
			}
			t.Params = append(t.Params, Param{Key: k, Value: v})
		case "machine":
			m, perr := parseMachine(val, len(t.Machines))
			if perr != nil {
				return nil, bad("%v", perr)
			}
			t.Machines = append(t.Machines, m)
		default:
			return nil, bad("unknown header %q", strings.TrimPrefix(key, laterVersion))
		}
		if err != nil {
			return nil, bad("bad %s value %q", key, val)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace line %d: %v: %w", line+1, err, ErrCorruptTrace)
	}
	if line == 0 {
		return nil, fmt.Errorf("trace is empty: %w", ErrCorruptTrace)
	}
	if !ended {
		return nil, fmt.Errorf("trace line %d: truncated: no \"end N\" line after %d decisions: %w", line, len(t.Decisions), ErrCorruptTrace)
	}
	if t.Strategy == "" {
		return nil, fmt.Errorf("trace: header has no strategy line: %w", ErrCorruptTrace)
	}
	return t, nil
}

// parseMachine parses the value of a "machine" line, which must name
// machine id: "ID PROCESS NAME", the names bare or Go quoted.
func parseMachine(val string, id int) (TraceMachine, error) {
	bad := fmt.Errorf("bad machine line %q (want \"machine %d PROCESS NAME\", machines in ID order from 0)", "machine "+val, id)
	n, rest, ok := strings.Cut(val, " ")
	if !ok || n != strconv.Itoa(id) {
		return TraceMachine{}, bad
	}
	proc, rest, err := cutName(rest)
	if err != nil {
		return TraceMachine{}, bad
	}
	name, rest, err := cutName(rest)
	if err != nil || rest != "" {
		return TraceMachine{}, bad
	}
	return TraceMachine{Process: proc, Name: name}, nil
}

// cutName returns the name at the start of s (bare up to a space, or Go
// quoted) and the rest after one space.
func cutName(s string) (name, rest string, err error) {
	if strings.HasPrefix(s, `"`) {
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return "", "", err
		}
		name, _ = strconv.Unquote(q)
		rest, _ = strings.CutPrefix(s[len(q):], " ")
		return name, rest, nil
	}
	name, rest, _ = strings.Cut(s, " ")
	if name == "" {
		return "", "", errors.New("empty")
	}
	return name, rest, nil
}

func atoiNonNeg(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err == nil && n < 0 {
		err = errors.New("negative")
	}
	return n, err
}

// laterVersion marks a key of a later version than the file's.
const laterVersion = "\x00later "

// v2Keys are the header and decision keys that version 1 does not have.
var v2Keys = map[string]bool{"start": true, "max-time-step": true, "max-clock-skew": true, "faults": true,
	"max-stall": true, "no-crash": true, "t": true, "f": true, "o": true}

func parseNonNegDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d < 0 {
		err = errors.New("negative")
	}
	return d, err
}

func parseDecision(key, val string) (Decision, error) {
	switch key {
	case "t":
		d, err := time.ParseDuration(val)
		if err != nil || d <= 0 {
			return Decision{}, fmt.Errorf("bad clock advance %q (want \"t D\" with a positive duration)", "t "+val)
		}
		return Decision{Kind: TimeAdvance, Duration: d}, nil
	case "f":
		f := strings.Fields(val)
		bad := fmt.Errorf("bad fault %q (want \"f crash P\", \"f stall P D\" or \"f restart P\" with a process P >= 1)", "f "+val)
		if len(f) < 2 {
			return Decision{}, bad
		}
		p, err := strconv.ParseInt(f[1], 10, 32)
		if err != nil || p < 1 {
			return Decision{}, bad
		}
		d := Decision{Kind: FaultInjection, Value: int32(p)}
		switch {
		case f[0] == "crash" && len(f) == 2:
			d.Fault = Crash
		case f[0] == "restart" && len(f) == 2:
			d.Fault = Restart
		case f[0] == "stall" && len(f) == 3:
			d.Fault = Stall
			d.Duration, err = time.ParseDuration(f[2])
			if err != nil || d.Duration <= 0 {
				return Decision{}, bad
			}
		default:
			return Decision{}, bad
		}
		return d, nil
	case "o":
		a, b, ok := strings.Cut(val, " ")
		p, err1 := strconv.ParseInt(a, 10, 32)
		d, err2 := time.ParseDuration(b)
		if !ok || err1 != nil || err2 != nil || p < 1 {
			return Decision{}, fmt.Errorf("bad clock offset %q (want \"o P D\" with a process P >= 1)", "o "+val)
		}
		return Decision{Kind: ClockOffset, Value: int32(p), Duration: d}, nil
	}
	if key == "s" {
		n, err := strconv.ParseInt(val, 10, 32)
		if err != nil || n < 0 {
			return Decision{}, fmt.Errorf("bad schedule decision %q (want \"s ID\")", "s "+val)
		}
		return Decision{Kind: Schedule, Value: int32(n)}, nil
	}
	a, b, ok := strings.Cut(val, "/")
	v, err1 := strconv.ParseInt(a, 10, 32)
	n, err2 := strconv.ParseInt(b, 10, 32)
	if !ok || err1 != nil || err2 != nil || n <= 0 || v < 0 || v >= n {
		return Decision{}, fmt.Errorf("bad choice decision %q (want \"c V/N\" with 0 <= V < N)", "c "+val)
	}
	return Decision{Kind: Choice, Value: int32(v), Bound: int32(n)}, nil
}
