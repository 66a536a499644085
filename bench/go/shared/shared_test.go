// Go reference for bench/shared.bench.ts, run with -cpu 2 so the two goroutines may sit on two
// threads as SharedChan's two sides do.
//
//	go test -run '^$' -bench . -cpu 2 -benchtime 300ms ./shared
package shared

import "testing"

// (a) unbuffered ping-pong: one op = one round trip.
func BenchmarkSharedPingPong(b *testing.B) {
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

// (b) cap-1024 throughput of small numbers: one op = one item.
func BenchmarkSharedBuffered1024(b *testing.B) {
	c := make(chan int, 1024)
	go func() {
		for i := 0; i < b.N; i++ {
			c <- i
		}
		close(c)
	}()
	for range c {
	}
}
