// Go reference benchmarks for bench/chan.bench.ts: the same five shapes, so the
// gort/Go ratios compare like with like. Run with GOMAXPROCS=1 (-cpu 1): gort's
// goroutines share one thread, so one P is the fair physical reference.
//
//	go test -run '^$' -bench . -cpu 1 -benchtime 300ms
package gortbench

import (
	"sync"
	"testing"
)

// (a) unbuffered ping-pong: one op = one round trip.
func BenchmarkPingPong(b *testing.B) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	for i := 0; i < b.N; i++ {
		ping <- i
		<-pong
	}
	close(ping)
}

// (b) cap-128 producer/consumer: one op = one item.
func BenchmarkBuffered128(b *testing.B) {
	c := make(chan int, 128)
	go func() {
		for i := 0; i < b.N; i++ {
			c <- i
		}
		close(c)
	}()
	for range c {
	}
}

// (c) select over 4 unbuffered channels fed round-robin: one op = one select.
func BenchmarkSelect4(b *testing.B) {
	var cs [4]chan int
	for i := range cs {
		cs[i] = make(chan int)
	}
	go func() {
		for i := 0; i < b.N; i++ {
			cs[i&3] <- i
		}
	}()
	for i := 0; i < b.N; i++ {
		select {
		case <-cs[0]:
		case <-cs[1]:
		case <-cs[2]:
		case <-cs[3]:
		}
	}
}

// (d1) uncontended Mutex: one op = Lock + Unlock.
func BenchmarkMutexUncontended(b *testing.B) {
	var mu sync.Mutex
	for i := 0; i < b.N; i++ {
		mu.Lock()
		mu.Unlock()
	}
}

// (d2) Mutex under 100 goroutines: one op = one Lock + Unlock by some goroutine.
func BenchmarkMutex100(b *testing.B) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counter := 0
	per := b.N/100 + 1
	for g := 0; g < 100; g++ {
		wg.Add(1)
		go func() {
			for i := 0; i < per; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
}

// (e) spawn 100k goroutines and wait with a WaitGroup: one op = 100k goroutines
// (the JS side divides by 100k to print ns per goroutine).
func BenchmarkSpawn100k(b *testing.B) {
	const n = 100_000
	for k := 0; k < b.N; k++ {
		var wg sync.WaitGroup
		wg.Add(n)
		for i := 0; i < n; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
	}
}
