package spec_test

import (
	"slices"
	"testing"
	"time"
	"unicode/utf16"

	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/spec"
)

func TestCompareStringsUTF16(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"a", "b", -1},
		{"ab", "a", 1},
		{"z", "é", -1},
		{"😀", "ｚ", -1}, // U+1F600 (surrogates) before U+FF5A in UTF-16; after it in UTF-8
		{"ｚ", "😀", 1},
		{"x😀", "xｚ", -1},
		{"\uD7FF", "😀", -1},
		{"😀", "\uE000", -1},
		{"😀", "😁", -1},
	} {
		if got := spec.CompareStrings(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareStrings(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// The order is exactly that of the strings' UTF-16 encodings.
func TestCompareStringsMatchesUTF16Encoding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		alphabet := rapid.SampledFrom([]rune{'a', 'z', 'é', 0xD7FF, 0xE000, 'ｚ', 0xFFFD, '😀', 0x10000, 0x10FFFF})
		a := string(rapid.SliceOfN(alphabet, 0, 4).Draw(t, "a"))
		b := string(rapid.SliceOfN(alphabet, 0, 4).Draw(t, "b"))
		want := slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
		if got := spec.CompareStrings(a, b); got != want {
			t.Fatalf("CompareStrings(%q, %q) = %d, want %d (UTF-16 order)", a, b, got, want)
		}
	})
}

func TestDateTimeRange(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1600, 12, 31, 23, 59, 59, 999_999_900, time.UTC),
		time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1970, 1, 1, 0, 0, 0, 100, time.UTC),
		time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_900, time.UTC),
	} {
		if got := spec.DateTime(tm).AsTime(); !got.Equal(tm) {
			t.Errorf("DateTime(%s).AsTime() = %s", tm, got)
		}
	}
	if got, want := spec.DateTime(time.Date(2000, 1, 1, 0, 0, 0, 123_456_789, time.UTC)).AsTime().Nanosecond(), 123_456_700; got != want {
		t.Errorf("sub-tick digits: got %d ns, want %d (truncated to 100 ns ticks)", got, want)
	}
	early := spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: "r"}, Props: spec.Props{"d": spec.DateTime(time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC))}}
	if err := spec.ValidateBatch([]spec.Op{{Kind: spec.Insert, Entity: early}}); spec.StatusOf(err) != 400 {
		t.Errorf("a datetime before 1601: got %v, want a 400", err)
	}
	late := early.Clone()
	late.Props["d"] = spec.DateTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := spec.ValidateBatch([]spec.Op{{Kind: spec.Insert, Entity: late}}); spec.StatusOf(err) != 400 {
		t.Errorf("a datetime after 9999: got %v, want a 400", err)
	}
	last := early.Clone()
	last.Props["d"] = spec.DateTime(time.Date(9999, 12, 31, 23, 59, 59, 999_999_900, time.UTC))
	if err := spec.ValidateBatch([]spec.Op{{Kind: spec.Insert, Entity: last}}); err != nil {
		t.Errorf("the last datetime Azure accepts: got %v, want nil", err)
	}
	if c, _ := spec.DateTime(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)).Compare(spec.DateTime(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))); c != -1 {
		t.Errorf("year 1 vs 9999: Compare = %d, want -1", c)
	}
}

func TestDateTimeLiteralRange(t *testing.T) {
	for _, s := range []string{"0001-01-01T00:00:00Z", "1601-01-01T00:00:00Z", "3000-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z"} {
		f, err := spec.ParseFilter("d eq datetime'" + s + "'")
		if err != nil {
			t.Errorf("datetime %s: %v", s, err)
			continue
		}
		g, err := spec.ParseFilter(f.String())
		if err != nil || g.String() != f.String() {
			t.Errorf("datetime %s: printed %q, read back %v (%v)", s, f.String(), g, err)
		}
	}
}
