package harness

import (
	"strconv"
	"time"

	"github.com/migratingtable/migratingtable/spec"
)

// The workload's rows carry, besides isHappy (a bool) and the
// properties naming the writes that made them, one property of each
// other type a table stores, each with three values, so that filters
// compare every type with every operator:
//
//	name  Edm.String    'ann', 'bob', 'o''neil'
//	count Edm.Int32     -1, 0, 7
//	total Edm.Int64     -5000000000L, 0L, 1099511627776L
//	score Edm.Double    -0.5, 0.0, 2.5
//	when  Edm.DateTime  2020-01-01T00:00:00Z, 100 ns later, 2021-06-15T12:00:00Z
//	id    Edm.Guid      …0001, …0002, ffffffff-…
//	blob  Edm.Binary    X'', X'00', X'ff01'
//
// Value v of the set a row or write draws gives property j (in the order
// above) the value (v+j) mod 3, so the properties of a row differ.
var typedProps = []struct {
	name   string
	values [3]spec.Value
}{
	{"name", [3]spec.Value{spec.String("ann"), spec.String("bob"), spec.String("o'neil")}},
	{"count", [3]spec.Value{spec.Int32(-1), spec.Int32(0), spec.Int32(7)}},
	{"total", [3]spec.Value{spec.Int64(-5_000_000_000), spec.Int64(0), spec.Int64(1 << 40)}},
	{"score", [3]spec.Value{spec.Double(-0.5), spec.Double(0), spec.Double(2.5)}},
	{"when", [3]spec.Value{
		spec.DateTime(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)),
		spec.DateTime(time.Date(2020, 1, 1, 0, 0, 0, 100, time.UTC)),
		spec.DateTime(time.Date(2021, 6, 15, 12, 0, 0, 0, time.UTC))}},
	{"id", [3]spec.Value{mustGUID("00000000-0000-0000-0000-000000000001"), mustGUID("00000000-0000-0000-0000-000000000002"), mustGUID("ffffffff-0000-0000-0000-000000000000")}},
	{"blob", [3]spec.Value{spec.Binary(nil), spec.Binary([]byte{0}), spec.Binary([]byte{0xff, 0x01})}},
}

func mustGUID(s string) spec.Value {
	v, err := spec.ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return v
}

// setTyped sets the typed properties of value set v on p.
func setTyped(p spec.Props, v int) {
	for j, tp := range typedProps {
		p[tp.name] = tp.values[(v+j)%3]
	}
}

// initialProps are the properties of initial row r: isHappy when r is
// even, and the typed properties of value set r mod 3.
func initialProps(r int) spec.Props {
	p := spec.Props{"isHappy": spec.Bool(r%2 == 0)}
	setTyped(p, r%3)
	return p
}

// genWriteProps draws the properties a write operation (operation op
// of application app's call) sets, besides its own name: isHappy only
// (half the writes, as in the original workload), isHappy and the typed
// properties of a drawn value set (a quarter), or the typed properties
// only (a quarter). A Replace of the first kind drops the typed
// properties, one of the last kind drops isHappy: a filter on them then
// no longer matches (a comparison on a missing property is false), the
// case the filter-shadowing logic exists for.
func (w *world) genWriteProps(name string, app, call, op int) spec.Props {
	happy := w.chooseBool(chHappy, app, call, op)
	p := spec.Props{name: spec.Bool(true)}
	shape := w.choose(4, chHappy, app, call, op)
	if shape != 3 {
		p["isHappy"] = spec.Bool(happy)
	}
	if shape >= 2 {
		setTyped(p, w.choose(3, chHappy, app, call, op))
	}
	return p
}

// filterGen draws the filter of application app's call: its choices
// are the call's, of kind chFilter, so the shrinker drops them with the
// call.
type filterGen struct {
	w         *world
	app, call int
}

func (w *world) filterGen(app, call int) filterGen { return filterGen{w, app, call} }

func (g filterGen) choose(n int) int { return g.w.choose(n, chFilter, g.app, g.call, -1) }

func (g filterGen) bool() bool { return g.choose(2) == 1 }

// stream draws a streamed query's filter (genQueryFilter).
func (g filterGen) stream() spec.Filter {
	return g.genQueryFilter(spec.MaxComparisons)
}

// atomic draws an atomic query's filter: PartitionKey eq pk, and a
// genQueryFilter within Azure's limit of comparisons, counting the
// partition's. On a wide partition (wide) the filter also asks for
// RowKey lt '~', every row but the fillers (see Workload.WidePartition):
// an atomic query of more rows than a page fails, as on Azure, and
// filters that match every row are among those drawn. There it also
// keeps to 14 comparisons, as the library's doc asks of callers: with
// all 15, a query on a partition not yet switched reads the old table's
// whole partition, more than a page (elsewhere the workload uses all 15,
// so that path is exercised).
func (g filterGen) atomic(pk string, wide bool) spec.Filter {
	if wide {
		notFillers := spec.Comparison{Property: spec.RowKeyProp, Op: spec.Lt, Value: spec.String(fillerPrefix[:1])}
		return spec.AndFilters(spec.PartitionFilter(pk), notFillers, g.genQueryFilter(spec.MaxComparisons-3))
	}
	return spec.AndFilters(spec.PartitionFilter(pk), g.genQueryFilter(spec.MaxComparisons-1))
}

