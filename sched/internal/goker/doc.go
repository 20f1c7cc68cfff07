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
// # Provenance
//
// The GoBench repository carries no license file. Its kernels are small
// excerpts, heavily simplified, of code from the projects they cite
// (Kubernetes, etcd, gRPC-Go, CockroachDB, Moby, Istio and Knative
// Serving under the Apache License 2.0, Syncthing under the Mozilla
// Public License 2.0). The ports are test code and are not built into
// any command.
package goker
