package spec

// Filter is a parsed query filter in the OData subset Azure Table
// storage uses. A nil Filter matches every row. Filters are immutable
// values; String prints a form that ParseFilter reads back to an equal
// filter.
type Filter interface {
	// String prints the filter in OData syntax, fully parenthesised
	// where precedence requires it.
	String() string
	isFilter()
}

// CompareOp is a comparison operator.
type CompareOp uint8

// The OData comparison operators.
const (
	Eq CompareOp = iota
	Ne
	Lt
	Le
	Gt
	Ge
)

var compareOpNames = [...]string{"eq", "ne", "lt", "le", "gt", "ge"}

// String returns the OData spelling, e.g. "ge".
func (o CompareOp) String() string {
	if int(o) < len(compareOpNames) {
		return compareOpNames[o]
	}
	return "?"
}

// The system properties a filter can name: the primary key (compared as
// strings) and the Timestamp.
const (
	PartitionKeyProp = "PartitionKey"
	RowKeyProp       = "RowKey"
	TimestampProp    = "Timestamp" // compares as an Edm.DateTime
)

// Comparison compares a property with a literal: Property Op Value.
// PartitionKey and RowKey compare as strings.
type Comparison struct {
	Property string
	Op       CompareOp
	Value    Value
}

// And matches rows that match both L and R.
type And struct{ L, R Filter }

// Or matches rows that match L or R.
type Or struct{ L, R Filter }

// Not matches rows that X does not match.
type Not struct{ X Filter }

func (Comparison) isFilter() {}
func (And) isFilter()        {}
func (Or) isFilter()         {}
func (Not) isFilter()        {}

// Matches reports whether e satisfies f. Following Azure, a comparison
// on a property the row lacks, or with a literal of another type, is
// false (and "not" of such a comparison is true). A nil filter matches.
func Matches(f Filter, e Entity) bool {
	switch f := f.(type) {
	case nil:
		return true
	case Comparison:
		var v Value
		switch f.Property {
		case PartitionKeyProp:
			v = String(e.PartitionKey)
		case RowKeyProp:
			v = String(e.RowKey)
		case TimestampProp:
			v = DateTime(e.Timestamp)
		default:
			var ok bool
			if v, ok = e.Props[f.Property]; !ok {
				return false
			}
		}
		c, ok := v.Compare(f.Value)
		if !ok {
			return false
		}
		switch f.Op {
		case Eq:
			return c == 0
		case Ne:
			return c != 0
		case Lt:
			return c < 0
		case Le:
			return c <= 0
		case Gt:
			return c > 0
		case Ge:
			return c >= 0
		}
		return false
	case And:
		return Matches(f.L, e) && Matches(f.R, e)
	case Or:
		return Matches(f.L, e) || Matches(f.R, e)
	case Not:
		return !Matches(f.X, e)
	}
	return false
}

// AndFilters combines filters with "and", skipping nil ones.
func AndFilters(fs ...Filter) Filter {
	var out Filter
	for _, f := range fs {
		switch {
		case f == nil:
		case out == nil:
			out = f
		default:
			out = And{out, f}
		}
	}
	return out
}

// PartitionFilter matches every row of one partition.
func PartitionFilter(pk string) Filter {
	return Comparison{PartitionKeyProp, Eq, String(pk)}
}

// KeyFilter matches exactly one row.
func KeyFilter(k Key) Filter {
	return And{PartitionFilter(k.PartitionKey), Comparison{RowKeyProp, Eq, String(k.RowKey)}}
}

// FromKeyFilter matches rows whose key is >= k.
func FromKeyFilter(k Key) Filter {
	return Or{
		Comparison{PartitionKeyProp, Gt, String(k.PartitionKey)},
		And{PartitionFilter(k.PartitionKey), Comparison{RowKeyProp, Ge, String(k.RowKey)}},
	}
}

// SinglePartition reports the partition a filter targets syntactically:
// the filter is "PartitionKey eq 'p'" or an "and" one of whose operands
// (recursively) is. This is the rule atomic queries require.
func SinglePartition(f Filter) (pk string, ok bool) {
	switch f := f.(type) {
	case Comparison:
		if f.Property == PartitionKeyProp && f.Op == Eq && f.Value.Type() == TypeString {
			return f.Value.Str(), true
		}
	case And:
		if pk, ok := SinglePartition(f.L); ok {
			return pk, true
		}
		return SinglePartition(f.R)
	}
	return "", false
}

// MaxComparisons is the most comparisons Azure Table storage accepts in
// one filter.
const MaxComparisons = 15

// CountComparisons returns the number of comparisons in f (0 for nil).
func CountComparisons(f Filter) int {
	switch f := f.(type) {
	case Comparison:
		return 1
	case And:
		return CountComparisons(f.L) + CountComparisons(f.R)
	case Or:
		return CountComparisons(f.L) + CountComparisons(f.R)
	case Not:
		return CountComparisons(f.X)
	}
	return 0
}
