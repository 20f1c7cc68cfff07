package sched

import (
	"sync"
)

// RWMutex is a reader/writer mutual-exclusion lock, like sync.RWMutex.
// Under a run every method is a scheduling point, and RLock and Lock
// that must wait are controlled waits ("RWMutex.RLock", "RWMutex.Lock").
// As in sync.RWMutex, a writer waiting for the readers to leave blocks
// new readers (so a recursive RLock can deadlock with a waiting writer),
// and a writer's Unlock admits the readers that waited before the next
// writer. As with sync.RWMutex, a lock is not associated with a machine:
// one machine may lock it and another unlock it; unlocking a lock that
// is not locked (for writing by Unlock, for reading by RUnlock) is a
// Panic failure. Outside a run it is a sync.RWMutex. The zero RWMutex
// is unlocked; it must not be copied after first use.
type RWMutex struct {
	// Name names it in failure reports (see the package documentation,
	// "Reports"); the zero value is unnamed.
	Name string

	rw sync.RWMutex

	run    *scheduler
	writer *machine // holds the write lock
	// readers are the machines that hold the read locks, in the order
	// they took them, for reports (a RUnlock by a machine that holds
	// none releases the earliest).
	readers []*machine
	// pq holds the writer waiting for the readers to leave (at most
	// one); rq the blocked readers; wq the writers waiting behind the
	// writer or the pending writer.
	pq, rq, wq waitQ
}

func (rw *RWMutex) bind(s *scheduler) {
	if rw.run != s {
		rw.run, rw.writer, rw.readers, rw.pq, rw.rq, rw.wq = s, nil, nil, nil, nil, nil
	}
}

func (rw *RWMutex) res() resource   { return resource{name: rw.Name, key: rw} }
func (rw *RWMutex) resName() string { return rw.Name }

// blocker is the machine a new reader or writer waits behind.
func (rw *RWMutex) blocker() *machine {
	if rw.writer != nil {
		return rw.writer
	}
	if len(rw.pq) > 0 {
		return rw.pq[0]
	}
	return nil
}

// describeWait returns, for a report, the machine that m, blocked on
// rw, waits behind (setting b.Pending when that machine holds nothing
// yet), or, when m is the writer waiting for the readers to leave, nil
// and the readers in b.Readers.
func (rw *RWMutex) describeWait(m *machine, b *Blocked) *machine {
	if len(rw.pq) > 0 && rw.pq[0] == m {
		for _, r := range rw.readers {
			b.Readers = append(b.Readers, Reader{Machine: r.id, Name: r.name, Done: r.done && !r.dead, Crashed: r.dead})
		}
		return nil
	}
	h := rw.blocker()
	b.Pending = h != nil && h != rw.writer
	return h
}

// enter is the scheduling point before an operation; it returns with
// s.mu held, or nil outside a run.
func (rw *RWMutex) enter(what string) (*scheduler, *machine) {
	me := current()
	if me == nil {
		foreign(rw.run, what)
		return nil, nil
	}
	s := me.enter()
	rw.bind(s)
	me.res = rw
	s.yield(me)
	s = me.enter()
	rw.bind(s)
	return s, me
}

// Lock locks rw for writing.
func (rw *RWMutex) Lock() {
	s, me := rw.enter("RWMutex.Lock")
	if s == nil {
		rw.rw.Lock()
		return
	}
	switch {
	case rw.blocker() != nil || len(rw.wq) > 0:
		rw.wq.wait(s, me, "RWMutex.Lock", rw.res(), rw.blocker())
	case len(rw.readers) > 0:
		// Announce: readers arriving from now on wait.
		rw.pq.wait(s, me, "RWMutex.Lock", rw.res(), nil)
	default:
		rw.writer = me
		rw.acquired(s, me, true)
		s.mu.Unlock()
	}
	// A waiting writer is woken only once it holds the lock.
}

