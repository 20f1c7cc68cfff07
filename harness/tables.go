package harness

import (
	"context"
	"slices"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// backend is the harness's view of one backend table (old or new) as the
// library sees it: every call is one scheduling step, executed atomically
// on the in-memory table, logged in the trace, and watched for changes
// to the virtual view (oracle 2's ETag-only events).
type backend struct {
	w    *world
	name string
	mem  *spec.MemTable
}

var _ spec.Table = (*backend)(nil)

// delay is the scheduling point before every backend call: one step, or
// with Workload.Latency a chosen number of extra steps, modelling a slow
// storage round trip during which other machines run.
// The resource is the table and partition the call touches, so the
// "pos" strategy knows which calls race.
func (b *backend) delay(ctx context.Context, partition string) {
	l := b.w.wl.Latency
	app, call := -1, -1
	c := callFrom(ctx)
	if c != nil {
		app, call = c.MID, c.Seq
	}
	if c != nil && c.MID == 0 && b.w.wl.SlowApp {
		l = slowLatency
	}
	if l > 0 {
		for n := b.w.choose(l+1, chLatency, app, call, -1); n > 0; n-- {
			sched.Yield()
		}
	}
	sched.YieldOn(resource{b.name, partition})
}

// slowLatency is the latency of the slow application machine (see
// Workload.SlowApp).
const slowLatency = 8

// resource names what a backend call touches: a partition of a table,
// or the whole table ("") for a streamed query.
type resource struct{ table, partition string }

func (b *backend) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	pk := ""
	if len(ops) > 0 {
		pk = ops[0].Entity.PartitionKey
	}
	from := b.w.spanStart()
	b.delay(ctx, pk)
	keys := make([]spec.Key, len(ops))
	for i, op := range ops {
		keys[i] = op.Entity.Key
	}
	before := b.w.views(keys)
	res, err := b.mem.ExecuteBatch(ctx, ops)
	b.w.noteSpan(ctx, from, spanBatch, keys...)
	if sched.Tracing() {
		sched.Logf("%s.ExecuteBatch%s -> %s", b.name, Call{Kind: CallBatch, Ops: ops}.String()[len("batch"):], outcomeOf(res, nil, err))
	}
	if err == nil {
		b.w.noteViewChanges(keys, before)
	}
	return res, err
}

func (b *backend) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	pk, _ := spec.SinglePartition(f)
	from := b.w.spanStart()
	b.delay(ctx, pk)
	rows, err := b.mem.QueryAtomic(ctx, f)
	b.w.noteRead(ctx, from, f)
	if sched.Tracing() {
		sched.Logf("%s.QueryAtomic(%s) -> %s", b.name, spec.FilterString(f), outcomeOf(nil, rows, err))
	}
	return rows, err
}

func (b *backend) QueryStreamed(ctx context.Context, f spec.Filter) (spec.Stream, error) {
	from := b.w.spanStart()
	sched.YieldOn(resource{b.name, ""})
	s, err := b.mem.QueryStreamed(ctx, f)
	b.w.noteRead(ctx, from, f)
	if sched.Tracing() {
		sched.Logf("%s.QueryStreamed(%s)", b.name, spec.FilterString(f))
	}
	if err != nil {
		return nil, err
	}
	return &backendStream{b: b, s: s}, nil
}

type backendStream struct {
	b *backend
	s spec.Stream
}

func (s *backendStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	from := s.b.w.spanStart()
	sched.YieldOn(resource{s.b.name, ""})
	e, ok, err := s.s.Next(ctx)
	if ok && err == nil {
		s.b.w.noteSpan(ctx, from, spanStream, e.Key)
	}
	if sched.Tracing() {
		switch {
		case err != nil:
			sched.Logf("%s.stream.Next -> error %v", s.b.name, err)
		case !ok:
			sched.Logf("%s.stream.Next -> end", s.b.name)
		default:
			sched.Logf("%s.stream.Next -> %s", s.b.name, formatEntity(e))
		}
	}
	return e, ok, err
}

