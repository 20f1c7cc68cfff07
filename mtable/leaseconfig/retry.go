package leaseconfig

import (
	"context"
	"errors"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// transient reports whether err is a failure the table classified as
// not applied or of unknown outcome, and not a fence's refusal: a
// request worth sending again.
func (s *Service) transient(err error) bool {
	return !errors.Is(err, ErrFenced) && (errors.Is(err, spec.ErrNotApplied) || errors.Is(err, spec.ErrOutcomeUnknown))
}

// retry reports whether a request of a push that failed with err on
// its attempt-th try is tried again: as the library retries a backend
// step (mtable.RetryBackend), but never after a fence's refusal.
func (s *Service) retry(ctx context.Context, attempt int, err error) bool {
	return !s.is(mtable.BugConfigNoRetry) && !errors.Is(err, ErrFenced) && mtable.RetryBackend(ctx, attempt, err)
}

// retried runs f, a read (or a read that creates a missing row with an
// Insert, which a second try meets as 409), until it succeeds or retry
// says no more.
func (s *Service) retried(ctx context.Context, f func() error) error {
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || !s.retry(ctx, attempt, err) {
			return err
		}
	}
}
