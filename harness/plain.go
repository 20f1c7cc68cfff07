package harness

import (
	"context"
	"fmt"
	"strconv"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// Plain clients (Workload.Plain) are the production procedure's first
// and last steps: application processes that call the old table
// directly before the migration, and the new table directly after it.
// A plain call's linearization point is its backend call itself, which
// the harness annotates for oracle 1 (the library knows nothing of it);
// oracle 2 judges it with every other call; and the plain-client oracle
// (CheckPlain) compares each of its backend calls with the same call on
// the virtual view at that instant.

// The tables a call goes to.
const (
	viaLibrary = ""    // through the application's MigratingTable
	plainOld   = "old" // the old table, directly
	plainNew   = "new" // the new table, directly
)

// plainRole is what application i does plainly: its first old calls go
// to the old table directly (then it is redeployed as a MigratingTable
// client), and from call newFrom on, once the migration is done, its
// calls go to the new table directly (newFrom is its number of calls
// when it never does).
type plainRole struct {
	drawn   bool
	old     int
	newFrom int
	// oldDone is set once the application no longer calls the old table
	// directly (it counted in world.plainOldLeft until then).
	oldDone bool
}

// drawRole draws application i's plain role, once, in its own machine
// (so the shrinker drops the choices with the machine): one application
// in two is a MigratingTable client throughout; one in four begins
// with 1 to all of its calls on the old table directly; one in four
// goes over to the new table directly from a chosen call on.
func (w *world) drawRole(i int) *plainRole {
	r := &w.roles[i]
	if r.drawn {
		return r
	}
	n := w.wl.callsOf(i)
	*r = plainRole{drawn: true, newFrom: n}
	if w.wl.Plain && n > 0 {
		switch w.choose(4, chPlain, i, -1, -1) {
		case 2:
			r.old = 1 + w.choose(n, chPlain, i, -1, -1)
		case 3:
			r.newFrom = w.choose(n, chPlain, i, -1, -1)
		}
		switch {
		case r.old > 0:
			sched.Logf("app%d: calls 0..%d on the old table directly, then through MigratingTable", i, r.old-1)
		case r.newFrom < n:
			sched.Logf("app%d: calls from %d on on the new table directly, once the migration is done", i, r.newFrom)
		}
	}
	return r
}

// plainOldPhase makes application i's calls on the old table directly
// (old is its plain link to it), then notes that it has been
// redeployed: from then on it is a MigratingTable client.
func (w *world) plainOldPhase(ctx context.Context, i int, old spec.Table) {
	r := w.drawRole(i)
	if w.next[i] < r.old {
		w.app(ctx, i, old, plainOld, r.old)
	}
	if w.wl.Plain && !r.oldDone {
		w.lock()
		r.oldDone = true
		w.plainOldLeft--
		w.wake()
		w.unlock()
	}
}

// plainNewPhase makes application i's remaining calls on the new table
// directly (new is its plain link to it), once the migration is done.
func (w *world) plainNewPhase(ctx context.Context, i int, new spec.Table) {
	if w.next[i] >= w.wl.callsOf(i) {
		return
	}
	// A state past the last: waits until a migrator has finished.
	w.waitForState(ctx, mtable.UseNewHideMetadata+1)
	w.app(ctx, i, new, plainNew, w.wl.callsOf(i))
}

// waitPlainOld is the migrator's gate, the production procedure's rule
// made explicit: the migration starts (its first push) only when no
// process calls the old table directly any more, each having finished
// or been redeployed as a MigratingTable client.
func (w *world) waitPlainOld(ctx context.Context) {
	if !w.wl.Plain || w.opts.noPlainGate {
		return
	}
	w.lock()
	if w.plainOldLeft > 0 {
		sched.Logf("migrator waits for %d plain old-table processes to be redeployed", w.plainOldLeft)
		w.waitUntil(func() bool { return w.plainOldLeft == 0 })
	}
	w.unlock()
}

// plainCall returns the call a backend call of a plain client belongs
// to, or nil for a call of the library.
func plainCall(ctx context.Context) *callRecord {
	if c := callFrom(ctx); c != nil && c.Plain != viaLibrary {
		return c
	}
	return nil
}

// checkPlainPhase is the plain-client oracle's check of the procedure
// itself: a plain request lands on the old table only before the first
// push, and on the new table only after a migrator has finished.
func (w *world) checkPlainPhase(ctx context.Context, c *callRecord) {
	switch {
	case c.Plain == plainOld && w.pushed > mtable.UseOldHideMetadata:
		w.fail(ctx, &CheckFailure{Check: CheckPlain, Call: c.String(),
			Message: fmt.Sprintf("a plain client's request landed on the old table after the push of %s began", w.pushed)})
	case c.Plain == plainNew && !w.migrated:
		w.fail(ctx, &CheckFailure{Check: CheckPlain, Call: c.String(),
			Message: "a plain client's request landed on the new table before the migration was done"})
	}
}

// plainBatch is run when a plain client's batch has landed on the
// table: it is the call's linearization point (oracle 1 runs it on the
// reference with the backend's ETags), and the plain-client oracle
// checks that the backend answered as the virtual table would have:
// the same batch on the view of its rows just before (before) must
// succeed or fail the same way (no spurious 409 on a row the view does
// not hold, no success on a row it does not hold).
func (w *world) plainBatch(ctx context.Context, c *callRecord, ops []spec.Op, before []viewRow, res []spec.Result, err error) {
	refMonitor{w}.AnnotateBackendCall(ctx, mtable.Annotation{LinearizationPoint: true, BatchResults: res})
	w.checkPlainPhase(ctx, c)
	var rows []spec.Entity
	seen := map[spec.Key]bool{}
	for _, v := range before {
		if v.ok && !seen[v.e.Key] {
			seen[v.e.Key] = true
			rows = append(rows, v.e)
		}
	}
	_, _, verr := spec.ApplyBatch(spec.NewRows(rows), ops, func(int) spec.ETag { return "view" })
	if spec.StatusOf(err) == spec.StatusOf(verr) && spec.IndexOf(err) == spec.IndexOf(verr) {
		return
	}
	w.fail(ctx, &CheckFailure{Check: CheckPlain, Call: c.String(),
		Message: fmt.Sprintf("a plain client's batch on the %s table got %s; on the virtual table at that instant it would get %s",
			c.Plain, statusText(err), statusText(verr))})
}

func statusText(err error) string {
	if err == nil {
		return "success"
	}
	s := "status " + strconv.Itoa(spec.StatusOf(err))
	if i := spec.IndexOf(err); i >= 0 {
		s += " at operation " + strconv.Itoa(i)
	}
	return s
}

// plainQuery is run when a plain client's atomic query (or retrieve)
// has read the table: its linearization point (oracle 1), and the
// plain-client oracle checks that it read exactly the view's rows
// matching the filter: no internal row, no metadata property, no
// tombstone, none missing.
func (w *world) plainQuery(ctx context.Context, c *callRecord, f spec.Filter, rows []spec.Entity, err error) {
	refMonitor{w}.AnnotateBackendCall(ctx, mtable.Annotation{LinearizationPoint: true})
	w.checkPlainPhase(ctx, c)
	if err != nil {
		return // oracle 1 compares the error with the reference's
	}
	pk, _ := spec.SinglePartition(f)
	want := []spec.Entity{}
	for _, e := range w.viewAll() {
		if e.PartitionKey == pk && spec.Matches(f, e) {
			want = append(want, e)
		}
	}
	if sameRowList(want, rows) {
		return
	}
	w.fail(ctx, &CheckFailure{Check: CheckPlain, Call: c.String(),
		Message: fmt.Sprintf("a plain client's read of the %s table differs from the virtual table at that instant", c.Plain),
		Diff:    diff(canonicalRows(want), canonicalRows(rows))})
}

// plainStreamRow is run when a plain client's streamed query has read
// a row: it must be the view's row at that instant (not an internal row,
// no metadata property, not a tombstone).
func (w *world) plainStreamRow(ctx context.Context, c *callRecord, e spec.Entity) {
	w.checkPlainPhase(ctx, c)
	if v := w.view(e.Key); v.ok && sameRowList([]spec.Entity{v.e}, []spec.Entity{e}) {
		return
	}
	w.fail(ctx, &CheckFailure{Check: CheckPlain, Call: c.String(),
		Message: fmt.Sprintf("a plain client's stream of the %s table read %s, which the virtual table does not hold at that instant", c.Plain, formatEntity(e))})
}

// Hot rows (Workload.HotRows).

// drawHotRow draws the iteration's hot row key, or -1 without hot rows.
func (w *world) drawHotRow() int {
	if !w.wl.HotRows {
		return -1
	}
	h := w.choose(w.wl.RowKeys, chHot, -1, -1, -1)
	sched.Logf("hot row key %d", h)
	return h
}

// hot returns row r, or, three times in four when the iteration has a
// hot row, the hot row key instead (a choice of its own, so that without
// the hot row the other choices stay as they were).
func (w *world) hot(r, app, call, op int) int {
	if w.hotRow < 0 || w.choose(4, chHot, app, call, op) == 0 {
		return r
	}
	return w.hotRow
}

// The shrinker's moves for these parameters.

// proposeNoPlain: no plain clients; every application is a
// MigratingTable client throughout, with the choices of its role gone.
func proposeNoPlain(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.Plain {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.Plain = false })
	return []candidate{dropChoices(r, o, func(c choiceRec) bool { return c.kind == chPlain })}
}

// proposeNoHotRows: no hot row; each call touches the rows it drew.
func proposeNoHotRows(r shrinkRun) []candidate {
	w := r.opts.Workload
	if w.Swarm || !w.HotRows {
		return nil
	}
	o := withWorkload(r, func(w *Workload) { w.HotRows = false })
	return []candidate{dropChoices(r, o, func(c choiceRec) bool { return c.kind == chHot })}
}
