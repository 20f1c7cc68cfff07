package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/migratingtable/migratingtable/harness"
	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// fileRules, printed by -h and stated in the package doc, are the rules
// of every file the command writes; checkOutput and createOutput
// implement them, for -html, -history-out and -seeds' files, and
// saveTrace for the trace files in -out.
const fileRules = `Files: -html, -history-out and -seeds' files are created if missing (in a
directory that exists); an existing regular file is refused unless -overwrite
is given (-seeds replaces its own bug-N-Name.trace files), and is then replaced
whole, through a temporary file renamed over it when complete. A character
device or FIFO (/dev/null, a terminal, a named pipe, bash's >(...)) is written
through. A symbolic link is followed only to a character device or FIFO (so
/dev/stdout works on a terminal or a pipe); a link to a file, a directory or
nothing is refused: name the file itself. Directories, block devices and
sockets are refused, and so is an output that names another one or the trace
being replayed. These checks are made before the run starts. Trace files
in -out never replace anything: a regular file of the same name holding the
same trace is reused, anything else is left alone and the next free name
(...-2.trace, ...) is taken.
`

// target is what writing a path does.
type target int

const (
	targetNew     target = iota // nothing there: created
	targetReplace               // a regular file, replaced whole (allowed)
	targetThrough               // a character device or FIFO: written through
)

// writeThrough reports whether m is a character device or a FIFO, which
// a file is written through to.
func writeThrough(m fs.FileMode) bool {
	return m&fs.ModeNamedPipe != 0 || (m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0)
}

// describe names the type of an entry that is not a regular file.
func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a regular file"
}

// checkOutput says what writing path would do under the rules above, or
// why it is refused; it changes nothing. flagName prefixes the errors.
func checkOutput(flagName, path string, overwrite bool) (target, error) {
	bad := func(format string, args ...any) (target, error) {
		return 0, fmt.Errorf("%s %s: %s", flagName, path, fmt.Sprintf(format, args...))
	}
	if path == "" {
		return bad("empty path")
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		di, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return bad("directory %s does not exist", dir)
		case err != nil:
			return bad("%v", unwrapPathError(err))
		case !di.IsDir():
			return bad("%s is not a directory", dir)
		}
		return targetNew, nil
	case err != nil:
		return bad("%v", unwrapPathError(err))
	}
	m := fi.Mode()
	switch {
	case m.IsRegular():
		if !overwrite {
			return bad("file exists (-overwrite replaces it)")
		}
		return targetReplace, nil
	case writeThrough(m):
		return targetThrough, nil
	case m&fs.ModeSymlink != 0:
		ti, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return bad("a symbolic link to nothing: name the file itself")
		case err != nil:
			return bad("%v", unwrapPathError(err))
		case writeThrough(ti.Mode()):
			return targetThrough, nil
		}
		return bad("a symbolic link to %s: name the file itself (only a link to a device or FIFO is followed)", describe(ti.Mode()))
	}
	return bad("%s: refused (only a regular file, a character device or a FIFO is written)", describe(m))
}

// output is a file being written under the rules above: Commit makes it
// final, Abort drops what was written (a new or replacing file; a device
// or FIFO has been written through already).
type output struct {
	flagName, path string
	f              *os.File
	tmp            string      // the temporary file that replaces path
	mode           fs.FileMode // of the file tmp replaces
	created        bool        // path was created by this output
	done           bool
}

// createOutput opens path for writing under the rules above.
func createOutput(flagName, path string, overwrite bool) (*output, error) {
	tg, err := checkOutput(flagName, path, overwrite)
	if err != nil {
		return nil, err
	}
	o := &output{flagName: flagName, path: path}
	fail := func(err error) (*output, error) {
		return nil, fmt.Errorf("%s %s: %v", flagName, path, unwrapPathError(err))
	}
	switch tg {
	case targetNew:
		// O_EXCL: if something appeared since the check, it is not ours.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fail(err)
		}
		o.f, o.created = f, true
	case targetReplace:
		fi, err := os.Lstat(path)
		if err != nil {
			return fail(err)
		}
		f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
		if err != nil {
			return fail(err)
		}
		o.f, o.tmp, o.mode = f, f.Name(), fi.Mode().Perm()
	case targetThrough:
		// No O_CREATE, no O_TRUNC: what is there is written to, as is.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fail(err)
		}
		if fi, err := f.Stat(); err != nil || !writeThrough(fi.Mode()) {
			f.Close()
			return fail(errors.New("changed while it was being opened"))
		}
		o.f = f
	}
	return o, nil
}

