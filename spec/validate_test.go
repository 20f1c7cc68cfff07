package spec_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/spec"
)

func TestValidateBatch(t *testing.T) {
	ins := func(pk, rk string) spec.Op { return spec.Op{Kind: spec.Insert, Entity: ent(pk, rk, "", nil)} }
	withProps := func(p spec.Props) spec.Op { return spec.Op{Kind: spec.Insert, Entity: ent("p", "r", "", p)} }
	many := make([]spec.Op, spec.MaxBatch+1)
	for i := range many {
		many[i] = ins("p", strings.Repeat("r", i+1))
	}
	props253 := spec.Props{}
	for i := range 253 {
		props253["p"+strings.Repeat("x", i)] = spec.Int32(1)
	}
	tests := []struct {
		name  string
		ops   []spec.Op
		index int    // -2: valid
		msg   string // substring of the message
	}{
		{"valid single", []spec.Op{ins("p", "r")}, -2, ""},
		{"valid empty keys", []spec.Op{ins("", "")}, -2, ""},
		{"valid 100", many[:100], -2, ""},
		{"valid delete with props ignored", []spec.Op{{Kind: spec.Delete, Entity: ent("p", "r", "*", spec.Props{"": {}})}}, -2, ""},
		{"valid unicode key and name", []spec.Op{withProps(spec.Props{"_ñame1": spec.String("é")})}, -2, ""},
		{"empty batch", nil, -1, "empty batch"},
		{"101 ops", many, -1, "batch of 101 operations"},
		{"two partitions", []spec.Op{ins("p", "a"), ins("q", "b")}, 1, "differs from operation 0"},
		{"same row twice", []spec.Op{ins("p", "a"), ins("p", "b"), {Kind: spec.DeleteIfExists, Entity: ent("p", "a", "", nil)}}, 2, "also the target of operation 0"},
		{"DeleteIfExists not alone", []spec.Op{ins("p", "a"), {Kind: spec.DeleteIfExists, Entity: ent("p", "b", "", nil)}}, 1, "DeleteIfExists must be the only operation of its batch (this batch has 2)"},
		{"DeleteIfExists first of two", []spec.Op{{Kind: spec.DeleteIfExists, Entity: ent("p", "b", "", nil)}, ins("p", "a")}, 0, "send the DeleteIfExists alone"},
		{"valid lone DeleteIfExists", []spec.Op{{Kind: spec.DeleteIfExists, Entity: ent("p", "b", "", nil)}}, -2, ""},
		{"replace without if-match", []spec.Op{ins("p", "a"), {Kind: spec.Replace, Entity: ent("p", "b", "", nil)}}, 1, "If-Match is required"},
		{"merge without if-match", []spec.Op{{Kind: spec.Merge, Entity: ent("p", "b", "", nil)}}, 0, "If-Match is required"},
		{"delete without if-match", []spec.Op{{Kind: spec.Delete, Entity: ent("p", "b", "", nil)}}, 0, "If-Match is required"},
		{"slash in pk", []spec.Op{ins("a/b", "r")}, 0, "forbidden character '/'"},
		{"backslash in rk", []spec.Op{ins("p", `a\b`)}, 0, `forbidden character '\\'`},
		{"hash in rk", []spec.Op{ins("p", "a#")}, 0, "forbidden character '#'"},
		{"question mark in rk", []spec.Op{ins("p", "?")}, 0, "forbidden character '?'"},
		{"nul in rk", []spec.Op{ins("p", "a\x00")}, 0, "control character U+0000"},
		{"DEL in pk", []spec.Op{ins("a\x7f", "r")}, 0, "control character U+007F"},
		{"C1 control in rk", []spec.Op{ins("p", "a\u0085")}, 0, "control character U+0085"},
		{"invalid utf8 key", []spec.Op{ins("p", "\xff")}, 0, "not valid UTF-8"},
		{"key too long", []spec.Op{ins("p", strings.Repeat("k", 1025))}, 0, "1025 bytes long"},
		{"key of 1 KiB", []spec.Op{ins("p", strings.Repeat("k", 1024))}, -2, ""},
		{"zero value", []spec.Op{withProps(spec.Props{"a": {}})}, 0, "zero Value"},
		{"reserved PartitionKey", []spec.Op{withProps(spec.Props{"PartitionKey": spec.String("x")})}, 0, "reserved"},
		{"reserved RowKey", []spec.Op{withProps(spec.Props{"RowKey": spec.String("x")})}, 0, "reserved"},
		{"reserved Timestamp", []spec.Op{withProps(spec.Props{"Timestamp": spec.Int32(1)})}, 0, "reserved"},
		{"reserved ETag", []spec.Op{withProps(spec.Props{"ETag": spec.Int32(1)})}, 0, "reserved"},
		{"empty name", []spec.Op{withProps(spec.Props{"": spec.Int32(1)})}, 0, "empty property name"},
		{"name with dash", []spec.Op{withProps(spec.Props{"a-b": spec.Int32(1)})}, 0, "'-' at byte 1"},
		{"name starting with digit", []spec.Op{withProps(spec.Props{"1a": spec.Int32(1)})}, 0, "'1' at byte 0"},
		{"name too long", []spec.Op{withProps(spec.Props{strings.Repeat("n", 256): spec.Int32(1)})}, 0, "256 characters long"},
		{"too many props", []spec.Op{withProps(props253)}, 0, "253 properties"},
		{"string too long", []spec.Op{withProps(spec.Props{"s": spec.String(strings.Repeat("s", 32*1024+1))})}, 0, "32769 UTF-16 code units"},
		{"string invalid utf8", []spec.Op{withProps(spec.Props{"s": spec.String("\xc3")})}, 0, "not valid UTF-8"},
		{"binary too long", []spec.Op{withProps(spec.Props{"b": spec.Binary(make([]byte, 64*1024+1))})}, 0, "65537 bytes long"},
		{"unknown kind", []spec.Op{{Kind: 42, Entity: ent("p", "r", "*", nil)}}, 0, "unknown operation kind 42"},
		{"first offender wins", []spec.Op{ins("p", "a"), ins("p", "a/"), ins("q", "b")}, 1, "forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := spec.ValidateBatch(tc.ops)
			if tc.index == -2 {
				if err != nil {
					t.Fatalf("ValidateBatch: got %v, want nil", err)
				}
				return
			}
			var e *spec.Error
			if !errors.As(err, &e) {
				t.Fatalf("ValidateBatch: got %v, want a *spec.Error", err)
			}
			if got, want := e.Status, 400; got != want {
				t.Errorf("status: got %d, want %d", got, want)
			}
			if got, want := e.Index, tc.index; got != want {
				t.Errorf("index: got %d, want %d (%v)", got, want, err)
			}
			if !strings.Contains(e.Error(), tc.msg) {
				t.Errorf("message: got %q, want it to contain %q", e.Error(), tc.msg)
			}
			// MemTable and ApplyBatch report the same caller error.
			_, err2 := spec.NewMemTable("t:").ExecuteBatch(context.Background(), tc.ops)
			if got, want := err2.Error(), err.Error(); got != want {
				t.Errorf("ExecuteBatch error: got %q, want %q", got, want)
			}
			_, _, err3 := spec.ApplyBatch(nil, tc.ops, func(int) spec.ETag { t.Fatal("newETag called on a failing batch"); return "" })
			if got, want := err3.Error(), err.Error(); got != want {
				t.Errorf("ApplyBatch error: got %q, want %q", got, want)
			}
		})
	}
}
