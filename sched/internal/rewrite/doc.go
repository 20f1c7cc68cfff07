// Package rewrite rewrites the source of Go packages so that they run
// under package sched without being edited: Go's channel syntax, select,
// the go statement and the imports of the standard packages that have a
// controlled form become sched's. Command schedrewrite (sched/cmd/schedrewrite)
// writes the result as a go build overlay.
//
// # What is rewritten
//
// In the files of the packages given to Files, with the package's type
// information deciding what each expression is:
//
//	chan T, <-chan T, chan<- T     *sched.Chan[T]
//	make(chan T), make(chan T, n)  sched.NewChan[T](0), sched.NewChan[T](n)
//	c <- v                         c.Send(v)
//	<-c                            c.Recv()
//	v, ok := <-c (and =, var)      v, ok := c.RecvOK()
//	close(c), len(c), cap(c)       c.Close(), c.Len(), c.Cap()
//	for v := range c               for v := range c.All()
//	<-ctx.Done() (a statement)     sched.Select(sched.DoneCase(ctx, nil))
//	select { ... }                 switch sched.Select(cases...) { ... }
//	go f(x)                        { f1, x1 := f, x; sched.Go(func() { f1(x1) }) }
//	go f()  (f a func())           sched.Go(f)
//	runtime.Gosched()              sched.Yield()
//	rand.Intn(n) (math/rand, v2's IntN)  sched.Choose(n)
//	import "sync", "sync/atomic", "time", "context"
//	                               sched's drop-in packages, same names
//
// A select becomes a switch on the index sched.Select returns, one case
// per clause in order (default stays default), so break, continue and
// labels mean what they meant. Its channel operands and the values sent
// are evaluated once, in source order, on entry, as Go does; a received
// value and ok are stored by the case's function in variables declared in
// the switch's init statement and bound to the clause's variables at the
// start of its body, where Go binds them (the left-hand side of a
// "case x = <-c" is evaluated then, as in Go). A receive from ctx.Done()
// becomes sched.DoneCase(ctx, nil). A go statement evaluates the
// function value and its arguments at the statement, as Go does, into
// fresh variables that the new machine's function calls; constants,
// function literals and declared functions need no variable.
//
// The rewritten file keeps the original's lines: every construct is
// rewritten on the lines it occupied, and where a rewrite cannot (a
// select's case expressions move to its first line), a /*line :L:C*/
// directive after it restores the positions that follow. So compiler
// errors, panics and sched's reports name the user's file and line.
// The import of sched (and of any package needed to name a received
// value's type) is added on the package clause's line.
//
// # What is refused
//
// Code the rewriter cannot make correct is reported, one Diagnostic per
// place, "file:line:col: message", and no file of the package is
// rewritten: a named channel type (declare it as an alias, type C = chan
// T), a channel operation on a value of type parameter type, a Go
// channel obtained from a package that is not rewritten (other than
// time's After, Tick, Timer.C and Ticker.C, which sched/time provides as
// *sched.Chan, and a context's Done used directly in a receive
// statement or a select case), reflect's channel operations, and a go
// statement calling a builtin. Types that a received value's variable
// needs but that cannot be named from the file (unexported types of
// another package) are reported too.
//
// # What stays outside the scheduler
//
// Only the packages given are rewritten. A dependency that is not keeps
// its goroutines, channels and locks, which sched does not control (give
// it to the rewriter too, if its source is at hand); its channels that
// reach the rewritten code are refused, as above. The rewriter does not
// mark plain shared variables as sched.Racy: data races on them are not
// seen by sched's race check unless the user marks them. Of math/rand,
// only Intn (and math/rand/v2's IntN) becomes a decision of the
// strategy; a schedule that depends on another of its functions does
// not replay.
//
// A select whose clauses all return is a terminating statement; so that
// the switch is one too, its last clause is written default (the only
// index left) when the select has no default clause, and select {}
// becomes for { sched.Select() }.
package rewrite
