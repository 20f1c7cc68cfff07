package spec_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/migratingtable/migratingtable/spec"
)

func cmpf(p string, op spec.CompareOp, v spec.Value) spec.Filter {
	return spec.Comparison{Property: p, Op: op, Value: v}
}

func TestParseFilter(t *testing.T) {
	guid, _ := spec.ParseGUID("01234567-89ab-cdef-0123-456789abcdef")
	tests := []struct {
		in    string
		want  spec.Filter
		print string // String() of the result; "" means same as in
	}{
		{"", nil, ""},
		{"  \t\n", nil, ""},
		{"PartitionKey eq 'p'", cmpf("PartitionKey", spec.Eq, spec.String("p")), ""},
		{"RowKey ne 'it''s'", cmpf("RowKey", spec.Ne, spec.String("it's")), ""},
		{"a lt ''", cmpf("a", spec.Lt, spec.String("")), ""},
		{"a le ''''", cmpf("a", spec.Le, spec.String("'")), ""},
		{"a gt true", cmpf("a", spec.Gt, spec.Bool(true)), ""},
		{"a ge false", cmpf("a", spec.Ge, spec.Bool(false)), ""},
		{"a eq 42", cmpf("a", spec.Eq, spec.Int32(42)), ""},
		{"a eq -2147483648", cmpf("a", spec.Eq, spec.Int32(math.MinInt32)), ""},
		{"a eq 42L", cmpf("a", spec.Eq, spec.Int64(42)), ""},
		{"a eq 42l", cmpf("a", spec.Eq, spec.Int64(42)), "a eq 42L"},
		{"a eq -9223372036854775808L", cmpf("a", spec.Eq, spec.Int64(math.MinInt64)), ""},
		{"a eq 1.5", cmpf("a", spec.Eq, spec.Double(1.5)), ""},
		{"a eq 2.0", cmpf("a", spec.Eq, spec.Double(2)), ""},
		{"a eq -1.5e3", cmpf("a", spec.Eq, spec.Double(-1500)), "a eq -1500.0"},
		{"a eq 1e+21", cmpf("a", spec.Eq, spec.Double(1e21)), ""},
		{"a eq 1E-7", cmpf("a", spec.Eq, spec.Double(1e-7)), "a eq 1e-07"},
		{"a eq INF", cmpf("a", spec.Eq, spec.Double(math.Inf(1))), ""},
		{"a eq -INF", cmpf("a", spec.Eq, spec.Double(math.Inf(-1))), ""},
		{"a eq NaN", cmpf("a", spec.Eq, spec.Double(math.NaN())), ""},
		{"a eq datetime'2020-01-02T03:04:05.1234567Z'", cmpf("a", spec.Eq, spec.DateTime(time.Date(2020, 1, 2, 3, 4, 5, 123456700, time.UTC))), ""},
		{"a eq datetime'2020-01-02T03:04:05+01:00'", cmpf("a", spec.Eq, spec.DateTime(time.Date(2020, 1, 2, 2, 4, 5, 0, time.UTC))), "a eq datetime'2020-01-02T02:04:05Z'"},
		{"a eq datetime'2020-01-02T03:04:05'", cmpf("a", spec.Eq, spec.DateTime(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC))), "a eq datetime'2020-01-02T03:04:05Z'"},
		{"a eq guid'01234567-89AB-cdef-0123-456789abcdef'", cmpf("a", spec.Eq, guid), "a eq guid'01234567-89ab-cdef-0123-456789abcdef'"},
		{"a eq X'0aFF'", cmpf("a", spec.Eq, spec.Binary([]byte{0x0a, 0xff})), "a eq X'0aff'"},
		{"a eq binary''", cmpf("a", spec.Eq, spec.Binary(nil)), "a eq X''"},
		{"_x9 eq 1", cmpf("_x9", spec.Eq, spec.Int32(1)), ""},
		{"a eq 1 and b eq 2 and c eq 3",
			spec.And{spec.And{cmpf("a", spec.Eq, spec.Int32(1)), cmpf("b", spec.Eq, spec.Int32(2))}, cmpf("c", spec.Eq, spec.Int32(3))},
			"((a eq 1) and (b eq 2)) and (c eq 3)"},
		{"a eq 1 or b eq 2 and c eq 3",
			spec.Or{cmpf("a", spec.Eq, spec.Int32(1)), spec.And{cmpf("b", spec.Eq, spec.Int32(2)), cmpf("c", spec.Eq, spec.Int32(3))}},
			"(a eq 1) or ((b eq 2) and (c eq 3))"},
		{"(a eq 1 or b eq 2) and c eq 3",
			spec.And{spec.Or{cmpf("a", spec.Eq, spec.Int32(1)), cmpf("b", spec.Eq, spec.Int32(2))}, cmpf("c", spec.Eq, spec.Int32(3))},
			"((a eq 1) or (b eq 2)) and (c eq 3)"},
		{"not a eq 1 and b eq 2",
			spec.And{spec.Not{cmpf("a", spec.Eq, spec.Int32(1))}, cmpf("b", spec.Eq, spec.Int32(2))},
			"(not (a eq 1)) and (b eq 2)"},
		{"not not (a eq 1)", spec.Not{spec.Not{cmpf("a", spec.Eq, spec.Int32(1))}}, "not (not (a eq 1))"},
		{"((((a eq 1))))", cmpf("a", spec.Eq, spec.Int32(1)), "a eq 1"},
		{"a eq 1 and(b eq 2)", spec.And{cmpf("a", spec.Eq, spec.Int32(1)), cmpf("b", spec.Eq, spec.Int32(2))}, "(a eq 1) and (b eq 2)"},
		{"notx eq 1", cmpf("notx", spec.Eq, spec.Int32(1)), ""},
		{"andy eq 1 ordinal", nil, "error"}, // trailing word is not "or"
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := spec.ParseFilter(tc.in)
			if tc.print == "error" {
				if err == nil {
					t.Fatalf("ParseFilter: got %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFilter: got error %v, want success", err)
			}
			if diff := cmp.Diff(tc.want, got, valueComparer); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
			wantPrint := tc.print
			if wantPrint == "" {
				wantPrint = tc.in
				if strings.TrimSpace(tc.in) == "" {
					wantPrint = ""
				}
			}
			if got, want := spec.FilterString(got), wantPrint; got != want {
				t.Errorf("String: got %q, want %q", got, want)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		msg    string
	}{
		{"a", 1, "expected a comparison operator"},
		{"a eq", 4, "expected a literal value, found the end"},
		{"a eq 'abc", 5, "unterminated string literal"},
		{"a eq 'abc''", 5, "unterminated string literal"},
		{"(a eq 1", 7, `expected ")" to close the "(" at byte 0`},
		{"a eq 1)", 6, `expected "and", "or" or the end of the filter, found ")"`},
		{"a foo 1", 2, `found "foo"`},
		{"a EQ 1", 2, `found "EQ"`},
		{"eq eq 1", 0, "expected a property name"},
		{"'a' eq a", 0, "expected a property name"},
		{"X'00' eq a", 0, "found a literal"},
		{"a eq b", 5, `found "b"`},
		{"a eq 1 b eq 2", 7, `found "b"`},
		{"a eq 1 and", 10, "expected a property name"},
		{"a eq 1 or or", 10, `found "or"`},
		{"not", 3, "expected a property name"},
		{"()", 1, "expected a property name"},
		{"a eq 3000000000", 5, "does not fit in an Int32: write 3000000000L"},
		{"a eq 9223372036854775808L", 5, "out of range"},
		{"a eq 1e999", 5, "double literal 1e999 is out of range"},
		{"a eq 1.", 7, "expected a digit after the decimal point"},
		{"a eq 1e", 7, "expected a digit in the exponent"},
		{"a eq -", 6, "expected a digit"},
		{"a eq 12abc", 7, `unexpected 'a' after the number 12`},
		{"a eq 1.5L", 8, `unexpected 'L'`},
		{"a eq datetime'yesterday'", 5, "invalid datetime literal"},
		{"a eq datetime'2020-13-01T00:00:00Z'", 5, "want RFC 3339"},
		{"a eq guid'123'", 5, "invalid guid literal"},
		{"a eq X'0'", 5, "even number of hex digits"},
		{"a eq X'zz'", 5, "even number of hex digits"},
		{"a eq time'x'", 5, `unknown literal prefix "time"`},
		{"a eq True", 5, `found "True"`},
		{"a eq #", 5, `found "#"`},
		{strings.Repeat("(", 203) + "a eq 1" + strings.Repeat(")", 203), 203, "nested more than 202 levels deep"},
		{strings.Repeat("not ", 100) + "a eq 1", 0, "deeper than 100 levels"},
		{"a eq 1" + strings.Repeat(" and a eq 1", 100), 0, "deeper than 100 levels"},
		{"x eq 1 or (a eq 1" + strings.Repeat(" or a eq 1", 100) + ")", 11, "deeper than 100 levels"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			f, err := spec.ParseFilter(tc.in)
			var fe *spec.FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFilter: got (%v, %v), want a *spec.FilterError", f, err)
			}
			if got, want := fe.Offset, tc.offset; got != want {
				t.Errorf("offset: got %d, want %d (%v)", got, want, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message: got %q, want it to contain %q", err.Error(), tc.msg)
			}
			if got, want := fe.Input, tc.in; got != want {
				t.Errorf("Input: got %q, want %q", got, want)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	e := spec.Entity{
		Key:       key("p", "r5"),
		ETag:      "e",
		Timestamp: time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC),
		Props: spec.Props{
			"s":   spec.String("b"),
			"i":   spec.Int32(5),
			"l":   spec.Int64(5),
			"d":   spec.Double(2.5),
			"nan": spec.Double(math.NaN()),
			"t":   spec.Bool(true),
			"dt":  spec.DateTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
			"g":   mustGUID(t, "00000000-0000-0000-0000-000000000001"),
			"x":   spec.Binary([]byte{1, 2}),
		},
	}
	tests := []struct {
		filter string
		want   bool
	}{
		{"", true},
		{"PartitionKey eq 'p'", true},
		{"PartitionKey eq 'q'", false},
		{"RowKey gt 'r4' and RowKey lt 'r6'", true},
		{"RowKey ge 'r5' and RowKey le 'r5'", true},
		{"RowKey ne 'r5'", false},
		{"PartitionKey eq 1", false}, // key compared with a non-string
		{"s eq 'b'", true},
		{"s lt 'c'", true},
		{"s gt 'B'", true}, // ordinal: 'b' > 'B'
		{"i eq 5", true},
		{"i eq 5L", false}, // Int32 vs Int64: mismatched types
		{"l eq 5L", true},
		{"l eq 5", false},
		{"i ne 5L", false}, // mismatched types: even ne is false
		{"not (i eq 5L)", true},
		{"d gt 2.0", true},
		{"d eq 2.5", true},
		{"d eq 2", false}, // Double vs Int32
		{"nan eq NaN", false},
		{"nan ne NaN", false},
		{"nan lt INF", false},
		{"not (nan eq NaN)", true},
		{"t eq true", true},
		{"t gt false", true},
		{"dt eq datetime'2020-01-01T00:00:00Z'", true},
		{"dt lt datetime'2020-01-01T00:00:00.0000001Z'", true},
		{"Timestamp eq datetime'2001-02-03T04:05:06Z'", true},
		{"Timestamp lt datetime'2001-02-03T04:05:06Z'", false},
		{"g eq guid'00000000-0000-0000-0000-000000000001'", true},
		{"g lt guid'00000000-0000-0000-0000-000000000002'", true},
		{"x eq X'0102'", true},
		{"x lt X'0103'", true},
		{"x gt X'01'", true},
		{"missing eq 1", false},
		{"missing ne 1", false},
		{"not (missing eq 1)", true},
		{"missing eq 1 or i eq 5", true},
		{"missing eq 1 and i eq 5", false},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := spec.ParseFilter(tc.filter)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			if got, want := spec.Matches(f, e), tc.want; got != want {
				t.Errorf("Matches: got %v, want %v", got, want)
			}
		})
	}
}

func mustGUID(t *testing.T, s string) spec.Value {
	t.Helper()
	v, err := spec.ParseGUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSinglePartition(t *testing.T) {
	tests := []struct {
		filter string
		pk     string
		ok     bool
	}{
		{"PartitionKey eq 'p'", "p", true},
		{"PartitionKey eq ''", "", true},
		{"(PartitionKey eq 'p') and (RowKey eq 'r')", "p", true},
		{"(RowKey eq 'r') and (PartitionKey eq 'p')", "p", true},
		{"a eq 1 and (b eq 2 and PartitionKey eq 'p')", "p", true},
		{"", "", false},
		{"RowKey eq 'r'", "", false},
		{"PartitionKey ge 'p'", "", false},
		{"PartitionKey eq 1", "", false},
		{"PartitionKey eq 'p' or PartitionKey eq 'p'", "", false},
		{"not (PartitionKey ne 'p')", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			pk, ok := spec.SinglePartition(spec.MustParseFilter(tc.filter))
			if got, want := [2]any{pk, ok}, [2]any{tc.pk, tc.ok}; got != want {
				t.Errorf("SinglePartition: got %v, want %v", got, want)
			}
		})
	}
}

// TestParseFilterDepthLimit: the deepest accepted filters print to
// strings that parse again to the same filter.
func TestParseFilterDepthLimit(t *testing.T) {
	tests := []string{
		strings.Repeat("(", 202) + "a eq 1" + strings.Repeat(")", 202),
		strings.Repeat("not ", 99) + "a eq 1",
		"a eq 1" + strings.Repeat(" and a eq 1", 99),
		"a eq 1" + strings.Repeat(" or (a eq 1", 98) + strings.Repeat(")", 98),
	}
	for i, in := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			f, err := spec.ParseFilter(in)
			if err != nil {
				t.Fatalf("ParseFilter: %v", err)
			}
			again, err := spec.ParseFilter(f.String())
			if err != nil {
				t.Fatalf("ParseFilter(String()): %v", err)
			}
			if diff := cmp.Diff(f, again, valueComparer); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}
