package spec

import (
	"cmp"
	"unicode/utf8"
)

// CompareStrings orders strings as Azure Table storage does: ordinally,
// by UTF-16 code units. It agrees with byte order except between
// characters above U+FFFF (two surrogate code units, 0xD800-0xDFFF) and
// characters U+E000-U+FFFF, which UTF-16 sorts after them and UTF-8
// before. Keys, and string comparisons in filters, use this order.
func CompareStrings(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) || i == len(b) {
		return cmp.Compare(len(a), len(b))
	}
	// Back up to the start of the character holding the first difference
	// (the bytes before it are equal, so it starts at the same offset in
	// both).
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	ra, na := utf8.DecodeRuneInString(a[i:])
	rb, nb := utf8.DecodeRuneInString(b[i:])
	if (ra == utf8.RuneError && na <= 1) || (rb == utf8.RuneError && nb <= 1) {
		return cmp.Compare(a[i], b[i]) // not UTF-8: byte order
	}
	return cmp.Compare(utf16Rank(ra), utf16Rank(rb))
}

// utf16Rank maps a character to a number that orders like its UTF-16
// encoding.
func utf16Rank(r rune) rune {
	switch {
	case r >= 0x10000:
		return 0xD800 + (r - 0x10000) // surrogate pairs: between U+D7FF and U+E000
	case r >= 0xE000:
		return r + 0x100000 // after every surrogate pair
	}
	return r
}
