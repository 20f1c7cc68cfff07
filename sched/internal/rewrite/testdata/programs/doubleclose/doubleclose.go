// Command doubleclose closes a channel twice: stop checks and sets the
// closed flag in two critical sections, so two stops can both see it
// false. With -fixed one critical section does both.
package main

import (
	"flag"
	"fmt"
	"sync"
)

type closer struct {
	mu     sync.Mutex
	closed bool
	done   chan struct{}
}

func (c *closer) stop(fixed bool) {
	if fixed {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.closed {
			c.closed = true
			close(c.done)
		}
		return
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if !closed {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.done)
	}
}

func run(fixed bool) string {
	c := &closer{done: make(chan struct{})}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stop(fixed)
		}()
	}
	wg.Wait()
	<-c.done
	return "stopped"
}

func main() {
	fixed := flag.Bool("fixed", false, "run the fixed variant")
	flag.Parse()
	fmt.Println(run(*fixed))
}
