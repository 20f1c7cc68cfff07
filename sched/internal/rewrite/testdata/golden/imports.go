package golden

import (
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
)

var (
	mu    sync.Mutex
	count atomic.Int64
	wg    sync.WaitGroup
)

func yields() int {
	runtime.Gosched()
	mu.Lock()
	defer mu.Unlock()
	count.Add(1)
	return rand.Intn(3)
}
