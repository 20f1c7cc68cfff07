package goker_test

import (
	"time"

	"github.com/migratingtable/migratingtable/sched"
	"github.com/migratingtable/migratingtable/sched/internal/goker/cockroach13755"
	cockroach13755fix "github.com/migratingtable/migratingtable/sched/internal/goker/cockroach13755/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/cockroach18101"
	cockroach18101fix "github.com/migratingtable/migratingtable/sched/internal/goker/cockroach18101/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/cockroach584"
	cockroach584fix "github.com/migratingtable/migratingtable/sched/internal/goker/cockroach584/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/cockroach6181"
	cockroach6181fix "github.com/migratingtable/migratingtable/sched/internal/goker/cockroach6181/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/etcd10492"
	etcd10492fix "github.com/migratingtable/migratingtable/sched/internal/goker/etcd10492/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/etcd3077"
	etcd3077fix "github.com/migratingtable/migratingtable/sched/internal/goker/etcd3077/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/etcd6857"
	etcd6857fix "github.com/migratingtable/migratingtable/sched/internal/goker/etcd6857/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/grpc1687"
	grpc1687fix "github.com/migratingtable/migratingtable/sched/internal/goker/grpc1687/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/grpc660"
	grpc660fix "github.com/migratingtable/migratingtable/sched/internal/goker/grpc660/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/istio8967"
	istio8967fix "github.com/migratingtable/migratingtable/sched/internal/goker/istio8967/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes10182"
	kubernetes10182fix "github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes10182/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes25331"
	kubernetes25331fix "github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes25331/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes5316"
	kubernetes5316fix "github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes5316/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes62464"
	kubernetes62464fix "github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes62464/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes80284"
	kubernetes80284fix "github.com/migratingtable/migratingtable/sched/internal/goker/kubernetes80284/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/moby17176"
	moby17176fix "github.com/migratingtable/migratingtable/sched/internal/goker/moby17176/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/moby25384"
	moby25384fix "github.com/migratingtable/migratingtable/sched/internal/goker/moby25384/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/moby30408"
	moby30408fix "github.com/migratingtable/migratingtable/sched/internal/goker/moby30408/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/moby33781"
	moby33781fix "github.com/migratingtable/migratingtable/sched/internal/goker/moby33781/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/moby4395"
	moby4395fix "github.com/migratingtable/migratingtable/sched/internal/goker/moby4395/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/moby4951"
	moby4951fix "github.com/migratingtable/migratingtable/sched/internal/goker/moby4951/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/serving5865"
	serving5865fix "github.com/migratingtable/migratingtable/sched/internal/goker/serving5865/fix"
	"github.com/migratingtable/migratingtable/sched/internal/goker/syncthing5795"
	syncthing5795fix "github.com/migratingtable/migratingtable/sched/internal/goker/syncthing5795/fix"
)

// kernel is one row of the table.
type kernel struct {
	name string // the upstream bug, as GoKer names it
	path string // the original, under gobench/goker in GoBench
	kind string // GoKer's class: blocking or non-blocking, and how it shows
	bug  func() // the buggy variant's entry point
	fix  func() // the fixed variant's
	// want are the failure kinds that count as finding the bug.
	want []sched.Kind
	// missedBy are the strategies expected not to find the bug within
	// the budget (the test fails if one does, so the row stays true).
	missedBy []string
	// timeStep is Config.MaxTimeStep for kernels whose bug needs the
	// clock to move while machines are enabled.
	timeStep time.Duration
	// expected is Config.ExpectedSteps (0: the table's default).
	expected int
	// spins: the kernel busy-waits (a loop of Select with a default
	// case), so under dfs, which may never preempt the spinning
	// machine, a schedule can run into the step bound; those schedules
	// are counted as cut, not as failures.
	spins bool
	// changed are the lines the port changed in the original; see
	// TestLinesChanged.
	changed lines
}

var (
	deadlock = []sched.Kind{sched.Deadlock}
	leak     = []sched.Kind{sched.Leak}
	panics   = []sched.Kind{sched.Panic}
	race     = []sched.Kind{sched.Race}
)

