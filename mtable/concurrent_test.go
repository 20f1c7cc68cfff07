package mtable_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/spec"
)

// progress lets the migrator wait until every client has made progress
// in the state just pushed, so that the states really overlap.
type progress struct {
	mu   sync.Mutex
	cond *sync.Cond
	ops  []int
	stop bool
}

func (p *progress) done(client int) {
	p.mu.Lock()
	p.ops[client]++
	p.cond.Broadcast()
	p.mu.Unlock()
}

// waitAll waits until every client has completed n more operations.
func (p *progress) waitAll(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	base := append([]int(nil), p.ops...)
	for {
		ok := true
		for i := range p.ops {
			if p.ops[i] < base[i]+n {
				ok = false
			}
		}
		if ok {
			return
		}
		p.cond.Wait()
	}
}

func (p *progress) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stop
}

// TestConcurrentClientsDuringMigration runs several clients, a streamed
// reader and the migrator on real goroutines (no scheduler; run it with
// -race). Each client owns a partition, so its calls must behave exactly
// as on a MemTable of its own; all clients also write a shared
// partition. At the end the migration must be complete and correct.
func TestConcurrentClientsDuringMigration(t *testing.T) {
	const clients = 3
	perState := 25
	if testing.Short() {
		perState = 8
	}
	ctx := context.Background()
	old, new := spec.NewMemTable("old:"), spec.NewMemTable("new:")
	var initial []spec.Entity
	for c := 0; c < clients; c++ {
		for i := 0; i < 4; i++ {
			initial = append(initial, row(fmt.Sprintf("c%d", c), fmt.Sprintf("r%d", i), "", spec.Props{"v": spec.Int32(int32(i))}))
		}
	}
	initial = append(initial, row("shared", "x", "", spec.Props{"v": spec.Int32(0)}))
	old.Load(initial)
	mem := mtable.NewMemConfig(mtable.UseOldHideMetadata)
	prog := &progress{ops: make([]int, clients)}
	prog.cond = sync.NewCond(&prog.mu)
	cfg := &recordingConfig{ConfigService: mem, after: func(mtable.State) { prog.waitAll(perState) }}

	models := make([]*spec.MemTable, clients)
	errs := make(chan error, clients+2)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		models[c] = spec.NewMemTable("model:")
		var mine []spec.Entity
		for _, e := range initial {
			if e.PartitionKey == fmt.Sprintf("c%d", c) {
				mine = append(mine, e)
			}
		}
		models[c].Load(mine)
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			errs <- runClient(ctx, c, mtable.New(old, new, mem), models[c], prog)
		}(c)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs <- runStreamReader(ctx, mtable.New(old, new, mem), prog)
	}()

	runErr := mtable.NewMigrator(old, new, cfg).Run(ctx)
	prog.waitAll(perState)
	prog.mu.Lock()
	prog.stop = true
	prog.mu.Unlock()
	wg.Wait()
	close(errs)
	if runErr != nil {
		t.Fatalf("migrator: %v", runErr)
	}
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	if n := len(old.Snapshot()); n != 0 {
		t.Errorf("old table has %d rows after the migration, want 0", n)
	}
	final := new.Snapshot()
	for _, e := range final {
		for name := range e.Props {
			if mtable.IsMetadataProperty(name) {
				t.Errorf("new table row %s still has %s", e.Key, name)
			}
		}
	}
	for c := 0; c < clients; c++ {
		pk := fmt.Sprintf("c%d", c)
		mustNoDiff(t, "final content of "+pk, userContent(final.Partition(pk).Clone()), userContent(models[c].Snapshot().Clone()))
	}
}

// runClient issues random single- and two-operation batches and atomic
// queries on its own partition (checked against model) and on the
// shared partition (checked only for errors), until told to stop.
func runClient(ctx context.Context, c int, vt *mtable.Table, model *spec.MemTable, prog *progress) error {
	rng := rand.New(rand.NewPCG(uint64(c), 42))
	pk := fmt.Sprintf("c%d", c)
	for n := 0; !prog.stopped(); n++ {
		if rng.IntN(4) == 0 {
			ops := []spec.Op{{Kind: spec.OpKind(rng.IntN(7)), Entity: row("shared", fmt.Sprintf("s%d", rng.IntN(3)), "*", spec.Props{"by": spec.Int32(int32(c))})}}
			if _, err := vt.ExecuteBatch(ctx, ops); err != nil && spec.StatusOf(err) == 0 {
				return fmt.Errorf("client %d, shared batch %v: %w", c, ops, err)
			}
		}
		switch rng.IntN(3) {
		case 0:
			rows, err := vt.QueryAtomic(ctx, spec.PartitionFilter(pk))
			if err != nil {
				return fmt.Errorf("client %d, query %d: %w", c, n, err)
			}
			if d := diffRows(userContent(rows), userContent(model.Snapshot().Clone())); d != "" {
				return fmt.Errorf("client %d, query %d (-model +virtual):\n%s", c, n, d)
			}
		default:
			keys := rng.Perm(6)
			ops := make([]spec.Op, 1+rng.IntN(2))
			for i := range ops {
				ops[i] = spec.Op{Kind: spec.OpKind(rng.IntN(7)), Entity: row(pk, fmt.Sprintf("r%d", keys[i]), "*", spec.Props{"v": spec.Int32(int32(n)), fmt.Sprintf("p%d", i): spec.Bool(true)})}
			}
			res, err := vt.ExecuteBatch(ctx, ops)
			var want error
			if err != nil {
				var se *spec.Error
				if !errors.As(err, &se) {
					return fmt.Errorf("client %d, batch %v: %w", c, ops, err)
				}
				_, want = model.ExecuteBatch(ctx, ops)
				if spec.StatusOf(want) != se.Status || spec.IndexOf(want) != se.Index {
					return fmt.Errorf("client %d, batch %v: got %v, model says %v", c, ops, err, want)
				}
			} else {
				etags := make([]spec.ETag, len(res))
				for i := range res {
					etags[i] = res[i].ETag
				}
				if _, err := model.ApplyBatchWithETags(ops, etags); err != nil {
					return fmt.Errorf("client %d, batch %v: virtual table succeeded, model says %v", c, ops, err)
				}
			}
		}
		prog.done(c)
	}
	return nil
}

// runStreamReader repeatedly streams the whole table, checking that
// rows come in strictly increasing key order, without errors.
func runStreamReader(ctx context.Context, vt *mtable.Table, prog *progress) error {
	for !prog.stopped() {
		st, err := vt.QueryStreamed(ctx, nil)
		if err != nil {
			return fmt.Errorf("stream reader: %w", err)
		}
		rows, err := drain(ctx, st)
		st.Close()
		if err != nil {
			return fmt.Errorf("stream reader: %w", err)
		}
		for i := 1; i < len(rows); i++ {
			if !rows[i-1].Key.Less(rows[i].Key) {
				return fmt.Errorf("stream reader: %v then %v: keys out of order", rows[i-1].Key, rows[i].Key)
			}
		}
	}
	return nil
}
