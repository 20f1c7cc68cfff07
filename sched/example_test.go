package sched_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/migratingtable/migratingtable/sched"
)

// Two machines increment a counter without a lock. Depth-first search
// finds the lost update; the failing trace replays it exactly.
func Example() {
	prog := func() {
		x := 0
		var wg sched.WaitGroup
		for _, name := range []string{"inc1", "inc2"} {
			wg.Add(1)
			sched.GoNamed(name, func() {
				v := x
				sched.Yield() // another machine may run here
				x = v + 1
				wg.Done()
			})
		}
		wg.Wait()
		sched.Assertf(x == 2, "counter is %d, want 2", x)
	}
	ex, _ := sched.NewExplorer(sched.Config{Strategy: "dfs"})
	for {
		res, err := ex.Next(prog)
		if errors.Is(err, sched.ErrExhausted) {
			fmt.Println("no bug")
			return
		}
		if res.Failure == nil {
			continue
		}
		fmt.Printf("schedule %d: %v\n", ex.Schedules(), res.Failure)
		var file strings.Builder
		res.Trace.Write(&file)
		tr, _ := sched.Parse(strings.NewReader(file.String()))
		again, _ := sched.Run(sched.Config{Strategy: "replay", Replay: tr}, prog)
		fmt.Println("replay:", again.Failure)
		return
	}
	// Output:
	// schedule 2: assertion failed in machine 0 "main" at step 9: counter is 1, want 2
	// replay: assertion failed in machine 0 "main" at step 9: counter is 1, want 2
}
