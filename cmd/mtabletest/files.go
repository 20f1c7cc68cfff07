package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// traceName is the file name of iteration i's trace under bug b, without
// the ".trace" extension: "bug-7-EnsurePartitionSwitchedFromPopulated-it42"
// or "nobug-it42".
func traceName(b mtable.Bug, i int) string {
	return fmt.Sprintf("%s-it%d", bugStem(b), i)
}

// bugStem is "bug-7-EnsurePartitionSwitchedFromPopulated", or "nobug".
func bugStem(b mtable.Bug) string {
	if b == mtable.NoBug {
		return "nobug"
	}
	return fmt.Sprintf("bug-%d-%s", int(b), b)
}

// traceText is the file content of it's trace, with the failure as
// comment lines.
func traceText(it *harness.Iteration) ([]byte, error) {
	tr := *it.Sched.Trace
	tr.Comment = failureComment(it)
	var b bytes.Buffer
	if err := tr.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// maxNameTries bounds the search for a free trace file name.
const maxNameTries = 1000

// saveTrace writes it's trace as dir/name.trace without ever overwriting
// a file: if that file holds the same trace (comments aside) it is
// reused, otherwise the
// first free name of name-2.trace, name-3.trace, ... is taken. It
// returns the path written (or reused).
func saveTrace(dir, name string, it *harness.Iteration) (string, error) {
	text, err := traceText(it)
	if err != nil {
		return "", fmt.Errorf("writing the trace of iteration %d: %v", it.Index, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("-out %s: %v", dir, err)
	}
	for n := 1; n <= maxNameTries; n++ {
		file := name + ".trace"
		if n > 1 {
			file = fmt.Sprintf("%s-%d.trace", name, n)
		}
		path := filepath.Join(dir, file)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			old, rerr := os.ReadFile(path)
			if rerr == nil && bytes.Equal(withoutComments(old), withoutComments(text)) {
				return path, nil
			}
			continue
		}
		if err != nil {
			return "", fmt.Errorf("writing trace: %v", err)
		}
		_, werr := f.Write(text)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", fmt.Errorf("writing trace %s: %v", path, werr)
		}
		return path, nil
	}
	return "", fmt.Errorf("writing trace: %s/%s.trace and %d numbered variants all exist with other content", dir, name, maxNameTries-1)
}

// withoutComments drops the "#" lines of a trace file's text: two files
// that differ only there record the same run.
func withoutComments(text []byte) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(text, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte("#")) {
			out = append(out, l...)
		}
	}
	return out
}

// writeFileReplacing writes data to path through a temporary file in the
// same directory, so a reader never sees half a file.
func writeFileReplacing(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Chmod(0o644) // CreateTemp makes it 0600
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}

// readTrace reads and parses a trace file; its errors name the file.
func readTrace(path string) (*sched.Trace, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("-replay %s: %v", path, unwrapPathError(err))
	}
	tr, err := sched.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, usagef("-replay %s: not a usable trace file: %v", path, err)
	}
	return tr, nil
}

// unwrapPathError drops the path from an *fs.PathError (the message
// names the file already).
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot %s: %v", pe.Op, pe.Err)
	}
	return err
}
