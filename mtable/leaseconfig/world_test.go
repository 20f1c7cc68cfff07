package leaseconfig_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// The lease timings of the tests, in virtual time. They satisfy the
// lease condition: 10s > 200ms + 1s + 2s + 500ms.
const (
	ttl     = 10 * time.Second
	poll    = 200 * time.Millisecond
	timeout = time.Second
	inFlt   = 2 * time.Second
	skew    = 500 * time.Millisecond
)

var (
	oldID = leaseconfig.Identity{Endpoint: "mem://test", Name: "old"}
	newID = leaseconfig.Identity{Endpoint: "mem://test", Name: "new"}
)

func options(id string) leaseconfig.Options {
	return leaseconfig.Options{ClientID: id, Old: oldID, New: newID, LeaseTTL: ttl, PollInterval: poll,
		RequestTimeout: timeout, MaxInFlight: inFlt, ClockSkew: skew}
}

// errUnreachable is what a link that is down answers.
var errUnreachable = errors.New("test network: unreachable")

// world is the durable state of one run: the tables, kept in the root
// process, and what the links recorded.
type world struct {
	cfg, old, new, data *spec.MemTable
	// landed lists every write that took effect on a recorded link.
	landed []landing
	// maxGap is the largest distance between the newest state stored in
	// the configuration and the state a recorded write was made under,
	// at the instant the write took effect.
	maxGap int
}

// landing is a write that took effect.
type landing struct {
	who    string
	at     time.Duration // virtual time since the start
	under  mtable.State  // the state of the call that made it (if known)
	newest mtable.State
	keys   []string
}

func newWorld() *world {
	return &world{cfg: spec.NewMemTable("cfg:"), old: spec.NewMemTable("old:"), new: spec.NewMemTable("new:"), data: spec.NewMemTable("data:")}
}

// elapsed is the virtual time since the run started.
func elapsed() time.Duration { return sched.Now().Sub(sched.DefaultStart) }

// newest reads the stored state, as a plain read of the durable table
// (no scheduling point): what an oracle sees.
func (w *world) newest() mtable.State {
	e, ok, _ := spec.Retrieve(context.Background(), w.cfg, spec.Key{PartitionKey: leaseconfig.DefaultPartition, RowKey: "state"})
	if !ok {
		return mtable.UseOldHideMetadata
	}
	return mtable.State(e.Props["state"].AsInt())
}

// underKey carries, in a call's context, the state it runs under.
type underKey struct{}

// link is one process's connection to one durable table. Every request
// is a scheduling point, then the send check (spec.CheckSend), then an
// atomic operation on the table: a crash or a stall at the scheduling
// point keeps it from being sent. With latency, a sent request lands
// latency later, whether or not its caller still waits for it.
type link struct {
	w       *world
	who     string
	t       *spec.MemTable
	down    bool          // unreachable: requests fail unsent
	busy    int           // the next busy requests fail unsent with a 503 (spec.ErrNotApplied)
	latency time.Duration // > 0: requests land this long after they are sent
	record  bool          // record writes (w.landed, w.maxGap)
	// afterWrite, when set, is called after a write took effect.
	afterWrite func(ops []spec.Op)
}

func (w *world) link(who string, t *spec.MemTable) *link { return &link{w: w, who: who, t: t} }

func (l *link) send(ctx context.Context) error {
	sched.YieldOn(l.t)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := spec.CheckSend(ctx); err != nil {
		return err
	}
	if l.down {
		return errUnreachable
	}
	if l.busy > 0 {
		l.busy--
		return spec.WrapNotApplied(errBusy)
	}
	return nil
}

// errBusy is the cause of a busy link's failures.
var errBusy = errors.New("test network: 503 server busy")

func (l *link) apply(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	res, err := l.t.ExecuteBatch(context.Background(), ops)
	if err == nil && l.record {
		under, _ := ctx.Value(underKey{}).(mtable.State)
		newest := l.w.newest()
		var keys []string
		for _, op := range ops {
			keys = append(keys, op.Entity.RowKey)
		}
		l.w.landed = append(l.w.landed, landing{who: l.who, at: elapsed(), under: under, newest: newest, keys: keys})
		if gap := int(newest) - int(under); gap > l.w.maxGap {
			l.w.maxGap = gap
		}
	}
	if err == nil && l.afterWrite != nil {
		l.afterWrite(ops)
	}
	return res, err
}

type result struct {
	res []spec.Result
	err error
}

func (l *link) ExecuteBatch(ctx context.Context, ops []spec.Op) ([]spec.Result, error) {
	if err := l.send(ctx); err != nil {
		return nil, err
	}
	if l.latency <= 0 {
		return l.apply(ctx, ops)
	}
	reply := sched.NewChan[result](1)
	sched.GoNamed("in-flight "+l.who, func() {
		sched.Sleep(l.latency)
		res, err := l.apply(ctx, ops)
		reply.Send(result{res, err})
	})
	var r result
	if sched.Select(sched.DoneCase(ctx, nil), reply.RecvCase(func(v result, _ bool) { r = v })) == 0 {
		return nil, fmt.Errorf("test network: no answer: %w", ctx.Err())
	}
	return r.res, r.err
}

