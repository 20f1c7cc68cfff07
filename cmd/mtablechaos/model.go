package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/migratingtable/migratingtable/spec"
)

// The writer's log, one line per event, fsynced after each:
//
//	S <incarnation>                              a writer process started
//	I <seq> <n> (<pk> <rk> put|del <value>){n}   a batch about to be sent
//	A <seq>                                      acknowledged: it took effect
//	F <seq> <reason>                             it did not take effect
//	U <seq> <reason>                             outcome unknown
//
// A batch with an I line and no A, F or U line (the writer was killed
// while it was in flight) has an unknown outcome. Keys and values
// contain no spaces; a delete's value is "-". A torn last line (killed
// while writing it) is ignored.

// write is one operation of a batch: put the value, or delete.
type write struct {
	key   spec.Key
	put   bool
	value string
}

// batch is one logged batch and what became of it.
type batch struct {
	seq    int64
	writes []write
	status byte // 'A', 'F' or 'U'
}

func (w write) String() string {
	if w.put {
		return fmt.Sprintf("%s %s put %s", w.key.PartitionKey, w.key.RowKey, w.value)
	}
	return fmt.Sprintf("%s %s del -", w.key.PartitionKey, w.key.RowKey)
}

// intentLine is the I line of a batch.
func intentLine(seq int64, writes []write) string {
	parts := []string{"I", strconv.FormatInt(seq, 10), strconv.Itoa(len(writes))}
	for _, w := range writes {
		parts = append(parts, w.String())
	}
	return strings.Join(parts, " ")
}

// parseLog reads a writer's log. Batches come back in log order, which
// is the order the writer issued them.
func parseLog(r io.Reader) ([]batch, error) {
	var out []batch
	index := map[int64]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for n, line := range lines {
		f := strings.Fields(line)
		bad := func(why string) error {
			return fmt.Errorf("line %d %q: %s", n+1, line, why)
		}
		if len(f) == 0 {
			continue
		}
		last := n == len(lines)-1
		switch f[0] {
		case "S":
		case "I":
			if len(f) < 3 {
				if last {
					continue
				}
				return nil, bad("short intent")
			}
			seq, err1 := strconv.ParseInt(f[1], 10, 64)
			k, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil || k < 1 || len(f) != 3+4*k {
				if last {
					continue // torn
				}
				return nil, bad("malformed intent")
			}
			if _, dup := index[seq]; dup {
				return nil, bad("sequence number used twice")
			}
			b := batch{seq: seq, status: 'U'}
			for i := 0; i < k; i++ {
				g := f[3+4*i:]
				switch g[2] {
				case "put":
					b.writes = append(b.writes, write{key: spec.Key{PartitionKey: g[0], RowKey: g[1]}, put: true, value: g[3]})
				case "del":
					b.writes = append(b.writes, write{key: spec.Key{PartitionKey: g[0], RowKey: g[1]}})
				default:
					return nil, bad("unknown operation " + g[2])
				}
			}
			index[seq] = len(out)
			out = append(out, b)
		case "A", "F", "U":
			if len(f) < 2 {
				if last {
					continue
				}
				return nil, bad("short outcome")
			}
			seq, err := strconv.ParseInt(f[1], 10, 64)
			i, ok := index[seq]
			if err != nil || !ok {
				if last {
					continue
				}
				return nil, bad("outcome of an unknown batch")
			}
			out[i].status = f[0][0]
		default:
			if last {
				continue
			}
			return nil, bad("unknown event")
		}
	}
	return out, nil
}

// rowState is a key's content: absent, or present with a value.
type rowState struct {
	present bool
	value   string
}

func (s rowState) String() string {
	if !s.present {
		return "absent"
	}
	return strconv.Quote(s.value)
}

// keyModel is what the final table may hold for one key: the state the
// last acknowledged write left, or the state of any write whose outcome
// is unknown (it may have taken effect once, at any time after it was
// issued, or not at all).
type keyModel struct {
	acked   rowState
	unknown []rowState
	writes  int // acknowledged writes of the key
}

func (m *keyModel) allows(s rowState) bool {
	return s == m.acked || slices.Contains(m.unknown, s)
}

// model is the expected content of the table, key by key.
type model map[spec.Key]*keyModel

// newModel starts from the rows loaded before the campaign (all
// acknowledged) and applies every writer's log.
func newModel(initial map[spec.Key]string, logs [][]batch) model {
	m := model{}
	for k, v := range initial {
		m[k] = &keyModel{acked: rowState{true, v}, writes: 1}
	}
	get := func(k spec.Key) *keyModel {
		if m[k] == nil {
			m[k] = &keyModel{}
		}
		return m[k]
	}
	for _, log := range logs {
		for _, b := range log {
			for _, w := range b.writes {
				km := get(w.key)
				s := rowState{present: w.put}
				if w.put {
					s.value = w.value
				}
				switch b.status {
				case 'A':
					km.acked = s
					km.writes++
				case 'U':
					km.unknown = append(km.unknown, s)
				}
			}
		}
	}
	return m
}

// verdict is the outcome of checking a table against the model.
type verdict struct {
	keys, acked, unknown int
	lost                 []string // one line per key whose content the model does not allow
}

// check compares the final table (key to value) with the model.
func (m model) check(final map[spec.Key]string) verdict {
	var v verdict
	keys := make([]spec.Key, 0, len(m)+len(final))
	for k := range m {
		keys = append(keys, k)
	}
	for k := range final {
		if m[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, spec.Key.Compare)
	for _, k := range keys {
		km := m[k]
		got := rowState{}
		if val, ok := final[k]; ok {
			got = rowState{true, val}
		}
		if km == nil {
			v.lost = append(v.lost, fmt.Sprintf("%s: holds %s, which nothing wrote", k, got))
			continue
		}
		v.keys++
		v.acked += km.writes
		v.unknown += len(km.unknown)
		if !km.allows(got) {
			v.lost = append(v.lost, fmt.Sprintf("%s: holds %s, want %s (the last acknowledged write) or one of %d writes of unknown outcome %v", k, got, km.acked, len(km.unknown), km.unknown))
		}
	}
	return v
}
