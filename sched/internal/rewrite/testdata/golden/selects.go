package golden

import (
	"context"
	"time"
)

type item struct{ n int }

func selects(ctx context.Context, in chan item, out chan<- item, done chan struct{}, m map[int]item, k int) (item, bool) {
	// Receive with := of a value and ok, send, context, timer.
	select {
	case v, ok := <-in:
		if !ok {
			return v, false
		}
	case out <- item{n: k}:
	case <-ctx.Done():
		return item{}, false
	case <-time.After(time.Second):
	}

	// Assignment to existing variables, evaluated when the case is taken.
	var got item
	var ok bool
	select {
	case got = <-in:
	case m[k], ok = <-in:
	case _, ok = <-in:
	default:
	}

	// A labelled select in a loop: break, continue and the label.
loop:
	for {
		select {
		case v := <-in:
			if v.n == 0 {
				break loop
			}
			if v.n < 0 {
				continue
			}
			break
		case <-done:
			break loop
		}
	}

L:
	select {
	case <-done:
		break L
	default:
	}

	// Empty select and a select with only a default.
	if k < 0 {
		select {}
	}
	select {
	default:
	}

	// A case whose operands span lines, and a comment between cases.
	select {
	case out <- item{
		n: k + 1,
	}:
		// after the send
	case x := <-in: // inline comment
		got = x
	}
	<-ctx.Done()
	return got, ok
}

func timers(t *time.Timer, tk *time.Ticker) time.Time {
	<-t.C
	select {
	case now := <-tk.C:
		return now
	case <-time.Tick(time.Millisecond):
	}
	return <-time.After(time.Minute)
}

// A select whose every case returns is a terminating statement; so is
// the switch it becomes.
func terminating(c chan int, d chan string) int {
	select {
	case v := <-c:
		return v
	case <-d:
		return 0
	}
}