// Unlock unlocks rw for writing. Under a run, unlocking a lock that is
// not locked for writing is a Panic failure.
func (rw *RWMutex) Unlock() {
	s, me := rw.enter("RWMutex.Unlock")
	if s == nil {
		rw.rw.Unlock()
		return
	}
	if rw.writer == nil {
		s.fail(me, Panic, "sched: RWMutex.Unlock of unlocked RWMutex "+rw.res().labelOr())
	}
	rw.writer = nil
	if s.hb != nil {
		s.hb.release(me, rw)
	}
	rw.admit(s)
	s.mu.Unlock()
}

// admit lets in, when no writer holds or waits for the lock, the
// readers that waited, and then hands the lock or the pending position
// to the next writer, so that readers arriving later wait behind it.
func (rw *RWMutex) admit(s *scheduler) {
	if rw.writer != nil || len(rw.pq) > 0 {
		return
	}
	for _, r := range rw.rq {
		rw.acquired(s, r, false)
	}
	rw.readers = append(rw.readers, rw.rq...)
	rw.rq.wakeAll(s)
	rw.nextWriter(s)
}

// acquired notes that m took the lock, for writing or for reading: it
// acquires what the writers released and, for writing, the readers.
func (rw *RWMutex) acquired(s *scheduler, m *machine, write bool) {
	if s.hb == nil {
		return
	}
	s.hb.acquire(m, rw)
	if write {
		s.hb.acquire(m, rwRead{rw})
	}
}

// nextWriter hands the lock, or the pending position, to the writer that
// has waited longest.
func (rw *RWMutex) nextWriter(s *scheduler) {
	if rw.writer != nil || len(rw.pq) > 0 || len(rw.wq) == 0 {
		return
	}
	w := rw.wq[0]
	rw.wq = append(rw.wq[:0], rw.wq[1:]...)
	if len(rw.readers) == 0 {
		rw.writer = w
		rw.acquired(s, w, true)
		s.unblock(w)
		return
	}
	rw.pq = append(rw.pq, w)
	w.wq, w.holder = &rw.pq, nil
}

// RLock locks rw for reading.
func (rw *RWMutex) RLock() {
	s, me := rw.enter("RWMutex.RLock")
	if s == nil {
		rw.rw.RLock()
		return
	}
	if b := rw.blocker(); b != nil {
		rw.rq.wait(s, me, "RWMutex.RLock", rw.res(), b)
		return // woken by Unlock, holding a read lock
	}
	rw.readers = append(rw.readers, me)
	rw.acquired(s, me, false)
	s.mu.Unlock()
}

// RUnlock undoes one RLock. Under a run, a RUnlock when no read lock is
// held is a Panic failure.
func (rw *RWMutex) RUnlock() {
	s, me := rw.enter("RWMutex.RUnlock")
	if s == nil {
		rw.rw.RUnlock()
		return
	}
	if len(rw.readers) == 0 {
		s.fail(me, Panic, "sched: RWMutex.RUnlock of unlocked RWMutex "+rw.res().labelOr())
	}
	rw.runlockLocked(s, me)
	s.mu.Unlock()
}

// runlockLocked drops a read lock, me's if it holds one, else the
// earliest; it hands the lock to the pending writer when it was the
// last.
func (rw *RWMutex) runlockLocked(s *scheduler, me *machine) {
	i := 0
	for j, r := range rw.readers {
		if r == me {
			i = j
			break
		}
	}
	rw.readers = append(rw.readers[:i], rw.readers[i+1:]...)
	if s.hb != nil {
		s.hb.release(me, rwRead{rw})
	}
	if len(rw.readers) == 0 && len(rw.pq) > 0 {
		w := rw.pq[0]
		rw.pq = rw.pq[:0]
		rw.writer = w
		rw.acquired(s, w, true)
		s.unblock(w)
	}
}

// rlockLocked takes a read lock for me after Cond.Wait (no scheduling
// point of its own; s.mu not held).
func (rw *RWMutex) rlockLocked(me *machine) {
	s := me.enter()
	rw.bind(s)
	if b := rw.blocker(); b != nil {
		rw.rq.wait(s, me, "RWMutex.RLock", rw.res(), b)
		return
	}
	rw.readers = append(rw.readers, me)
	rw.acquired(s, me, false)
	s.mu.Unlock()
}

