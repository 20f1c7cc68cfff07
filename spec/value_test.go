package spec_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/spec"
)

func TestValueLiteral(t *testing.T) {
	g, err := spec.ParseGUID("ABCDEF01-2345-6789-abcd-ef0123456789")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		v    spec.Value
		want string
	}{
		{spec.String("it's"), "'it''s'"},
		{spec.String(""), "''"},
		{spec.Bool(true), "true"},
		{spec.Bool(false), "false"},
		{spec.Int32(-7), "-7"},
		{spec.Int64(7), "7L"},
		{spec.Double(2), "2.0"},
		{spec.Double(-0.5), "-0.5"},
		{spec.Double(1e21), "1e+21"},
		{spec.Double(math.Copysign(0, -1)), "-0.0"},
		{spec.Double(math.NaN()), "NaN"},
		{spec.Double(math.Inf(1)), "INF"},
		{spec.Double(math.Inf(-1)), "-INF"},
		{spec.DateTime(time.Date(2020, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))), "datetime'2020-01-02T02:04:05.0000006Z'"},
		{g, "guid'abcdef01-2345-6789-abcd-ef0123456789'"},
		{spec.Binary([]byte{0, 0xab}), "X'00ab'"},
		{spec.Value{}, "<invalid>"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.v.Literal(); got != tc.want {
				t.Errorf("Literal: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValueCompare(t *testing.T) {
	tests := []struct {
		a, b spec.Value
		c    int
		ok   bool
	}{
		{spec.String("a"), spec.String("b"), -1, true},
		{spec.String("B"), spec.String("a"), -1, true}, // ordinal
		{spec.Bool(false), spec.Bool(true), -1, true},
		{spec.Int32(3), spec.Int32(3), 0, true},
		{spec.Int64(4), spec.Int64(3), 1, true},
		{spec.Int32(3), spec.Int64(3), 0, false},
		{spec.Double(1), spec.Int32(1), 0, false},
		{spec.Double(math.NaN()), spec.Double(1), 0, false},
		{spec.Double(math.Inf(-1)), spec.Double(1), -1, true},
		{spec.Binary([]byte{1}), spec.Binary([]byte{1, 0}), -1, true},
		{spec.DateTime(time.Unix(1, 0)), spec.DateTime(time.Unix(0, 5)), 1, true},
		{spec.Value{}, spec.Value{}, 0, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v vs %v", tc.a, tc.b), func(t *testing.T) {
			c, ok := tc.a.Compare(tc.b)
			if c != tc.c || ok != tc.ok {
				t.Errorf("Compare: got (%d, %v), want (%d, %v)", c, ok, tc.c, tc.ok)
			}
		})
	}
}

func TestParseGUIDErrors(t *testing.T) {
	for _, s := range []string{"", "0123456789abcdef0123456789abcdef", "01234567-89ab-cdef-0123-456789abcdeg", "01234567_89ab-cdef-0123-456789abcdef"} {
		if _, err := spec.ParseGUID(s); err == nil || !strings.Contains(err.Error(), "invalid GUID") {
			t.Errorf("ParseGUID(%q): got %v, want an invalid GUID error", s, err)
		}
	}
}

// TestKeySuccessor: no key lies strictly between k and k.Successor().
func TestKeySuccessor(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		str := rapid.StringOfN(rapid.RuneFrom([]rune{0, 'a', 'b', 0xff}), 0, 3, -1)
		k := spec.Key{PartitionKey: str.Draw(t, "pk"), RowKey: str.Draw(t, "rk")}
		o := spec.Key{PartitionKey: str.Draw(t, "opk"), RowKey: str.Draw(t, "ork")}
		s := k.Successor()
		if !k.Less(s) {
			t.Fatalf("%v.Successor() = %v: got not greater", k, s)
		}
		if k.Less(o) && o.Less(s) {
			t.Fatalf("%v lies between %v and its successor %v", o, k, s)
		}
	})
}

func TestErrorHelpers(t *testing.T) {
	e := &spec.Error{Status: 412, Index: 3, Code: "UpdateConditionNotSatisfied", Message: "stale"}
	wrapped := fmt.Errorf("layer: %w", e)
	tests := []struct {
		err    error
		status int
		index  int
	}{
		{nil, 0, -1},
		{errors.New("other"), 0, -1},
		{e, 412, 3},
		{wrapped, 412, 3},
		{spec.Errorf(404, -1, "row %s missing", "x"), 404, -1},
	}
	for _, tc := range tests {
		if got, want := [2]int{spec.StatusOf(tc.err), spec.IndexOf(tc.err)}, [2]int{tc.status, tc.index}; got != want {
			t.Errorf("StatusOf, IndexOf(%v): got %v, want %v", tc.err, got, want)
		}
	}
	if !errors.Is(wrapped, &spec.Error{Status: 412}) || errors.Is(wrapped, &spec.Error{Status: 404}) {
		t.Errorf("errors.Is by status: got wrong answer for %v", wrapped)
	}
	if got, want := e.Error(), "table: 412 at operation 3: stale"; got != want {
		t.Errorf("Error(): got %q, want %q", got, want)
	}
	if got, want := (&spec.Error{Status: 400, Index: -1}).Error(), "table: 400: Bad Request"; got != want {
		t.Errorf("Error() without message: got %q, want %q", got, want)
	}
}
