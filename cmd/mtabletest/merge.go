package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
)

const mergeUsage = `mtabletest merge combines the -json summaries of the N shards of a run
(mtabletest -shard K/N -json, K = 1..N) into the summary the run itself would
have printed, and collects their trace files.

Usage:
  mtabletest merge [-json] [-out DIR] SHARD.json ...

The shards must be the N shards of one run: the same seed, strategy, bug,
-iterations, -depth, -max-steps, -keep-going and shrink settings, the same
world (every parameter the summaries record under "world": -leases, -faults,
clock skew, migrators, fault bursts, the workload's shape), and every K from 1
to N once; otherwise merge names the first setting that differs and exits 2. A summary names its trace files as the shard wrote them; a
file not found there is looked for from the summary's directory (a relative
path), then beside the summary. With -out, the trace
files of the merged summary are copied to DIR under the names the run itself
would have given them (never over anything: see -h of mtabletest); the first
failure's report is printed by replaying its traces. Exit status as for a run:
0 no failure, 1 a failure, 2 bad input, 130 if a shard was interrupted.

Flags:
`

// runMerge is mtabletest merge.
func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("mtabletest merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print the merged JSON summary on stdout (the human-readable output goes to stderr)")
	out := fs.String("out", "", "copy the merged summary's trace files to `DIR` (created if missing)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, mergeUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return exitPass, err
		}
		return exitUsage, usagef("merge: %v (run mtabletest merge -h for usage)", err)
	}
	if fs.NArg() == 0 {
		return exitUsage, usagef("merge: no summary files (run mtabletest merge -h for usage)")
	}
	if *out != "" {
		if err := checkOutDir("-out", *out); err != nil {
			return exitUsage, usagef("merge: %v", err)
		}
	}
	shards, err := readShards(fs.Args())
	if err != nil {
		return exitUsage, err
	}
	merged, err := mergeSummaries(shards)
	if err != nil {
		return exitUsage, err
	}
	if err := collectTraces(&merged, shards, *out); err != nil {
		return exitUsage, err
	}
	human := stdout
	if *asJSON {
		human = stderr
	}
	c, err := configOf(merged)
	if err != nil {
		return exitUsage, err
	}
	c.writeBanner(human, c.exploreConfig())
	fmt.Fprintf(human, "merged from %d shards\n\n", len(shards))
	if merged.FirstFailure != nil {
		if err := writeMergedReport(human, merged); err != nil {
			return exitUsage, err
		}
		fmt.Fprintln(human)
	}
	writeSummary(human, merged)
	if *asJSON {
		b, _ := json.MarshalIndent(merged, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	}
	switch {
	case merged.Interrupted:
		return exitInterrupted, nil
	case merged.Failures > 0:
		return exitFailure, nil
	}
	return exitPass, nil
}

// shard is one shard's summary and where it was read from.
type shard struct {
	path string
	js   summaryJSON
	k, n int
}

func readShards(paths []string) ([]shard, error) {
	var shards []shard
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, usagef("merge: %s: %v", p, unwrapPathError(err))
		}
		var js summaryJSON
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&js); err != nil {
			return nil, usagef("merge: %s: not a -json summary of mtabletest: %v", p, err)
		}
		if js.Shard == "" {
			return nil, usagef("merge: %s: the summary of a whole run, not of a shard (-shard K/N)", p)
		}
		a, b, _ := strings.Cut(js.Shard, "/")
		k, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
			return nil, usagef("merge: %s: bad shard %q", p, js.Shard)
		}
		shards = append(shards, shard{path: p, js: js, k: k, n: n})
	}
	slices.SortStableFunc(shards, func(a, b shard) int { return a.k - b.k })
	first := shards[0]
	for i, s := range shards {
		a, b := first.js, s.js
		switch {
		case s.n != first.n:
			return nil, usagef("merge: %s is shard %s, %s is shard %s: not the same number of shards", first.path, a.Shard, s.path, b.Shard)
		case i > 0 && s.k == shards[i-1].k:
			return nil, usagef("merge: %s and %s are both shard %s", shards[i-1].path, s.path, b.Shard)
		}
		if field, va, vb, ok := differing(a, b); ok {
			return nil, usagef("merge: %s and %s are shards of different runs: %s differs (%s in %s, %s in %s)", first.path, s.path, field, va, first.path, vb, s.path)
		}
	}
	if len(shards) != first.n {
		var missing []string
		have := map[int]bool{}
		for _, s := range shards {
			have[s.k] = true
		}
		for k := 1; k <= first.n; k++ {
			if !have[k] {
				missing = append(missing, fmt.Sprintf("%d/%d", k, first.n))
			}
		}
		return nil, usagef("merge: missing shard %s", strings.Join(missing, ", "))
	}
	// The shards' slices must make one iteration space: shard K of N
	// holds ShardSize(total, K, N) iterations.
	total := 0
	for _, s := range shards {
		total += s.js.Planned
	}
	for _, s := range shards {
		if s.js.Planned != harness.ShardSize(total, s.k, s.n) {
			return nil, usagef("merge: %s: shard %s plans %d iterations, not its share of %d: shards of runs with different -iterations", s.path, s.js.Shard, s.js.Planned, total)
		}
	}
	return shards, nil
}

