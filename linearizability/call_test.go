package linearizability_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

// drawKeyPart draws a valid key part, with quotes, blanks, punctuation
// and characters beyond ASCII among its characters.
func drawKeyPart(t *rapid.T, label string) string {
	return rapid.StringOfN(rapid.SampledFrom([]rune("ab09 '()[]{},@\"-_.é😀=")), 0, 6, -1).Draw(t, label)
}

func drawKey(t *rapid.T) spec.Key {
	return spec.Key{PartitionKey: drawKeyPart(t, "pk"), RowKey: drawKeyPart(t, "rk")}
}

// drawValue draws a value of every spec type, edge cases included.
func drawValue(t *rapid.T) spec.Value {
	switch rapid.IntRange(0, 7).Draw(t, "type") {
	case 0:
		return spec.String(drawKeyPart(t, "s") + rapid.SampledFrom([]string{"", "}", " x ", "a'b", "\\"}).Draw(t, "tail"))
	case 1:
		return spec.Bool(rapid.Bool().Draw(t, "b"))
	case 2:
		return spec.Int32(rapid.Int32().Draw(t, "i32"))
	case 3:
		return spec.Int64(rapid.Int64().Draw(t, "i64"))
	case 4:
		return spec.Double(rapid.SampledFrom([]float64{0, math.Copysign(0, -1), 1.5, -2.25e-300, 1e300, math.NaN(), math.Inf(1), math.Inf(-1), 3}).Draw(t, "d") +
			float64(rapid.IntRange(0, 3).Draw(t, "dd")))
	case 5:
		return spec.DateTime(time.Date(rapid.IntRange(1601, 9999).Draw(t, "year"), time.Month(rapid.IntRange(1, 12).Draw(t, "month")),
			rapid.IntRange(1, 28).Draw(t, "day"), rapid.IntRange(0, 23).Draw(t, "hour"), 0, rapid.IntRange(0, 59).Draw(t, "sec"),
			100*rapid.IntRange(0, 9_999_999).Draw(t, "ticks"), time.UTC))
	case 6:
		var g [16]byte
		for i := range g {
			g[i] = rapid.Byte().Draw(t, "g")
		}
		return spec.GUID(g)
	default:
		return spec.Binary(rapid.SliceOfN(rapid.Byte(), 0, 4).Draw(t, "bin"))
	}
}

func drawProps(t *rapid.T) spec.Props {
	p := spec.Props{}
	for range rapid.IntRange(0, 4).Draw(t, "props") {
		name := rapid.SampledFrom([]string{"a", "isHappy", "_x", "n1", "é", "Zz"}).Draw(t, "name")
		p[name] = drawValue(t)
	}
	return p
}

func drawETag(t *rapid.T) spec.ETag {
	return spec.ETag(rapid.SampledFrom([]string{"", "*", "e1", `W/"x"`, "old:12", "tab\\t", "é"}).Draw(t, "etag"))
}

// drawFilter draws a filter of the whole language: comparisons on the
// keys and on properties of every type, with every operator, under and,
// or and not.
func drawFilter(t *rapid.T, depth int) spec.Filter {
	k := rapid.IntRange(0, 4).Draw(t, "filter")
	if depth <= 0 || k < 2 {
		prop := rapid.SampledFrom([]string{spec.PartitionKeyProp, spec.RowKeyProp, "a", "isHappy", "é"}).Draw(t, "prop")
		var v spec.Value
		if prop == spec.PartitionKeyProp || prop == spec.RowKeyProp {
			v = spec.String(drawKeyPart(t, "lit"))
		} else {
			v = drawValue(t)
		}
		return spec.Comparison{Property: prop, Op: spec.CompareOp(rapid.IntRange(0, 5).Draw(t, "op")), Value: v}
	}
	switch k {
	case 2:
		return spec.And{L: drawFilter(t, depth-1), R: drawFilter(t, depth-1)}
	case 3:
		return spec.Or{L: drawFilter(t, depth-1), R: drawFilter(t, depth-1)}
	}
	return spec.Not{X: drawFilter(t, depth-1)}
}

func drawCall(t *rapid.T) linearizability.TableCall {
	switch rapid.IntRange(0, 4).Draw(t, "kind") {
	case 0:
		var ops []spec.Op
		for range rapid.IntRange(0, 4).Draw(t, "ops") {
			kind := spec.OpKind(rapid.IntRange(0, 6).Draw(t, "opkind"))
			e := spec.Entity{Key: drawKey(t), ETag: drawETag(t)}
			if !kind.IsDelete() || rapid.Bool().Draw(t, "delprops") {
				e.Props = drawProps(t)
			}
			ops = append(ops, spec.Op{Kind: kind, Entity: e})
		}
		return linearizability.TableCall{Kind: linearizability.BatchCall, Ops: ops}
	case 1, 2:
		kind := linearizability.QueryCall
		if rapid.Bool().Draw(t, "stream") {
			kind = linearizability.StreamCall
		}
		var f spec.Filter
		if rapid.IntRange(0, 4).Draw(t, "nil") > 0 {
			f = drawFilter(t, 3)
		}
		return linearizability.TableCall{Kind: kind, Filter: f}
	case 3:
		return linearizability.TableCall{Kind: linearizability.RetrieveCall, Key: drawKey(t)}
	}
	etag := drawETag(t)
	if etag == "" {
		etag = "e"
	}
	return linearizability.TableCall{Kind: linearizability.ETagChangeCall, Key: drawKey(t), ETag: etag}
}