// genQueryFilter draws a query's filter, with at most limit comparisons,
// in four roles, in twelfths. Four observe as much as possible: one is
// no filter (nil), three a filter written as callers do that matches
// every row, or every row that has a property (genBroad). Five select
// by isHappy, which most writes change: the original workload's filter,
// and one that shows well a row shadowed by a version that no longer
// matches (genHappy). Three are drawn from the whole language
// (genFilter). These shares find the bug catalogue as fast as the
// original workload's filters (none, isHappy eq false, isHappy eq true)
// did.
func (g filterGen) genQueryFilter(limit int) spec.Filter {
	if g.w.opts.happyFilters {
		switch g.choose(3) {
		case 0:
			return nil
		case 1:
			return spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(false)}
		}
		return spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(true)}
	}
	switch k := g.choose(12); {
	case k < 1:
		return nil
	case k < 4:
		return g.genBroad()
	case k < 9:
		return g.genHappy()
	}
	return g.genFilter(limit)
}

// genBroad draws a filter that matches every row, or every row that has
// a property: a RowKey or PartitionKey bound, a negated comparison on a
// property no row has, a comparison or its negation, or a test that a
// row has isHappy or a typed property (the least value or more). A
// presence test is what shows a row shadowed by a version that dropped
// the property.
func (g filterGen) genBroad() spec.Filter {
	switch g.choose(6) {
	case 0:
		if g.bool() {
			return spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ge, Value: spec.String("0")}
		}
		return spec.Comparison{Property: spec.PartitionKeyProp, Op: spec.Ge, Value: spec.String("p0")}
	case 1:
		return spec.Not{X: spec.Comparison{Property: "absent", Op: spec.Eq, Value: spec.Int32(0)}}
	case 2:
		c := g.genComparison(true)
		return spec.Or{L: c, R: spec.Not{X: c}}
	case 3:
		return spec.Or{
			L: spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(true)},
			R: spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(false)},
		}
	}
	tp := typedProps[g.choose(len(typedProps))]
	return spec.Comparison{Property: tp.name, Op: spec.Ge, Value: tp.values[0]}
}

// genHappy draws a filter that selects rows by isHappy, in one of
// several spellings: isHappy eq v, isHappy ne !v, not (isHappy eq !v)
// (which also matches rows without isHappy), an ordering (isHappy gt
// false for true), or isHappy eq v under and with a bound every row
// meets or under or with a comparison no row meets.
func (g filterGen) genHappy() spec.Filter {
	v := g.bool()
	eq := spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(v)}
	switch g.choose(8) {
	case 0, 1, 2:
		return eq
	case 3:
		return spec.Comparison{Property: "isHappy", Op: spec.Ne, Value: spec.Bool(!v)}
	case 4:
		return spec.Not{X: spec.Comparison{Property: "isHappy", Op: spec.Eq, Value: spec.Bool(!v)}}
	case 5:
		if v {
			return spec.Comparison{Property: "isHappy", Op: spec.Gt, Value: spec.Bool(false)}
		}
		return spec.Comparison{Property: "isHappy", Op: spec.Lt, Value: spec.Bool(true)}
	case 6:
		return spec.And{L: eq, R: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ge, Value: spec.String("0")}}
	}
	return spec.Or{L: eq, R: spec.Comparison{Property: "absent", Op: spec.Eq, Value: spec.Int32(0)}}
}

