package mtable_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// faultMode is how an injected fault fails a backend call.
type faultMode int

const (
	notApplied    faultMode = iota + 1 // fails before applying: spec.ErrNotApplied
	unknownBefore                      // fails before applying: spec.ErrOutcomeUnknown
	unknownAfter                       // applies (or is judged), then fails: spec.ErrOutcomeUnknown
)

func (m faultMode) String() string {
	return [...]string{"none", "not-applied", "unknown-before", "unknown-after"}[m]
}

var errInjected = errors.New("injected fault")

// faultPlan decides, for the backend calls of every faultyTable sharing
// it (counted together, 1, 2, ...), which fail: call at (at > 0), every
// every-th call (every > 0), or every call from call from on (from > 0),
// with mode. Deterministic.
type faultPlan struct {
	mu      sync.Mutex
	calls   int
	at      int
	every   int
	from    int
	mode    faultMode
	faults  int  // faults injected
	applied bool // an unknown-after fault's batch applied
}

func (p *faultPlan) next() faultMode {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if (p.at > 0 && p.calls == p.at) || (p.every > 0 && p.calls%p.every == 0) || (p.from > 0 && p.calls >= p.from) {
		p.faults++
		return p.mode
	}
	return 0
}

// faultyTable is a backend whose calls fail as its plan says: every
// ExecuteBatch, QueryAtomic, QueryStreamed and Stream.Next is one call.
type faultyTable struct {
	spec.Table
	p *faultPlan
}

func failWith(m faultMode) error {
	if m == notApplied {
		return spec.WrapNotApplied(errInjected)
	}
	return spec.WrapOutcomeUnknown(errInjected)
}

func (f *faultyTable) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	switch m := f.p.next(); m {
	case notApplied, unknownBefore:
		return nil, failWith(m)
	case unknownAfter:
		if _, err := f.Table.ExecuteBatch(ctx, ops); err == nil {
			f.p.mu.Lock()
			f.p.applied = true
			f.p.mu.Unlock()
		}
		return nil, failWith(m)
	}
	return f.Table.ExecuteBatch(ctx, ops)
}

func (f *faultyTable) QueryAtomic(ctx context.Context, flt spec.Filter) ([]spec.Entity, error) {
	if m := f.p.next(); m != 0 {
		return nil, failWith(m)
	}
	return f.Table.QueryAtomic(ctx, flt)
}

func (f *faultyTable) QueryStreamed(ctx context.Context, flt spec.Filter) (spec.Stream, error) {
	if m := f.p.next(); m != 0 {
		return nil, failWith(m)
	}
	st, err := f.Table.QueryStreamed(ctx, flt)
	if err != nil {
		return nil, err
	}
	return &faultyStream{Stream: st, p: f.p}, nil
}

type faultyStream struct {
	spec.Stream
	p *faultPlan
}

func (s *faultyStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	if m := s.p.next(); m != 0 {
		return spec.Entity{}, false, failWith(m)
	}
	return s.Stream.Next(ctx)
}

// candidates records the library's candidate announcements and
// annotations.
type candidates struct {
	mu        sync.Mutex
	announced []mtable.Candidate
	unknown   int
	lps       int
}

func (c *candidates) AnnotateBackendCall(ctx context.Context, a mtable.Annotation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a.OutcomeUnknown {
		c.unknown++
	}
	if a.LinearizationPoint {
		c.lps++
	}
}

func (c *candidates) AnnotateCandidate(ctx context.Context, cand mtable.Candidate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.announced = append(c.announced, cand)
}

// faultWorld is one state of the migration with partition p holding r1
// and r2 (and, where the state allows, a tombstone of r3).
func faultWorld(state mtable.State, switched bool) (old, new *spec.MemTable, cfg *mtable.MemConfig) {
	old, new = spec.NewMemTable("old:"), spec.NewMemTable("new:")
	r1 := row("p", "r1", "", spec.Props{"v": spec.Int32(1)})
	r2 := row("p", "r2", "", spec.Props{"v": spec.Int32(2)})
	tomb := row("p", "r3", "", spec.Props{mtable.DeletedProperty: spec.Bool(true)})
	switch {
	case state == mtable.UseOldHideMetadata || (state == mtable.PreferOld && !switched):
		old.Load([]spec.Entity{r1, r2})
	case state <= mtable.PreferNew:
		// Switched; r1 copied, r2 not yet, r3 deleted since.
		old.Load([]spec.Entity{switchedMeta("p"), r1, r2})
		new.Load([]spec.Entity{r1, tomb})
	case state == mtable.UseNewWithTombstones:
		new.Load([]spec.Entity{r1, r2, tomb})
	default:
		new.Load([]spec.Entity{r1, r2})
	}
	return old, new, mtable.NewMemConfig(state)
}

