package harness

import (
	"context"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/spec"
)

// What a run logs for the shrinker beyond its choices (Options.track):
// the decisions each machine spent on each backend batch and stream
// row, so that a move that takes rows away (filler rows, initial rows,
// a partition) can drop the decisions of the work on them and leave
// every other machine's decisions where they were. Without that, the
// machine that did the work (the migrator, copying and deleting every
// row) would take the steps it no longer needs from the schedule's
// next decisions for it, and run ahead of everything else.

// workSpan is the decisions one machine took for one backend call on
// rows: from the call's start to the step in which it ran. Of the
// decisions [from, to), those of the machine (its schedule decisions
// and its choices) are the call's; the others are other machines'.
type workSpan struct {
	from, to int
	machine  int
	// app is the application machine of the call (-1: the migrator's).
	app  int
	kind spanKind
	keys []spec.Key
}

// spanKind is what a backend call of a span did.
type spanKind uint8

const (
	spanBatch  spanKind = iota // a batch on keys
	spanRead                   // an atomic query of keys (and nothing else)
	spanStream                 // a stream's next row, keys[0]
)

// spanStart is where a backend call's span begins: the number of
// decisions taken so far.
func (w *world) spanStart() int {
	if !w.opts.track {
		return 0
	}
	return int(sched.Step())
}

// noteSpan logs the span of the backend call of kind k on keys that
// began at from. Called by the running machine once the call has run.
func (w *world) noteSpan(ctx context.Context, from int, k spanKind, keys ...spec.Key) {
	if !w.opts.track || len(keys) == 0 {
		return
	}
	s := workSpan{from: from, to: int(sched.Step()), machine: sched.MachineID(), app: -1, kind: k, keys: keys}
	if c := callFrom(ctx); c != nil {
		s.app = c.MID
	}
	w.spans = append(w.spans, s)
}

// noteRead logs the span of an atomic query or the start of a stream
// with filter f that began at from, if f names the rows it reads (or,
// for a stream from a partition on, the partition: one key with an
// empty RowKey).
func (w *world) noteRead(ctx context.Context, from int, f spec.Filter) {
	if w.opts.track {
		w.noteSpan(ctx, from, spanRead, filterKeys(f)...)
	}
}

// fillerNumber returns the number of filler row k, or false if k is not
// a filler row of this run.
func (w *world) fillerNumber(k spec.Key) (int, bool) {
	if !w.wl.WidePartition || k.PartitionKey != w.widePartition() || !strings.HasPrefix(k.RowKey, fillerPrefix) {
		return 0, false
	}
	n, err := strconv.Atoi(k.RowKey[len(fillerPrefix):])
	return n, err == nil
}

// filterKeys returns the keys a query names when its filter matches
// exactly those rows (one key, or "or" of keys), or the partition
// {PartitionKey: p} of a query of "PartitionKey ge p", else nil.
func filterKeys(f spec.Filter) []spec.Key {
	switch f := f.(type) {
	case spec.Comparison:
		if f.Property == spec.PartitionKeyProp && f.Op == spec.Ge && f.Value.Type() == spec.TypeString {
			return []spec.Key{{PartitionKey: f.Value.Str()}}
		}
	case spec.And:
		l, lok := f.L.(spec.Comparison)
		r, rok := f.R.(spec.Comparison)
		if lok && rok && l.Property == spec.PartitionKeyProp && l.Op == spec.Eq && l.Value.Type() == spec.TypeString &&
			r.Property == spec.RowKeyProp && r.Op == spec.Eq && r.Value.Type() == spec.TypeString {
			return []spec.Key{{PartitionKey: l.Value.Str(), RowKey: r.Value.Str()}}
		}
	case spec.Or:
		l, r := filterKeys(f.L), filterKeys(f.R)
		if l != nil && r != nil {
			return append(l, r...)
		}
	}
	return nil
}