var kernels = []kernel{
	{
		name: "cockroach#13755", path: "blocking/cockroach/13755/cockroach13755_test.go",
		kind: "blk: chan & context",
		bug:  cockroach13755.Cockroach13755, fix: cockroach13755fix.Cockroach13755,
		want:    leak,
		changed: lines{total: 4, removed: 4, imports: 1, goStmt: 1, entry: 1, qualifier: 0, channel: 1, other: 0, fix: 2},
	},
	{
		name: "cockroach#18101", path: "blocking/cockroach/18101/cockroach18101_test.go",
		kind: "blk: chan & context",
		bug:  cockroach18101.Cockroach18101, fix: cockroach18101fix.Cockroach18101,
		want:    leak,
		changed: lines{total: 13, removed: 13, imports: 1, goStmt: 4, entry: 1, qualifier: 0, channel: 7, other: 0, fix: 5},
	},
	{
		name: "cockroach#584", path: "blocking/cockroach/584/cockroach584_test.go",
		kind: "blk: double locking",
		bug:  cockroach584.Cockroach584, fix: cockroach584fix.Cockroach584,
		want:    leak,
		changed: lines{total: 5, removed: 5, imports: 2, goStmt: 2, entry: 1, qualifier: 0, channel: 0, other: 0, fix: 2},
	},
	{
		name: "cockroach#6181", path: "blocking/cockroach/6181/cockroach6181_test.go",
		kind: "blk: RWR deadlock",
		bug:  cockroach6181.Cockroach6181, fix: cockroach6181fix.Cockroach6181,
		want:    leak,
		changed: lines{total: 8, removed: 7, imports: 3, goStmt: 3, entry: 1, qualifier: 0, channel: 0, other: 1, fix: 1},
	},
	{
		name: "etcd#10492", path: "blocking/etcd/10492/etcd10492_test.go",
		kind: "blk: double locking",
		bug:  etcd10492.Etcd10492, fix: etcd10492fix.Etcd10492,
		want:    deadlock,
		changed: lines{total: 2, removed: 3, imports: 1, goStmt: 0, entry: 1, qualifier: 0, channel: 0, other: 0, fix: 2},
	},
	{
		name: "etcd#6857", path: "blocking/etcd/6857/etcd6857_test.go",
		kind: "blk: channel",
		bug:  etcd6857.Etcd6857, fix: etcd6857fix.Etcd6857,
		want:    leak,
		changed: lines{total: 24, removed: 23, imports: 1, goStmt: 3, entry: 1, qualifier: 0, channel: 19, other: 0, fix: 5},
	},
	{
		name: "grpc#660", path: "blocking/grpc/660/grpc660_test.go",
		kind: "blk: channel",
		bug:  grpc660.Grpc660, fix: grpc660fix.Grpc660,
		want:    leak,
		changed: lines{total: 17, removed: 18, imports: 1, goStmt: 5, entry: 1, qualifier: 0, channel: 9, other: 1, fix: 1},
	},
	{
		name: "kubernetes#10182", path: "blocking/kubernetes/10182/kubernetes10182_test.go",
		kind: "blk: chan & lock",
		bug:  kubernetes10182.Kubernetes10182, fix: kubernetes10182fix.Kubernetes10182,
		want:    leak,
		changed: lines{total: 12, removed: 12, imports: 2, goStmt: 5, entry: 1, qualifier: 0, channel: 4, other: 0, fix: 1},
	},
	{
		name: "kubernetes#25331", path: "blocking/kubernetes/25331/kubernetes25331_test.go",
		kind: "blk: chan & context",
		bug:  kubernetes25331.Kubernetes25331, fix: kubernetes25331fix.Kubernetes25331,
		want:    leak,
		changed: lines{total: 14, removed: 13, imports: 1, goStmt: 2, entry: 1, qualifier: 0, channel: 10, other: 0, fix: 5},
	},
	{
		name: "kubernetes#5316", path: "blocking/kubernetes/5316/kubernetes5316_test.go",
		kind: "blk: channel (timer)",
		bug:  kubernetes5316.Kubernetes5316, fix: kubernetes5316fix.Kubernetes5316,
		want:    leak,
		changed: lines{total: 16, removed: 17, imports: 2, goStmt: 3, entry: 1, qualifier: 0, channel: 9, other: 1, fix: 2},
	},
	{
		name: "kubernetes#62464", path: "blocking/kubernetes/62464/kubernetes62464_test.go",
		kind: "blk: RWR deadlock",
		bug:  kubernetes62464.Kubernetes62464, fix: kubernetes62464fix.Kubernetes62464,
		want:    leak,
		changed: lines{total: 6, removed: 7, imports: 2, goStmt: 2, entry: 1, qualifier: 0, channel: 0, other: 1, fix: 2},
	},
	{
		name: "moby#17176", path: "blocking/moby/17176/moby17176_test.go",
		kind: "blk: double locking",
		bug:  moby17176.Moby17176, fix: moby17176fix.Moby17176,
		want:    leak,
		changed: lines{total: 12, removed: 12, imports: 3, goStmt: 2, entry: 1, qualifier: 0, channel: 6, other: 0, fix: 1},
	},
	{
		name: "moby#25384", path: "blocking/moby/25384/moby25384_test.go",
		kind: "blk: misuse WaitGroup",
		bug:  moby25384.Moby25384, fix: moby25384fix.Moby25384,
		want:    leak,
		changed: lines{total: 7, removed: 5, imports: 2, goStmt: 3, entry: 1, qualifier: 0, channel: 0, other: 1, fix: 1},
	},
	{
		name: "moby#30408", path: "blocking/moby/30408/moby30408_test.go",
		kind: "blk: condition var",
		bug:  moby30408.Moby30408, fix: moby30408fix.Moby30408,
		want:    deadlock,
		changed: lines{total: 8, removed: 8, imports: 2, goStmt: 2, entry: 1, qualifier: 0, channel: 3, other: 0, fix: 1},
	},
	{
		name: "moby#33781", path: "blocking/moby/33781/moby33781_test.go",
		kind: "blk: chan & context",
		bug:  moby33781.Moby33781, fix: moby33781fix.Moby33781,
		want:    leak,
		changed: lines{total: 23, removed: 23, imports: 3, goStmt: 5, entry: 1, qualifier: 0, channel: 14, other: 0, fix: 1},
	},
	{
		name: "moby#4395", path: "blocking/moby/4395/moby4395_test.go",
		kind: "blk: channel",
		bug:  moby4395.Moby4395, fix: moby4395fix.Moby4395,
		want:    leak,
		changed: lines{total: 7, removed: 7, imports: 1, goStmt: 2, entry: 1, qualifier: 0, channel: 3, other: 0, fix: 1},
	},
	{
		name: "moby#4951", path: "blocking/moby/4951/moby4951_test.go",
		kind: "blk: AB-BA deadlock",
		bug:  moby4951.Moby4951, fix: moby4951fix.Moby4951,
		want:    leak,
		changed: lines{total: 6, removed: 6, imports: 3, goStmt: 2, entry: 1, qualifier: 0, channel: 0, other: 0, fix: 5},
	},
	{
		name: "syncthing#5795", path: "blocking/syncthing/5795/syncthing5795_test.go",
		kind: "blk: chan & Once",
		bug:  syncthing5795.Syncthing5795, fix: syncthing5795fix.Syncthing5795,
		want:    deadlock,
		spins:   true,
		changed: lines{total: 24, removed: 24, imports: 2, goStmt: 3, entry: 1, qualifier: 0, channel: 17, other: 1, fix: 1},
	},
	{
		name: "etcd#3077", path: "nonblocking/etcd/3077/etcd3077_test.go",
		kind: "nbk: data race (chan)",
		bug:  etcd3077.Etcd3077, fix: etcd3077fix.Etcd3077,
		// The race check reports the unsynchronised accesses on the
		// first schedule; the deadlock they can cause needs the clock to
		// move while machines run (which dfs does not explore).
		want:     []sched.Kind{sched.Race, sched.Deadlock},
		timeStep: 10 * time.Millisecond,
		changed:  lines{total: 25, removed: 25, imports: 2, goStmt: 2, entry: 1, qualifier: 0, channel: 20, other: 0, fix: 2},
	},
	{
		name: "grpc#1687", path: "nonblocking/grpc/1687/grpc1687_test.go",
		kind: "nbk: misuse channel",
		bug:  grpc1687.Grpc1687, fix: grpc1687fix.Grpc1687,
		want:    panics,
		changed: lines{total: 20, removed: 17, imports: 2, goStmt: 1, entry: 1, qualifier: 0, channel: 15, other: 1, fix: 1},
	},
	{
		name: "istio#8967", path: "nonblocking/istio/8967/istio8967_test.go",
		kind: "nbk: data race (chan)",
		bug:  istio8967.Istio8967, fix: istio8967fix.Istio8967,
		want:    []sched.Kind{sched.Race, sched.Leak},
		changed: lines{total: 16, removed: 16, imports: 3, goStmt: 4, entry: 1, qualifier: 0, channel: 6, other: 2, fix: 1},
	},
	{
		name: "serving#5865", path: "nonblocking/serving/5865/serving5865_test.go",
		kind: "nbk: misuse channel",
		bug:  serving5865.Serving5865, fix: serving5865fix.Serving5865,
		want:    panics,
		changed: lines{total: 9, removed: 9, imports: 2, goStmt: 1, entry: 1, qualifier: 0, channel: 5, other: 0, fix: 4},
	},
	{
		name: "kubernetes#80284", path: "nonblocking/kubernetes/80284/kubernetes80284_test.go",
		kind: "nbk: data race",
		bug:  kubernetes80284.Kubernetes80284, fix: kubernetes80284fix.Kubernetes80284,
		want:    race, // no other effect to observe: only the race check finds it
		changed: lines{total: 7, removed: 7, imports: 2, goStmt: 2, entry: 1, qualifier: 0, channel: 0, other: 2, fix: 3},
	},
}
