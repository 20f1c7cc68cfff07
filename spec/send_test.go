package spec_test

import (
	"context"
	"errors"
	"testing"

	"github.com/migratingtable/migratingtable/spec"
)

func TestSendChecks(t *testing.T) {
	ctx := context.Background()
	if err := spec.CheckSend(ctx); err != nil {
		t.Fatalf("no check: got %v, want nil", err)
	}
	var calls []string
	outer, inner := errors.New("outer closed"), errors.New("inner closed")
	var outerOpen, innerOpen = true, true
	ctx1 := spec.WithSendCheck(ctx, func() error {
		calls = append(calls, "outer")
		if !outerOpen {
			return outer
		}
		return nil
	})
	ctx2 := spec.WithSendCheck(context.WithValue(ctx1, struct{}{}, 1), func() error {
		calls = append(calls, "inner")
		if !innerOpen {
			return inner
		}
		return nil
	})
	tests := []struct {
		name          string
		outer, inner  bool
		ctx           context.Context
		want          error
		wantCallOrder string
	}{
		{"both open", true, true, ctx2, nil, "inner,outer"},
		{"outer closed", false, true, ctx2, outer, "inner,outer"},
		{"inner closed: the most recent first", true, false, ctx2, inner, "inner"},
		{"both closed", false, false, ctx2, inner, "inner"},
		{"the parent does not see the child's check", true, false, ctx1, nil, "outer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = nil
			outerOpen, innerOpen = tt.outer, tt.inner
			if got := spec.CheckSend(tt.ctx); got != tt.want {
				t.Errorf("CheckSend: got %v, want %v", got, tt.want)
			}
			got := ""
			for i, c := range calls {
				if i > 0 {
					got += ","
				}
				got += c
			}
			if got != tt.wantCallOrder {
				t.Errorf("checks called: got %q, want %q", got, tt.wantCallOrder)
			}
		})
	}
}
