package harness

import (
	"context"
	"fmt"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// streamCheck is oracle 3 for one streamed query: each row returned, and
// end of stream, must be a valid next answer given the reference table's
// revisions since the query began, and the continuation key must never
// go backwards nor pass the next row returned.
type streamCheck struct {
	filter   spec.Filter
	startRev int       // index in world.revs current when the query began
	last     *spec.Key // last key returned
	cont     *spec.Key // last continuation reported
}

func (w *world) newStreamCheck(f spec.Filter) *streamCheck {
	return &streamCheck{filter: f, startRev: len(w.revs) - 1}
}

// next checks one answer of the stream: a row (ok) or the end (!ok).
// It returns a description of the violation, or "".
func (sc *streamCheck) next(w *world, e spec.Entity, ok bool) string {
	revs := w.revs[sc.startRev:]
	after := func(k spec.Key) bool { return sc.last == nil || sc.last.Less(k) }
	// The mandatory key: the smallest key after the last one returned
	// that matches the filter in every revision since the query began.
	mandatory := linearizability.MandatoryKey(len(revs), func(i int) spec.Rows { return revs[i] }, sc.filter, sc.last)
	if !ok {
		if mandatory != nil {
			return fmt.Sprintf("stream ended, but row %s was present in every revision since the query began and was not returned", mandatory)
		}
		return ""
	}
	if !after(e.Key) {
		return fmt.Sprintf("row %s returned after row %s: keys must increase", e.Key, sc.last)
	}
	if sc.cont != nil && e.Key.Less(*sc.cont) {
		return fmt.Sprintf("row %s returned below the continuation key %s reported before it", e.Key, sc.cont)
	}
	if mandatory != nil && mandatory.Less(e.Key) {
		return fmt.Sprintf("row %s returned, skipping row %s, which was present in every revision since the query began", e.Key, mandatory)
	}
	for _, rev := range revs {
		if x, found := rev.Get(e.Key); found && x.ETag == e.ETag && propsIdentical(x.Props, e.Props) && spec.Matches(sc.filter, x) {
			k := e.Key
			sc.last = &k
			return ""
		}
	}
	return fmt.Sprintf("row %s is not a version of that row matching the filter in any revision since the query began", formatEntity(e))
}

// continuation checks the continuation key reported after an answer.
func (sc *streamCheck) continuation(k spec.Key, ok bool) string {
	if !ok {
		return ""
	}
	if sc.last != nil && !sc.last.Less(k) {
		return fmt.Sprintf("continuation key %s is not greater than the last row returned, %s", k, sc.last)
	}
	if sc.cont != nil && k.Less(*sc.cont) {
		return fmt.Sprintf("continuation key went backwards: %s after %s", k, sc.cont)
	}
	sc.cont = &k
	return ""
}

func canonicalRow(e spec.Entity) comparableRow {
	return comparableRow{e.Key, e.ETag, formatProps(e.Props)}
}

// runStream runs a streamed query to its end, recording each answer
// (with its event time, for oracle 2) and checking it (oracle 3). The
// stream is read to its end whatever the checks say, so that switching
// oracles off changes no schedule.
func (w *world) runStream(ctx context.Context, t spec.Table, c *callRecord) ([]spec.Entity, error) {
	sc := w.newStreamCheck(c.Call.Filter)
	s, err := t.QueryStreamed(ctx, c.Call.Filter)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var rows []spec.Entity
	failed := false
	check := func(msg string) {
		if msg != "" && !failed {
			failed = true
			w.fail(ctx, &CheckFailure{Check: CheckStream, Call: c.String(), Message: msg})
		}
	}
	for {
		e, ok, err := s.Next(ctx)
		if err != nil {
			return rows, err
		}
		a := linearizability.StreamAnswer{At: w.tick(), End: !ok}
		if ok {
			a.Row = e
		}
		if sched.Tracing() {
			if ok {
				sched.Logf("stream returned %s", formatEntity(e))
			} else {
				sched.Logf("stream returned end")
			}
		}
		c.AnswerSteps = append(c.AnswerSteps, sched.Step())
		if !failed {
			check(sc.next(w, e, ok))
		}
		a.Cont, a.HasCont = s.Continuation()
		c.Answers = append(c.Answers, a)
		if !failed {
			check(sc.continuation(a.Cont, a.HasCont))
		}
		if !ok {
			return rows, nil
		}
		rows = append(rows, e)
	}
}
