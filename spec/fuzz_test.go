package spec_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/migratingtable/migratingtable/spec"
)

// FuzzParseFilter checks, for any input, that ParseFilter does not
// panic; that an error is a *FilterError whose Offset lies within the
// input; and that an accepted filter prints to a string that parses to
// an equal filter which prints identically (printing is a fixed point),
// and can be evaluated. Run it with
//
//	go test -fuzz=FuzzParseFilter ./spec
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"",
		"PartitionKey eq 'p'",
		"(PartitionKey eq 'p') and (RowKey ge 'r''s')",
		"a eq 1 or b lt 2L and not c ne -1.5e3",
		"x eq datetime'2020-01-02T03:04:05.123Z' and y eq guid'01234567-89ab-cdef-0123-456789abcdef'",
		"z eq X'0aFF' or z eq binary''",
		"d eq NaN or d eq INF or d eq -INF or d gt 1e+21",
		"Timestamp lt datetime'2001-02-03T04:05:06+01:00'",
		"not not (t eq true) and f ne false",
		"a eq 3000000000",
		"a eq 'unterminated",
		"((a eq 1)",
		"a eq 1)",
		"eq eq eq",
		"a eq 1.",
		"a eq -",
		"a eq datetime'9999-12-31T23:59:59Z'",
		"a eq guid'xyz'",
		"\xff eq 1",
		"é eq 'ü'",
		strings.Repeat("(", 300),
		strings.Repeat("not ", 120) + "a eq 1",
	} {
		f.Add(s)
	}
	e := spec.Entity{
		Key:       spec.Key{PartitionKey: "p", RowKey: "r"},
		Timestamp: time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
		Props: spec.Props{
			"a": spec.Int32(1), "b": spec.Int64(2), "c": spec.Double(math.NaN()),
			"t": spec.Bool(true), "z": spec.Binary([]byte{10}), "x": spec.String("s"),
		},
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := spec.ParseFilter(s)
		if err != nil {
			var fe *spec.FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFilter(%q): got error %v (%T), want a *spec.FilterError", s, err, err)
			}
			if fe.Offset < 0 || fe.Offset > len(s) {
				t.Fatalf("ParseFilter(%q): got offset %d, want within [0, %d]", s, fe.Offset, len(s))
			}
			return
		}
		printed := spec.FilterString(flt)
		again, err := spec.ParseFilter(printed)
		if err != nil {
			t.Fatalf("ParseFilter(%q) printed %q, which does not parse: %v", s, printed, err)
		}
		if diff := cmp.Diff(flt, again, valueComparer); diff != "" {
			t.Fatalf("ParseFilter(%q): reparsing %q (-first +second):\n%s", s, printed, diff)
		}
		if got := spec.FilterString(again); got != printed {
			t.Fatalf("ParseFilter(%q): printing is not a fixed point: got %q, want %q", s, got, printed)
		}
		_ = spec.Matches(flt, e)
		_, _ = spec.SinglePartition(flt)
	})
}
