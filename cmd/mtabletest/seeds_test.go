package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
)

// seedDir is the seed corpus, relative to this package.
const seedDir = "../../testdata/seeds"

// seedTrace is a failing trace of the corpus: its replay exits 1.
const seedTrace = seedDir + "/bug-7-EnsurePartitionSwitchedFromPopulated.trace"

var reSeedName = regexp.MustCompile(`^bug-(\d+)-([A-Za-z0-9]+)\.trace$`)

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// regenerate is the command that rewrites bug n's seed file on purpose.
func regenerate(n int) string {
	return fmt.Sprintf("go run ./cmd/mtabletest -seeds testdata/seeds -bug %d (see testdata/seeds/README.md)", n)
}

// TestSeedCorpus replays every trace in testdata/seeds and checks it
// still fails, decision for decision, with the recorded failure kind
// under its bug switch.
func TestSeedCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(seedDir, "*.trace"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no seed files in testdata/seeds: generate them with go run ./cmd/mtabletest -seeds testdata/seeds")
	}
	have := map[mtable.Bug]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		m := reSeedName.FindStringSubmatch(name)
		if m == nil {
			t.Errorf("%s: seed files are named bug-N-Name.trace", name)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		bug, err := mtable.ParseBug(m[1])
		if err != nil || bug.String() != m[2] {
			t.Errorf("%s: the name does not match a bug of the catalogue (bug %d is %v)", name, n, bug)
			continue
		}
		have[bug] = true
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tr, it, err := replayFile(data)
			if err != nil {
				t.Fatalf("replaying %s: %v\n"+
					"If the trace format or the workload's parameters changed on purpose, regenerate the file deliberately: %s", name, err, regenerate(n))
			}
			if got, want := tr.Params[0], (sched.Param{Key: "bug", Value: bugName(bug)}); got != want {
				t.Fatalf("bug parameter: got %v, want %v (the file name's bug)", got, want)
			}
			want, ok := recordedKind(tr)
			if !ok {
				t.Fatalf("%s records no failure kind (a \"# mtabletest failure kind: K\" line): regenerate it: %s", name, regenerate(n))
			}
			f := it.Failure
			if f != nil && f.Sched != nil && f.Sched.Kind == sched.Divergence {
				t.Fatalf("the schedule diverged: %s\n"+
					"The program no longer makes the decisions recorded in %s, so it no longer\n"+
					"reproduces the %s failure. If the change that caused this was intended,\n"+
					"regenerate the file deliberately and commit it: %s", f.Sched.Error(), name, want, regenerate(n))
			}
			if f == nil {
				t.Fatalf("%s no longer fails under bug %d %s (recorded: %s).\n"+
					"If the harness or library changed on purpose, regenerate the file deliberately: %s", name, n, bug, want, regenerate(n))
			}
			if f.Kind != want {
				t.Errorf("failure kind: got %s, want %s (recorded); failure: %s", f.Kind, want, f.Text)
			}
			if got, want := it.Sched.Trace.Decisions, tr.Decisions; !reflect.DeepEqual(got, want) {
				t.Errorf("the replay made %d decisions, the file holds %d (or they differ): not a step-for-step reproduction", len(got), len(want))
			}
		})
	}
	for _, b := range mtable.Bugs() {
		switch {
		case have[b]:
		case believedBenign[b]:
			t.Logf("no seed file for bug %d %s (believed benign: the harness does not flag it)", int(b), b)
		default:
			t.Errorf("no seed file for bug %d %s: every catchable bug has one; record it: %s", int(b), b, regenerate(int(b)))
		}
	}
}
