package mtable

// Option configures a Table or a Migrator. Build options with WithBug
// and WithMonitor; the zero Option changes nothing.
type Option struct{ apply func(*options) }

type options struct {
	bug         Bug
	mon         Monitor
	keysPerRead int
}

func buildOptions(opts []Option) options {
	o := options{bug: NoBug, keysPerRead: MaxKeysPerRead}
	for _, opt := range opts {
		if opt.apply != nil {
			opt.apply(&o)
		}
	}
	return o
}

// WithBug re-introduces one catalogued mistake (see Bug). NoBug, the
// default, is the correct library; an out-of-range value is treated as
// NoBug.
func WithBug(b Bug) Option {
	return Option{func(o *options) {
		if !b.Valid() {
			b = NoBug
		}
		o.bug = b
	}}
}

// WithMonitor makes the library report every backend call to m (see
// Monitor and Annotation). A nil m means no monitor, the default.
func WithMonitor(m Monitor) Option {
	return Option{func(o *options) { o.mon = m }}
}

// MaxKeysPerRead is the most rows one read of the write path names, and
// the default: "PartitionKey eq 'p' and (RowKey eq 'r1' or ...)" stays
// within Azure's limit of spec.MaxComparisons comparisons.
const MaxKeysPerRead = 14

// WithKeysPerRead makes the library name at most n RowKeys in one read:
// a batch reads its rows n at a time, and an atomic query names at most
// n keys of old rows in its new-table read (see the package
// documentation). Fewer keys cost more reads; with n = 1 every read of a
// batch's rows is a point query, for a service that answers a
// disjunction of keys by scanning the partition. Outside 1..MaxKeysPerRead
// the default, MaxKeysPerRead, applies.
func WithKeysPerRead(n int) Option {
	return Option{func(o *options) {
		if n < 1 || n > MaxKeysPerRead {
			n = MaxKeysPerRead
		}
		o.keysPerRead = n
	}}
}