var faultBatches = [][]spec.Op{
	{{Kind: spec.Insert, Entity: row("p", "r9", "", spec.Props{"v": spec.Int32(9)})}},
	{{Kind: spec.Replace, Entity: row("p", "r1", "*", spec.Props{"v": spec.Int32(10)})}},
	{{Kind: spec.Merge, Entity: row("p", "r2", "*", spec.Props{"w": spec.Int32(1)})}, {Kind: spec.Delete, Entity: row("p", "r1", "*", nil)}},
	{{Kind: spec.DeleteIfExists, Entity: row("p", "r2", "", nil)}},
	{{Kind: spec.DeleteIfExists, Entity: row("p", "r8", "", nil)}},
	{{Kind: spec.Insert, Entity: row("p", "r1", "", spec.Props{})}},
	{{Kind: spec.InsertOrMerge, Entity: row("p", "r2", "", spec.Props{"x": spec.Int32(1)})}, {Kind: spec.InsertOrReplace, Entity: row("p", "r3", "", spec.Props{"y": spec.Int32(3)})}},
}

type faultCase struct {
	name     string
	state    mtable.State
	switched bool
}

func faultCases() []faultCase {
	var out []faultCase
	for s := mtable.UseOldHideMetadata; s <= mtable.UseNewHideMetadata; s++ {
		out = append(out, faultCase{s.String(), s, s >= mtable.PreferNew})
		if s == mtable.PreferOld {
			out = append(out, faultCase{s.String() + "/switched", s, true})
		}
	}
	return out
}

// TestBatchUnderFaults injects one fault, of each mode, into each backend
// call a virtual ExecuteBatch makes, in every state, and checks the
// outcome against a reference: a not-applied fault, or an unknown one on
// any call but the linearization-point candidate, is absorbed (the
// outcome is the fault-free one); an unknown outcome on the candidate
// returns ErrOutcomeUnknown, and the batch applied exactly when the
// write did; a definite error leaves the content unchanged; nothing is
// ever applied twice.
func TestBatchUnderFaults(t *testing.T) {
	ctx := context.Background()
	for _, fc := range faultCases() {
		for bi, ops := range faultBatches {
			t.Run(fmt.Sprintf("%s/batch%d", fc.name, bi), func(t *testing.T) {
				// The reference, and the fault-free run's call count.
				old, new, _ := faultWorld(fc.state, fc.switched)
				before := userContent(logical(fc.state, old.Snapshot(), new.Snapshot()))
				ref := spec.NewMemTable("ref:")
				ref.Load(logical(fc.state, old.Snapshot(), new.Snapshot()))
				_, refErr := ref.ExecuteBatch(ctx, ops)
				after := userContent(ref.Snapshot().Clone())
				plan := &faultPlan{}
				old, new, cfg := faultWorld(fc.state, fc.switched)
				if _, err := mtable.New(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg).ExecuteBatch(ctx, ops); spec.StatusOf(err) != spec.StatusOf(refErr) {
					t.Fatalf("fault-free: got %v, reference %v", err, refErr)
				}
				n := plan.calls
				for _, mode := range []faultMode{notApplied, unknownBefore, unknownAfter} {
					for k := 1; k <= n; k++ {
						plan := &faultPlan{at: k, mode: mode}
						old, new, cfg := faultWorld(fc.state, fc.switched)
						mon := &candidates{}
						_, err := mtable.New(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg, mtable.WithMonitor(mon)).ExecuteBatch(ctx, ops)
						got := userContent(logical(fc.state, old.Snapshot(), new.Snapshot()))
						where := fmt.Sprintf("%s fault at call %d of %d", mode, k, n)
						switch {
						case errors.Is(err, mtable.ErrOutcomeUnknown):
							if mode == notApplied {
								t.Errorf("%s: got %v, want the fault absorbed", where, err)
							}
							if spec.Classify(err) != spec.Unknown || !errors.Is(err, errInjected) || mon.unknown != 1 || mon.lps != 0 || len(mon.announced) == 0 {
								t.Errorf("%s: error %v (classified %v), %d unknown and %d LP annotations, %d candidates: want Unknown wrapping the cause, 1, 0, >0",
									where, err, spec.Classify(err), mon.unknown, mon.lps, len(mon.announced))
							}
							want := before
							if plan.applied { // the harness's ground truth: the candidate applied
								want = after
							}
							if d := diffRows(got, want); d != "" {
								t.Errorf("%s: content after an unknown outcome (-want +got):\n%s", where, d)
							}
						case err == nil || spec.StatusOf(err) != 0:
							if spec.StatusOf(err) != spec.StatusOf(refErr) || spec.IndexOf(err) != spec.IndexOf(refErr) {
								t.Errorf("%s: got %v, reference %v", where, err, refErr)
							}
							want := before
							if err == nil {
								want = after
							}
							if d := diffRows(got, want); d != "" {
								t.Errorf("%s: content (-want +got):\n%s", where, d)
							}
						default:
							t.Errorf("%s: got the definite error %v (classified %v), want one fault absorbed", where, err, spec.Classify(err))
						}
					}
				}
			})
		}
	}
}

