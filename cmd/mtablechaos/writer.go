package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/migratingtable/migratingtable/mtable"
	"github.com/migratingtable/migratingtable/mtable/aztable"
	"github.com/migratingtable/migratingtable/mtable/leaseconfig"
	"github.com/migratingtable/migratingtable/spec"
)

// writerKeys returns the keys writer id owns: keysPerWriter of them,
// spread over the partitions.
func writerKeys(id, partitions, keysPerWriter int) []spec.Key {
	keys := make([]spec.Key, keysPerWriter)
	for k := range keys {
		keys[k] = spec.Key{PartitionKey: fmt.Sprintf("p%02d", k%partitions), RowKey: fmt.Sprintf("w%d-%03d", id, k)}
	}
	return keys
}

// valueProp is the one property of every row of the campaign.
const valueProp = "v"

// runWriter is one application process: it writes its own keys through
// MigratingTable with a configuration lease of its own, logging every
// batch before it is sent and its outcome after, fsynced, until SIGTERM.
func runWriter(o *options) int {
	stop, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "writer %d: %v\n", o.writerID, err)
		return 1
	}
	logPath := o.writerLog
	prev, err := os.ReadFile(logPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail(err)
	}
	done, err := parseLog(bytes.NewReader(prev))
	if err != nil {
		return fail(fmt.Errorf("reading my log: %v", err))
	}
	seq := int64(0)
	for _, b := range done {
		seq = max(seq, b.seq)
	}
	incarnation := bytes.Count(prev, []byte("\nS ")) + btoi(bytes.HasPrefix(prev, []byte("S ")))
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	logLine := func(format string, args ...any) error {
		fmt.Fprintf(w, format+"\n", args...)
		if err := w.Flush(); err != nil {
			return err
		}
		return f.Sync()
	}
	if len(prev) > 0 && prev[len(prev)-1] != '\n' {
		fmt.Fprintln(w) // end the line torn by the kill
	}
	if err := logLine("S %d", incarnation); err != nil {
		return fail(err)
	}

	acct, err := aztable.Connect(os.Getenv(envConn), aztable.WithRequestTimeout(o.requestTimeout))
	if err != nil {
		return fail(err)
	}
	old, err1 := acct.Table(o.oldTable)
	newTbl, err2 := acct.Table(o.newTable)
	cfgTbl, err3 := acct.Table(o.configTable)
	if err := errors.Join(err1, err2, err3); err != nil {
		return fail(err)
	}
	copts := leaseconfig.Options{ClientID: fmt.Sprintf("writer-%d", o.writerID), Old: identity(old.ID()), New: identity(newTbl.ID()), ConfigTable: identity(cfgTbl.ID()),
		LeaseTTL: o.leaseTTL, PollInterval: o.poll, RequestTimeout: o.requestTimeout, MaxInFlight: o.maxInFlight, ClockSkew: o.clockSkew}
	var cfg *leaseconfig.Service
	var vt *mtable.Table
	open := func() bool {
		for stop.Err() == nil {
			c, err := leaseconfig.Open(context.Background(), cfgTbl, copts)
			if err == nil {
				cfg, vt = c, mtable.New(old, newTbl, c)
				return true
			}
			if errors.Is(err, leaseconfig.ErrOtherTables) {
				fmt.Fprintf(os.Stderr, "writer %d: %v\n", o.writerID, err)
				return false
			}
			sleep(stop, 200*time.Millisecond)
		}
		return false
	}
	if !open() {
		return 0
	}
	keys := writerKeys(o.writerID, o.partitions, o.keysPerWriter)
	rng := rand.New(rand.NewPCG(uint64(o.seed), uint64(o.writerID)<<32|uint64(incarnation)))
	for stop.Err() == nil {
		seq++
		ops, writes := chooseBatch(rng, keys, fmt.Sprintf("w%d.%d.%d", o.writerID, incarnation, seq))
		if err := logLine("%s", intentLine(seq, writes)); err != nil {
			return fail(err)
		}
		_, err := vt.ExecuteBatch(context.Background(), ops)
		var se *spec.Error
		switch {
		case err == nil:
			err = logLine("A %d", seq)
		case errors.As(err, &se):
			err = logLine("F %d %d", seq, se.Status) // the service's (or validation's) outcome: not applied
		case errors.Is(err, leaseconfig.ErrLeaseLost):
			err = logLine("F %d lease-lost", seq) // refused before any request
		default:
			err = logLine("U %d %q", seq, oneLine(err))
		}
		if err != nil {
			return fail(err)
		}
		if _, unsubscribe, serr := cfg.Subscribe(context.Background(), nil); serr != nil {
			// The lease is gone (stalled, or cut off from the service):
			// open the configuration again, with a new lease.
			cfg.Close()
			cfg = nil
			if !open() {
				break
			}
		} else {
			unsubscribe() // only a probe of the lease
		}
		sleep(stop, time.Duration(rng.IntN(20))*time.Millisecond)
	}
	if cfg != nil {
		cfg.Close()
	}
	return 0
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func oneLine(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// chooseBatch picks a batch of one or two operations on the writer's
// keys (two: in one partition), of every kind; every kind leaves the
// row either holding the value (one property, v) or absent, so the log
// says what each successful batch did.
func chooseBatch(rng *rand.Rand, keys []spec.Key, value string) ([]spec.Op, []write) {
	first := keys[rng.IntN(len(keys))]
	picked := []spec.Key{first}
	if rng.IntN(4) == 0 {
		var same []spec.Key
		for _, k := range keys {
			if k.PartitionKey == first.PartitionKey && k != first {
				same = append(same, k)
			}
		}
		if len(same) > 0 {
			picked = append(picked, same[rng.IntN(len(same))])
		}
	}
	var ops []spec.Op
	var writes []write
	for i, k := range picked {
		v := fmt.Sprintf("%s.%d", value, i)
		props := spec.Props{valueProp: spec.String(v)}
		var op spec.Op
		switch r := rng.IntN(20); {
		case r < 8:
			op = spec.Op{Kind: spec.InsertOrReplace, Entity: spec.Entity{Key: k, Props: props}}
		case r < 10:
			op = spec.Op{Kind: spec.InsertOrMerge, Entity: spec.Entity{Key: k, Props: props}}
		case r < 12:
			op = spec.Op{Kind: spec.Insert, Entity: spec.Entity{Key: k, Props: props}}
		case r < 14:
			op = spec.Op{Kind: spec.Replace, Entity: spec.Entity{Key: k, ETag: spec.AnyETag, Props: props}}
		case r < 15:
			op = spec.Op{Kind: spec.Merge, Entity: spec.Entity{Key: k, ETag: spec.AnyETag, Props: props}}
		case r < 18 && len(picked) == 1: // DeleteIfExists must be alone in its batch
			op = spec.Op{Kind: spec.DeleteIfExists, Entity: spec.Entity{Key: k}}
		default:
			op = spec.Op{Kind: spec.Delete, Entity: spec.Entity{Key: k, ETag: spec.AnyETag}}
		}
		ops = append(ops, op)
		writes = append(writes, write{key: k, put: !op.Kind.IsDelete(), value: v})
	}
	return ops, writes
}

// identity is the configuration's identity of an Azure table (the one
// mtable migrate records).
func identity(id aztable.TableID) leaseconfig.Identity {
	return leaseconfig.Identity{Endpoint: id.Endpoint, Name: id.Name}
}