// differing returns the first setting that changes what a run explores
// in which the summaries a and b differ, its name (the flag's, or the
// world parameter's as a trace records it) and the two values: the
// seed, -iterations, strategy, bug, -depth, -max-steps, -keep-going,
// the shrink settings, then each parameter of the world in the order a
// trace lists them (a value one summary lacks is "(none)" there, or
// iterations 0).
func differing(a, b summaryJSON) (field, va, vb string, ok bool) {
	for _, f := range []struct{ name, a, b string }{
		{"seed", strconv.FormatUint(a.Seed, 10), strconv.FormatUint(b.Seed, 10)},
		{"iterations", strconv.Itoa(a.Total), strconv.Itoa(b.Total)},
		{"strategy", a.Strategy, b.Strategy},
		{"bug", a.Bug, b.Bug},
		{"depth", strconv.Itoa(a.Depth), strconv.Itoa(b.Depth)},
		{"max-steps", strconv.Itoa(a.MaxSteps), strconv.Itoa(b.MaxSteps)},
		{"keep-going", strconv.FormatBool(a.KeepGoing), strconv.FormatBool(b.KeepGoing)},
		{"shrink-runs", strconv.Itoa(a.ShrinkRuns), strconv.Itoa(b.ShrinkRuns)},
		{"shrink-time", a.ShrinkTime, b.ShrinkTime},
	} {
		if f.a != f.b {
			return f.name, f.a, f.b, true
		}
	}
	// In the order a trace lists them, then any others by name.
	var keys, rest []string
	known := map[string]bool{}
	for _, kv := range harness.DefaultWorkload().Params() {
		keys = append(keys, kv[0])
		known[kv[0]] = true
	}
	for _, m := range []map[string]string{a.World, b.World} {
		for k := range m {
			if !known[k] {
				known[k] = true
				rest = append(rest, k)
			}
		}
	}
	slices.Sort(rest)
	keys = append(keys, rest...)
	val := func(m map[string]string, k string) string {
		if v, in := m[k]; in {
			return v
		}
		return "(none)"
	}
	for _, k := range keys {
		if x, y := val(a.World, k), val(b.World, k); x != y {
			return k, x, y, true
		}
	}
	return "", "", "", false
}

