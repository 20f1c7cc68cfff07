package harness

import (
	"context"
	"fmt"
	"slices"
	"time"

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

	// link makes the backend one process's network link to the table
	// (the production world, Workload.Leases): latency is virtual time,
	// and a request whose context has ended, or whose send check
	// (spec.CheckSend) fails after the last scheduling point, is not
	// sent. proc names the process.
	link bool
	proc string
}

var _ spec.Table = (*backend)(nil)

// delay is the scheduling point before every backend call: one step, or
// with Workload.Latency a chosen number of extra steps (on a link: that
// many units of virtual time), modelling a slow storage round trip
// during which other machines run. On a link it then checks, after its
// last scheduling point, that the request may still be sent: the
// caller's context has not ended (a client does not send a request it
// has given up on) and the send check the context carries (a lease's
// fence) passes. The resource is the table and partition the call
// touches, so the "pos" strategy knows which calls race.
func (b *backend) delay(ctx context.Context, partition string) error {
	return b.delayBy(ctx, partition, latencyUnit, slowLatency)
}

// delayBy is delay with the link's unit of latency, and at most most
// units (the slow application's latency is capped by it too).
func (b *backend) delayBy(ctx context.Context, partition string, unit time.Duration, most int) error {
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
		n := b.w.choose(l+1, chLatency, app, call, -1)
		if b.link {
			if n = min(n, most); n > 0 {
				sched.Sleep(time.Duration(n) * unit)
			}
		} else {
			for ; n > 0; n-- {
				sched.Yield()
			}
		}
	}
	sched.YieldOn(resource{b.name, partition})
	if !b.link {
		return nil
	}
	if err := ctx.Err(); err != nil {
		if l > 0 {
			// The link's own latency may have outlasted the request's
			// deadline: a slow network, a fault the harness injected.
			b.w.noteNetFault(ctx, b.proc)
		}
		return fmt.Errorf("harness network: %s request of %s not sent: %w", b.name, b.proc, err)
	}
	return spec.CheckSend(ctx)
}

// latencyUnit is the virtual time of one unit of Workload.Latency on a
// link; pageUnit that of a streamed query's page, at most maxPageUnits
// of them (below RequestTimeout), so that a long stream lives across
// pushes.
const (
	latencyUnit  = 20 * time.Millisecond
	pageUnit     = 250 * time.Millisecond
	maxPageUnits = 3
)

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
	if err := b.delay(ctx, pk); err != nil {
		return nil, err
	}
	if b.link && b.name != "config" && b.w.opts.lateBy > 0 && b.w.choose(2, chLatency, -1, -1, -1) == 1 {
		return b.late(ctx, ops, b.w.opts.lateBy)
	}
	switch f := b.fault(ctx, reqBatch); f {
	case FaultNotApplied:
		return nil, b.injectedError(f)
	case FaultApplied:
		res, err := b.applyBatch(ctx, ops, from, true)
		sched.Logf("%s.ExecuteBatch: the answer (%s) is lost", b.name, outcomeOf(res, nil, err))
		return nil, b.injectedError(f)
	case FaultLate:
		c := callFrom(ctx)
		app, call := -1, -1
		if c != nil {
			app, call = c.MID, c.Seq
		}
		d := lateStep * time.Duration(1+b.w.choose(int(lateMost/lateStep), chFault, app, call, -1))
		return b.late(ctx, ops, d)
	}
	return b.applyBatch(ctx, ops, from, false)
}

// netReq is a sent request handed to the root's network: it lands
// after its delay, whether or not its caller still waits.
type netReq struct {
	b     *backend
	ctx   context.Context
	ops   []spec.Op
	reply *sched.Chan[netReply]
	at    time.Time // when it lands
}

type netReply struct {
	res []spec.Result
	err error
}

// late hands a sent batch to the root's network, which applies it
// Options.lateBy later (a machine of the root process: the request
// lands even if its process has crashed or stalled since), and waits
// for it until the caller's context ends; then its outcome is unknown.
func (b *backend) late(ctx context.Context, ops []spec.Op, by time.Duration) ([]spec.Result, error) {
	reply := sched.NewChan[netReply](1)
	// It lands by after it was sent, now, however long the handing
	// over takes.
	b.w.net.Send(netReq{b: b, ctx: ctx, ops: ops, reply: reply, at: sched.Now().Add(by)})
	var r netReply
	if sched.Select(sched.DoneCase(ctx, nil), reply.RecvCase(func(v netReply, _ bool) { r = v })) == 0 {
		return nil, spec.WrapOutcomeUnknown(fmt.Errorf("harness network: no answer from the %s table: %w", b.name, ctx.Err()))
	}
	return r.res, r.err
}

// network is the root's daemon that lands late requests.
func (w *world) network() {
	for {
		r, ok := w.net.RecvOK()
		if !ok {
			return
		}
		sched.GoDaemon("in-flight", func() {
			if d := sched.Until(r.at); d > 0 {
				sched.Sleep(d)
			}
			sched.Logf("a late request of %s lands", r.b.proc)
			res, err := r.b.applyBatch(r.ctx, r.ops, -1, true)
			r.reply.Send(netReply{res, err})
		})
	}
}

