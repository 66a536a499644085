//go:build ignore

// Word count the idiomatic Go way, the reference for bench/mapreduce.bench.ts: bufio.Scanner
// with ScanWords, one string per word, counts in a map[string]int; then the counts sorted by
// word as `word<TAB>count` lines. One goroutine.
//
//	go build -o wc_map wc_map.go && ./wc_map OUT FILE...
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: wc_map OUT FILE...")
		os.Exit(2)
	}
	counts := map[string]int{}
	for _, name := range os.Args[2:] {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<26)
		sc.Split(bufio.ScanWords)
		for sc.Scan() {
			counts[sc.Text()]++
		}
		if err := sc.Err(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		f.Close()
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	sort.Strings(words)
	out, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	for _, word := range words {
		fmt.Fprintf(w, "%s\t%d\n", word, counts[word])
	}
	w.Flush()
	out.Close()
}
