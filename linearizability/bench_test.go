package linearizability_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/migratingtable/migratingtable/linearizability"
)

// benchHistory generates a realistic recorded history: 4 clients with
// overlapping calls, 3 partitions of 4 row keys, ETag changes by a
// migrator, and one call left pending; fixed seed.
func benchHistory(calls int) ([]tOp, func() linearizability.Model[linearizability.TableState, linearizability.TableCall, linearizability.TableOutcome]) {
	r := rand.New(rand.NewPCG(314159, uint64(calls)))
	initial, h := generate(r.IntN, genConfig{clients: 4, calls: calls, partitions: 3, rows: 4, pending: true})
	return h, func() linearizability.Model[linearizability.TableState, linearizability.TableCall, linearizability.TableOutcome] {
		return linearizability.TableModel(initial)
	}
}

// BenchmarkCheckTable checks generated histories whole and partitioned
// (by default with GOMAXPROCS workers, and with one).
func BenchmarkCheckTable(b *testing.B) {
	for _, calls := range []int{10, 100, 1000} {
		h, model := benchHistory(calls)
		m := model()
		for _, variant := range []string{"partitioned", "partitioned-one-worker", "whole"} {
			name := fmt.Sprintf("calls=%d/%s", calls, variant)
			mm := m
			var opts linearizability.Options
			switch variant {
			case "partitioned-one-worker":
				opts.Workers = 1
			case "whole":
				mm.Partition = nil
			}
			b.Run(name, func(b *testing.B) {
				var rep linearizability.Report[linearizability.TableState, linearizability.TableCall, linearizability.TableOutcome]
				for b.Loop() {
					var err error
					rep, err = linearizability.Check(mm, h, opts)
					if err != nil {
						b.Fatal(err)
					}
				}
				if rep.Result != linearizability.Ok {
					b.Fatalf("got %v, want ok", rep.Result)
				}
				b.ReportMetric(float64(rep.Steps), "steps/check")
				b.ReportMetric(float64(len(h)), "ops")
			})
		}
	}
}
