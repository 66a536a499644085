// Go reference for bench/sync.bench.ts: sync.Mutex and the folklore cap-1 channel mutex,
// uncontended (one goroutine) and contended (two goroutines, -cpu 2, so they may sit on two
// threads as the two Ms do). One op = one lock/unlock pair around an increment.
//
//	go test -run '^$' -bench . -cpu 2 -benchtime 300ms ./sync
package sync_test

import (
	"sync"
	"testing"
)

func BenchmarkMutexUncontended(b *testing.B) {
	var mu sync.Mutex
	n := 0
	for i := 0; i < b.N; i++ {
		mu.Lock()
		n++
		mu.Unlock()
	}
	_ = n
}

func BenchmarkChanMutexUncontended(b *testing.B) {
	mu := make(chan struct{}, 1)
	n := 0
	for i := 0; i < b.N; i++ {
		mu <- struct{}{}
		n++
		<-mu
	}
	_ = n
}

// Two goroutines share b.N pairs, as the two Ms of the JS bench do.
func contended(b *testing.B, lock, unlock func()) {
	n := 0
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < b.N/2; i++ {
				lock()
				n++
				unlock()
			}
		}()
	}
	wg.Wait()
}

func BenchmarkMutexContended2(b *testing.B) {
	var mu sync.Mutex
	contended(b, mu.Lock, mu.Unlock)
}

func BenchmarkChanMutexContended2(b *testing.B) {
	mu := make(chan struct{}, 1)
	contended(b, func() { mu <- struct{}{} }, func() { <-mu })
}
