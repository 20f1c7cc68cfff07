package sched

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// callerLine returns "file.go:12" for the innermost frame of the calling
// stack outside this package, or "".
func callerLine() string {
	var pcs [16]uintptr
	n := runtime.Callers(2, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
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

// resName returns the Name of a primitive (a resource's key), or "".
func resName(key any) string {
	if n, ok := key.(interface{ resName() string }); ok {
		return n.resName()
	}
	return ""
}

// resource names what a machine waits on, for reports: the primitive's
// Name, and the primitive itself (key) to tell unnamed ones apart.
type resource struct {
	name string
	key  any
}

// label is `"name"` for a named resource, else the label given to its key
// in labels ("(file.go:12)"), or "".
func (r resource) label(labels map[any]string) string {
	if r.name != "" {
		return strconv.Quote(r.name)
	}
	return labels[r.key]
}

// labelOr is the label of a misused resource: `"name"`, else the line of
// the misusing call, "(file.go:12)".
func (r resource) labelOr() string {
	if r.name != "" {
		return strconv.Quote(r.name)
	}
	if l := callerLine(); l != "" {
		return "(" + l + ")"
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
