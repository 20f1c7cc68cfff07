package goker_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// lines are the lines a port changed in its original, by category.
//
// The count compares code lines only: both files are read from their
// package clause on (so the original's header comment and the port's
// citation are left out), blank lines and comment-only lines are
// dropped, and whitespace is collapsed (gofmt realigns struct fields
// when a type name changes length, which is not a change). The lines of
// the port that are not in a longest common subsequence of the two are
// its changed lines (git diff --numstat -w would call them added; a
// line edited in place counts once); the original's lines not in it
// are removed. Both numbers are the same for every longest common
// subsequence. Each changed line is put in the first category below
// that fits it, looking also at the original line in the same position
// of its hunk (a changed line without one takes the category of the
// line before it in the hunk):
type lines struct {
	total, removed int
	// imports: lines of the import declaration.
	imports int
	// goStmt: a go statement and the line closing its function literal
	// ("}()" becomes "})").
	goStmt int
	// entry: the test function's signature.
	entry int
	// qualifier: the line differs only in a package qualifier (sync.X,
	// time.X or context.X became sched.X). The drop-in packages
	// sched/sync, sched/time, sched/context and sched/atomic keep the
	// standard qualifiers, so a port that imports them has none.
	qualifier int
	// channel: channel operations, types and makes, select and its
	// cases.
	channel int
	// other: anything else (math/rand, data-race marks, printing).
	other int

	// fix is the size of the fix: the lines the fixed variant changes
	// in the buggy port or removes from it, whichever is more, counted
	// the same way, its package clause left out.
	fix int
}

func (l lines) String() string {
	return fmt.Sprintf("%d (imports %d, go %d, entry %d, qualifier %d, channel %d, other %d; removed %d)",
		l.total, l.imports, l.goStmt, l.entry, l.qualifier, l.channel, l.other, l.removed)
}

// codeLines returns the normalised code lines of a Go source file, from
// the package clause on, and for each whether it is in the import
// declaration.
func codeLines(src string) (code []string, inImport []bool) {
	all := strings.Split(src, "\n")
	started, inBlock, imp := false, false, false
	for _, l := range all {
		l = strings.Join(strings.Fields(l), " ")
		if !started {
			if !strings.HasPrefix(l, "package ") {
				continue
			}
			started = true
		}
		if inBlock {
			if i := strings.Index(l, "*/"); i >= 0 {
				inBlock = false
				l = strings.TrimSpace(l[i+2:])
			} else {
				continue
			}
		}
		if strings.HasPrefix(l, "/*") && !strings.Contains(l, "*/") {
			inBlock = true
			continue
		}
		if l == "" || strings.HasPrefix(l, "//") {
			continue
		}
		switch {
		case strings.HasPrefix(l, "import ("):
			imp = true
			code, inImport = append(code, l), append(inImport, true)
			continue
		case strings.HasPrefix(l, "import "):
			code, inImport = append(code, l), append(inImport, true)
			continue
		case imp && l == ")":
			imp = false
			code, inImport = append(code, l), append(inImport, true)
			continue
		}
		code, inImport = append(code, l), append(inImport, imp)
	}
	return code, inImport
}

var (
	goStmtRE   = regexp.MustCompile(`^go |^}\(.*\)$|^}\(.*\) //`)
	schedGoRE  = regexp.MustCompile(`sched\.Go(Named)?\(`)
	entryRE    = regexp.MustCompile(`^func [A-Z][a-z]+[0-9]+\(\) {$`)
	qualRE     = regexp.MustCompile(`\b(sync|time|context|sched)\.`)
	channelRE  = regexp.MustCompile(`<-|\bchan\b|\bselect\b|\bclose\(`)
	channelPRE = regexp.MustCompile(`\.(Send|Recv|RecvOK|All|Close|RecvCase|SendCase)\(|sched\.(NewChan|Chan|Select|DoneCase)\b|^case \d+:`)
)