// genFilter draws a filter of the language spec.ParseFilter reads, with
// at most limit comparisons, in the shapes callers write:
//
//   - a comparison on isHappy or a typed property, with any operator
//     (an ordering operator gets a literal that splits the values);
//   - two such comparisons under and;
//   - a list of values of one property under or (an "in" list), now
//     and then long enough to reach limit, so the library's widened
//     filters pass Azure's comparison limit and it reads whole
//     partitions instead;
//   - a negation (not) of a comparison or a conjunction;
//   - a RowKey range (RowKey ge 'a' and RowKey lt 'b'), alone or with a
//     comparison;
//   - a comparison on PartitionKey or RowKey with any operator, with a
//     property comparison under and or or;
//   - an arbitrary tree of 2 to 4 comparisons under and, or and not,
//     which may compare a property no row has, or a property with a
//     literal of another type (both false whatever the row holds).
//
// Timestamp is never compared: the linearizability model does not know
// the Timestamps of written rows (a write reports only its ETag), and
// the reference table's differ from the backends', so no oracle could
// judge such a filter.
func (g filterGen) genFilter(limit int) spec.Filter {
	switch g.choose(12) {
	case 0, 1, 2:
		return g.genComparison(true)
	case 3:
		// A presence test: every value of the property is within.
		tp := typedProps[g.choose(len(typedProps))]
		if g.bool() {
			return spec.Comparison{Property: tp.name, Op: spec.Ge, Value: tp.values[0]}
		}
		return spec.Comparison{Property: tp.name, Op: spec.Le, Value: tp.values[2]}
	case 4:
		return spec.And{L: g.genComparison(true), R: g.genComparison(true)}
	case 5:
		n := 2 + g.choose(2)
		if g.choose(3) == 0 {
			n = limit - g.choose(3)
		}
		return g.genInList(n)
	case 6:
		if g.bool() {
			return spec.Not{X: g.genComparison(true)}
		}
		return spec.Not{X: spec.And{L: g.genComparison(true), R: g.genComparison(true)}}
	case 7, 8:
		lo, hi := g.choose(g.w.wl.RowKeys), 1+g.choose(g.w.wl.RowKeys)
		f := spec.Filter(spec.And{
			L: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Ge, Value: spec.String(strconv.Itoa(lo))},
			R: spec.Comparison{Property: spec.RowKeyProp, Op: spec.Lt, Value: spec.String(strconv.Itoa(hi))},
		})
		if g.bool() {
			f = spec.And{L: f, R: g.genComparison(true)}
		}
		return f
	case 9, 10:
		var key spec.Comparison
		if g.bool() {
			key = spec.Comparison{Property: spec.PartitionKeyProp, Value: spec.String(partitionName(g.choose(g.w.wl.Partitions)))}
		} else {
			key = spec.Comparison{Property: spec.RowKeyProp, Value: spec.String(strconv.Itoa(g.choose(g.w.wl.RowKeys)))}
		}
		key.Op = spec.CompareOp(g.choose(int(spec.Ge) + 1))
		return g.combine(key, g.genComparison(true))
	}
	return g.genTree(2 + g.choose(3))
}

// genInList is n equalities of one property, under or: its values in
// turn (a long list repeats them; callers' lists do).
func (g filterGen) genInList(n int) spec.Filter {
	var values []spec.Value
	k := g.choose(len(typedProps) + 1)
	name := "isHappy"
	if k < len(typedProps) {
		name, values = typedProps[k].name, typedProps[k].values[:]
	} else {
		values = []spec.Value{spec.Bool(false), spec.Bool(true)}
	}
	first := g.choose(len(values))
	var f spec.Filter
	for i := range n {
		c := spec.Comparison{Property: name, Op: spec.Eq, Value: values[(first+i)%len(values)]}
		if f == nil {
			f = c
		} else {
			f = spec.Or{L: f, R: c}
		}
	}
	return f
}

// genTree draws a filter with exactly n comparisons of any kind
// (genComparison(false)), each comparison or combination sometimes
// under not.
func (g filterGen) genTree(n int) spec.Filter {
	var f spec.Filter
	if n >= 2 {
		k := 1 + g.choose(n-1)
		f = g.combine(g.genTree(k), g.genTree(n-k))
	} else {
		f = g.genComparison(false)
	}
	if g.choose(5) == 0 {
		f = spec.Not{X: f}
	}
	return f
}

func (g filterGen) combine(l, r spec.Filter) spec.Filter {
	if g.bool() {
		return spec.And{L: l, R: r}
	}
	return spec.Or{L: l, R: r}
}

// genComparison draws one comparison with any operator: on isHappy or a
// typed property (property true), or (false) also on PartitionKey,
// RowKey or a property no row has, and now and then with a literal of
// another type than the property's. An ordering operator on isHappy or
// a typed property gets a literal that splits the property's values
// (isHappy lt true, count ge 0), never one that no value or every value
// satisfies.
func (g filterGen) genComparison(property bool) spec.Filter {
	op := spec.CompareOp(g.choose(int(spec.Ge) + 1))
	// below: the literal must leave a value below it (lt, ge) or above
	// it (le, gt) for the comparison to split.
	ordered, below := op != spec.Eq && op != spec.Ne, op == spec.Lt || op == spec.Ge
	// isHappy, which most writes change, as often as all the typed
	// properties together.
	k := g.choose(2 * len(typedProps))
	if !property {
		k = g.choose(2*len(typedProps) + 3)
	}
	var c spec.Comparison
	switch {
	case k < len(typedProps):
		tp := typedProps[k]
		i := g.choose(3)
		if ordered {
			i = g.choose(2)
			if below {
				i++
			}
		}
		c = spec.Comparison{Property: tp.name, Value: tp.values[i]}
		if !property && g.choose(4) == 0 {
			// A literal of another type: false whatever the row holds.
			c.Value = typedProps[(k+1)%len(typedProps)].values[0]
		}
	case k < 2*len(typedProps):
		v := g.bool()
		if ordered {
			v = below
		}
		c = spec.Comparison{Property: "isHappy", Value: spec.Bool(v)}
	case k == 2*len(typedProps):
		c = spec.Comparison{Property: spec.PartitionKeyProp, Value: spec.String(partitionName(g.choose(g.w.wl.Partitions)))}
	case k == 2*len(typedProps)+1:
		c = spec.Comparison{Property: spec.RowKeyProp, Value: spec.String(strconv.Itoa(g.choose(g.w.wl.RowKeys)))}
	default:
		c = spec.Comparison{Property: "absent", Value: spec.Int32(0)}
	}
	c.Op = op
	return c
}