// applyBatch lands a batch: atomically, with the fencing oracle's check
// and oracle 2's observation of ETag-only changes. from is where its
// call began, for the shrinker's spans (-1: a late landing, not one).
// unseen is set when the caller does not hear of the landing in the
// same step (a backend fault): oracle 1 then applies the call's
// candidate here (landCandidate).
func (b *backend) applyBatch(ctx context.Context, ops []spec.Op, from int, unseen bool) ([]spec.Result, error) {
	if b.name == "config" {
		res, err := b.mem.ExecuteBatch(context.Background(), ops)
		b.w.configWritten()
		return res, err
	}
	if b.link {
		b.checkFence(ctx, "a batch")
	}
	keys := make([]spec.Key, len(ops))
	for i, op := range ops {
		keys[i] = op.Entity.Key
	}
	before := b.w.views(keys)
	res, err := b.mem.ExecuteBatch(context.Background(), ops)
	if from >= 0 {
		b.w.noteSpan(ctx, from, spanBatch, keys...)
	}
	if sched.Tracing() {
		sched.Logf("%s.ExecuteBatch%s -> %s", b.name, Call{Kind: CallBatch, Ops: ops}.String()[len("batch"):], outcomeOf(res, nil, err))
	}
	if c := plainCall(ctx); c != nil {
		b.w.plainBatch(ctx, c, ops, before, res, err)
	}
	if err == nil {
		if unseen {
			if !b.w.landCandidate(ctx, ops, res) {
				b.w.followUnseen(keys, before)
			}
		} else if c := callFrom(ctx); c != nil && c.cand != nil && sameOps(c.cand.Ops, ops) {
			c.cand = nil // the library reports its outcome
		}
		b.w.noteViewChanges(keys, before)
	}
	return res, err
}

func (b *backend) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	pk, _ := spec.SinglePartition(f)
	from := b.w.spanStart()
	if err := b.delay(ctx, pk); err != nil {
		return nil, err
	}
	if ft := b.fault(ctx, reqRead); ft != 0 {
		return nil, b.injectedError(ft)
	}
	if b.link && b.name != "config" {
		b.checkFence(ctx, "an atomic query")
	}
	rows, err := b.mem.QueryAtomic(ctx, f)
	if b.name != "config" {
		b.w.noteRead(ctx, from, f)
	}
	if c := plainCall(ctx); c != nil {
		b.w.plainQuery(ctx, c, f, rows, err)
	}
	if sched.Tracing() {
		sched.Logf("%s.QueryAtomic(%s) -> %s", b.name, spec.FilterString(f), outcomeOf(nil, rows, err))
	}
	return rows, err
}

func (b *backend) QueryStreamed(ctx context.Context, f spec.Filter) (spec.Stream, error) {
	from := b.w.spanStart()
	send := b.send
	if b.link {
		send = func(ctx context.Context) error { return b.delayBy(ctx, "", pageUnit, maxPageUnits) }
	}
	if err := send(ctx); err != nil {
		return nil, err
	}
	if ft := b.fault(ctx, reqStream); ft != 0 {
		return nil, b.injectedError(ft)
	}
	if b.link && b.name != "config" {
		b.checkFence(ctx, "a streamed query")
	}
	s, err := b.mem.QueryStreamed(ctx, f)
	if b.name != "config" {
		b.w.noteRead(ctx, from, f)
	}
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
	n int // rows read
}

// streamPage is the page size of a stream on a link: reading the first
// row of each page is a request that takes latency, so a long stream
// lives across pushes.
const streamPage = 2

func (s *backendStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	from := s.b.w.spanStart()
	send := s.b.send
	page := s.b.link && s.n%streamPage == streamPage-1
	if page {
		send = func(ctx context.Context) error { return s.b.delayBy(ctx, "", pageUnit, maxPageUnits) }
	}
	s.n++
	if err := send(ctx); err != nil {
		return spec.Entity{}, false, err
	}
	if page {
		if ft := s.b.fault(ctx, reqStream); ft != 0 {
			return spec.Entity{}, false, s.b.injectedError(ft)
		}
	}
	if s.b.link && s.b.name != "config" {
		s.b.checkFence(ctx, "a stream's next read")
	}
	e, ok, err := s.s.Next(ctx)
	if ok && err == nil {
		s.b.w.noteSpan(ctx, from, spanStream, e.Key)
		if c := plainCall(ctx); c != nil {
			s.b.w.plainStreamRow(ctx, c, e)
		}
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

// send is the scheduling point of a streamed query's request (the
// query, or the next row): on a link with the checks of delay.
func (b *backend) send(ctx context.Context) error {
	sched.YieldOn(resource{b.name, ""})
	if !b.link {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("harness network: %s request of %s not sent: %w", b.name, b.proc, err)
	}
	return spec.CheckSend(ctx)
}

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
