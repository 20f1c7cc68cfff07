package leaseconfig_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// timedTable is a table that reports a request timeout.
type timedTable struct {
	*spec.MemTable
	timeout time.Duration
}

func (t timedTable) RequestTimeout() time.Duration { return t.timeout }

// TestOptionsValidation: refused options name the problem and the term
// to change, and nothing is written.
func TestOptionsValidation(t *testing.T) {
	with := func(f func(*leaseconfig.Options)) leaseconfig.Options {
		o := options("a")
		f(&o)
		return o
	}
	cases := []struct {
		name    string
		timeout time.Duration // of the configuration table; 0: none reported
		opts    leaseconfig.Options
		want    string
	}{
		{"no client ID", 0, with(func(o *leaseconfig.Options) { o.ClientID = "" }), "leaseconfig: Options.ClientID is required (a name for this process)"},
		{"bad key", 0, with(func(o *leaseconfig.Options) { o.ClientID = "a/b" }), `leaseconfig: ClientID "a/b" or Partition "mtable-config" cannot be used in a key`},
		{"no tables", 0, with(func(o *leaseconfig.Options) { o.Old, o.New = leaseconfig.Identity{}, leaseconfig.Identity{} }), "leaseconfig: Options.Old and New are required"},
		{"same tables", 0, with(func(o *leaseconfig.Options) { o.New = o.Old }), "leaseconfig: the old and new tables are the same table (old at mem://test)"},
		{"configuration in the new table", 0, with(func(o *leaseconfig.Options) { o.ConfigTable = newID }),
			"leaseconfig: the configuration table new at mem://test is the old or the new table; keep the configuration in a table of its own"},
		{"negative poll", 0, with(func(o *leaseconfig.Options) { o.PollInterval = -time.Second }), "leaseconfig: PollInterval -1s is negative"},
		{"TTL too short", 0, with(func(o *leaseconfig.Options) { o.LeaseTTL = 3 * time.Second }),
			"leaseconfig: LeaseTTL 3s is too short: it must exceed PollInterval 200ms + RequestTimeout 1s + MaxInFlight 2s + ClockSkew 500ms = 3.7s, or a process renewing on schedule would find its fence closed; raise LeaseTTL (or lower one of the others)"},
		{"TTL equal to the sum", 0, with(func(o *leaseconfig.Options) { o.LeaseTTL = 3700 * time.Millisecond }), "LeaseTTL 3.7s is too short"},
		{"TTL too short for the defaults", 0, leaseconfig.Options{ClientID: "a", Old: oldID, New: newID, LeaseTTL: 30 * time.Second},
			"leaseconfig: LeaseTTL 30s is too short: it must exceed PollInterval 1s + RequestTimeout 10s + MaxInFlight 20s + ClockSkew 1s = 32s"},
		{"MaxInFlight too short", 0, with(func(o *leaseconfig.Options) { o.MaxInFlight = timeout }),
			"leaseconfig: MaxInFlight 1s is less than 2 × RequestTimeout 1s: a request may reach the service until the client gives up on it and the service may work on it as long again; raise MaxInFlight or lower RequestTimeout"},
		{"table slower than RequestTimeout", 5 * time.Second, options("a"),
			"leaseconfig: RequestTimeout 1s is shorter than the configuration table's request timeout 5s; raise RequestTimeout"},
		{"defaults from a slow table", 30 * time.Second, leaseconfig.Options{ClientID: "a", Old: oldID, New: newID},
			"leaseconfig: LeaseTTL 1m0s is too short: it must exceed PollInterval 1s + RequestTimeout 30s + MaxInFlight 1m0s + ClockSkew 1s = 1m32s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := spec.NewMemTable("m:")
			var tbl spec.Table = mem
			if c.timeout > 0 {
				tbl = timedTable{mem, c.timeout}
			}
			err := leaseconfig.CheckOptions(tbl, c.opts)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) && !strings.Contains(err.Error(), c.want) {
				t.Fatalf("CheckOptions: got %v, want an error saying %q", err, c.want)
			}
			_, err2 := leaseconfig.Open(context.Background(), tbl, c.opts)
			if err2 == nil || err2.Error() != err.Error() {
				t.Errorf("Open: got %v, want the error of CheckOptions", err2)
			}
			if n := len(mem.Snapshot()); n != 0 {
				t.Errorf("the configuration table holds %d rows after a refusal, want none", n)
			}
		})
	}
	if err := leaseconfig.CheckOptions(nil, options("a")); err == nil {
		t.Errorf("CheckOptions(nil table): got nil, want an error")
	}
	// The defaults and the tests' timings satisfy the condition.
	for _, o := range []leaseconfig.Options{{ClientID: "a", Old: oldID, New: newID}, options("a")} {
		if err := leaseconfig.CheckOptions(spec.NewMemTable("m:"), o); err != nil {
			t.Errorf("CheckOptions(%+v): %v", o, err)
		}
	}
}