// category names the category of a changed line pair (either may be
// "" when the hunk is uneven).
func category(orig, port string, origImport, portImport bool) string {
	switch {
	case origImport || portImport:
		return "imports"
	case goStmtRE.MatchString(orig) || schedGoRE.MatchString(port):
		return "go"
	case strings.HasPrefix(orig, "func Test") || entryRE.MatchString(port):
		return "entry"
	case orig != "" && port != "" && qualRE.ReplaceAllString(orig, "Q.") == qualRE.ReplaceAllString(port, "Q."):
		return "qualifier"
	case channelRE.MatchString(orig) || channelPRE.MatchString(port):
		return "channel"
	}
	return "other"
}

// debugLines prints every changed line pair with its category.
var debugLines = os.Getenv("GOKER_DEBUG") != ""

// countChanged diffs port against orig as the lines type describes.
func countChanged(orig, port string) lines {
	a, ai := codeLines(orig)
	b, bi := codeLines(port)
	// lcs[i][j] is the length of the longest common subsequence of
	// a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var l lines
	var del, ins []int // the current hunk's lines of a and of b
	flush := func() {
		prev := ""
		for k := range max(len(del), len(ins)) {
			var o, p string
			var oi, pi bool
			if k < len(del) {
				o, oi = a[del[k]], ai[del[k]]
			}
			if k >= len(ins) {
				l.removed++
				continue
			}
			if k < len(del) {
				l.removed++
			}
			p, pi = b[ins[k]], bi[ins[k]]
			l.total++
			cat := category(o, p, oi, pi)
			if cat == "other" && prev != "" && o == "" {
				cat = prev // the rest of an uneven hunk
			}
			prev = cat
			if debugLines {
				fmt.Printf("%-9s - %s\n%-9s + %s\n", cat, o, "", p)
			}
			switch cat {
			case "imports":
				l.imports++
			case "go":
				l.goStmt++
			case "entry":
				l.entry++
			case "qualifier":
				l.qualifier++
			case "channel":
				l.channel++
			default:
				l.other++
			}
		}
		del, ins = del[:0], ins[:0]
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			flush()
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			ins = append(ins, j)
			j++
		default:
			del = append(del, i)
			i++
		}
	}
	flush()
	return l
}

// TestLinesChanged recounts the lines each port changed against the
// originals and checks the figures recorded in the table. The originals
// are not part of this repository: set GOKER_SRC to the gobench/goker
// directory of a GoBench checkout to run it.
func TestLinesChanged(t *testing.T) {
	src := os.Getenv("GOKER_SRC")
	if src == "" {
		t.Skip("GOKER_SRC is not set: the recorded figures are not rechecked")
	}
	var total lines
	for _, k := range kernels {
		orig, err := os.ReadFile(filepath.Join(src, k.path))
		if err != nil {
			t.Fatal(err)
		}
		pkg := strings.TrimSuffix(filepath.Base(k.path), "_test.go")
		port, err := os.ReadFile(filepath.Join(pkg, pkg+".go"))
		if err != nil {
			t.Fatal(err)
		}
		fix, err := os.ReadFile(filepath.Join(pkg, "fix", pkg+".go"))
		if err != nil {
			t.Fatal(err)
		}
		got := countChanged(string(orig), string(port))
		fixed := countChanged(string(port), string(fix))
		got.fix = max(fixed.total, fixed.removed) - 1 // the package clause
		if got != k.changed {
			t.Errorf("%s: got %+v, recorded %+v", k.name, got, k.changed)
		}
		t.Logf("%-18s %v; fix %d", k.name, got, got.fix)
		total.total += got.total
		total.removed += got.removed
		total.imports += got.imports
		total.goStmt += got.goStmt
		total.entry += got.entry
		total.qualifier += got.qualifier
		total.channel += got.channel
		total.other += got.other
		total.fix += got.fix
	}
	t.Logf("%-18s %v; fix %d", "all", total, total.fix)
}
