package sched

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/migratingtable/migratingtable/sched/internal/hb"
)

// Happens-before race checking of Racy variables (see the package
// documentation, "Races").
//
// Each machine has a vector clock; every synchronising object (a lock, a
// WaitGroup, a Once, a Future, a process, a timer, a virtual context, an
// atomic variable) has the clock released into it, and each channel the
// clocks of its buffered values, of its close, and of its receives. A
// release joins the machine's clock into the object's and then advances
// the machine's own component; an acquire joins the object's clock into
// the machine's. An access to a Racy records the machine's own component
// (its epoch); two accesses, one a Store, race when the earlier one's
// epoch is above the later machine's clock for the earlier machine.
//
// The state is made by the first Racy access of a run, so a run that uses
// no Racy pays one nil check per synchronising operation. Starting late
// loses nothing: an access can only be ordered before another by the
// synchronisation that follows it, all of which is tracked.

// vclock is a vector clock indexed by machine ID.
type vclock []uint32

func (v vclock) at(i int) uint32 {
	if i < len(v) {
		return v[i]
	}
	return 0
}

// join sets *dst to the componentwise maximum of *dst and src.
func join(dst *vclock, src vclock) {
	d := *dst
	if len(d) < len(src) {
		d = append(d, make(vclock, len(src)-len(d))...)
	}
	for i, x := range src {
		if x > d[i] {
			d[i] = x
		}
	}
	*dst = d
}

type hbState struct {
	vcs   []vclock       // by machine ID
	sync  map[any]vclock // what was released into each synchronising object
	chans map[any]*chanClocks
	vars  map[any]*racyVar
}

// rwRead is the key of the clock released by an RWMutex's readers.
type rwRead struct{ rw *RWMutex }

// newHB starts happens-before tracking in a run: every machine so far
// gets a clock of its own.
func newHB(s *scheduler) *hbState {
	h := &hbState{sync: map[any]vclock{}, chans: map[any]*chanClocks{}, vars: map[any]*racyVar{}}
	for _, m := range s.all {
		h.added(m)
	}
	return h
}

// added gives a new machine its clock: its own component 1.
func (h *hbState) added(m *machine) {
	for len(h.vcs) <= m.id {
		h.vcs = append(h.vcs, nil)
	}
	vc := make(vclock, m.id+1)
	vc[m.id] = 1
	h.vcs[m.id] = vc
}

// acquire joins what was released into key into m's clock.
func (h *hbState) acquire(m *machine, key any) {
	if c, ok := h.sync[key]; ok {
		join(&h.vcs[m.id], c)
	}
}

// release joins m's clock into key's and advances m's own component.
func (h *hbState) release(m *machine, key any) {
	c := h.sync[key]
	join(&c, h.vcs[m.id])
	h.sync[key] = c
	h.tick(m)
}

func (h *hbState) tick(m *machine) { h.vcs[m.id][m.id]++ }

// snapshot returns a copy of m's clock and advances m's own component: a
// release into a value (a channel message, a receive).
func (h *hbState) snapshot(m *machine) vclock {
	c := append(vclock(nil), h.vcs[m.id]...)
	h.tick(m)
	return c
}

// spawn starts child after everything its parent did so far.
func (h *hbState) spawn(parent, child *machine) {
	join(&h.vcs[child.id], h.vcs[parent.id])
	h.tick(parent)
}

// everything joins every machine's clock into m's: the conservative
// acquire of a synchronisation sched cannot see (a standard context's
// cancellation), which can then report no race across it.
func (h *hbState) everything(m *machine) {
	for _, c := range h.vcs {
		join(&h.vcs[m.id], c)
	}
}

// everythingInto joins every machine's clock into key's: the release
// of a synchronisation whose releaser sched cannot see.
func (h *hbState) everythingInto(key any) {
	c := h.sync[key]
	for _, vc := range h.vcs {
		join(&c, vc)
	}
	h.sync[key] = c
}

// chanClocks are a channel's clocks: one per buffered value (nil for a
// value sent before tracking started), the receives not yet paired with
// the send they let complete (the k-th receive happens before the
// (k+cap)-th send completes; a timer's channel has no such pairs), and
// the close.
type chanClocks struct {
	msgs   []vclock
	recvs  []vclock
	sends  int
	closed vclock
	timer  bool
}

// chanOf returns the clocks of the channel at key, which holds buffered
// values.
func (h *hbState) chanOf(key any, buffered int, timer bool) *chanClocks {
	cc := h.chans[key]
	if cc == nil {
		// Values buffered before tracking started count as sent.
		cc = &chanClocks{msgs: make([]vclock, buffered), sends: buffered, timer: timer}
		h.chans[key] = cc
	}
	return cc
}

