package linearizability_test

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

func drawRow(t *rapid.T) spec.Entity {
	etag := drawETag(t)
	if etag == "" {
		etag = "e"
	}
	return spec.Entity{Key: drawKey(t), ETag: etag, Props: drawProps(t)}
}

func drawRows(t *rapid.T) []spec.Entity {
	var rows []spec.Entity
	for range rapid.IntRange(0, 3).Draw(t, "rows") {
		rows = append(rows, drawRow(t))
	}
	return rows
}

// drawOperation draws an operation with an outcome of its kind: results,
// rows, stream answers, an error, or pending.
func drawOperation(t *rapid.T) linearizability.TableOperation {
	c := drawCall(t)
	call := rapid.Int64Range(-3, 50).Draw(t, "call")
	ret := call + rapid.Int64Range(0, 20).Draw(t, "duration")
	if rapid.IntRange(0, 5).Draw(t, "pending") == 0 {
		ret = linearizability.Pending
	}
	var out linearizability.TableOutcome
	var err error
	if rapid.IntRange(0, 4).Draw(t, "fails") == 0 {
		err = &spec.Error{Status: rapid.SampledFrom([]int{400, 404, 409, 412}).Draw(t, "status"), Index: rapid.IntRange(-1, 3).Draw(t, "index")}
	}
	switch c.Kind {
	case linearizability.BatchCall:
		if err == nil {
			out.Results = []spec.Result{}
			for range c.Ops {
				out.Results = append(out.Results, spec.Result{ETag: drawETag(t)})
			}
		}
		return linearizability.Batch(1, call, ret, c.Ops, out.Results, err)
	case linearizability.QueryCall, linearizability.RetrieveCall:
		var rows []spec.Entity
		if err == nil {
			rows = drawRows(t)
		}
		op := linearizability.Query(2, call, ret, c.Filter, rows, err)
		op.Input = c
		return op
	case linearizability.StreamCall:
		var answers []linearizability.StreamAnswer
		at := call
		for range rapid.IntRange(0, 3).Draw(t, "answers") {
			a := linearizability.StreamAnswer{At: at}
			if rapid.IntRange(0, 3).Draw(t, "end") == 0 {
				a.End = true
			} else {
				a.Row = drawRow(t)
			}
			if rapid.Bool().Draw(t, "cont") {
				a.Cont, a.HasCont = drawKey(t), true
			}
			answers = append(answers, a)
		}
		return linearizability.Stream(3, call, ret, c.Filter, answers, err)
	}
	return linearizability.ETagChange(-1, call, c.Key, c.ETag)
}

func drawContent(t *rapid.T, label string) []linearizability.PartitionContent {
	if rapid.Bool().Draw(t, label) {
		return nil
	}
	var out []linearizability.PartitionContent
	for range rapid.IntRange(0, 2).Draw(t, label+"s") {
		out = append(out, linearizability.PartitionContent{PartitionKey: drawKeyPart(t, "pk"), Rows: drawRows(t)})
	}
	if out == nil {
		out = []linearizability.PartitionContent{}
	}
	return out
}

// TestTableRecordRoundTrip: a record printed and read back prints the
// same, and gets the same verdict (or the same refusal).
func TestTableRecordRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rec := linearizability.TableRecord{Tracked: rapid.Bool().Draw(t, "tracked"), Initial: drawRows(t)}
		for range rapid.IntRange(0, 5).Draw(t, "ops") {
			rec.History = append(rec.History, drawOperation(t))
		}
		for range rapid.IntRange(0, 3).Draw(t, "changes") {
			c := linearizability.ContentChange{At: rapid.Int64Range(0, 60).Draw(t, "at"), Key: drawKey(t), Present: rapid.Bool().Draw(t, "present")}
			if c.Present {
				c.Row = drawRow(t)
				c.Row.Key = c.Key
			}
			rec.Changes = append(rec.Changes, c)
		}
		rec.Final, rec.Plain = drawContent(t, "final"), drawContent(t, "plain")
		if rapid.Bool().Draw(t, "stray") {
			rec.Stray = append([]spec.Entity{}, drawRows(t)...)
		}
		text := linearizability.FormatTableRecord(rec)
		back, err := linearizability.ParseTableRecord(text)
		if err != nil {
			t.Fatalf("ParseTableRecord: %v\n%s", err, text)
		}
		if again := linearizability.FormatTableRecord(back); again != text {
			t.Fatalf("printed again:\n%s\nwant:\n%s", again, text)
		}
		opts := linearizability.Options{MaxSteps: 20000}
		want, werr := linearizability.CheckTableRecord(rec, opts)
		got, gerr := linearizability.CheckTableRecord(back, opts)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("errors: read back %v, original %v", gerr, werr)
		}
		if got.Result != want.Result || got.Explanation != want.Explanation {
			t.Fatalf("read back: %s\noriginal: %s", got.Explanation, want.Explanation)
		}
	})
}

