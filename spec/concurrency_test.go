package spec_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/migratingtable/migratingtable/spec"
)

// TestMemTableConcurrent runs writers and streamed readers in parallel
// (meaningful under -race) and checks that every successful write got a
// distinct ETag from the counter, that the counter issued exactly one
// ETag per written row, and that the final contents are what the writes
// imply.
func TestMemTableConcurrent(t *testing.T) {
	const writers, rounds = 4, 50
	ctx := context.Background()
	tbl := spec.NewMemTable("c:")
	var mu sync.Mutex
	etags := map[spec.ETag]string{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pk := "p" + strconv.Itoa(w%2) // two writers per partition
			for r := range rounds {
				ops := []spec.Op{
					{Kind: spec.InsertOrMerge, Entity: spec.Entity{Key: spec.Key{PartitionKey: pk, RowKey: "shared"}, Props: spec.Props{"w" + strconv.Itoa(w): spec.Int32(int32(r))}}},
					{Kind: spec.Insert, Entity: spec.Entity{Key: spec.Key{PartitionKey: pk, RowKey: fmt.Sprintf("w%d-r%03d", w, r)}}},
				}
				res, err := tbl.ExecuteBatch(ctx, ops)
				if err != nil {
					t.Errorf("writer %d round %d: %v", w, r, err)
					return
				}
				mu.Lock()
				for i, x := range res {
					if prev, dup := etags[x.ETag]; dup {
						t.Errorf("ETag %q issued twice: %s and writer %d round %d op %d", x.ETag, prev, w, r, i)
					}
					etags[x.ETag] = fmt.Sprintf("writer %d round %d op %d", w, r, i)
				}
				mu.Unlock()
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				s, err := tbl.QueryStreamed(ctx, nil)
				if err != nil {
					t.Error(err)
					return
				}
				var last spec.Key
				for n := 0; ; n++ {
					e, ok, err := s.Next(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if !ok {
						break
					}
					if n > 0 && !last.Less(e.Key) {
						t.Errorf("stream order: got %v after %v, want increasing keys", e.Key, last)
					}
					last = e.Key
				}
				s.Close()
			}
		}()
	}
	wg.Wait()

	if got, want := len(etags), writers*rounds*2; got != want {
		t.Errorf("distinct ETags: got %d, want %d", got, want)
	}
	for n := 1; n <= writers*rounds*2; n++ {
		if _, ok := etags[spec.ETag("c:"+strconv.Itoa(n))]; !ok {
			t.Errorf("ETag c:%d was never returned: the counter skipped or repeated", n)
		}
	}
	snap := tbl.Snapshot()
	if got, want := len(snap), 2+writers*rounds; got != want {
		t.Errorf("rows: got %d, want %d", got, want)
	}
	for pk := range 2 {
		shared, ok := snap.Get(spec.Key{PartitionKey: "p" + strconv.Itoa(pk), RowKey: "shared"})
		if !ok {
			t.Fatalf("shared row of p%d missing", pk)
		}
		for w := pk; w < writers; w += 2 {
			if got, want := shared.Props["w"+strconv.Itoa(w)], spec.Int32(rounds-1); got != want {
				t.Errorf("p%d shared row, writer %d's property: got %v, want %v", pk, w, got, want)
			}
		}
		if !strings.HasPrefix(string(shared.ETag), "c:") {
			t.Errorf("shared row ETag: got %q, want prefix c:", shared.ETag)
		}
	}
}