// message is the clock a value sent by from (nil: by timer src) carries.
func (h *hbState) message(from *machine, src any) vclock {
	if from == nil {
		return append(vclock(nil), h.sync[src]...)
	}
	return h.snapshot(from)
}

// received is a receive by to of a value whose clock is msg.
func (h *hbState) received(cc *chanClocks, to *machine, msg vclock) {
	join(&h.vcs[to.id], msg)
	if !cc.timer {
		cc.recvs = append(cc.recvs, h.snapshot(to))
	}
}

// sendDone completes a send by from (nil: a timer's) on a channel of
// capacity n: the (k+n)-th send acquires the k-th receive.
func (h *hbState) sendDone(cc *chanClocks, n int, from *machine) {
	if from == nil {
		return
	}
	cc.sends++
	if cc.sends > n && len(cc.recvs) > 0 {
		join(&h.vcs[from.id], cc.recvs[0])
		cc.recvs[0] = nil
		cc.recvs = cc.recvs[1:]
	}
}

// popMsg removes the clock of the buffer's first value.
func (cc *chanClocks) popMsg() vclock {
	if len(cc.msgs) == 0 {
		return nil
	}
	m := cc.msgs[0]
	cc.msgs[0] = nil
	cc.msgs = cc.msgs[1:]
	return m
}

// racyAccess is one access to a Racy: the machine, its own clock
// component then, and where.
type racyAccess struct {
	m     int
	name  string
	c     uint32
	write bool
	pcs   [3]uintptr
}

func (a *racyAccess) op() string {
	if a.write {
		return "Store"
	}
	return "Load"
}

// line is "file.go:12" of the access's innermost frame outside this
// package.
func (a *racyAccess) line() string {
	n := 0
	for n < len(a.pcs) && a.pcs[n] != 0 {
		n++
	}
	frames := runtime.CallersFrames(a.pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function != "" && !isSchedFrame(f.Function) {
			return filepath.Base(f.File) + ":" + strconv.Itoa(f.Line)
		}
		if !more {
			return "(unknown)"
		}
	}
}

// racyVar is a Racy's last write and the reads since, one per machine.
type racyVar struct {
	w     racyAccess
	hasW  bool
	reads []racyAccess
}

// access checks m's access a against the variable's earlier ones and
// records it; it returns an earlier access a races with, or nil.
func (h *hbState) access(key any, a racyAccess) *racyAccess {
	v := h.vars[key]
	if v == nil {
		v = &racyVar{}
		h.vars[key] = v
	}
	vc := h.vcs[a.m]
	a.c = vc[a.m]
	if v.hasW && v.w.c > vc.at(v.w.m) {
		w := v.w
		return &w
	}
	if a.write {
		for _, r := range v.reads {
			if r.c > vc.at(r.m) {
				return &r
			}
		}
		v.w, v.hasW, v.reads = a, true, v.reads[:0]
		return nil
	}
	for i := range v.reads {
		if v.reads[i].m == a.m {
			v.reads[i] = a
			return nil
		}
	}
	v.reads = append(v.reads, a)
	return nil
}

// racy is the scheduling point of an access to the Racy at key, followed
// by its race check: a Race failure if it and an earlier access, one of
// them a Store, are not ordered by happens-before.
func racy(key any, write bool) {
	m := current()
	if m == nil {
		return
	}
	a := racyAccess{m: m.id, name: m.name, write: write}
	runtime.Callers(2, a.pcs[:])
	s := m.enter()
	m.res = key
	s.yield(m)
	s = m.enter()
	if s.hb == nil {
		s.hb = newHB(s)
	}
	if b := s.hb.access(key, a); b != nil {
		s.race(m, &a, b)
	}
	s.mu.Unlock()
}

//go:noinline
func (s *scheduler) race(m *machine, a, b *racyAccess) {
	s.finish(&Failure{Kind: Race, Step: s.step, Machine: m.id, MachineName: m.name, Stack: ownStack(),
		Message: fmt.Sprintf("%s by machine %d %q at %s and %s by machine %d %q at %s, on the same Racy, are not ordered by happens-before",
			a.op(), a.m, a.name, a.line(), b.op(), b.m, b.name, b.line())})
	s.mu.Unlock()
	runtime.Goexit()
}

func init() { hb.Atomic = atomicOp }

// atomicOp is the scheduling point of an operation of package
// sched/atomic on the variable at key; a load acquires what the
// variable's stores released, a store releases (a read-modify-write
// does both), as the Go memory model's synchronized-before order of
// atomic operations.
func atomicOp(key any, load, store bool) {
	m := current()
	if m == nil {
		return
	}
	s := m.enter()
	m.res = key
	s.yield(m)
	if s.hb == nil {
		return
	}
	s = m.enter()
	if load {
		s.hb.acquire(m, key)
	}
	if store {
		s.hb.release(m, key)
	}
	s.mu.Unlock()
}
