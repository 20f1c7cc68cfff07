package spec_test

import (
	"slices"
	"testing"
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
