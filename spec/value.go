package spec

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Type is the EDM type of a property value.
type Type uint8

// The EDM types Azure Table storage supports for user properties.
const (
	TypeString   Type = iota + 1 // Edm.String
	TypeBool                     // Edm.Boolean
	TypeInt32                    // Edm.Int32
	TypeInt64                    // Edm.Int64
	TypeDouble                   // Edm.Double
	TypeDateTime                 // Edm.DateTime
	TypeGUID                     // Edm.Guid
	TypeBinary                   // Edm.Binary
)

var typeNames = [...]string{
	TypeString:   "Edm.String",
	TypeBool:     "Edm.Boolean",
	TypeInt32:    "Edm.Int32",
	TypeInt64:    "Edm.Int64",
	TypeDouble:   "Edm.Double",
	TypeDateTime: "Edm.DateTime",
	TypeGUID:     "Edm.Guid",
	TypeBinary:   "Edm.Binary",
}

// String returns the EDM name of the type, e.g. "Edm.Int64".
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Value is a typed property value. The zero Value is invalid (Type 0);
// build values with the constructors. Values are comparable with ==
// (except that a Double NaN is not equal to itself, as in Azure).
type Value struct {
	t Type
	s string  // String; GUID in canonical lower-case form; Binary bytes
	n int64   // Bool (0 or 1); Int32; Int64; DateTime as ticks (see DateTime)
	f float64 // Double
}

// String constructs an Edm.String value.
func String(s string) Value { return Value{t: TypeString, s: s} }

// Bool constructs an Edm.Boolean value.
func Bool(b bool) Value {
	if b {
		return Value{t: TypeBool, n: 1}
	}
	return Value{t: TypeBool}
}

// Int32 constructs an Edm.Int32 value.
func Int32(i int32) Value { return Value{t: TypeInt32, n: int64(i)} }

// Int64 constructs an Edm.Int64 value.
func Int64(i int64) Value { return Value{t: TypeInt64, n: i} }

// Double constructs an Edm.Double value.
func Double(f float64) Value { return Value{t: TypeDouble, f: f} }

// DateTime constructs an Edm.DateTime value. The time is kept in UTC at
// Azure's precision, 100 ns ticks (finer digits are truncated), over
// Go's whole time range: years 1 to 9999 and beyond, not only the
// 1678-2262 that Unix nanoseconds would hold.
func DateTime(t time.Time) Value {
	t = t.UTC()
	return Value{t: TypeDateTime, n: (t.Unix()-unixToTicksEpoch)*ticksPerSecond + int64(t.Nanosecond()/100)}
}

const (
	ticksPerSecond = 10_000_000
	// unixToTicksEpoch is the Unix time of 0001-01-01T00:00:00Z, where
	// ticks start (as in .NET and Azure).
	unixToTicksEpoch = -62135596800
)

// GUID constructs an Edm.Guid value from its 16 bytes.
func GUID(g [16]byte) Value {
	h := hex.EncodeToString(g[:])
	return Value{t: TypeGUID, s: h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]}
}

// ParseGUID parses the canonical textual form
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (either case).
func ParseGUID(s string) (Value, error) {
	var g [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return Value{}, fmt.Errorf("invalid GUID %q: want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", s)
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		return Value{}, fmt.Errorf("invalid GUID %q: %v", s, err)
	}
	return GUID(g), nil
}

// Binary constructs an Edm.Binary value. The bytes are copied.
func Binary(b []byte) Value { return Value{t: TypeBinary, s: string(b)} }

// Type reports the value's EDM type (0 for the zero Value).
func (v Value) Type() Type { return v.t }

// Valid reports whether v was built by a constructor.
func (v Value) Valid() bool { return v.t >= TypeString && v.t <= TypeBinary }

// Str returns a String value's text, or a GUID's canonical form.
func (v Value) Str() string { return v.s }

// AsBool returns a Bool value.
func (v Value) AsBool() bool { return v.n != 0 }

// AsInt returns an Int32 or Int64 value.
func (v Value) AsInt() int64 { return v.n }

// AsDouble returns a Double value.
func (v Value) AsDouble() float64 { return v.f }

// AsTime returns a DateTime value in UTC.
func (v Value) AsTime() time.Time {
	sec, rem := v.n/ticksPerSecond, v.n%ticksPerSecond
	if rem < 0 {
		sec, rem = sec-1, rem+ticksPerSecond
	}
	return time.Unix(sec+unixToTicksEpoch, rem*100).UTC()
}

// AsBytes returns a copy of a Binary value's bytes.
func (v Value) AsBytes() []byte { return []byte(v.s) }

// Equal reports whether two values have the same type and content.
func (v Value) Equal(w Value) bool { return v == w }

// Compare orders two values of the same type: -1, 0 or +1. The second
// result is false when the values are not comparable (different types,
// or a NaN), in which case every comparison operator yields false, as in
// Azure Table storage. Booleans order false < true; GUIDs and binaries
// order by their bytes.
func (v Value) Compare(w Value) (int, bool) {
	if v.t != w.t || !v.Valid() {
		return 0, false
	}
	switch v.t {
	case TypeString:
		return CompareStrings(v.s, w.s), true
	case TypeGUID:
		return cmp.Compare(v.s, w.s), true
	case TypeBinary:
		return bytes.Compare([]byte(v.s), []byte(w.s)), true
	case TypeDouble:
		if math.IsNaN(v.f) || math.IsNaN(w.f) {
			return 0, false
		}
		return cmp.Compare(v.f, w.f), true
	default:
		return cmp.Compare(v.n, w.n), true
	}
}

// Literal returns the value as an OData filter literal, the form the
// filter parser reads back: 'text' (quotes doubled), true, 42, 42L,
// 1.5 (NaN, INF, -INF), datetime'2006-01-02T15:04:05.999999999Z', guid'…', X'0a1b'.
func (v Value) Literal() string {
	switch v.t {
	case TypeString:
		return quote(v.s)
	case TypeBool:
		return strconv.FormatBool(v.AsBool())
	case TypeInt32:
		return strconv.FormatInt(v.n, 10)
	case TypeInt64:
		return strconv.FormatInt(v.n, 10) + "L"
	case TypeDouble:
		switch {
		case math.IsNaN(v.f):
			return "NaN"
		case math.IsInf(v.f, 1):
			return "INF"
		case math.IsInf(v.f, -1):
			return "-INF"
		}
		s := strconv.FormatFloat(v.f, 'g', -1, 64)
		// Keep a marker of doubleness so the literal reads back as a double.
		if !containsAny(s, ".eE") {
			s += ".0"
		}
		return s
	case TypeDateTime:
		return "datetime'" + v.AsTime().Format(time.RFC3339Nano) + "'"
	case TypeGUID:
		return "guid'" + v.s + "'"
	case TypeBinary:
		return "X'" + hex.EncodeToString([]byte(v.s)) + "'"
	}
	return "<invalid>"
}

// String returns the literal form; see Literal.
func (v Value) String() string { return v.Literal() }

func quote(s string) string {
	var b []byte
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			b = append(b, '\'')
		}
		b = append(b, s[i])
	}
	return string(append(b, '\''))
}

func containsAny(s, chars string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return true
			}
		}
	}
	return false
}
