package mtable

// Option configures a Table or a Migrator. Build options with WithBug
// and WithMonitor; the zero Option changes nothing.
type Option struct{ apply func(*options) }

type options struct {
	bug Bug
	mon Monitor
}

func buildOptions(opts []Option) options {
	o := options{bug: NoBug}
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
