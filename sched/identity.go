package sched

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/petermattis/goid"
)

// Finding the running machine.
//
// A controlled primitive finds the machine that calls it from the calling
// goroutine's identity: the registry below maps goroutine IDs to the
// machines of the runs in progress. activeRuns counts the runs that still
// have a machine goroutine (or are inside Run); while it is zero, every
// primitive takes the plain path after that one atomic load.

// activeRuns is the number of runs in progress in the process (a run
// counts until Run has returned and every machine goroutine has exited).
var activeRuns atomic.Int32

// fastGoid reports whether goid.Get agreed with runtime.Stack at init.
// When it did not (a Go release changed the runtime's g layout), the
// goroutine ID is parsed from runtime.Stack: correct, about 1,000 times
// slower.
var fastGoid = checkGoid()

// currentGoid returns the calling goroutine's ID.
func currentGoid() int64 {
	if fastGoid {
		return goid.Get()
	}
	return stackGoid()
}

// stackGoid parses the "goroutine N [" header of the calling goroutine's
// stack.
func stackGoid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return -1
	}
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// checkGoid compares goid.Get with runtime.Stack's header on the calling
// goroutine and on a second one.
func checkGoid() bool {
	if goid.Get() != stackGoid() || stackGoid() <= 0 {
		return false
	}
	ok := make(chan bool)
	go func() { ok <- goid.Get() == stackGoid() }()
	return <-ok
}

// current returns the machine of the calling goroutine, or nil when it
// is not a machine of a run in progress.
func current() *machine {
	if activeRuns.Load() == 0 {
		return nil
	}
	return lookupMachine(currentGoid())
}

// gtable is an open-addressing hash table (linear probing) from goroutine
// ID to machine. Readers never lock: they load the table and probe with
// atomic loads. Writers (a machine registering or retiring itself) take
// registry.mu. A slot's key goes from 0 (empty) to an ID, from an ID to
// tomb (retired) and from tomb to another ID; it goes back to 0 only
// when the next slot is empty (then no present key's probe passes
// through it), so a probe for a present key never stops early. A table is never modified after it
// has been replaced; the goroutine looking itself up finds its own entry
// in whichever table it loads, since it registered before and retires
// after.
type gtable struct {
	mask  uint64
	slots []gslot
}

type gslot struct {
	key atomic.Int64
	m   atomic.Pointer[machine]
}

const tomb = -1

var registry struct {
	mu    sync.Mutex
	tab   atomic.Pointer[gtable]
	n     int // live entries
	tombs int
}

func init() { registry.tab.Store(newGtable(64)) }

func newGtable(size int) *gtable {
	return &gtable{mask: uint64(size - 1), slots: make([]gslot, size)}
}

func gslotOf(id int64, mask uint64) uint64 {
	return (uint64(id) * golden) >> 32 & mask
}

func (r *gtable) lookup(id int64) *machine {
	for i := gslotOf(id, r.mask); ; i = (i + 1) & r.mask {
		switch r.slots[i].key.Load() {
		case id:
			return r.slots[i].m.Load()
		case 0:
			return nil
		}
	}
}

func (r *gtable) insert(id int64, m *machine) {
	for i := gslotOf(id, r.mask); ; i = (i + 1) & r.mask {
		if k := r.slots[i].key.Load(); k == 0 || k == tomb {
			r.slots[i].m.Store(m)
			r.slots[i].key.Store(id)
			return
		}
	}
}

// lookupMachine returns the machine registered for goroutine id, or nil.
func lookupMachine(id int64) *machine { return registry.tab.Load().lookup(id) }

// register maps goroutine id to m.
func register(id int64, m *machine) {
	registry.mu.Lock()
	t := registry.tab.Load()
	size := len(t.slots)
	if (registry.n+registry.tombs+1)*4 > size*3 {
		// Rebuild: grow when live entries fill half the table, else
		// only drop the tombstones.
		if (registry.n+1)*2 > size {
			size *= 2
		}
		nt := newGtable(size)
		for i := range t.slots {
			if k := t.slots[i].key.Load(); k > 0 {
				nt.insert(k, t.slots[i].m.Load())
			}
		}
		registry.tab.Store(nt)
		registry.tombs = 0
		t = nt
	}
	t.insert(id, m)
	registry.n++
	registry.mu.Unlock()
}

// unregister removes goroutine id's entry.
func unregister(id int64) {
	registry.mu.Lock()
	t := registry.tab.Load()
	for i := gslotOf(id, t.mask); ; i = (i + 1) & t.mask {
		k := t.slots[i].key.Load()
		if k == id {
			t.slots[i].m.Store(nil)
			registry.n--
			if t.slots[(i+1)&t.mask].key.Load() != 0 {
				t.slots[i].key.Store(tomb)
				registry.tombs++
				break
			}
			// The next slot is empty, so no present key's probe passes
			// through this one (a probe path is a run of non-empty slots
			// from the key's home to the key): it can be emptied, and
			// the tombstones just before it too.
			t.slots[i].key.Store(0)
			for j := (i - 1) & t.mask; t.slots[j].key.Load() == tomb; j = (j - 1) & t.mask {
				t.slots[j].key.Store(0)
				registry.tombs--
			}
			break
		}
		if k == 0 {
			break
		}
	}
	registry.mu.Unlock()
}
