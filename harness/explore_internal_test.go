package harness

import (
	"strings"
	"testing"
)

// TestGuard: a panic outside the machines, on a worker goroutine,
// becomes an error naming the iteration and where it happened instead
// of ending the process.
func TestGuard(t *testing.T) {
	it, err := guard(7, func() (*Iteration, error) {
		var revs []int
		_ = revs[len(revs)] // index out of range
		return &Iteration{}, nil
	})
	if it != nil || err == nil {
		t.Fatalf("guard: got %v, %v; want nil and an error", it, err)
	}
	for _, want := range []string{"internal error in iteration 7", "index out of range", "explore_internal_test.go:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
}
