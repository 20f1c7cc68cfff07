package goker_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/internal/rewrite"
)

// entryTemplate is the test entry point a user writes by hand to run a
// GoKer original, rewritten by schedrewrite, under sched: the original
// file itself is not edited. It runs the original test function under
// each strategy of the table with the table's Config and budget, and
// logs the first failure of each (one "SCHEDPORT" line per strategy).
var entryTemplate = template.Must(template.New("entry").Parse(`//go:build sched

package {{.Pkg}}

import (
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// TestSchedPort runs {{.Test}} under each of sched's strategies.
func TestSchedPort(t *testing.T) {
	for _, strategy := range []string{"random", "pct", "pos", "dfs"} {
		cfg := sched.Config{Strategy: strategy, Seed: {{.Seed}}, ExpectedSteps: {{.Expected}}, MaxSteps: 500, MaxTimeStep: {{.TimeStep}}, NoEvents: true}
		if strategy == "dfs" {
			cfg.Depth = {{.Depth}}
		}
		ex, err := sched.NewExplorer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for i := 0; i < {{.Budget}} && found == 0; i++ {
			res, err := ex.Next(func() { {{.Test}}(t) })
			if err != nil {
				break // dfs has run every schedule
			}
			if f := res.Failure; f != nil && !({{.Spins}} && strategy == "dfs" && f.Kind == sched.StepBound) {
				found = i + 1
				t.Logf("SCHEDPORT %s %d %v: %v", strategy, found, f.Kind, f)
			}
		}
		if found == 0 {
			t.Logf("SCHEDPORT %s 0 -", strategy)
		}
	}
}
`))

// portResult is how the rewritten original of one kernel did.
type portResult struct {
	refused string   // the rewriter's diagnostics, if it refused
	hand    int      // code lines of the hand-written entry point
	cells   []string // per strategy: "#N" found on schedule N (of a wanted kind), "-" not found, "#N kind" another kind
}

// portRecorded is what TestRewrittenOriginals found per kernel, in the
// order of strategies, with the budget of go test without -short (1000
// schedules): the schedule on which each strategy first failed with one
// of the kernel's kinds, or "-". The rewritten originals fail first on
// the same schedule as the hand ports, except where a port marks a
// shared variable sched.Racy (etcd#3077, istio#8967, kubernetes#80284:
// the rewriter marks none, so the race check does not see those races;
// the first two still show as a deadlock and a leak).
var portRecorded = map[string]string{
	"cockroach#13755":  "#1 #1 #1 #1",
	"cockroach#18101":  "#1 #1 #1 #1",
	"cockroach#584":    "#1 #1 #1 #1",
	"cockroach#6181":   "#4 #5 #7 #12",
	"etcd#10492":       "#1 #1 #1 #1",
	"etcd#6857":        "#2 #1 #6 #7",
	"grpc#660":         "#1 #1 #1 #1",
	"kubernetes#10182": "#2 #1 #2 #1",
	"kubernetes#25331": "#1 #1 #1 #1",
	"kubernetes#5316":  "#1 #1 #1 #1",
	"kubernetes#62464": "#7 #9 #1 #24",
	"moby#17176":       "#1 #1 #1 #1",
	"moby#25384":       "#1 #1 #1 #1",
	"moby#30408":       "#1 #1 #1 #1",
	"moby#33781":       "#1 #2 #4 #1",
	"moby#4395":        "#1 #1 #1 #1",
	"moby#4951":        "#1 #1 #1 #1",
	"syncthing#5795":   "#1 #1 #1 #2",
	"etcd#3077":        "#13 #8 #30 -",
	"grpc#1687":        "#1 #1 #1 #1",
	"istio#8967":       "#2 #5 #6 #1",
	"serving#5865":     "#1 #1 #1 #1",
	"kubernetes#80284": "- - - -",
}