// TestConfigBelongsToOnePair is issue 10 item 1: the configuration
// records the pair of tables it belongs to, and a process that names
// another pair is refused before it writes anything.
func TestConfigBelongsToOnePair(t *testing.T) {
	sweep(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		return func() {
			ctx := context.Background()
			a := open(w.link("a", w.cfg), options("a"))
			c.expect(a.Push(ctx, mtable.PreferOld) == nil, "push failed")
			st, err := leaseconfig.ReadStatus(ctx, w.cfg, "")
			c.expect(err == nil && st.Exists && st.Old == oldID && st.New == newID && st.State == mtable.PreferOld && st.Version == 1,
				"ReadStatus: got %+v, %v; want the pair, PREFER_OLD version 1", st, err)
			before := w.cfg.Snapshot()

			other := options("b")
			other.Old.Name, other.New.Name = "bold", "bnew"
			_, err = leaseconfig.Open(ctx, w.link("b", w.cfg), other)
			c.expect(errors.Is(err, leaseconfig.ErrOtherTables) && strings.Contains(err.Error(), "belongs to the migration of old at mem://test to new at mem://test (PREFER_OLD, version 1), not of bold at mem://test to bnew at mem://test"),
				"another pair: got %v, want ErrOtherTables naming both pairs", err)
			c.expect(reflect.DeepEqual(before, w.cfg.Snapshot()), "the refusal wrote to the configuration table")
			swapped := options("c")
			swapped.Old, swapped.New = newID, oldID
			_, err = leaseconfig.Open(ctx, w.link("c", w.cfg), swapped)
			c.expect(errors.Is(err, leaseconfig.ErrOtherTables), "swapped pair: got %v, want ErrOtherTables", err)
			other.Partition = "bmigration"
			b, err := leaseconfig.Open(ctx, w.link("b", w.cfg), other)
			c.expect(err == nil, "another pair in its own partition: %v", err)
			if err == nil {
				b.Close()
			}
			a.Close()
		}, c.err
	})
}

// TestConfigWithoutPair: a state row written without a pair (by an
// earlier version) is given the pair while no push has changed it, and
// refused after.
func TestConfigWithoutPair(t *testing.T) {
	sweep(t, func() (func(), func() error) {
		w := newWorld()
		var c checks
		legacy := func(partition string, version int64) {
			if _, err := w.cfg.ExecuteBatch(context.Background(), []spec.Op{{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: partition, RowKey: "state"},
				Props: spec.Props{"state": spec.Int32(int32(version)), "version": spec.Int64(version)}}}}); err != nil {
				panic(err)
			}
		}
		legacy("fresh", 0)
		legacy("started", 1)
		return func() {
			ctx := context.Background()
			opts := options("a")
			opts.Partition = "fresh"
			s, err := leaseconfig.Open(ctx, w.link("a", w.cfg), opts)
			c.expect(err == nil, "a fresh state row without a pair: %v", err)
			if err == nil {
				s.Close()
			}
			st, err := leaseconfig.ReadStatus(ctx, w.cfg, "fresh")
			c.expect(err == nil && st.Old == oldID && st.New == newID, "after opening: got %+v, %v; want the pair recorded", st, err)
			opts.Partition = "started"
			_, err = leaseconfig.Open(ctx, w.link("a", w.cfg), opts)
			c.expect(errors.Is(err, leaseconfig.ErrOtherTables) && strings.Contains(err.Error(), "records no tables"), "a started migration without a pair: got %v, want ErrOtherTables saying it records no tables", err)
		}, c.err
	})
}
