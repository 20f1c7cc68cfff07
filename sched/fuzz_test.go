package sched_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/sched"
)

// FuzzParse: Parse never panics, and whatever it accepts writes back to
// a file that parses to the same trace.
func FuzzParse(f *testing.F) {
	f.Add("sched-trace 1\nstrategy random\nseed 5\nparam a=b\nparam q=\"x y\"\n# c\ns 0\nc 1/2\nend 2\n")
	f.Add("sched-trace 1\nstrategy pct\ndepth 3\nend 0\n")
	f.Add("sched-trace 1\nstrategy dfs\ns 0\n")
	f.Add("sched-trace 2\nstrategy pos\nstart 2026-01-01T00:00:00Z\nmax-time-step 1s\nmax-clock-skew 10ms\nfaults 2\nmax-stall 3s\nno-crash true\no 1 -5ms\ns 0\nt 1.5s\nf stall 1 2s\nf crash 1\nf restart 1\nc 0/2\nend 7\n")
	f.Add("sched-trace 3\nstrategy random\nmachine 0 root main\nmachine 1 root \"\"\nmachine 2 \"a b\" \"x\\ty\"\ns 0\nend 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		tr, err := sched.Parse(strings.NewReader(text))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := tr.Write(&b); err != nil {
			t.Fatalf("Write of a parsed trace: %v", err)
		}
		again, err := sched.Parse(&b)
		if err != nil {
			t.Fatalf("Parse of a written trace: %v\n%s", err, b.String())
		}
		if again.Version != sched.TraceVersion {
			t.Fatalf("Write wrote version %d, want %d", again.Version, sched.TraceVersion)
		}
		again.Version = tr.Version // Write always writes the current version
		if !reflect.DeepEqual(again, tr) {
			t.Fatalf("round trip:\ngot  %+v\nwant %+v", again, tr)
		}
	})
}