// mergeSummaries returns the summary the whole run would have printed
// (with the shards' trace paths; collectTraces settles them).
func mergeSummaries(shards []shard) (summaryJSON, error) {
	f := shards[0].js
	m := summaryJSON{Seed: f.Seed, Total: f.Total, Strategy: f.Strategy, Bug: f.Bug, Depth: f.Depth, MaxSteps: f.MaxSteps,
		KeepGoing: f.KeepGoing, ShrinkRuns: f.ShrinkRuns, ShrinkTime: f.ShrinkTime, World: f.World,
		ByKind: map[string]int{}, ByCheck: map[string]int{}, Traces: []traceJSON{}, FailingIterations: []int{}, Groups: []groupJSON{}}
	var firstShard *summaryJSON
	for i := range shards {
		s := &shards[i].js
		m.Planned += s.Planned
		m.ElapsedSeconds += s.ElapsedSeconds
		m.LinUndecided += s.LinUndecided
		m.Interrupted = m.Interrupted || s.Interrupted
		if s.FirstFailure != nil && (firstShard == nil || *s.FirstFailure < *firstShard.FirstFailure) {
			firstShard = s
		}
	}
	if firstShard != nil {
		idx := *firstShard.FirstFailure
		m.FirstFailure = &idx
		m.FirstStrategy, m.FirstSeed, m.Kind, m.Check = firstShard.FirstStrategy, firstShard.FirstSeed, firstShard.Kind, firstShard.Check
		m.TraceFile, m.ShrunkTraceFile, m.Shrink = firstShard.TraceFile, firstShard.ShrunkTraceFile, firstShard.Shrink
	}
	if !m.KeepGoing && firstShard != nil {
		// The run stops at its first failure: it runs the iterations up
		// to it, every shard's below it included (a shard stops only at
		// a failure of its own, later).
		m.Iterations = *firstShard.FirstFailure + 1
		m.Failures = 1
		m.ByKind, m.ByCheck = firstShard.ByKind, firstShard.ByCheck
		m.FailingIterations = []int{*firstShard.FirstFailure}
		for _, t := range firstShard.Traces {
			if t.Iteration == *firstShard.FirstFailure {
				m.Traces = append(m.Traces, t)
			}
		}
		m.Groups = append(m.Groups, firstShard.Groups...)
	} else {
		groups := map[string]*groupJSON{}
		var order []string
		for _, s := range shards {
			m.Iterations += s.js.Iterations
			m.Failures += s.js.Failures
			for k, v := range s.js.ByKind {
				m.ByKind[k] += v
			}
			for k, v := range s.js.ByCheck {
				m.ByCheck[k] += v
			}
			m.FailingIterations = append(m.FailingIterations, s.js.FailingIterations...)
			m.Traces = append(m.Traces, s.js.Traces...)
			for _, g := range s.js.Groups {
				key := g.Signature + "\x00" + g.Shape
				if p := groups[key]; p != nil {
					p.Count += g.Count
					p.FirstIteration = min(p.FirstIteration, g.FirstIteration)
					continue
				}
				g := g
				groups[key] = &g
				order = append(order, key)
			}
		}
		slices.Sort(m.FailingIterations)
		slices.SortFunc(m.Traces, func(a, b traceJSON) int { return a.Iteration - b.Iteration })
		m.Traces = m.Traces[:min(len(m.Traces), maxTraceFiles)]
		for _, k := range order {
			m.Groups = append(m.Groups, *groups[k])
		}
		slices.SortStableFunc(m.Groups, func(a, b groupJSON) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			return a.FirstIteration - b.FirstIteration
		})
	}
	if m.ElapsedSeconds > 0 {
		m.IterationsPerSecond = float64(m.Iterations) / m.ElapsedSeconds
	}
	return m, nil
}

// collectTraces finds the trace files of the merged summary, copies them
// to out (if set) and points the summary at the files it names.
func collectTraces(m *summaryJSON, shards []shard, out string) error {
	if out != "" && len(m.Traces) > 0 {
		if err := makeOutDir("-out", out); err != nil {
			return usagef("merge: %v", err)
		}
	}
	bug, err := bugOf(m.Bug)
	if err != nil {
		return err
	}
	place := func(path string, iteration int, suffix string) (string, error) {
		src, data, err := findTrace(path, shards)
		if err != nil {
			return "", err
		}
		if out == "" {
			return src, nil
		}
		return saveTraceText(out, traceName(bug, iteration)+suffix, data)
	}
	m.TraceFiles = nil
	for i := range m.Traces {
		t := &m.Traces[i]
		var err error
		if t.Trace, err = place(t.Trace, t.Iteration, ""); err != nil {
			return err
		}
		m.TraceFiles = append(m.TraceFiles, t.Trace)
		if t.ShrunkTrace != "" {
			if t.ShrunkTrace, err = place(t.ShrunkTrace, t.Iteration, "-shrunk"); err != nil {
				return err
			}
			m.TraceFiles = append(m.TraceFiles, t.ShrunkTrace)
		}
	}
	if m.FirstFailure != nil {
		m.TraceFile, m.ShrunkTraceFile = "", ""
		for _, t := range m.Traces {
			if t.Iteration == *m.FirstFailure {
				m.TraceFile, m.ShrunkTraceFile = t.Trace, t.ShrunkTrace
			}
		}
	}
	return nil
}

// findTrace reads a trace a shard's summary names: where it names it;
// else, a relative path, from the directory of one of the summaries (a
// shard writes its summary where it runs, and the summaries and traces
// are often moved together); else beside one of the summaries.
func findTrace(path string, shards []shard) (string, []byte, error) {
	tries := []string{path}
	for _, s := range shards {
		if !filepath.IsAbs(path) {
			tries = append(tries, filepath.Join(filepath.Dir(s.path), path))
		}
	}
	for _, s := range shards {
		tries = append(tries, filepath.Join(filepath.Dir(s.path), filepath.Base(path)))
	}
	for _, p := range tries {
		data, ok := readRegular(p)
		if ok {
			return p, data, nil
		}
	}
	return "", nil, usagef("merge: trace file %s not found (nor beside the summaries)", path)
}