func (l *link) QueryAtomic(ctx context.Context, f spec.Filter) ([]spec.Entity, error) {
	if err := l.send(ctx); err != nil {
		return nil, err
	}
	return l.t.QueryAtomic(context.Background(), f)
}

func (l *link) QueryStreamed(ctx context.Context, f spec.Filter) (spec.Stream, error) {
	if err := l.send(ctx); err != nil {
		return nil, err
	}
	s, err := l.t.QueryStreamed(context.Background(), f)
	if err != nil {
		return nil, err
	}
	return &linkStream{s: s, l: l}, nil
}

type linkStream struct {
	s spec.Stream
	l *link
}

func (s *linkStream) Next(ctx context.Context) (spec.Entity, bool, error) {
	if err := s.l.send(ctx); err != nil {
		return spec.Entity{}, false, err
	}
	return s.s.Next(context.Background())
}

func (s *linkStream) Continuation() (spec.Key, bool) { return s.s.Continuation() }
func (s *linkStream) Close() error                   { return s.s.Close() }

// open opens a service in the calling process, failing the run if it
// cannot.
func open(cfg *link, opts leaseconfig.Options) *leaseconfig.Service {
	s, err := leaseconfig.Open(context.Background(), cfg, opts)
	if err != nil {
		sched.Fail(fmt.Errorf("%s: Open: %w", opts.ClientID, err))
	}
	return s
}

// call runs f as a virtual call of svc would: under a subscription held
// for its whole duration, with the state in its context.
func call(svc mtable.ConfigService, f func(ctx context.Context) error) error {
	st, cancel, err := svc.Subscribe(context.Background(), nil)
	if err != nil {
		return err
	}
	defer cancel()
	return f(context.WithValue(context.Background(), underKey{}, st))
}

// write inserts or replaces row rk of partition "p" through t.
func write(ctx context.Context, t spec.Table, rk string) error {
	_, err := t.ExecuteBatch(ctx, []spec.Op{{Kind: spec.InsertOrReplace, Entity: spec.Entity{Key: spec.Key{PartitionKey: "p", RowKey: rk}, Props: spec.Props{}}}})
	return err
}

// leases returns the stored leases' clients and acknowledged versions,
// "client=acked", in row order (a plain read).
func (w *world) leases() []string {
	st, err := leaseconfig.ReadStatus(context.Background(), w.cfg, "")
	if err != nil {
		panic(err)
	}
	var out []string
	for _, l := range st.Leases {
		out = append(out, fmt.Sprintf("%s=%d", l.Client, l.Acked))
	}
	return out
}

// sweep runs prog under each strategy and several seeds; prog builds
// the world of one run and returns a check of its outcome, called after
// the run passed. Every run must pass and every check hold.
func sweep(t *testing.T, prog func() (body func(), check func() error)) {
	t.Helper()
	sweepWorld(t, false, prog)
}

// sweepSkewed is sweep, then the same again in a world where each
// process's clock is offset from the others' (by up to the tests'
// ClockSkew) and the strategy may also let time pass at scheduling
// points. It is for tests whose checks compare times taken in one
// process only.
func sweepSkewed(t *testing.T, prog func() (body func(), check func() error)) {
	t.Helper()
	sweepWorld(t, false, prog)
	sweepWorld(t, true, prog)
}

func sweepWorld(t *testing.T, skewed bool, prog func() (body func(), check func() error)) {
	t.Helper()
	seeds := 6
	if testing.Short() {
		seeds = 3
	}
	offsets, advances := 0, 0
	for _, strategy := range []string{"random", "pct", "pos"} {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			cfg := sched.Config{Strategy: strategy, Seed: seed, ExpectedSteps: 2000, MaxSteps: 300000}
			world := "processes on one clock"
			if skewed {
				cfg.MaxClockSkew, cfg.MaxTimeStep, cfg.Depth = skew, 50*time.Millisecond, 5
				world = "skewed clocks, time steps"
			}
			body, check := prog()
			res, err := sched.Run(cfg, body)
			if err != nil {
				t.Fatal(err)
			}
			if res.Failure != nil {
				t.Fatalf("%s seed %d (%s): %v\n%s", strategy, seed, world, res.Failure, res.Report(40))
			}
			if err := check(); err != nil {
				t.Errorf("%s seed %d (%s): %v", strategy, seed, world, err)
			}
			for _, d := range res.Trace.Decisions {
				switch {
				case d.Kind == sched.ClockOffset && d.Duration != 0:
					offsets++
				case d.Kind == sched.TimeAdvance:
					advances++
				}
			}
		}
	}
	if skewed && (offsets == 0 || advances == 0) {
		t.Errorf("the skewed sweep drew %d clock offsets and %d time advances; want some of each", offsets, advances)
	}
}

// checks joins the failed conditions of a check.
type checks []string

func (c *checks) expect(ok bool, format string, args ...any) {
	if !ok {
		*c = append(*c, fmt.Sprintf(format, args...))
	}
}

func (c checks) err() error {
	if len(c) == 0 {
		return nil
	}
	return errors.New(strings.Join(c, "; "))
}
