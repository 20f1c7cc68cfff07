// Package refuse holds constructs the rewriter reports instead of
// rewriting.
package refuse

import (
	"context"
	"os"
	"os/signal"
	"reflect"
)

type Named chan int

func generic[C ~chan int](c C) { close(c) }

func notify() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
}

func done(ctx context.Context) {
	d := ctx.Done()
	_ = d
	select {
	case v, ok := <-ctx.Done():
		_, _ = v, ok
	}
}

func reflects(c chan int) {
	reflect.Select(nil)
	go close(c)
}
