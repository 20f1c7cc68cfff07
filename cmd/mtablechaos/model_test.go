package main

import (
	"strings"
	"testing"

	"github.com/migratingtable/migratingtable/spec"
)

func key(rk string) spec.Key { return spec.Key{PartitionKey: "p0", RowKey: rk} }

func TestParseLog(t *testing.T) {
	log := strings.Join([]string{
		"S 0",
		intentLine(1, []write{{key("a"), true, "v1"}}),
		"A 1",
		intentLine(2, []write{{key("a"), false, ""}, {key("b"), true, "v2"}}),
		"F 2 400",
		intentLine(3, []write{{key("b"), true, "v3"}}),
		"U 3 timeout",
		intentLine(4, []write{{key("c"), true, "v4"}}), // killed in flight
		"S 1",
		intentLine(5, []write{{key("c"), true, "v5"}}),
		"A 5",
		"I 6 1 p0 d pu", // torn by a kill
	}, "\n")
	got, err := parseLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		seq    int64
		n      int
		status byte
	}{{1, 1, 'A'}, {2, 2, 'F'}, {3, 1, 'U'}, {4, 1, 'U'}, {5, 1, 'A'}}
	if len(got) != len(want) {
		t.Fatalf("got %d batches %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].seq != w.seq || len(got[i].writes) != w.n || got[i].status != w.status {
			t.Errorf("batch %d: got seq %d, %d writes, status %c; want %d, %d, %c", i, got[i].seq, len(got[i].writes), got[i].status, w.seq, w.n, w.status)
		}
	}
	if w := got[1].writes[0]; w.put || w.key != key("a") {
		t.Errorf("batch 2 write 0: got %+v, want a delete of a", w)
	}
	for _, bad := range []string{"I 1 1 p0 a put v\nX 1\nS 0", "I 1 2 p0 a put v\nS 0", "I 1 1 p0 a put v\nI 1 1 p0 a put v\nS 0", "A 9\nS 0"} {
		if _, err := parseLog(strings.NewReader(bad)); err == nil {
			t.Errorf("parseLog(%q): got no error, want one", bad)
		}
	}
}

// TestCheck: the model catches a lost acknowledged write, a deleted row
// that came back and a row nothing wrote, and accepts the outcomes of
// writes whose outcome is unknown.
func TestCheck(t *testing.T) {
	initial := map[spec.Key]string{key("a"): "init", key("b"): "init", key("c"): "init", key("f"): "filler"}
	logs := [][]batch{{
		{seq: 1, writes: []write{{key("a"), true, "a1"}}, status: 'A'},
		{seq: 2, writes: []write{{key("a"), true, "a2"}}, status: 'U'},
		{seq: 3, writes: []write{{key("b"), false, ""}}, status: 'A'},
		{seq: 4, writes: []write{{key("c"), true, "c1"}}, status: 'F'},
		{seq: 5, writes: []write{{key("d"), true, "d1"}}, status: 'A'},
	}}
	m := newModel(initial, logs)
	tests := []struct {
		name  string
		final map[spec.Key]string
		lost  []string // substrings, one per lost key, in key order
	}{
		{"all as acknowledged", map[spec.Key]string{key("a"): "a1", key("c"): "init", key("d"): "d1", key("f"): "filler"}, nil},
		{"an unknown write landed", map[spec.Key]string{key("a"): "a2", key("c"): "init", key("d"): "d1", key("f"): "filler"}, nil},
		{"acknowledged write lost", map[spec.Key]string{key("a"): "init", key("c"): "init", key("d"): "d1", key("f"): "filler"}, []string{`'p0'/'a': holds "init", want "a1"`}},
		{"deleted row back", map[spec.Key]string{key("a"): "a1", key("b"): "init", key("c"): "init", key("d"): "d1", key("f"): "filler"}, []string{`'p0'/'b': holds "init", want absent`}},
		{"failed write applied", map[spec.Key]string{key("a"): "a1", key("c"): "c1", key("d"): "d1", key("f"): "filler"}, []string{`'p0'/'c': holds "c1"`}},
		{"filler row lost", map[spec.Key]string{key("a"): "a1", key("c"): "init", key("d"): "d1"}, []string{`'p0'/'f': holds absent, want "filler"`}},
		{"phantom row", map[spec.Key]string{key("a"): "a1", key("c"): "init", key("d"): "d1", key("f"): "filler", key("z"): "?"}, []string{`'p0'/'z': holds "?", which nothing wrote`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := m.check(tt.final)
			if len(v.lost) != len(tt.lost) {
				t.Fatalf("got lost %q, want %d", v.lost, len(tt.lost))
			}
			for i, want := range tt.lost {
				if !strings.Contains(v.lost[i], want) {
					t.Errorf("lost[%d]: got %q, want it to say %q", i, v.lost[i], want)
				}
			}
			if tt.lost == nil && (v.keys != 5 || v.acked != 7 || v.unknown != 1) {
				t.Errorf("got %d keys, %d acknowledged, %d unknown; want 5, 7, 1", v.keys, v.acked, v.unknown)
			}
		})
	}
}
