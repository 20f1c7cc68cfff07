// Command lockorder deadlocks on lock order: transfer locks the source
// account and then the destination, so two opposite transfers can each
// hold one lock and wait for the other. With -fixed the locks are taken
// in a global order (by account ID).
package main

import (
	"flag"
	"fmt"
	"sync"
)

type account struct {
	id      int
	mu      sync.Mutex
	balance int
}

func transfer(from, to *account, n int, fixed bool) {
	first, second := from, to
	if fixed && to.id < from.id {
		first, second = to, from
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	second.mu.Lock()
	defer second.mu.Unlock()
	from.balance -= n
	to.balance += n
}

func run(fixed bool) string {
	a, b := &account{id: 1, balance: 100}, &account{id: 2, balance: 100}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); transfer(a, b, 10, fixed) }()
	go func() { defer wg.Done(); transfer(b, a, 20, fixed) }()
	wg.Wait()
	return fmt.Sprintf("a %d b %d", a.balance, b.balance)
}

func main() {
	fixed := flag.Bool("fixed", false, "run the fixed variant")
	flag.Parse()
	fmt.Println(run(*fixed))
}
