package linearizability_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/migratingtable/migratingtable/linearizability"
)

// Printing a history and reading it back gives the same history: it
// prints the same and gets the same verdict.
func TestTableHistoryRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := drawConfig(t)
		choose := rapidChooser(t)
		initial, h := generate(choose, cfg)
		for i := range h {
			if !h[i].IsPending() && h[i].Input.Kind != linearizability.ETagChangeCall && choose(4) == 0 {
				h[i].Output = mutate(choose, h[i].Input, h[i].Output)
			}
		}
		text := linearizability.FormatTableHistory(initial, h)
		initial2, h2, err := linearizability.ParseTableHistory(text)
		if err != nil {
			t.Fatalf("ParseTableHistory: %v\n%s", err, text)
		}
		if got, want := linearizability.FormatTableHistory(initial2, h2), text; got != want {
			t.Fatalf("printed again:\n%s\nwant:\n%s", got, want)
		}
		want, err := linearizability.CheckTable(initial, h, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := linearizability.CheckTable(initial2, h2, linearizability.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("read back: got %s, want %s", got.String(), want.String())
		}
	})
}

func TestParseTableHistoryErrors(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{"bogus", `linearizability: history line 1: byte 5: expected "initial", "op", "change", "final", "plain", "stray" or "tracked" at the start of the line, found "bogus"`},
		{"# c\nop 1 x 2 query() -> []", `linearizability: history line 2: byte 6: expected an integer, found "x"`},
		{"op 1 2 3 frob", `linearizability: history line 1: byte 13: expected batch, query, retrieve, stream or etag-change, found "frob"`},
		{"op 1 2 3 batch[Upsert 'p'/'1' {}] -> ?", `linearizability: history line 1: byte 21: expected an operation kind, found "Upsert"`},
		{"op 1 2 3 query(PartitionKey eq) -> []", `linearizability: history line 1: byte 31: expected a filter in query(...): filter: syntax error at byte 15: expected a literal value, found the end of the filter`},
		{"initial 'p'/'1' \"e\" {v=notaliteral}", `linearizability: history line 1: byte 23: expected a literal for property v, found "notaliteral"`},
		{"initial 'p'/'1 \"e\" {}", `linearizability: history line 1: byte 21: expected a closing quote`},
		{"op 1 2 3 query() -> [] extra", `linearizability: history line 1: byte 23: expected the end of the line, found "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, _, err := linearizability.ParseTableHistory(tt.text)
			if err == nil {
				t.Fatalf("got no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// Every record in testdata/ is checked on every run. The first line
// of a file says the verdict it must get: "# want: ok" or "# want:
// illegal". An illegal record's file names the failing operation of the
// search in a line "# failed: <its line, without the leading "op">", or
// each violation in a line "# violation: <the explanation's line>".
func TestRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.hist"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/*.hist files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			var want, failed string
			var violations []string
			for _, line := range strings.Split(text, "\n") {
				if v, ok := strings.CutPrefix(line, "# want: "); ok {
					want = v
				}
				if v, ok := strings.CutPrefix(line, "# failed: "); ok {
					failed = v
				}
				if v, ok := strings.CutPrefix(line, "# violation: "); ok {
					violations = append(violations, v)
				}
			}
			rec, err := linearizability.ParseTableRecord(text)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := linearizability.FormatTableRecord(rec), stripComments(text); got != want {
				t.Errorf("printed again:\n%s\nwant (the file without comments):\n%s", got, want)
			}
			rep, err := linearizability.CheckTableRecord(rec, linearizability.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Result.String(); got != want {
				t.Fatalf("got %s, want %s\n%s", got, want, rep.Explanation)
			}
			if rep.Result != linearizability.Illegal {
				return
			}
			if len(violations) > 0 {
				if got, want := strings.Split(rep.Explanation, "\n")[1:], violations; !slices.Equal(got, want) {
					t.Errorf("violations:\ngot  %q\nwant %q", got, want)
				}
				return
			}
			if rep.Search == nil {
				t.Fatalf("illegal without a search: %s", rep.Explanation)
			}
			line := strings.TrimPrefix(linearizability.FormatTableOperation(rep.Search.Failed), "op ")
			if got := strings.TrimSpace(line); got != failed {
				t.Errorf("failed: got %q, want %q", got, failed)
			}
		})
	}
}

// stripComments drops a record's comment and blank lines.
func stripComments(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" && line[0] != '#' {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// ParseTableRecord never panics, what it accepts prints to a text that
// reads back to the same record, and CheckTableRecord judges it or
// refuses it without panicking.
func FuzzParseTableRecord(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hist"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Add("op 1 2 3 query() -> ?")
	f.Add("tracked\nop 1 2 3 stream(a eq 1) -> [2 end cont 'p'/'1'] 400")
	f.Fuzz(func(t *testing.T, text string) {
		rec, err := linearizability.ParseTableRecord(text)
		if err != nil {
			return
		}
		printed := linearizability.FormatTableRecord(rec)
		rec2, err := linearizability.ParseTableRecord(printed)
		if err != nil {
			t.Fatalf("printed form does not read back: %v\n%s", err, printed)
		}
		if again := linearizability.FormatTableRecord(rec2); again != printed {
			t.Fatalf("printed again:\n%s\nwant:\n%s", again, printed)
		}
		_, _ = linearizability.CheckTableRecord(rec, linearizability.Options{MaxSteps: 10000})
	})
}
