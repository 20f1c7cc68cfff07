// Package goker holds kernels of GoKer, the kernel half of the GoBench
// suite of Go concurrency bugs (github.com/timmyyuan/gobench, directory
// gobench/goker), ported to package sched, and the test that runs them
// as a table: per kernel and strategy, whether the bug is found and on
// which schedule, whether the fixed variant stays clean, and how many
// lines the port changed.
//
// # Layout
//
// Each kernel is a package named after the original test file (GoKer's
// kubernetes10182_test.go becomes package kubernetes10182, in file
// kubernetes10182.go) holding the buggy variant as close to the
// original as sched allows: the same types, functions, names and
// comments, with
//
//   - the imports of sync, time and context replaced by sched's drop-in
//     packages sched/sync, sched/time and sched/context where the kernel
//     uses their controlled parts (the qualifiers stay: sync.Mutex is
//     sched/sync's Mutex);
//   - go f() written sched.Go(f);
//   - channels written as *sched.Chan, their operations as its methods
//     (c.Send(v) for c <- v, c.Recv() for <-c, range c.All() for range
//     c), and select as sched.Select over cases (a switch on the index it
//     returns keeps the shape of the select);
//   - math/rand replaced by sched.Choose, so that every choice is the
//     strategy's;
//   - plain shared variables with a data race marked sched.Racy;
//   - the test function TestX(t *testing.T) turned into an entry point
//     X() that the table runs under sched.Run.
//
// Its subpackage fix holds the fixed variant: the upstream fix where the
// kernel can express it, else the obvious one; its package comment says
// which. Each package comment cites the original's path, the upstream
// bug and what it is.
//
// # The table
//
//	go test -v -run TestKernels ./sched/internal/goker
//
// prints the table: per kernel, the first schedule on which each
// strategy found the bug, the fixed variant's result, the lines changed,
// and each kernel's first failure with its decisions. The strategies,
// seed and budget are constants of the test. The lines changed are
// recorded in the table and rechecked against the originals, which are
// not part of this repository, by
//
//	GOKER_SRC=/path/to/gobench/gobench/goker go test -v -run TestLinesChanged ./sched/internal/goker
//
// # The originals, rewritten
//
// The ports are written by hand. Command schedrewrite
// (sched/cmd/schedrewrite, on package sched/internal/rewrite) does the
// same mechanically, as a go build overlay that leaves the sources as
// they are; only a test entry point is written by hand.
//
//	GOKER_SRC=/path/to/gobench/gobench/goker go test -v -run TestRewrittenOriginals ./sched/internal/goker
//
// copies each original, unedited, into a module of its own that requires
// this one, adds the entry point (31 code lines, the same for every
// kernel but the test function's name: it runs the original test
// function under the four strategies with the table's configuration),
// rewrites the packages, runs them with go test -overlay, and puts each
// strategy's first failing schedule beside the port's (budget 1000,
// seed 314159; #N: found on schedule N; -: not found):
//
//	kernel            hand  rewritten original          port (TestKernels)
//	                        random pct    pos    dfs     random pct    pos    dfs
//	cockroach#13755     31  #1     #1     #1     #1      #1     #1     #1     #1
//	cockroach#18101     31  #1     #1     #1     #1      #1     #1     #1     #1
//	cockroach#584       31  #1     #1     #1     #1      #1     #1     #1     #1
//	cockroach#6181      31  #4     #5     #7     #12     #4     #5     #7     #12
//	etcd#10492          31  #1     #1     #1     #1      #1     #1     #1     #1
//	etcd#6857           31  #2     #1     #6     #7      #2     #1     #6     #7
//	grpc#660            31  #1     #1     #1     #1      #1     #1     #1     #1
//	kubernetes#10182    31  #2     #1     #2     #1      #2     #1     #2     #1
//	kubernetes#25331    31  #1     #1     #1     #1      #1     #1     #1     #1
//	kubernetes#5316     31  #1     #1     #1     #1      #1     #1     #1     #1
//	kubernetes#62464    31  #7     #9     #1     #24     #7     #9     #1     #24
//	moby#17176          31  #1     #1     #1     #1      #1     #1     #1     #1
//	moby#25384          31  #1     #1     #1     #1      #1     #1     #1     #1
//	moby#30408          31  #1     #1     #1     #1      #1     #1     #1     #1
//	moby#33781          31  #1     #2     #4     #1      #1     #2     #4     #1
//	moby#4395           31  #1     #1     #1     #1      #1     #1     #1     #1
//	moby#4951           31  #1     #1     #1     #1      #1     #1     #1     #1
//	syncthing#5795      31  #1     #1     #1     #2      #1     #1     #1     #2
//	etcd#3077           31  #13    #8     #30    -       #1     #1     #1     #1
//	grpc#1687           31  #1     #1     #1     #1      #1     #1     #1     #1
//	istio#8967          31  #2     #5     #6     #1      #1     #1     #1     #1
//	serving#5865        31  #1     #1     #1     #1      #1     #1     #1     #1
//	kubernetes#80284    31  -      -      -      -       #1     #1     #1     #1
//	found                   22     22     22     21
//
// No line of an original is changed. On 20 kernels every strategy fails
// first on the same schedule as on the port: the rewrite makes the same
// scheduling points as the hand port. The three others are data races,
// which the hand ports expose by marking a shared variable sched.Racy
// and the rewriter does not (it cannot tell which plain variables are
// shared): kubernetes#80284 has no other effect and is missed; etcd#3077
// still shows as a deadlock (but dfs misses it) and istio#8967 as a leak,
// a few schedules later.
//
// # Provenance
//
// The GoBench repository carries no license file. Its kernels are small
// excerpts, heavily simplified, of code from the projects they cite
// (Kubernetes, etcd, gRPC-Go, CockroachDB, Moby, Istio and Knative
// Serving under the Apache License 2.0, Syncthing under the Mozilla
// Public License 2.0). The ports are test code and are not built into
// any command.
package goker
