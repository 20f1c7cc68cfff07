//go:build sched

package main

import (
	"testing"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/internal/rewrite/testdata/programs/check"
)

func TestSched(t *testing.T) {
	check.Finds(t, sched.Panic, 0, func() { run(false) })
	check.Clean(t, 0, func() { run(true) })
}