// TestCheckTableRecordRefuses: records that cannot be judged are
// errors, saying why.
func TestCheckTableRecordRefuses(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"stream untracked", "op 1 1 2 stream() -> [2 end]",
			"linearizability: operation 0: a streamed query needs a tracked record: the content's changes to judge it against"},
		{"answer outside the call", "tracked\nop 1 1 2 stream() -> [3 end]",
			"linearizability: operation 0: answer 0 at time 3: answers are in time order, within the call [1, 2]"},
		{"answers out of order", "tracked\nop 1 1 9 stream() -> [5 end, 4 end]",
			"linearizability: operation 0: answer 1 at time 4: answers are in time order, within the call [1, 9]"},
		{"timestamp in a stream", "tracked\nop 1 1 9 stream(Timestamp gt datetime'2000-01-01T00:00:00Z') -> []",
			"linearizability: operation 0: filter \"Timestamp gt datetime'2000-01-01T00:00:00Z'\" compares Timestamp, which the table model does not track (a write reports no Timestamp): leave Timestamp out of recorded filters"},
		{"timestamp in a query", "op 1 1 9 query((PartitionKey eq 'p') and (Timestamp gt datetime'2000-01-01T00:00:00Z')) -> []",
			"linearizability: operation 0: filter \"(PartitionKey eq 'p') and (Timestamp gt datetime'2000-01-01T00:00:00Z')\" compares Timestamp, which the table model does not track (a write reports no Timestamp): leave Timestamp out of recorded filters"},
		{"changes out of order", "tracked\nchange 5 'p'/'1' absent\nchange 4 'p'/'1' absent",
			"linearizability: change 1 at time 4 comes after one at time 5: changes are in time order"},
		{"final twice", "final 'p' []\nfinal 'p' []",
			"linearizability: final content of partition 'p' listed twice"},
		{"final in another partition", "final 'p' ['q'/'1'@\"e\" {}]",
			"linearizability: final content of partition 'p' holds row 'q'/'1'"},
		{"final out of order", "final 'p' ['p'/'2'@\"e\" {}, 'p'/'1'@\"e\" {}]",
			"linearizability: final content of partition 'p': row 'p'/'1' after 'p'/'2': rows are in key order, each once"},
		{"plain without final", "plain 'p' []",
			"linearizability: plain content without final content to compare it with"},
		{"final not what the changes reach", "tracked\ninitial 'p'/'1' \"e1\" {}\nchange 3 'p'/'1' absent\nfinal 'p' ['p'/'1'@\"e1\" {}]",
			"linearizability: final content of partition 'p' is ['p'/'1'@\"e1\" {}], but the changes reach []: the record is inconsistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := linearizability.ParseTableRecord(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			_, err = linearizability.CheckTableRecord(rec, linearizability.Options{})
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestParseTableHistoryRefusesRecords: ParseTableHistory would drop a
// record's changes and end state, so it refuses them.
func TestParseTableHistoryRefusesRecords(t *testing.T) {
	for _, text := range []string{"tracked", "change 1 'p'/'1' absent", "final 'p' []", "plain 'p' []", "stray []"} {
		_, _, err := linearizability.ParseTableHistory(text)
		if err == nil || !strings.Contains(err.Error(), "read it with ParseTableRecord") {
			t.Errorf("ParseTableHistory(%q): got %v, want a refusal naming ParseTableRecord", text, err)
		}
	}
}
