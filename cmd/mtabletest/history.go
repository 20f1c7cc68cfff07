package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/migratingtable/migratingtable/harness"
)

// writeHistories writes, for -history-out, the recorded history of every
// iteration the exploration ran, in iteration order, as a JSON array of
// harness.History. harness.Explore hands out only the failing
// iterations, so the others are run again (runs are deterministic: the
// same configuration and index give the same run). For dfs, whose
// schedules cannot be re-run by index, only the failing iterations'
// histories are written.
func (c *config) writeHistories(ec harness.ExploreConfig, sum harness.Summary, failing []*harness.History) error {
	f, err := os.Create(c.historyOut)
	if err != nil {
		return fmt.Errorf("-history-out: %v", err)
	}
	bw := bufio.NewWriter(f)
	n := 0
	emit := func(h *harness.History) error {
		b, err := json.Marshal(h)
		if err != nil {
			return err
		}
		sep := ",\n"
		if n == 0 {
			sep = "\n"
		}
		n++
		bw.WriteString(sep)
		_, err = bw.Write(b)
		return err
	}
	bw.WriteString("[")
	err = func() error {
		if c.strategy == "dfs" {
			for _, h := range failing {
				if err := emit(h); err != nil {
					return err
				}
			}
			return nil
		}
		first, stride := 0, 1
		if c.shards > 0 {
			first, stride = c.shard-1, c.shards
		}
		for k := range sum.Iterations {
			i := first + k*stride
			it, err := harness.RunOnce(ec.Options, ec.SchedConfig(i), ec.LinBudget)
			if err != nil {
				return fmt.Errorf("iteration %d: %v", i, err)
			}
			it.Index = i
			if err := emit(it.History()); err != nil {
				return err
			}
		}
		return nil
	}()
	bw.WriteString("\n]\n")
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("-history-out %s: %v", c.historyOut, err)
	}
	return nil
}