func bugOf(name string) (mtable.Bug, error) {
	if name == "none" {
		return mtable.NoBug, nil
	}
	num, _, _ := strings.Cut(name, ":")
	b, err := mtable.ParseBug(num)
	if err != nil {
		return 0, usagef("merge: bug %q: %v", name, err)
	}
	return b, nil
}

// configOf rebuilds the command line of the run the summary is of, for
// its banner.
func configOf(m summaryJSON) (*config, error) {
	b, err := bugOf(m.Bug)
	if err != nil {
		return nil, err
	}
	c := &config{iterations: m.Planned, seed: m.Seed, bug: b, strategy: m.Strategy, depth: m.Depth, maxSteps: m.MaxSteps,
		keepGoing: m.KeepGoing, shrink: m.ShrinkRuns > 0, shrinkRuns: m.ShrinkRuns, parallel: 1, set: map[string]bool{}}
	if m.ShrinkTime != "" {
		if c.shrinkTime, err = time.ParseDuration(m.ShrinkTime); err != nil {
			return nil, usagef("merge: shrinkTime %q: %v", m.ShrinkTime, err)
		}
	}
	// The world's flags (-leases, -faults); a summary written before it
	// recorded its world ran the defaults.
	c.leases, c.faults = true, harness.DefaultFaults
	if v, ok := m.World["leases"]; ok {
		if c.leases, err = strconv.ParseBool(v); err != nil {
			return nil, usagef("merge: world leases=%q: %v", v, err)
		}
	}
	if v, ok := m.World["faults"]; ok {
		if c.faults, err = strconv.Atoi(v); err != nil {
			return nil, usagef("merge: world faults=%q: %v", v, err)
		}
	}
	return c, nil
}

// writeMergedReport prints the first failure's report by replaying its
// trace files.
func writeMergedReport(w io.Writer, m summaryJSON) error {
	replay := func(path string) (*harness.Iteration, harness.Options, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, harness.Options{}, usagef("merge: %s: %v", path, unwrapPathError(err))
		}
		tr, it, err := replayFile(data)
		if err != nil {
			return nil, harness.Options{}, usagef("merge: %s: %v", path, err)
		}
		opts, _ := harness.OptionsFromTrace(tr)
		it.Index = *m.FirstFailure
		return it, opts, nil
	}
	orig, _, err := replay(m.TraceFile)
	if err != nil {
		return err
	}
	if m.ShrunkTraceFile == "" || m.Shrink == nil {
		harness.WriteReport(w, orig, "go run ./cmd/mtabletest -replay "+m.TraceFile)
		return nil
	}
	shrunk, opts, err := replay(m.ShrunkTraceFile)
	if err != nil {
		return err
	}
	shrunk.ShrunkFrom = orig
	sr := &harness.ShrinkResult{Original: orig, Shrunk: shrunk, Options: opts, Signature: harness.SignatureOf(shrunk),
		Runs: m.Shrink.Runs, Stopped: m.Shrink.Stopped, Extended: m.Shrink.Extended, Elapsed: time.Duration(m.Shrink.Seconds * float64(time.Second))}
	harness.WriteShrunkReport(w, sr, fmt.Sprintf("go run ./cmd/mtabletest -replay %s    # the shrunk run\n"+
		"go run ./cmd/mtabletest -replay %s    # the run as found", m.ShrunkTraceFile, m.TraceFile))
	return nil
}

// saveTraceText writes a trace's text as dir/name.trace without ever
// writing over anything, as saveTrace does.
func saveTraceText(dir, name string, text []byte) (string, error) {
	for n := 1; n <= maxNameTries; n++ {
		file := name + ".trace"
		if n > 1 {
			file = fmt.Sprintf("%s-%d.trace", name, n)
		}
		path := filepath.Join(dir, file)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			if old, ok := readRegular(path); ok && bytes.Equal(withoutComments(old), withoutComments(text)) {
				return path, nil
			}
			continue
		}
		if err != nil {
			return "", fmt.Errorf("-out %s: %v", dir, unwrapPathError(err))
		}
		_, werr := f.Write(text)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(path)
			return "", fmt.Errorf("-out %s: writing %s: %v", dir, file, werr)
		}
		return path, nil
	}
	return "", fmt.Errorf("-out %s: %s.trace and %d numbered variants all exist with other content", dir, name, maxNameTries-1)
}
