package sched

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// site records where a primitive was first used in a run: a few return
// addresses, captured cheaply and symbolized only for a report.
type site [4]uintptr

// capture records the callers of the primitive's method (called from a
// bind method: skips runtime.Callers, capture and bind).
func (p *site) capture() {
	*p = site{}
	runtime.Callers(3, p[:])
}

// String returns "file.go:12" for the first frame outside this package,
// or "".
func (p *site) String() string {
	n := 0
	for n < len(p) && p[n] != 0 {
		n++
	}
	if n == 0 {
		return ""
	}
	frames := runtime.CallersFrames(p[:n])
	for {
		f, more := frames.Next()
		if f.Function != "" && !isSchedFrame(f.Function) {
			return filepath.Base(f.File) + ":" + strconv.Itoa(f.Line)
		}
		if !more {
			return ""
		}
	}
}

const schedPkg = "github.com/migratingtable/migratingtable/sched."

func isSchedFrame(fn string) bool {
	return strings.HasPrefix(fn, schedPkg) || strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "reflect.")
}

// resource names what a machine waits on, for reports.
type resource struct {
	name string
	site *site
}

// label is `"name"` for a named resource, "(file.go:12)" for one named by
// where it was first used, or "".
func (r resource) label() string {
	if r.name != "" {
		return strconv.Quote(r.name)
	}
	if r.site != nil {
		if l := r.site.String(); l != "" {
			return "(" + l + ")"
		}
	}
	return ""
}

// labelOr is label, or "(unnamed)".
func (r resource) labelOr() string {
	if l := r.label(); l != "" {
		return l
	}
	return "(unnamed)"
}

// ownStack returns the calling goroutine's stack, trimmed to user frames.
func ownStack() string {
	buf := make([]byte, 16<<10)
	buf = buf[:runtime.Stack(buf, false)]
	if _, body, ok := bytes.Cut(buf, []byte("\n")); ok {
		return trimStack(string(body))
	}
	return ""
}

// machineStacks returns the stacks of the given machines' goroutines,
// trimmed to user frames (one runtime.Stack of every goroutine).
func machineStacks(ms []*machine) []string {
	out := make([]string, len(ms))
	if len(ms) == 0 {
		return out
	}
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	byGoid := map[int64]string{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, body, _ := strings.Cut(g, "\n")
		rest, ok := strings.CutPrefix(header, "goroutine ")
		if !ok {
			continue
		}
		id, _, _ := strings.Cut(rest, " ")
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			continue
		}
		byGoid[n] = body
	}
	for i, m := range ms {
		if body, ok := byGoid[m.gid]; ok {
			out[i] = trimStack(body)
		}
	}
	return out
}

// trimStack keeps the user frames of a goroutine's stack text (pairs of
// a function line and a tab-indented file line), dropping the frames of
// the runtime and of this package and the "created by" trailer, and
// stopping at the machine's entry.
func trimStack(body string) string {
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	var b strings.Builder
	for i := 0; i+1 < len(lines); i += 2 {
		fn, file := lines[i], strings.TrimSpace(lines[i+1])
		if strings.HasPrefix(fn, "created by ") {
			break
		}
		if strings.HasPrefix(fn, schedPkg+"(*scheduler).start") {
			break
		}
		if isSchedFrame(fn) {
			continue
		}
		if j := strings.LastIndex(file, " +0x"); j >= 0 {
			file = file[:j]
		}
		if j := strings.LastIndexByte(fn, '('); j > 0 {
			fn = fn[:j]
		}
		b.WriteString(fn)
		b.WriteString("\n\t")
		b.WriteString(file)
		b.WriteString("\n")
	}
	return b.String()
}

// topUserFrame returns "(file.go:12)" for the first frame of a trimmed
// stack, or "".
func topUserFrame(stack string) string {
	_, rest, ok := strings.Cut(stack, "\n\t")
	if !ok {
		return ""
	}
	file, _, _ := strings.Cut(rest, "\n")
	return "(" + filepath.Base(file) + ")"
}