func (o *output) Write(p []byte) (int, error) { return o.f.Write(p) }

// Commit closes the file and, when it replaces one, renames it over it.
func (o *output) Commit() error {
	if o.done {
		return nil
	}
	o.done = true
	err := o.f.Close()
	if o.tmp != "" {
		if err == nil {
			err = os.Chmod(o.tmp, o.mode)
		}
		if err == nil {
			err = os.Rename(o.tmp, o.path)
		}
		if err != nil {
			os.Remove(o.tmp)
		}
	} else if err != nil && o.created {
		os.Remove(o.path)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %v", o.flagName, o.path, unwrapPathError(err))
	}
	return nil
}

// Abort closes the file and removes what this output created.
func (o *output) Abort() {
	if o.done {
		return
	}
	o.done = true
	o.f.Close()
	switch {
	case o.tmp != "":
		os.Remove(o.tmp)
	case o.created:
		os.Remove(o.path)
	}
}

// writeOutput writes data to path under the rules above.
func writeOutput(flagName, path string, data []byte, overwrite bool) error {
	o, err := createOutput(flagName, path, overwrite)
	if err != nil {
		return err
	}
	if _, err := o.Write(data); err != nil {
		o.Abort()
		return fmt.Errorf("%s %s: %v", flagName, path, unwrapPathError(err))
	}
	return o.Commit()
}

// checkOutDir checks that dir (-out, -seeds) is a directory, a link to
// one, or missing (then created when first needed, with its parents).
func checkOutDir(flagName, dir string) error {
	if dir == "" {
		return fmt.Errorf("%s: empty path", flagName)
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if li, lerr := os.Lstat(dir); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s %s: a symbolic link to nothing", flagName, dir)
		}
		return nil
	case err != nil:
		return fmt.Errorf("%s %s: %v", flagName, dir, unwrapPathError(err))
	case !fi.IsDir():
		return fmt.Errorf("%s %s: %s, not a directory", flagName, dir, describe(fi.Mode()))
	}
	return nil
}

// sameFile reports whether paths a and b name the same file: the same
// path, or the same existing file.
func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// missingDir reports whether dir does not exist (yet).
func missingDir(dir string) bool {
	_, err := os.Stat(dir)
	return errors.Is(err, fs.ErrNotExist)
}

// makeOutDir creates dir (-out, -seeds) if missing.
func makeOutDir(flagName, dir string) error {
	if err := checkOutDir(flagName, dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s %s: %v", flagName, dir, unwrapPathError(err))
	}
	return nil
}

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

// saveTrace writes it's trace as dir/name.trace without ever writing
// over anything: if that name is a regular file holding the same trace
// (comments aside) it is reused; otherwise (another file, a link, a FIFO,
// anything) the first free name of name-2.trace, name-3.trace, ... is
// taken. It returns the path written (or reused).
func saveTrace(dir, name string, it *harness.Iteration) (string, error) {
	text, err := traceText(it)
	if err != nil {
		return "", fmt.Errorf("writing the trace of iteration %d: %v", it.Index, err)
	}
	if err := makeOutDir("-out", dir); err != nil {
		return "", err
	}
	return saveTraceText(dir, name, text)
}

// maxTraceSize bounds what readRegular reads: a trace of MaxStepsLimit
// decisions is about 10 MB.
const maxTraceSize = 64 << 20

// readRegular returns the content of path if it is a regular file (not
// a link, FIFO or device, which it neither follows nor blocks on).
func readRegular(path string) ([]byte, bool) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNoFollow, 0)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() || fi.Size() > maxTraceSize {
		return nil, false
	}
	data, err := io.ReadAll(f)
	return data, err == nil
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

// readTrace reads and parses a trace file; its errors name the file.
func readTrace(path string) (*sched.Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("-replay %s: %v", path, unwrapPathError(err))
	}
	defer f.Close()
	// Bounded: -replay /dev/zero must not fill the memory.
	data, err := io.ReadAll(io.LimitReader(f, maxTraceSize+1))
	if err != nil {
		return nil, usagef("-replay %s: %v", path, unwrapPathError(err))
	}
	if len(data) > maxTraceSize {
		return nil, usagef("-replay %s: larger than %d MiB: not a trace file", path, maxTraceSize>>20)
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
