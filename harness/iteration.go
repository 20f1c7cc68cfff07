package harness

import (
	"context"
	"fmt"
	"strings"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// main is the body of the first machine of an iteration: it starts the
// application machines and the migrator, waits for all of them, and runs
// the end-of-run checks.
func (w *world) main(ctx context.Context) {
	w.gate = newGate() // a primitive of this run
	if w.wl.Swarm {
		w.wl = w.wl.draw(w)
	}
	if w.wl.Leases {
		sched.SetFaults(w.wl.faultPlan())
	}
	w.load()
	sched.Logf("workload: %s", w.wl.Describe())
	w.hotRow = w.drawHotRow()
	w.roles = make([]plainRole, w.wl.Apps)
	if w.wl.Plain {
		w.plainOldLeft = w.wl.Apps
	}
	oldB := &backend{w: w, name: "old", mem: w.old}
	newB := &backend{w: w, name: "new", mem: w.new}
	cfg := &config{w: w, inner: w.config}
	opts := []mtable.Option{mtable.WithMonitor(refMonitor{w})}
	if w.wl.NarrowReads {
		opts = append(opts, mtable.WithKeysPerRead(1))
	}
	if w.opts.Bug != mtable.NoBug {
		opts = append(opts, mtable.WithBug(w.opts.Bug))
	}
	if w.wl.Leases {
		w.leaseMain(ctx, opts)
		return
	}
	sched.SetHot("migration incomplete", true)
	var done []*sched.Future[struct{}]
	spawn := func(name string, body func(ctx context.Context)) {
		f := sched.NewFuture[struct{}]()
		done = append(done, f)
		sched.GoNamed(name, func() {
			body(ctx)
			f.Resolve(struct{}{})
		})
	}
	spawn("migrator", func(ctx context.Context) {
		w.migrator(ctx, oldB, newB, cfg, opts)
		sched.SetHot("migration incomplete", false)
	})
	w.appMachine = make([]int, w.wl.Apps)
	w.callSteps = make([][]int, w.wl.Apps)
	w.next = make([]int, w.wl.Apps)
	for i := 0; i < w.wl.Apps; i++ {
		spawn(fmt.Sprintf("app%d", i), func(ctx context.Context) {
			w.appMachine[i] = sched.MachineID()
			w.plainOldPhase(ctx, i, oldB)
			w.app(ctx, i, mtable.New(oldB, newB, cfg, opts...), viaLibrary, w.roles[i].newFrom)
			w.plainNewPhase(ctx, i, newB)
			w.noteAppDone(ctx)
		})
	}
	for _, f := range done {
		f.Wait()
	}
	w.checkFinal(ctx)
}

// checkFinal is oracle 5: after the migration, the new table holds
// exactly the reference content (no metadata, no tombstones, no internal
// rows) and the old table is empty.
func (w *world) checkFinal(ctx context.Context) {
	if !w.migrated || w.migratorErr != nil {
		return
	}
	ref, new := w.ref.Snapshot(), w.new.Snapshot()
	if sameRowList(ref, new) {
		ref, new = nil, nil // no difference: nothing to format
	}
	if d := diff(canonicalRows(ref), canonicalRows(new)); d != "" {
		w.fail(ctx, &CheckFailure{Check: CheckFinalState,
			Message: "after migration the new table differs from the reference table", Diff: d})
		return
	}
	if old := w.old.Snapshot(); len(old) != 0 {
		keys := make([]string, len(old))
		for i, e := range old {
			keys[i] = e.Key.String()
		}
		w.fail(ctx, &CheckFailure{Check: CheckFinalState,
			Message: "after migration the old table still holds rows: " + strings.Join(keys, " ")})
	}
}

func canonicalRows(rows spec.Rows) []comparableRow {
	out := make([]comparableRow, len(rows))
	for i, e := range rows {
		out[i] = canonicalRow(e)
	}
	return out
}
