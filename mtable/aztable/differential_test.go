package aztable_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"

	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/migratingtable/migratingtable/mtable/aztable/azuritetest"
	"github.com/migratingtable/migratingtable/spec"
	"pgregory.net/rapid"
)

// The differential test applies the same random operations to
// spec.MemTable and to Azurite through the adapter and requires the same
// outcomes: statuses, error codes and failing indices, which results
// carry an ETag, returned rows (keys and typed properties, with each
// Azure ETag being the one the adapter returned for the write that made
// that row version) and query results.
//
// ETags differ between the two tables by design, so the test keeps, per
// row, the pair (MemTable ETag, Azure ETag) of every version it has
// seen; an operation's If-Match is chosen as "*", the current version,
// a stale version or a never-issued ETag, and translated for each table.

// shortChecks bounds the number of rapid checks under -short.
const shortChecks = 12

func limitRapidChecks() {
	if !testing.Short() {
		return
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	if _, env := os.LookupEnv("RAPID_CHECKS"); !explicit && !env {
		_ = flag.Set("rapid.checks", fmt.Sprint(shortChecks))
	}
}

var (
	partitions = []string{"p", "q"}
	rowKeys    = []string{"a", "b", "c", "d", "e's"}
	propNames  = []string{"b", "d", "g", "isHappy", "l", "n", "s", "t"}
	testGUIDs  = []string{"00000000-0000-0000-0000-000000000001", "ffffffff-0000-0000-0000-000000000002"}
	testTimes  = []time.Time{time.Date(2020, 1, 2, 3, 4, 5, 600, time.UTC), time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2200, 12, 31, 23, 59, 59, 999999900, time.UTC)}
)

// propTypes fixes each test property's type: Azurite compares values of
// different types loosely (see TestEmulatorDivergences), so the
// differential test only ever compares a property with a literal of its
// own type, or a missing property.
var propTypes = map[string]spec.Type{
	"isHappy": spec.TypeBool,
	"s":       spec.TypeString,
	"n":       spec.TypeInt32,
	"l":       spec.TypeInt64,
	"d":       spec.TypeDouble,
	"t":       spec.TypeDateTime,
	"g":       spec.TypeGUID,
	"b":       spec.TypeBinary,
}

func genValue(typ spec.Type) *rapid.Generator[spec.Value] {
	return rapid.Custom(func(t *rapid.T) spec.Value {
		switch typ {
		case spec.TypeString:
			return spec.String(rapid.SampledFrom([]string{"", "a", "b", "B", "it's", "ü", "a b", "\"q\"", "%2F&="}).Draw(t, "str"))
		case spec.TypeBool:
			return spec.Bool(rapid.Bool().Draw(t, "bool"))
		case spec.TypeInt32:
			return spec.Int32(rapid.SampledFrom([]int32{-2, -1, 0, 1, 2, math.MinInt32, math.MaxInt32}).Draw(t, "i32"))
		case spec.TypeInt64:
			return spec.Int64(rapid.SampledFrom([]int64{-1, 0, 1, 2, 1 << 40, 1<<53 + 1, math.MinInt64, math.MaxInt64}).Draw(t, "i64"))
		case spec.TypeDouble:
			return spec.Double(rapid.SampledFrom([]float64{-1.5, 0, 1, 2, 2.5, 0.1, 1e300, -2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64}).Draw(t, "f64"))
		case spec.TypeDateTime:
			return spec.DateTime(rapid.SampledFrom(testTimes).Draw(t, "dt"))
		case spec.TypeGUID:
			g, _ := spec.ParseGUID(rapid.SampledFrom(testGUIDs).Draw(t, "guid"))
			return g
		default:
			return spec.Binary(rapid.SampledFrom([][]byte{{}, {1}, {1, 2}, {0xff}}).Draw(t, "bin"))
		}
	})
}

func genProps() *rapid.Generator[spec.Props] {
	return rapid.Custom(func(t *rapid.T) spec.Props {
		p := spec.Props{}
		for _, name := range propNames {
			if rapid.IntRange(0, 3).Draw(t, "has_"+name) == 0 {
				p[name] = genValue(propTypes[name]).Draw(t, name)
			}
		}
		return p
	})
}