// sameCall compares two calls by meaning: nil and empty properties are
// alike, and a Double NaN equals itself.
func sameCall(a, b linearizability.TableCall) bool {
	if a.Kind != b.Kind || a.Key != b.Key || a.ETag != b.ETag || len(a.Ops) != len(b.Ops) ||
		spec.FilterString(a.Filter) != spec.FilterString(b.Filter) {
		return false
	}
	for i := range a.Ops {
		x, y := a.Ops[i], b.Ops[i]
		if x.Kind != y.Kind || x.Entity.Key != y.Entity.Key || x.Entity.ETag != y.Entity.ETag || len(x.Entity.Props) != len(y.Entity.Props) {
			return false
		}
		for n, v := range x.Entity.Props {
			w, ok := y.Entity.Props[n]
			if !ok || !(v.Equal(w) || v.Literal() == "NaN" && w.Literal() == "NaN") {
				return false
			}
		}
	}
	return true
}

// TestTableCallRoundTrip: ParseTableCall reads back what String prints,
// to a call with the same meaning, for batches of every operation kind
// with ETags, filters of the whole language, keys and properties of
// every type.
func TestTableCallRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := drawCall(t)
		s := c.String()
		got, err := linearizability.ParseTableCall(s)
		if err != nil {
			t.Fatalf("ParseTableCall(%q): %v", s, err)
		}
		if again := got.String(); again != s {
			t.Fatalf("printed again:\n%s\nwant:\n%s", again, s)
		}
		if !sameCall(got, c) {
			t.Fatalf("read back %#v\nwant %#v", got, c)
		}
	})
}

// TestTableCallString pins the printed form, which reports, traces and
// history files show.
func TestTableCallString(t *testing.T) {
	k := spec.Key{PartitionKey: "p0", RowKey: "it's"}
	tests := []struct {
		call linearizability.TableCall
		want string
	}{
		{linearizability.TableCall{Kind: linearizability.BatchCall, Ops: []spec.Op{
			{Kind: spec.Insert, Entity: spec.Entity{Key: k, Props: spec.Props{"n": spec.Int64(5), "b": spec.Bool(true)}}},
			{Kind: spec.Replace, Entity: spec.Entity{Key: k, ETag: "old:3", Props: nil}},
			{Kind: spec.Delete, Entity: spec.Entity{Key: k, ETag: "*"}},
			{Kind: spec.DeleteIfExists, Entity: spec.Entity{Key: k}},
		}}, `batch[Insert 'p0'/'it''s' {b=true n=5L}, Replace 'p0'/'it''s' if-match "old:3" {}, Delete 'p0'/'it''s' if-match "*", DeleteIfExists 'p0'/'it''s']`},
		{linearizability.TableCall{Kind: linearizability.QueryCall, Filter: spec.MustParseFilter("PartitionKey eq 'p0' and not (d lt 2.5 or g eq guid'00000000-0000-0000-0000-00000000000a')")},
			`query((PartitionKey eq 'p0') and (not ((d lt 2.5) or (g eq guid'00000000-0000-0000-0000-00000000000a'))))`},
		{linearizability.TableCall{Kind: linearizability.StreamCall}, `stream()`},
		{linearizability.TableCall{Kind: linearizability.StreamCall, Filter: spec.MustParseFilter("t ge datetime'2020-01-02T03:04:05.1234567Z' and x eq X'0aff'")},
			`stream((t ge datetime'2020-01-02T03:04:05.1234567Z') and (x eq X'0aff'))`},
		{linearizability.TableCall{Kind: linearizability.RetrieveCall, Key: k}, `retrieve('p0'/'it''s')`},
		{linearizability.TableCall{Kind: linearizability.ETagChangeCall, Key: k, ETag: "new:9"}, `etag-change('p0'/'it''s', "new:9")`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.call.String(); got != tt.want {
				t.Fatalf("String:\ngot  %s\nwant %s", got, tt.want)
			}
			back, err := linearizability.ParseTableCall(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !sameCall(back, tt.call) {
				t.Errorf("ParseTableCall: got %#v, want %#v", back, tt.call)
			}
		})
	}
}

func TestParseTableCallErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `linearizability: call "": byte 0: expected batch, query, retrieve, stream or etag-change, found ""`},
		{"batch[Upsert 'p'/'1' {}]", `linearizability: call "batch[Upsert 'p'/'1' {}]": byte 12: expected an operation kind, found "Upsert"`},
		{"batch[Insert 'p'/'1']", `linearizability: call "batch[Insert 'p'/'1']": byte 20: expected "{", found "]"`},
		{"query(a eq)", `linearizability: call "query(a eq)": byte 11: expected a filter in query(...): filter: syntax error at byte 4: expected a literal value, found the end of the filter`},
		{"retrieve('p'/'1') x", `linearizability: call "retrieve('p'/'1') x": byte 18: expected the end of the line, found "x"`},
		{"etag-change('p'/'1')", `linearizability: call "etag-change('p'/'1')": byte 19: expected ",", found ")"`},
		{"stream(", `linearizability: call "stream(": byte 7: expected ')'`},
		{"batch[Insert 'p'/'1' {a=1 b=}]", `linearizability: call "batch[Insert 'p'/'1' {a=1 b=}]": byte 28: expected a literal for property b, found ""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := linearizability.ParseTableCall(tt.in)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line")
			}
		})
	}
}
