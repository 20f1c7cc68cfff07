package spec_test

import (
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/spec"
)

// rowKeyChoices include keys that differ in byte and UTF-16 order, a
// prefix and its extension, and the empty key.
var rowKeyChoices = []string{"", "a", "a\x00", "ab", "b", "é", "\uE000", "\U0001F600", "z"}

func genKeyFilter(depth int, pk string) *rapid.Generator[spec.Filter] {
	leaf := rapid.Custom(func(t *rapid.T) spec.Filter {
		switch rapid.IntRange(0, 6).Draw(t, "leaf") {
		case 0:
			return spec.Comparison{Property: "v", Op: spec.CompareOp(rapid.IntRange(0, 5).Draw(t, "op")), Value: spec.Int32(int32(rapid.IntRange(0, 3).Draw(t, "n")))}
		case 1:
			return spec.Comparison{Property: spec.RowKeyProp, Op: spec.Eq, Value: spec.Int32(1)} // wrong type: matches nothing
		case 2:
			return spec.PartitionFilter(pk)
		case 3:
			return spec.PartitionFilter("o") // another partition: matches no row of pk
		default:
			return spec.Comparison{Property: spec.RowKeyProp, Op: spec.CompareOp(rapid.IntRange(0, 5).Draw(t, "op")),
				Value: spec.String(rapid.SampledFrom(append(rowKeyChoices, "a\x00\x00", "c")).Draw(t, "rk"))}
		}
	})
	if depth == 0 {
		return leaf
	}
	sub := rapid.Deferred(func() *rapid.Generator[spec.Filter] { return genKeyFilter(depth-1, pk) })
	return rapid.OneOf(
		leaf,
		rapid.Custom(func(t *rapid.T) spec.Filter { return spec.And{L: sub.Draw(t, "l"), R: sub.Draw(t, "r")} }),
		rapid.Custom(func(t *rapid.T) spec.Filter { return spec.Or{L: sub.Draw(t, "l"), R: sub.Draw(t, "r")} }),
		rapid.Custom(func(t *rapid.T) spec.Filter { return spec.Not{X: sub.Draw(t, "x")} }),
	)
}

// TestQueryUsesKeysExactly: Rows.Query, which visits only the RowKey
// ranges a single-partition filter allows, evaluates the disjuncts of
// "g or RowKey eq ..." each over its own ranges and skips the
// partition's own "PartitionKey eq" conjuncts, returns exactly the rows
// a scan of the whole table with Matches returns.
func TestQueryUsesKeysExactly(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var entities []spec.Entity
		for _, pk := range []string{"o", "p", "q"} {
			for _, rk := range rowKeyChoices {
				if rapid.Bool().Draw(t, "present") {
					entities = append(entities, spec.Entity{Key: key(pk, rk), ETag: "e",
						Props: spec.Props{"v": spec.Int32(int32(rapid.IntRange(0, 3).Draw(t, "v")))}})
				}
			}
		}
		rows := spec.NewRows(entities)
		f := spec.Filter(spec.And{L: spec.PartitionFilter("p"), R: genKeyFilter(3, "p").Draw(t, "filter")})
		if rapid.Bool().Draw(t, "swap") {
			f = spec.And{L: f.(spec.And).R, R: f.(spec.And).L}
		}
		want := []spec.Entity{}
		for _, e := range rows {
			if spec.Matches(f, e) {
				want = append(want, e)
			}
		}
		if d := gocmp.Diff(want, rows.Query(f), valueComparer); d != "" {
			t.Fatalf("Query(%s) (-scan +query):\n%s", f, d)
		}
	})
}