// genFilter draws a filter of the given depth over the test's properties
// and keys.
func genFilter(depth int) *rapid.Generator[spec.Filter] {
	return rapid.Custom(func(t *rapid.T) spec.Filter {
		k := rapid.IntRange(0, 4).Draw(t, "filterKind")
		if depth <= 0 || k <= 1 {
			op := spec.CompareOp(rapid.IntRange(0, 5).Draw(t, "cmp"))
			switch rapid.IntRange(0, 5).Draw(t, "prop") {
			case 0:
				return spec.Comparison{Property: spec.RowKeyProp, Op: op, Value: spec.String(rapid.SampledFrom(rowKeys).Draw(t, "rk"))}
			case 1:
				return spec.Comparison{Property: spec.PartitionKeyProp, Op: op, Value: spec.String(rapid.SampledFrom(partitions).Draw(t, "pk"))}
			default:
				name := rapid.SampledFrom(propNames).Draw(t, "name")
				if propTypes[name] == spec.TypeBinary {
					// Azurite orders binaries by their base64 text
					// (TestEmulatorDivergences): test equality only.
					op = rapid.SampledFrom([]spec.CompareOp{spec.Eq, spec.Ne}).Draw(t, "binCmp")
				}
				return spec.Comparison{Property: name, Op: op, Value: genValue(propTypes[name]).Draw(t, "lit")}
			}
		}
		switch k {
		case 2:
			return spec.And{L: genFilter(depth-1).Draw(t, "l"), R: genFilter(depth-1).Draw(t, "r")}
		case 3:
			return spec.Or{L: genFilter(depth-1).Draw(t, "l"), R: genFilter(depth-1).Draw(t, "r")}
		default:
			return spec.Not{X: genFilter(depth-1).Draw(t, "x")}
		}
	})
}

type etagPair struct{ mem, az spec.ETag }

type diffMachine struct {
	ctx context.Context
	mem *spec.MemTable
	az  spec.Table
	// azPaged is the same Azure table read two rows a page, so that
	// streamed queries cross pages.
	azPaged spec.Table
	// versions[k] lists every ETag pair row k has had, oldest first; the
	// last is current when live[k].
	versions map[spec.Key][]etagPair
	live     map[spec.Key]bool
	// azToMem maps (row, Azure ETag) to the MemTable ETag of the same
	// version. Azure ETags are only unique per row: Azurite derives them
	// from a clock, so two rows can share one.
	azToMem map[rowETag]spec.ETag
}

type rowETag struct {
	key  spec.Key
	etag spec.ETag
}

var contentCmp = []cmp.Option{valueCmp, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(spec.Entity{}, "Timestamp")}

func (m *diffMachine) batch(t *rapid.T) {
	pk := rapid.SampledFrom(partitions).Draw(t, "pk")
	n := rapid.IntRange(1, 4).Draw(t, "n")
	rks := rapid.Permutation(rowKeys).Draw(t, "rks")[:n]
	if n > 1 && rapid.IntRange(0, 9).Draw(t, "dupRow") == 0 {
		rks[1] = rks[0] // a caller error: the same row twice
	}
	var memOps, azOps []spec.Op
	for i, rk := range rks {
		k := spec.Key{PartitionKey: pk, RowKey: rk}
		kind := spec.OpKind(rapid.IntRange(0, 6).Draw(t, fmt.Sprintf("kind%d", i)))
		var props spec.Props
		if !kind.IsDelete() {
			props = genProps().Draw(t, fmt.Sprintf("props%d", i))
		}
		var et etagPair
		if kind.NeedsIfMatch() {
			vs := m.versions[k]
			switch c := rapid.IntRange(0, 9).Draw(t, fmt.Sprintf("etag%d", i)); {
			case c == 0:
				et = etagPair{} // a caller error: If-Match missing
			case c <= 4 || len(vs) == 0:
				et = etagPair{spec.AnyETag, spec.AnyETag}
			case c <= 7:
				et = vs[len(vs)-1] // current (or last, if deleted)
			case c == 8:
				et = vs[rapid.IntRange(0, len(vs)-1).Draw(t, "stale")]
			default:
				et = etagPair{"m:never", `W/"datetime'2001-01-01T00%3A00%3A00.0000000Z'"`}
			}
		}
		e := spec.Entity{Key: k, Props: props}
		e.ETag = et.mem
		memOps = append(memOps, spec.Op{Kind: kind, Entity: e.Clone()})
		e.ETag = et.az
		azOps = append(azOps, spec.Op{Kind: kind, Entity: e.Clone()})
	}
	memRes, memErr := m.mem.ExecuteBatch(m.ctx, memOps)
	azRes, azErr := m.az.ExecuteBatch(m.ctx, azOps)
	t.Logf("batch %v: mem %v %v; azure %v %v", memOps, memRes, memErr, azRes, azErr)
	m.compareErrors(t, "batch", memErr, azErr)
	if memErr != nil || azErr != nil {
		return
	}
	if len(memRes) != len(azRes) {
		t.Fatalf("batch: got %d results from Azure, want %d", len(azRes), len(memRes))
	}
	for i, op := range memOps {
		k := op.Entity.Key
		if (memRes[i].ETag == "") != (azRes[i].ETag == "") {
			t.Fatalf("batch result %d: got ETag %q from Azure, MemTable gave %q", i, azRes[i].ETag, memRes[i].ETag)
		}
		if op.Kind.IsDelete() {
			m.live[k] = false
			continue
		}
		m.live[k] = true
		m.versions[k] = append(m.versions[k], etagPair{memRes[i].ETag, azRes[i].ETag})
		m.azToMem[rowETag{k, azRes[i].ETag}] = memRes[i].ETag
	}
}

