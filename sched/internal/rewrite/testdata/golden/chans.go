// Package golden holds one file per construct the rewriter rewrites;
// each has its expected output beside it, in NAME.go.golden.
package golden

// Channel types in every position.
type pipes struct {
	in   chan int
	out  <-chan string
	errs chan<- error
	reqs chan chan int
	all  []chan struct{}
	byID map[string]chan<- int
}

// Alias is an alias of a channel type (a named one is refused).
type Alias = chan int

func makes(n int) (chan int, <-chan string) {
	a := make(chan int)
	b := make(chan string, n+1)
	c := make(chan chan int, 2)
	var d Alias = make(Alias, 3)
	_ = make([]chan int, 4)
	_, _ = c, d
	return a, b
}

func sends(c chan int, cc chan chan int, p *chan int, v int) {
	c <- v
	c <- v * 2
	cc <- c
	*p <- 1
	<-cc <- 3
}

func receives(c chan int, cc chan chan int, p *chan int) int {
	v := <-c
	w, ok := <-c
	var x, ok2 = <-c
	v, ok = <-c
	v, ok = (<-c)
	<-c
	<-*p
	y := <-<-cc
	z := (<-c) + <-c*2
	_, _ = ok, ok2
	return v + w + x + y + z
}

func builtins(c chan int, r <-chan int) int {
	defer close(c)
	return len(c) + cap(r)
}

func ranges(c chan int, cc <-chan chan int) (sum int) {
	for v := range c {
		sum += v
	}
	for range c {
		sum++
	}
	var v int
	for v = range c {
		sum += v
	}
	for inner := range cc {
		for w := range inner {
			sum += w
		}
	}
	return sum
}

func conversions(c chan int) (<-chan int, chan<- int, any) {
	var x any = c
	if d, ok := x.(chan int); ok {
		return (<-chan int)(d), d, nil
	}
	switch x.(type) {
	case chan string, <-chan int:
	}
	return c, c, c == nil
}
