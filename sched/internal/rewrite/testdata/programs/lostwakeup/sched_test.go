//go:build sched

package main

import (
	"testing"
	"time"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/internal/rewrite/testdata/programs/check"
)

func TestSched(t *testing.T) {
	check.Finds(t, sched.Panic, 20*time.Millisecond, func() { run(false) })
	check.Clean(t, 20*time.Millisecond, func() { run(true) })
}
