package golden

// The names the rewriter adds (the import of sched, the variables of a
// select and of a go statement) avoid every name of the file and of the
// package: sched is declared in another file of the package.
func names(c chan int, selV, goArg int) int {
	go func(a, b int) {}(selV, goArg)
	select {
	case v := <-c:
		return v + selV
	case c <- goArg:
	}
	return sched
}