func (m *diffMachine) compareErrors(t *rapid.T, what string, memErr, azErr error) {
	type outcome struct {
		Status, Index int
		Code          string
	}
	of := func(err error) outcome {
		var e *spec.Error
		if err == nil {
			return outcome{}
		}
		if !asError(err, &e) {
			t.Fatalf("%s: error %v is not a *spec.Error", what, err)
		}
		return outcome{e.Status, e.Index, e.Code}
	}
	if got, want := of(azErr), of(memErr); got != want {
		t.Fatalf("%s: got %+v (%v) from Azure, want %+v (%v) as MemTable", what, got, azErr, want, memErr)
	}
}

// translate maps the Azure ETags of rows to the MemTable ETags of the
// same versions, so that rows compare equal.
func (m *diffMachine) translate(t *rapid.T, rows []spec.Entity) []spec.Entity {
	out := make([]spec.Entity, len(rows))
	for i, r := range rows {
		mem, ok := m.azToMem[rowETag{r.Key, r.ETag}]
		if !ok {
			t.Fatalf("row %v has ETag %q, which no write of this test returned", r.Key, r.ETag)
		}
		r.ETag = mem
		out[i] = r
	}
	return out
}

func (m *diffMachine) queryAtomic(t *rapid.T) {
	pk := rapid.SampledFrom(partitions).Draw(t, "pk")
	f := spec.AndFilters(spec.PartitionFilter(pk), rapid.OneOf(rapid.Just[spec.Filter](nil), genFilter(2)).Draw(t, "filter"))
	memRows, memErr := m.mem.QueryAtomic(m.ctx, f)
	azRows, azErr := m.az.QueryAtomic(m.ctx, f)
	m.compareErrors(t, "atomic query "+spec.FilterString(f), memErr, azErr)
	if diff := cmp.Diff(memRows, m.translate(t, azRows), contentCmp...); diff != "" {
		t.Fatalf("atomic query %s (-MemTable +Azure):\n%s", spec.FilterString(f), diff)
	}
}

// drain reads a whole streamed query, recording the continuation key
// before the first row and after each row ("end" once finished).
func drain(t *rapid.T, ctx context.Context, tbl spec.Table, f spec.Filter) ([]spec.Entity, []string, error) {
	s, err := tbl.QueryStreamed(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	var rows []spec.Entity
	var conts []string
	cont := func() {
		if k, ok := s.Continuation(); ok {
			conts = append(conts, k.String())
		} else {
			conts = append(conts, "end")
		}
	}
	cont()
	for {
		e, ok, err := s.Next(ctx)
		if err != nil {
			return rows, conts, err
		}
		cont()
		if !ok {
			return rows, conts, nil
		}
		rows = append(rows, e)
	}
}

func (m *diffMachine) queryStreamed(t *rapid.T) {
	f := rapid.OneOf(rapid.Just[spec.Filter](nil), genFilter(2)).Draw(t, "filter")
	memRows, memConts, memErr := drain(t, m.ctx, m.mem, f)
	az := m.az
	if rapid.Bool().Draw(t, "paged") {
		az = m.azPaged
	}
	azRows, azConts, azErr := drain(t, m.ctx, az, f)
	m.compareErrors(t, "streamed query "+spec.FilterString(f), memErr, azErr)
	if diff := cmp.Diff(memRows, m.translate(t, azRows), contentCmp...); diff != "" {
		t.Fatalf("streamed query %s (-MemTable +Azure):\n%s", spec.FilterString(f), diff)
	}
	if diff := cmp.Diff(memConts, azConts); diff != "" {
		t.Fatalf("streamed query %s continuation keys (-MemTable +Azure):\n%s", spec.FilterString(f), diff)
	}
}

func (m *diffMachine) Check(t *rapid.T) {
	memRows, _, _ := drain(t, m.ctx, m.mem, nil)
	azRows, _, err := drain(t, m.ctx, m.az, nil)
	if err != nil {
		t.Fatalf("reading the whole Azure table: %v", err)
	}
	if diff := cmp.Diff(memRows, m.translate(t, azRows), contentCmp...); diff != "" {
		t.Fatalf("table content (-MemTable +Azure):\n%s", diff)
	}
}

func TestDifferentialAgainstMemTable(t *testing.T) {
	srv := azuritetest.Shared(t)
	limitRapidChecks()
	rapid.Check(t, func(rt *rapid.T) {
		tbl := srv.NewTable(t, "diff")
		m := &diffMachine{
			ctx:      context.Background(),
			mem:      spec.NewMemTable("m:"),
			az:       tbl,
			azPaged:  tbl.WithPageSize(2),
			versions: map[spec.Key][]etagPair{},
			live:     map[spec.Key]bool{},
			azToMem:  map[rowETag]spec.ETag{},
		}
		rt.Repeat(map[string]func(*rapid.T){
			"batch":         m.batch,
			"queryAtomic":   m.queryAtomic,
			"queryStreamed": m.queryStreamed,
			"":              m.Check,
		})
	})
}

func asError(err error, target **spec.Error) bool { return errors.As(err, target) }