// TryLock tries to lock rw for writing and reports whether it did.
func (rw *RWMutex) TryLock() bool {
	s, me := rw.enter("RWMutex.TryLock")
	if s == nil {
		return rw.rw.TryLock()
	}
	ok := rw.blocker() == nil && len(rw.wq) == 0 && len(rw.readers) == 0
	if ok {
		rw.writer = me
		rw.acquired(s, me, true)
	}
	s.mu.Unlock()
	return ok
}

// TryRLock tries to lock rw for reading and reports whether it did.
func (rw *RWMutex) TryRLock() bool {
	s, me := rw.enter("RWMutex.TryRLock")
	if s == nil {
		return rw.rw.TryRLock()
	}
	ok := rw.blocker() == nil
	if ok {
		rw.readers = append(rw.readers, me)
		rw.acquired(s, me, false)
	}
	s.mu.Unlock()
	return ok
}

// RLocker returns a Locker whose Lock and Unlock call RLock and RUnlock.
func (rw *RWMutex) RLocker() sync.Locker { return (*rlocker)(rw) }

type rlocker RWMutex

func (r *rlocker) Lock()   { (*RWMutex)(r).RLock() }
func (r *rlocker) Unlock() { (*RWMutex)(r).RUnlock() }

// Once performs exactly one action, like sync.Once. Under a run Do is a
// scheduling point, and a Do that finds another machine running the
// action waits for it (a controlled wait, "Once.Do"), as sync.Once does.
type Once struct {
	// Name names it in failure reports (see the package documentation,
	// "Reports"); the zero value is unnamed.
	Name string

	once sync.Once

	run     *scheduler
	state   uint8 // 0 not run, 1 running, 2 done
	waiters waitQ
}

// Do calls f if and only if Do is being called for the first time for
// this Once; every call returns after f has returned (or panicked).
func (o *Once) Do(f func()) {
	me := current()
	if me == nil {
		foreign(o.run, "Once.Do")
		o.once.Do(f)
		return
	}
	s := me.enter()
	o.bind(s)
	me.res = o
	s.yield(me)
	for {
		s = me.enter()
		o.bind(s)
		switch o.state {
		case 2:
			if s.hb != nil {
				s.hb.acquire(me, o)
			}
			s.mu.Unlock()
			return
		case 1:
			o.waiters.wait(s, me, "Once.Do", resource{name: o.Name, key: o}, nil)
			continue
		}
		o.state = 1
		s.mu.Unlock()
		break
	}
	defer func() {
		s := me.s
		s.mu.Lock()
		if o.run == s {
			o.state = 2
			o.waiters.wakeAll(s)
			if s.hb != nil && !me.dead && !s.finished {
				s.hb.release(me, o)
			}
		}
		s.mu.Unlock()
	}()
	f()
}

func (o *Once) resName() string { return o.Name }

func (o *Once) bind(s *scheduler) {
	if o.run != s {
		o.run, o.state, o.waiters = s, 0, nil
	}
}

// Racy marks a plain shared variable whose accesses may not be
// synchronised: under a run Load and Store are scheduling points (the
// resource, for "pos", is the variable), so an unsynchronised read and
// write of it become an interleaving point the strategies explore, and
// each access is checked against the earlier ones: two accesses, one a
// Store, not ordered by happens-before end the run with a Race failure
// (see the package documentation, "Races"). Outside a run they are
// plain, unsynchronised accesses (a data race the race detector reports,
// as the code being ported has). Use it to port code with a data race,
// not to write new code.
//
// The zero Racy holds T's zero value; NewRacy makes one holding a value,
// for composite literals (&T{f: sched.NewRacy(v)} where the original has
// &T{f: v}).
type Racy[T any] struct{ v T }

// NewRacy returns a Racy holding v. It is not a scheduling point (the
// variable is not shared yet).
func NewRacy[T any](v T) Racy[T] { return Racy[T]{v: v} }

// Load reads the variable.
func (x *Racy[T]) Load() T { racy(x, false); return x.v }

// Store writes the variable.
func (x *Racy[T]) Store(v T) { racy(x, true); x.v = v }
