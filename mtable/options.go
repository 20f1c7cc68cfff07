package mtable

// Option configures a Table or a Migrator.
type Option func(*options)

type options struct {
	bug Bug
	mon Monitor
}

func buildOptions(opts []Option) options {
	o := options{bug: NoBug}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// WithBug re-introduces one catalogued mistake (see Bug). NoBug, the
// default, is the correct library; an out-of-range value is treated as
// NoBug.
func WithBug(b Bug) Option {
	return func(o *options) {
		if !b.valid() {
			b = NoBug
		}
		o.bug = b
	}
}

// WithMonitor makes the library report every backend call to m (see
// Monitor and Annotation). A nil m means no monitor, the default.
func WithMonitor(m Monitor) Option {
	return func(o *options) { o.mon = m }
}
