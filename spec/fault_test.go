package spec_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/migratingtable/migratingtable/spec"
)

func TestClassify(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	tests := []struct {
		name string
		err  error
		want spec.Outcome
	}{
		{"nil", nil, spec.Succeeded},
		{"404", spec.Errorf(404, 0, "absent"), spec.Refused},
		{"wrapped 412", fmt.Errorf("layer: %w", spec.Errorf(412, 1, "changed")), spec.Refused},
		{"400", spec.Errorf(400, -1, "bad"), spec.Refused},
		{"multi-page", fmt.Errorf("query: %w", spec.ErrMultiPage), spec.Refused},
		{"not applied", spec.WrapNotApplied(cause), spec.NotApplied},
		{"wrapped not applied", fmt.Errorf("layer: %w", spec.WrapNotApplied(cause)), spec.NotApplied},
		{"sentinel not applied", spec.ErrNotApplied, spec.NotApplied},
		{"unknown", spec.WrapOutcomeUnknown(cause), spec.Unknown},
		{"wrapped unknown", fmt.Errorf("layer: %w", spec.WrapOutcomeUnknown(nil)), spec.Unknown},
		{"unclassified", errors.New("something broke"), spec.Unknown},
		{"cancelled", context.Canceled, spec.Unknown},
		{"unknown wins over not applied", spec.WrapOutcomeUnknown(spec.WrapNotApplied(cause)), spec.Unknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := spec.Classify(tc.err); got != tc.want {
				t.Errorf("Classify(%v): got %v, want %v", tc.err, got, tc.want)
			}
			wantTransient := tc.want == spec.NotApplied || tc.want == spec.Unknown
			if got := spec.Transient(tc.err); got != wantTransient {
				t.Errorf("Transient(%v): got %v, want %v", tc.err, got, wantTransient)
			}
		})
	}
}

func TestFaultErrorsWrap(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	na := spec.WrapNotApplied(cause)
	if !errors.Is(na, spec.ErrNotApplied) || !errors.Is(na, cause) || errors.Is(na, spec.ErrOutcomeUnknown) {
		t.Errorf("WrapNotApplied: errors.Is(ErrNotApplied, cause, ErrOutcomeUnknown) = %v, %v, %v; want true, true, false",
			errors.Is(na, spec.ErrNotApplied), errors.Is(na, cause), errors.Is(na, spec.ErrOutcomeUnknown))
	}
	if got, want := na.Error(), "unexpected EOF (not applied: safe to retry)"; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}
	un := spec.WrapOutcomeUnknown(cause)
	if !errors.Is(un, spec.ErrOutcomeUnknown) || !errors.Is(un, cause) || errors.Is(un, spec.ErrNotApplied) {
		t.Errorf("WrapOutcomeUnknown: wrong wrapping")
	}
	if got, want := un.Error(), "unexpected EOF (outcome unknown: the request may have been applied)"; got != want {
		t.Errorf("message: got %q, want %q", got, want)
	}
	if got := spec.StatusOf(un); got != 0 {
		t.Errorf("StatusOf(unknown): got %d, want 0", got)
	}
	if got, want := spec.Outcome(9).String(), "Outcome(?)"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
}