// TestRewrittenOriginals applies the rewriter to the GoKer originals of
// the kernels of the table, unedited, in a module of their own that
// requires this one (as a user's module would), adds to each only a
// hand-written test entry point, and runs it under every strategy with
// the table's configuration and budget. It reports, per kernel, the
// lines written by hand and on which schedule each strategy found the
// bug, beside what it found on the port, and checks the figures recorded
// in portRecorded. The originals are not part of this repository: set
// GOKER_SRC to the gobench/goker directory of a GoBench checkout.
func TestRewrittenOriginals(t *testing.T) {
	src := os.Getenv("GOKER_SRC")
	if src == "" {
		t.Skip("GOKER_SRC is not set: the originals are not rewritten")
	}
	n := budget()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	gomod := fmt.Sprintf("module gokerport\n\ngo 1.26\n\nrequire github.com/migratingtable/migratingtable v0.0.0\n\nreplace github.com/migratingtable/migratingtable => %s\n", root)
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	results := make([]portResult, len(kernels))
	var pkgs []string
	for ki := range kernels {
		k := &kernels[ki]
		orig, err := os.ReadFile(filepath.Join(src, k.path))
		if err != nil {
			t.Fatal(err)
		}
		pkg := strings.TrimSuffix(filepath.Base(k.path), "_test.go")
		dir := filepath.Join(mod, pkg)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(k.path)), orig, 0o644); err != nil {
			t.Fatal(err)
		}
		test := regexp.MustCompile(`func (Test\w+)\(t \*testing\.T\)`).FindSubmatch(orig)
		if test == nil {
			t.Fatalf("%s: no test function", k.path)
		}
		clause := regexp.MustCompile(`(?m)^package (\w+)`).FindSubmatch(orig)
		if clause == nil {
			t.Fatalf("%s: no package clause", k.path)
		}
		cfg := k.config("dfs")
		var entry bytes.Buffer
		err = entryTemplate.Execute(&entry, map[string]any{
			"Pkg": string(clause[1]), "Test": string(test[1]), "Seed": cfg.Seed, "Expected": cfg.ExpectedSteps,
			"TimeStep": int64(cfg.MaxTimeStep), "Depth": cfg.Depth, "Budget": n, "Spins": k.spins,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "sched_test.go"), entry.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _ := codeLines(entry.String())
		results[ki].hand = len(code)
		pkgs = append(pkgs, "./"+pkg)
	}

	// The module's requirements, as go mod tidy writes them for a user
	// (from the module cache: nothing is downloaded).
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = mod
	tidy.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}

	// Rewrite the packages together, and each on its own if some are
	// refused, so that one refused kernel does not hide the others.
	replace := map[string]string{}
	out := t.TempDir()
	var run []string
	load := func(ps []string) error {
		res, err := rewrite.Load(rewrite.Config{Dir: mod}, ps...)
		if err != nil {
			return err
		}
		for orig, b := range res.Files {
			dst := filepath.Join(out, filepath.Base(filepath.Dir(orig))+"_"+filepath.Base(orig))
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				t.Fatal(err)
			}
			replace[orig] = dst
		}
		run = append(run, ps...)
		return nil
	}
	var diags rewrite.Diagnostics
	if err := load(pkgs); errors.As(err, &diags) {
		for ki, p := range pkgs {
			err := load([]string{p})
			switch {
			case errors.As(err, &diags):
				for _, d := range diags {
					results[ki].refused += fmt.Sprintf("%s:%d: %s; ", filepath.Base(d.Pos.Filename), d.Pos.Line, d.Msg)
				}
			case err != nil:
				t.Fatalf("%s: %v", p, err)
			}
		}
	} else if err != nil {
		t.Fatal(err)
	}
	var ov strings.Builder
	ov.WriteString("{\"Replace\": {")
	var origs []string
	for o := range replace {
		origs = append(origs, o)
	}
	slices.Sort(origs)
	for i, o := range origs {
		if i > 0 {
			ov.WriteString(",")
		}
		fmt.Fprintf(&ov, "\n%q: %q", o, replace[o])
	}
	ov.WriteString("}}\n")
	overlay := filepath.Join(out, "overlay.json")
	if err := os.WriteFile(overlay, []byte(ov.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", append([]string{"test", "-count=1", "-v", "-tags=sched", "-overlay=" + overlay, "-run=TestSchedPort"}, run...)...)
	cmd.Dir = mod
	logs, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test of the rewritten originals: %v\n%s", err, logs)
	}
	// Each package's output follows its "=== RUN TestSchedPort" and ends
	// with its "ok" line.
	lineRE := regexp.MustCompile(`SCHEDPORT (\w+) (\d+) ([\w-]+)`)
	okRE := regexp.MustCompile(`^ok\s+gokerport/(\w+)\s`)
	var cur []string
	for _, l := range strings.Split(string(logs), "\n") {
		if m := lineRE.FindStringSubmatch(l); m != nil {
			cur = append(cur, m[1]+" "+m[2]+" "+m[3])
			continue
		}
		m := okRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		ki := slices.IndexFunc(pkgs, func(p string) bool { return p == "./"+m[1] })
		if ki < 0 || len(cur) != len(strategies) {
			t.Fatalf("%s: got %d result lines, want %d:\n%s", m[1], len(cur), len(strategies), logs)
		}
		k := &kernels[ki]
		for si, c := range cur {
			f := strings.Fields(c)
			if f[0] != strategies[si] {
				t.Fatalf("%s: result %d is for %s, want %s", k.name, si, f[0], strategies[si])
			}
			cell := "-"
			if f[1] != "0" {
				cell = "#" + f[1]
				if !slices.ContainsFunc(k.want, func(w sched.Kind) bool { return w.String() == f[2] }) {
					cell += " " + f[2]
				}
			}
			results[ki].cells = append(results[ki].cells, cell)
		}
		cur = nil
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%-17s %4s  %-26s  %-26s %s\n", "kernel", "hand", "rewritten original", "port (TestKernels)", "same")
	fmt.Fprintf(&b, "%-17s %4s  %-6s %-6s %-6s %-6s  %-6s %-6s %-6s %-6s\n", "", "", "random", "pct", "pos", "dfs", "random", "pct", "pos", "dfs")
	same, found := 0, make([]int, len(strategies))
	for ki := range kernels {
		k, r := &kernels[ki], &results[ki]
		if r.refused != "" {
			fmt.Fprintf(&b, "%-17s %4d  refused: %s\n", k.name, r.hand, r.refused)
			continue
		}
		var port []string
		agree := true
		for si, s := range strategies {
			o := explore(k, s, n)
			port = append(port, strings.Replace(o.cell(), fmt.Sprintf("/b%d", o.bound), "", 1))
			c := r.cells[si]
			if (c == "-") != (o.found == 0) || strings.Contains(c, " ") {
				agree = false
			}
			if c != "-" && !strings.Contains(c, " ") {
				found[si]++
			}
		}
		if agree {
			same++
		}
		fmt.Fprintf(&b, "%-17s %4d  %-6s %-6s %-6s %-6s  %-6s %-6s %-6s %-6s %v\n", k.name, r.hand,
			r.cells[0], r.cells[1], r.cells[2], r.cells[3], port[0], port[1], port[2], port[3], agree)
		got := strings.Join(r.cells, " ")
		if want, ok := portRecorded[k.name]; ok && n == 1000 && got != want {
			t.Errorf("%s: got %q, recorded %q", k.name, got, want)
		}
	}
	fmt.Fprintf(&b, "%-17s %4s  %-6s %-6s %-6s %-6s  same as the port: %d/%d\n", "found", "",
		fmt.Sprint(found[0]), fmt.Sprint(found[1]), fmt.Sprint(found[2]), fmt.Sprint(found[3]), same, len(kernels))
	t.Logf("GoKer originals rewritten by sched/internal/rewrite, unedited, with a hand-written entry point: budget %d schedules per strategy, seed %d\n\n%s", n, seed, b.String())
}
