package leaseconfig

import (
	"errors"
	"testing"

	"github.com/migratingtable/migratingtable/spec"
)

// TestFenceErrorsClassified: a request the fence refused was not sent,
// and says so to spec.Classify (so MigratingTable reports a definite
// failure, not an unknown outcome); one cut off in flight has an
// unknown outcome. Both still wrap ErrFenced.
func TestFenceErrorsClassified(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want spec.Outcome
	}{
		{"refused", &fenceError{msg: "not sent"}, spec.NotApplied},
		{"cut off in flight", &fenceError{msg: "cut off", unknown: true}, spec.Unknown},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := spec.Classify(tt.err); got != tt.want {
				t.Errorf("Classify got %v, want %v", got, tt.want)
			}
			if !errors.Is(tt.err, ErrFenced) {
				t.Errorf("%v does not wrap ErrFenced", tt.err)
			}
		})
	}
}
