package golden

import "fmt"

type worker struct{ id int }

func (w *worker) run()         {}
func (w *worker) do(n int) int { return n }
func work(a, b int)            {}
func pair() (int, int)         { return 1, 2 }
func sum(xs ...int)            {}
func generic[T any](v T)       {}

func gos(w *worker, f func(int), xs []int, i int) {
	go w.run()
	go func() {
		fmt.Println("literal")
	}()
	go work(1, 2)
	go work(i, i+1)
	go w.do(i)
	go f(i)
	go func(n int) {
		fmt.Println(n)
	}(i)
	go work(pair())
	go sum(xs...)
	go generic(i)
	go fmt.Println("done", i)
	for i := range 3 {
		go work(i, len(xs))
	}
	defer func() {}()
}
