// Command sendleak leaks a goroutine on an unbuffered send: when the
// caller gives up on the result (its context is cancelled), the worker
// blocks forever sending it. With -fixed the result channel has a
// buffer of one, so the worker's send always completes.
package main

import (
	"context"
	"flag"
	"fmt"
)

func compute(ctx context.Context, fixed bool) string {
	result := make(chan int)
	if fixed {
		result = make(chan int, 1)
	}
	go func(n int) {
		result <- n * n
	}(7)
	select {
	case <-result:
		return "done"
	case <-ctx.Done():
		return "done"
	}
}

func run(fixed bool) string {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return compute(ctx, fixed)
}

func main() {
	fixed := flag.Bool("fixed", false, "run the fixed variant")
	flag.Parse()
	fmt.Println(run(*fixed))
}