// TestBatchDefiniteErrors: a backend that always fails before applying
// makes every call fail with a definite error that changes nothing and
// says so (spec.Classify: NotApplied; not ErrOutcomeUnknown), after
// MaxBackendAttempts tries of a step.
func TestBatchDefiniteErrors(t *testing.T) {
	ctx := context.Background()
	for _, fc := range faultCases() {
		for bi, ops := range faultBatches {
			plan := &faultPlan{every: 1, mode: notApplied}
			old, new, cfg := faultWorld(fc.state, fc.switched)
			before := userContent(logical(fc.state, old.Snapshot(), new.Snapshot()))
			_, err := mtable.New(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg).ExecuteBatch(ctx, ops)
			if err == nil || errors.Is(err, mtable.ErrOutcomeUnknown) || spec.Classify(err) != spec.NotApplied || !errors.Is(err, errInjected) {
				t.Errorf("%s/batch%d: got %v (classified %v), want a definite not-applied error wrapping the cause", fc.name, bi, err, spec.Classify(err))
			}
			if plan.calls != mtable.MaxBackendAttempts {
				t.Errorf("%s/batch%d: %d backend calls, want %d tries of the first step", fc.name, bi, plan.calls, mtable.MaxBackendAttempts)
			}
			mustNoDiff(t, fc.name, userContent(logical(fc.state, old.Snapshot(), new.Snapshot())), before)
		}
	}
}

