package linearizability_test

import (
	"fmt"

	"github.com/migratingtable/migratingtable/linearizability"
	"github.com/migratingtable/migratingtable/spec"
)

// Client 1 replaces a row between steps 1 and 4; client 2 then gets 412
// for a replace conditioned on the old ETag (steps 5 to 6), yet a query
// it makes at step 7 still sees the old version. No order of the calls
// explains the query.
func Example() {
	key := spec.Key{PartitionKey: "p", RowKey: "1"}
	oldRow := spec.Entity{Key: key, ETag: "e1", Props: spec.Props{"isHappy": spec.Bool(false)}}
	replace := func(ifMatch spec.ETag) []spec.Op {
		return []spec.Op{{Kind: spec.Replace, Entity: spec.Entity{Key: key, ETag: ifMatch, Props: spec.Props{"isHappy": spec.Bool(true)}}}}
	}
	history := []linearizability.TableOperation{
		linearizability.Batch(1, 1, 4, replace("e1"), []spec.Result{{ETag: "e2"}}, nil),
		linearizability.Batch(2, 5, 6, replace("e1"), nil, spec.Errorf(spec.StatusPreconditionFailed, 0, "If-Match failed")),
		linearizability.Query(2, 7, 8, spec.PartitionFilter("p"), []spec.Entity{oldRow}, nil),
	}
	report, err := linearizability.CheckTable([]spec.Entity{oldRow}, history, linearizability.Options{MaxSteps: 10000})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Result)
	fmt.Println(report.Explanation)
	// Output:
	// illegal
	// illegal: not linearizable (part 0 of 1, 6 search steps)
	// cannot linearize: client 2 [7, 8]: query(PartitionKey eq 'p') -> ['p'/'1'@"e1" {isHappy=false}]
	// after the longest linearizable prefix (the part's history before time 8), which has 2 operations in this linearization:
	//   initial state: ['p'/'1'@"e1" {isHappy=false}]
	//   1. client 1 [1, 4]: batch[Replace 'p'/'1' if-match "e1" {isHappy=true}] -> ok ["e2"]
	//      state: ['p'/'1'@"e2" {isHappy=true}]
	//   2. client 2 [5, 6]: batch[Replace 'p'/'1' if-match "e1" {isHappy=true}] -> 412 at 0
	//      state: ['p'/'1'@"e2" {isHappy=true}]
	// no linearization of that prefix can be followed by the failing operation
}

// A model of one integer register, read and written by clients. The
// second read returns 0 after a write of 1 that completed before it
// began: no linearization explains it.
func ExampleCheck() {
	type call struct {
		write bool
		value int // the value written, or read
	}
	register := linearizability.Model[int, call, struct{}]{
		Init: func() int { return 0 },
		Step: func(s int, in call, _ struct{}) (bool, int) {
			if in.write {
				return true, in.value
			}
			return in.value == s, s
		},
		Key: func(s int) string { return fmt.Sprint(s) },
		DescribeOperation: func(in call, _ struct{}) string {
			if in.write {
				return fmt.Sprintf("write(%d)", in.value)
			}
			return fmt.Sprintf("read() -> %d", in.value)
		},
	}
	history := []linearizability.Operation[call, struct{}]{
		{Client: 1, Call: 0, Return: 10, Input: call{write: true, value: 1}},
		{Client: 2, Call: 1, Return: 2, Input: call{value: 0}},   // overlaps the write: fine
		{Client: 2, Call: 11, Return: 12, Input: call{value: 0}}, // after it: stale
		{Client: 3, Call: 5, Return: linearizability.Pending, Input: call{write: true, value: 2}},
	}
	report, err := linearizability.Check(register, history, linearizability.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(report.Result)
	fmt.Println(report.Failed.Client, report.Failed.Call)
	// Output:
	// illegal
	// 2 11
}
