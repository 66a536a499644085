// Go reference for bench/scheduler.bench.ts: the same shapes, run by Go's own G/M/P scheduler, so
// the bench can print gort's figures beside the design it follows. Prints one JSON object.
//
//	go run ./sched -procs 1,2 [-quick]
//
// The work is the same as gort's (bench/scheduler/work.mjs): add, serialFib, and an integer-mixing
// spin loop for (b), whose task sizes come from the same generator (mulberry32(42), Pareto 1.5)
// scaled to the same total work on this machine.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func add(a, b int) int { return a + b }

func serialFib(n int) int {
	if n < 2 {
		return n
	}
	return serialFib(n-1) + serialFib(n-2)
}

var sink uint32

// spin mirrors work.mjs: about iters rounds of 32-bit integer mixing.
func spin(iters int) uint32 {
	x := uint32(iters)
	for i := 0; i < iters; i++ {
		x = (x^(x>>15))*0x2c1b3c6d + uint32(i)
	}
	return x
}

func mulberry32(seed uint32) func() float64 {
	return func() float64 {
		seed += 0x6d2b79f5
		t := (seed ^ (seed >> 15)) * (1 | seed)
		t = (t + (t^(t>>7))*(61|t)) ^ t
		return float64(t^(t>>14)) / 4294967296
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[(len(s)-1)/2]
}

func pct(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(q * float64(len(s)))
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// addsInGoroutines stores add(i, 1) in dst[i] for i < k, one goroutine each, and waits for all.
func addsInGoroutines(dst []int, k int) {
	var wg sync.WaitGroup
	wg.Add(k)
	for i := 0; i < k; i++ {
		go func(i int) {
			dst[i] = add(i, 1)
			wg.Done()
		}(i)
	}
	wg.Wait()
}

// (a) n tiny tasks started from one goroutine, every result stored and awaited.
func shapeA(n, reps int) map[string]float64 {
	results := make([]int, n)
	var rates, cpus []float64
	for r := 0; r <= reps; r++ {
		c0 := cpuNow()
		t0 := time.Now()
		addsInGoroutines(results, n)
		el := time.Since(t0)
		if r == 0 {
			continue // warm-up
		}
		rates = append(rates, float64(n)/el.Seconds())
		cpus = append(cpus, float64(cpuNow()-c0)/1e3/float64(n))
	}
	if results[n-1] != n {
		panic("shape a: wrong result")
	}
	return map[string]float64{"perSec": median(rates), "cpuUsPerTask": median(cpus)}
}

// (a') parents goroutines, each spawning n/parents children in waves of `wave` and awaiting each wave.
func shapeAInside(n, parents, wave, reps int) float64 {
	var rates []float64
	for r := 0; r <= reps; r++ {
		t0 := time.Now()
		var all sync.WaitGroup
		all.Add(parents)
		for p := 0; p < parents; p++ {
			go func() {
				defer all.Done()
				kids := make([]int, wave)
				per := n / parents
				for done := 0; done < per; done += wave {
					k := wave
					if per-done < k {
						k = per - done
					}
					addsInGoroutines(kids, k)
				}
			}()
		}
		all.Wait()
		if r > 0 {
			rates = append(rates, float64(n)/time.Since(t0).Seconds())
		}
	}
	return median(rates)
}

// (b) count heavy-tailed tasks, sized like the JS bench's, scaled to targetMs of work here.
func shapeB(count int, targetMs float64, procsList []int, passes int) map[string]any {
	spin(5e6)
	t0 := time.Now()
	sink ^= spin(2e7)
	itersPerMs := 2e7 / ms(time.Since(t0))
	rnd := mulberry32(42)
	raw := make([]float64, count)
	total := 0.0
	for i := range raw {
		raw[i] = 1 / math.Pow(1-rnd(), 1/1.5)
		total += raw[i]
	}
	scale := targetMs * itersPerMs / total
	sizes := make([]int, count)
	for i, r := range raw {
		sizes[i] = int(math.Max(1, math.Round(r*scale)))
	}
	var serial []float64
	for p := 0; p < passes; p++ {
		s0 := time.Now()
		for _, n := range sizes {
			sink ^= spin(n)
		}
		serial = append(serial, ms(time.Since(s0)))
	}
	serialMs := median(serial)
	byProcs := map[string]map[string]float64{}
	for _, procs := range procsList {
		prev := runtime.GOMAXPROCS(procs)
		var spans []float64
		for rep := 0; rep < 3; rep++ {
			s0 := time.Now()
			var wg sync.WaitGroup
			wg.Add(count)
			var mu sync.Mutex
			for _, n := range sizes {
				go func(n int) {
					v := spin(n)
					mu.Lock()
					sink ^= v
					mu.Unlock()
					wg.Done()
				}(n)
			}
			wg.Wait()
			spans = append(spans, ms(time.Since(s0)))
		}
		runtime.GOMAXPROCS(prev)
		span := median(spans)
		ideal := serialMs / float64(procs)
		byProcs[strconv.Itoa(procs)] = map[string]float64{"makespanMs": span, "idealMs": ideal, "overIdealPct": 100 * (span/ideal - 1)}
	}
	return map[string]any{"serialMs": serialMs, "procs": byProcs}
}

func fib(n, cutoff int) int {
	if n < cutoff {
		return serialFib(n)
	}
	var a, b int
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { a = fib(n-1, cutoff); wg.Done() }()
	go func() { b = fib(n-2, cutoff); wg.Done() }()
	wg.Wait()
	return a + b
}

// (c) fork-join fib with a cut-off: ms at each procs, and the serial time.
func shapeC(n, cutoff int, procsList []int, reps int) map[string]any {
	want := serialFib(n)
	var serial []float64
	for r := 0; r < reps; r++ {
		t0 := time.Now()
		if serialFib(n) != want {
			panic("fib")
		}
		serial = append(serial, ms(time.Since(t0)))
	}
	byProcs := map[string]float64{}
	for _, procs := range procsList {
		prev := runtime.GOMAXPROCS(procs)
		var xs []float64
		for r := 0; r <= reps; r++ {
			t0 := time.Now()
			if fib(n, cutoff) != want {
				panic("fib")
			}
			if r > 0 {
				xs = append(xs, ms(time.Since(t0)))
			}
		}
		runtime.GOMAXPROCS(prev)
		byProcs[strconv.Itoa(procs)] = median(xs)
	}
	return map[string]any{"n": n, "cutoff": cutoff, "serialMs": median(serial), "procs": byProcs}
}

// (d) spawn-to-result, one at a time: go f(); receive its result.
func shapeD(samples, warm int) map[string]float64 {
	ch := make(chan int)
	xs := make([]float64, 0, samples)
	for i := 0; i < warm+samples; i++ {
		t0 := time.Now()
		go func(i int) { ch <- add(i, 1) }(i)
		if <-ch != i+1 {
			panic("shape d")
		}
		if i >= warm {
			xs = append(xs, float64(time.Since(t0))/1e3)
		}
	}
	return map[string]float64{"p50": pct(xs, 0.5), "p99": pct(xs, 0.99)}
}

func main() {
	procsArg := flag.String("procs", "1,2", "GOMAXPROCS values for (b) and (c); the largest runs (a) and (d)")
	quick := flag.Bool("quick", false, "smaller runs")
	flag.Parse()
	var procsList []int
	maxProcs := 1
	for _, s := range strings.Split(*procsArg, ",") {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 {
			fmt.Fprintln(os.Stderr, "bad -procs:", *procsArg)
			os.Exit(2)
		}
		procsList = append(procsList, p)
		if p > maxProcs {
			maxProcs = p
		}
	}
	n, reps, count, targetMs, passes, samples := 200_000, 5, 2000, 5000.0, 3, 3000
	fibN, fibCut := 35, 25
	if *quick {
		n, reps, count, targetMs, passes, samples = 50_000, 3, 400, 600, 1, 500
		fibN, fibCut = 32, 22
	}
	runtime.GOMAXPROCS(maxProcs)
	res := map[string]any{
		"version":  runtime.Version(),
		"maxProcs": maxProcs,
		"a":        shapeA(n, reps),
		"aInside": map[string]float64{
			"wave4096": shapeAInside(n, 2*maxProcs, 4096, reps),
			"wave128":  shapeAInside(n, 2*maxProcs, 128, reps),
		},
		"b":      shapeB(count, targetMs, procsList, passes),
		"cSmall": shapeC(27, 16, procsList, 2*reps),
		"cLarge": shapeC(fibN, fibCut, procsList, reps),
		"d":      shapeD(samples, samples),
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		panic(err)
	}
}