// TestQueryUnderFaults: one fault of any mode in any backend call of a
// virtual QueryAtomic is absorbed (reads are retried), and never changes
// the content.
func TestQueryUnderFaults(t *testing.T) {
	ctx := context.Background()
	filters := []spec.Filter{spec.PartitionFilter("p"), spec.AndFilters(spec.PartitionFilter("p"), vIs1)}
	for _, fc := range faultCases() {
		for fi, f := range filters {
			t.Run(fmt.Sprintf("%s/filter%d", fc.name, fi), func(t *testing.T) {
				plan := &faultPlan{}
				old, new, cfg := faultWorld(fc.state, fc.switched)
				before := userContent(logical(fc.state, old.Snapshot(), new.Snapshot()))
				want, err := mtable.New(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg).QueryAtomic(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				n := plan.calls
				for _, mode := range []faultMode{notApplied, unknownBefore, unknownAfter} {
					for k := 1; k <= n; k++ {
						plan := &faultPlan{at: k, mode: mode}
						old, new, cfg := faultWorld(fc.state, fc.switched)
						got, err := mtable.New(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg).QueryAtomic(ctx, f)
						if err != nil {
							t.Errorf("%s fault at call %d: %v", mode, k, err)
							continue
						}
						if d := diffRows(userContent(got), userContent(want)); d != "" {
							t.Errorf("%s fault at call %d: rows (-want +got):\n%s", mode, k, d)
						}
						mustNoDiff(t, "content", userContent(logical(fc.state, old.Snapshot(), new.Snapshot())), before)
					}
				}
			})
		}
	}
}

// migratorWorld is a migration resumed in PREFER_NEW: partition a is
// switched, with a/r00 deleted since (a tombstone) and a/r01 rewritten in
// the new table by a client (with metadata), so that every step has work:
// pushes, switching b and c, copying, clean-up of both kinds, emptying
// the old table.
func migratorWorld() (old, new *spec.MemTable, cfg *mtable.MemConfig, want []spec.Entity) {
	old, new = spec.NewMemTable("old:"), spec.NewMemTable("new:")
	old.Load(append(sampleRows(), switchedMeta("a")))
	new.Load([]spec.Entity{
		row("a", "r00", "", spec.Props{mtable.DeletedProperty: spec.Bool(true)}),
		row("a", "r01", "", spec.Props{"v": spec.Int32(100), mtable.DeletedProperty: spec.Bool(false)}),
	})
	want = logical(mtable.PreferNew, old.Snapshot(), new.Snapshot())
	return old, new, mtable.NewMemConfig(mtable.PreferNew), want
}

// TestMigratorUnderFaults: one fault of each mode in any backend call of
// a Run is absorbed (Run returns nil with the right content); when the
// backend fails every call from call k on (every k: so in every step), the
// Run fails with a definite error and a fresh Run without faults then
// finishes the migration with the right content; so it does after a Run
// with a fault every few calls.
func TestMigratorUnderFaults(t *testing.T) {
	ctx := context.Background()
	plan := &faultPlan{}
	old, new, cfg, want := migratorWorld()
	if err := mtable.NewMigrator(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg).Run(ctx); err != nil {
		t.Fatalf("fault-free Run: %v", err)
	}
	checkMigrated(t, "fault-free", old, new, want)
	n := plan.calls
	for _, mode := range []faultMode{notApplied, unknownBefore, unknownAfter} {
		for k := 1; k <= n; k++ {
			plan := &faultPlan{at: k, mode: mode}
			old, new, cfg, want := migratorWorld()
			if err := mtable.NewMigrator(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg).Run(ctx); err != nil {
				t.Errorf("%s fault at call %d of %d: Run: %v", mode, k, n, err)
				continue
			}
			checkMigrated(t, fmt.Sprintf("%s fault at call %d of %d", mode, k, n), old, new, want)
		}
		// The backend goes down at call k (for good: the Run fails), then
		// a fresh Run must finish.
		stride := 1
		if testing.Short() {
			stride = 4 // each try waits the backoff in real time here
		}
		for k := 1; k <= n; k += stride {
			plan := &faultPlan{from: k, mode: mode}
			old, new, cfg, want := migratorWorld()
			err := mtable.NewMigrator(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg).Run(ctx)
			if err == nil {
				t.Errorf("%s faults from call %d: Run succeeded", mode, k)
			} else if errors.Is(err, mtable.ErrOutcomeUnknown) || spec.Classify(err) != spec.NotApplied {
				t.Errorf("%s faults from call %d: Run: %v (classified %v), want a definite error", mode, k, err, spec.Classify(err))
			}
			if err := mtable.NewMigrator(old, new, cfg).Run(ctx); err != nil {
				t.Errorf("%s faults from call %d: fresh Run: %v", mode, k, err)
				continue
			}
			checkMigrated(t, fmt.Sprintf("%s faults from call %d, then a fresh Run", mode, k), old, new, want)
		}
		for _, every := range []int{2, 3, 4, 7} {
			plan := &faultPlan{every: every, mode: mode}
			old, new, cfg, want := migratorWorld()
			err := mtable.NewMigrator(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg).Run(ctx)
			if err != nil && (errors.Is(err, mtable.ErrOutcomeUnknown) || spec.Classify(err) != spec.NotApplied) {
				t.Errorf("%s fault every %d calls: Run: %v (classified %v), want a definite error", mode, every, err, spec.Classify(err))
			}
			if err := mtable.NewMigrator(old, new, cfg).Run(ctx); err != nil {
				t.Errorf("%s fault every %d calls (first Run: %v): fresh Run: %v", mode, every, err, err)
				continue
			}
			checkMigrated(t, fmt.Sprintf("%s fault every %d calls, then a fresh Run", mode, every), old, new, want)
		}
	}
}

// TestStreamPageFault: a streamed query does not retry a failed page
// (see Backend errors): the error reaches the caller as a definite one
// (it read, and applied, nothing), and the stream's Continuation lets
// the caller restart after the rows it already has.
func TestStreamPageFault(t *testing.T) {
	ctx := context.Background()
	for _, fc := range faultCases() {
		t.Run(fc.name, func(t *testing.T) {
			plan := &faultPlan{}
			old, new, cfg := faultWorld(fc.state, fc.switched)
			vt := mtable.New(&faultyTable{old, plan}, &faultyTable{new, plan}, cfg)
			st, err := vt.QueryStreamed(ctx, spec.PartitionFilter("p"))
			if err != nil {
				t.Fatal(err)
			}
			first, ok, err := st.Next(ctx)
			if err != nil || !ok {
				t.Fatalf("first row: %v, %v", ok, err)
			}
			plan.every, plan.mode = 1, unknownBefore // every call fails from now on
			_, _, err = st.Next(ctx)
			if err == nil || errors.Is(err, mtable.ErrOutcomeUnknown) || spec.Classify(err) != spec.NotApplied || !errors.Is(err, errInjected) {
				t.Fatalf("failed page: got %v (classified %v), want a definite error wrapping the cause", err, spec.Classify(err))
			}
			cont, more := st.Continuation()
			st.Close()
			if !more || cont.Compare(first.Key) <= 0 {
				t.Fatalf("Continuation after %s: %v, %v; want a key after it", first.Key, cont, more)
			}
			plan.every = 0
			st, err = vt.QueryStreamed(ctx, spec.AndFilters(spec.PartitionFilter("p"), spec.FromKeyFilter(cont)))
			if err != nil {
				t.Fatal(err)
			}
			rest, err := drain(ctx, st)
			if err != nil {
				t.Fatal(err)
			}
			got := userContent(append([]spec.Entity{first}, rest...))
			mustNoDiff(t, "restarted stream", got, userContent(logical(fc.state, old.Snapshot(), new.Snapshot())))
		})
	}
}
