// Command lostwakeup has a lost wakeup: the notifier signals with a send
// that does not block, and drops the signal when the waiter, which has
// seen the condition false, has not reached its select yet; the waiter
// then times out. With -fixed the signal channel has a buffer of one,
// which keeps the signal.
package main

import (
	"flag"
	"fmt"
	"sync"
	"time"
)

func run(fixed bool) string {
	var mu sync.Mutex
	ready := false
	wake := make(chan struct{})
	if fixed {
		wake = make(chan struct{}, 1)
	}
	done := make(chan string)
	go func() { // the waiter
		mu.Lock()
		r := ready
		mu.Unlock()
		if r {
			done <- "ok"
			return
		}
		select {
		case <-wake:
			done <- "ok"
		case <-time.After(time.Second):
			panic("lost wakeup: notified, yet the waiter timed out")
		}
	}()
	go func() { // the notifier
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		ready = true
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}()
	return <-done
}

func main() {
	fixed := flag.Bool("fixed", false, "run the fixed variant")
	flag.Parse()
	fmt.Println(run(*fixed))
}
