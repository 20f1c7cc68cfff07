// Command pipeline is a correct program using every construct the
// rewriter rewrites; its output does not depend on the schedule.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func producer(ctx context.Context, n int, out chan<- int) {
	defer close(out)
	for i := range n {
		select {
		case out <- i:
		case <-ctx.Done():
			return
		}
	}
}

func square(in <-chan int, out chan<- int, wg *sync.WaitGroup, count *atomic.Int64) {
	defer wg.Done()
	for v := range in {
		count.Add(1)
		out <- v * v
	}
}

func run() string {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := make(chan int)
	squares := make(chan int, 4)
	var count atomic.Int64
	go producer(ctx, 10, src)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go square(src, squares, &wg, &count)
	}
	go func() {
		wg.Wait()
		close(squares)
	}()
	var got []int
	for {
		v, ok := <-squares
		if !ok {
			break
		}
		got = append(got, v)
	}
	slices.Sort(got)

	// A timer, a send that may not block, and go with its arguments
	// evaluated at the statement.
	t := time.NewTimer(time.Millisecond)
	<-t.C
	res := make(chan string, 1)
	select {
	case res <- "sent":
	default:
		res <- "full"
	}
	msg := <-res
	ids := make(chan int, 3)
	for i := range 3 {
		go func(n int) { ids <- n * 10 }(i)
	}
	i := 0
	sum := 0
	for range 3 {
		select {
		case n := <-ids:
			sum += n
		case <-time.After(time.Hour):
			i = -1
		}
	}
	return fmt.Sprintf("squares %v (%d) %s ids %d %d len %d cap %d\n", got, count.Load(), msg, sum, i, len(ids), cap(ids))
}

func main() {
	if len(os.Args) > 1 {
		fmt.Println("usage: pipeline")
		os.Exit(2)
	}
	fmt.Print(run())
}