func (s *backendStream) Continuation() (spec.Key, bool) { return s.s.Continuation() }
func (s *backendStream) Close() error                   { return s.s.Close() }

// views is the view of each key.
func (w *world) views(keys []spec.Key) []viewRow {
	out := make([]viewRow, len(keys))
	for i, k := range keys {
		out[i] = w.view(k)
	}
	return out
}

// backendKeys lists, in key order, every key of the old and new tables.
func (w *world) backendKeys() []spec.Key {
	old, new := w.old.Snapshot(), w.new.Snapshot()
	keys := make([]spec.Key, 0, len(old)+len(new))
	for _, e := range old {
		keys = append(keys, e.Key)
	}
	for _, e := range new {
		if _, found := old.Search(e.Key); !found {
			keys = append(keys, e.Key)
		}
	}
	slices.SortFunc(keys, spec.Key.Compare)
	return keys
}

// viewAll is the whole virtual content, computed from the backend
// tables (see view), in key order.
func (w *world) viewAll() []spec.Entity {
	rows := []spec.Entity{}
	for _, k := range w.backendKeys() {
		if v := w.view(k); v.ok {
			rows = append(rows, v.e)
		}
	}
	return rows
}

// viewRow is one row of the virtual view.
type viewRow struct {
	e  spec.Entity
	ok bool
}

// view computes the virtual table's row k from the backend tables alone
// — the refinement mapping oracle 2 trusts instead of the library's
// annotations: a live new-table row (metadata stripped) shadows the old
// row, a tombstone hides it, internal rows do not exist; once the push
// of USE_NEW_HIDE_METADATA has started the old table no longer counts.
func (w *world) view(k spec.Key) viewRow {
	if mtable.IsInternalKey(k) {
		return viewRow{}
	}
	if e, ok := w.new.Snapshot().Get(k); ok {
		if v, has := e.Props[mtable.DeletedProperty]; has && v.Type() == spec.TypeBool && v.AsBool() {
			return viewRow{}
		}
		return viewRow{e: stripMetadata(e), ok: true}
	}
	if w.pushed >= mtable.UseNewHideMetadata {
		return viewRow{}
	}
	e, ok := w.old.Snapshot().Get(k)
	return viewRow{e: e, ok: ok}
}

// stripMetadata returns e without the library's metadata properties (a
// copy when there are any).
func stripMetadata(e spec.Entity) spec.Entity {
	has := false
	for n := range e.Props {
		if mtable.IsMetadataProperty(n) {
			has = true
			break
		}
	}
	if !has {
		return e
	}
	e.Props = e.Props.Clone()
	for n := range e.Props {
		if mtable.IsMetadataProperty(n) {
			delete(e.Props, n)
		}
	}
	return e
}

func propsEqual(a, b spec.Props) bool {
	if len(a) != len(b) {
		return false
	}
	for n, v := range a {
		if w, ok := b[n]; !ok || !v.Equal(w) {
			return false
		}
	}
	return true
}

// config wraps the in-memory configuration service so pushes are logged
// and the world knows how far the migration has come.
type config struct {
	w     *world
	inner mtable.ConfigService
}

func (c *config) Subscribe(ctx context.Context, sub mtable.Subscriber) (mtable.State, func(), error) {
	return c.inner.Subscribe(ctx, sub)
}

func (c *config) Push(ctx context.Context, s mtable.State) error {
	sched.Logf("push %s: start", s)
	// The view depends on the state pushed (see view): oracle 2 records
	// what the push changes in it.
	keys := c.w.backendKeys()
	before := c.w.views(keys)
	c.w.notePush(ctx, s)
	c.w.noteViewChanges(keys, before)
	err := c.inner.Push(ctx, s)
	sched.Logf("push %s: done (err=%v)", s, err)
	return err
}
