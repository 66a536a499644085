// Go reference for bench/shared.bench.ts shapes (c) and (e), run with -cpu 2 as the others.
package shared

import (
	"sync"
	"testing"
)

// (c) 4 producers x 4 consumers over one cap-1024 channel: one op = one item.
func BenchmarkShared4x4(b *testing.B) {
	c := make(chan int, 1024)
	per := b.N/4 + 1
	var prod, cons sync.WaitGroup
	for p := 0; p < 4; p++ {
		prod.Add(1)
		go func() {
			defer prod.Done()
			for i := 0; i < per; i++ {
				c <- i
			}
		}()
	}
	for k := 0; k < 4; k++ {
		cons.Add(1)
		go func() {
			defer cons.Done()
			for range c {
			}
		}()
	}
	prod.Wait()
	close(c)
	cons.Wait()
}

// (e) one goroutine selects over 4 channels, each fed by its own producer: one op = one item.
func benchSelect4(b *testing.B, capacity int) {
	per := b.N/4 + 1
	cs := make([]chan int, 4)
	for k := range cs {
		cs[k] = make(chan int, capacity)
		go func(c chan int) {
			for i := 0; i < per; i++ {
				c <- i
			}
			close(c)
		}(cs[k])
	}
	a, bb, c, d := cs[0], cs[1], cs[2], cs[3]
	for open := 4; open > 0; {
		select {
		case _, ok := <-a:
			if !ok {
				a = nil
				open--
			}
		case _, ok := <-bb:
			if !ok {
				bb = nil
				open--
			}
		case _, ok := <-c:
			if !ok {
				c = nil
				open--
			}
		case _, ok := <-d:
			if !ok {
				d = nil
				open--
			}
		}
	}
}

func BenchmarkSharedSelect4Cap1024(b *testing.B)    { benchSelect4(b, 1024) }
func BenchmarkSharedSelect4Unbuffered(b *testing.B) { benchSelect4(b, 0) }
