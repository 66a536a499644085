//go:build ignore

// The fastest word count we could write in Go, the reference for gort's byte fast path in
// bench/mapreduce.bench.ts: each goroutine reads whole files (4 MiB chunks), scans bytes for
// ASCII whitespace and counts words in its own open-addressing table keyed by the word's bytes
// (FNV-1a, keys in one byte arena, no string per word); the tables are merged at the end and the
// counts written sorted by word as `word<TAB>count` lines. -procs N goroutines take files in turn.
//
//	go build -o wc_bytes wc_bytes.go && ./wc_bytes -procs 2 OUT FILE...
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
)

type table struct {
	slots  []int32 // word index + 1, 0 = empty
	hashes []uint32
	start  []int32
	length []int32
	count  []int64
	arena  []byte
}

func newTable() *table {
	return &table{slots: make([]int32, 1<<16), hashes: make([]uint32, 1<<16)}
}

func (t *table) grow() {
	n := len(t.slots) * 2
	slots := make([]int32, n)
	hashes := make([]uint32, n)
	mask := uint32(n - 1)
	for i, w := range t.slots {
		if w == 0 {
			continue
		}
		j := t.hashes[i] & mask
		for slots[j] != 0 {
			j = (j + 1) & mask
		}
		slots[j] = w
		hashes[j] = t.hashes[i]
	}
	t.slots, t.hashes = slots, hashes
}

func (t *table) add(word []byte, h uint32, by int64) {
	mask := uint32(len(t.slots) - 1)
	i := h & mask
	for {
		w := t.slots[i]
		if w == 0 {
			break
		}
		if t.hashes[i] == h {
			k := w - 1
			if bytes.Equal(t.arena[t.start[k]:t.start[k]+t.length[k]], word) {
				t.count[k] += by
				return
			}
		}
		i = (i + 1) & mask
	}
	t.start = append(t.start, int32(len(t.arena)))
	t.length = append(t.length, int32(len(word)))
	t.count = append(t.count, by)
	t.arena = append(t.arena, word...)
	t.slots[i] = int32(len(t.start))
	t.hashes[i] = h
	if len(t.start)*2 > len(t.slots) {
		t.grow()
	}
}

var space [256]bool

func fnv(b []byte) uint32 {
	h := uint32(0x811c9dc5)
	for _, c := range b {
		h = (h ^ uint32(c)) * 0x01000193
	}
	return h
}

func count(t *table, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 4<<20)
	keep := 0
	for {
		if keep == len(buf) {
			nb := make([]byte, len(buf)*2)
			copy(nb, buf[:keep])
			buf = nb
		}
		n, err := f.Read(buf[keep:])
		end := keep + n
		last := err == io.EOF || (n == 0 && err == nil)
		if err != nil && err != io.EOF {
			return err
		}
		s := -1
		h := uint32(0)
		for i := 0; i < end; i++ {
			c := buf[i]
			if space[c] {
				if s >= 0 {
					t.add(buf[s:i], h, 1)
					s = -1
				}
			} else {
				if s < 0 {
					s = i
					h = 0x811c9dc5
				}
				h = (h ^ uint32(c)) * 0x01000193
			}
		}
		if last {
			if s >= 0 {
				t.add(buf[s:end], h, 1)
			}
			return nil
		}
		keep = 0
		if s >= 0 {
			keep = copy(buf, buf[s:end])
		}
	}
}

func main() {
	procs := flag.Int("procs", 1, "goroutines")
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 || *procs < 1 {
		fmt.Fprintln(os.Stderr, "usage: wc_bytes [-procs N] OUT FILE...")
		os.Exit(2)
	}
	for _, c := range []byte{'\t', '\n', '\v', '\f', '\r', ' '} {
		space[c] = true
	}
	files := args[1:]
	tables := make([]*table, *procs)
	errs := make([]error, *procs)
	var wg sync.WaitGroup
	for g := 0; g < *procs; g++ {
		tables[g] = newTable()
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(files); i += *procs {
				if err := count(tables[g], files[i]); err != nil {
					errs[g] = err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	all := tables[0]
	for _, t := range tables[1:] {
		for k := range t.start {
			w := t.arena[t.start[k] : t.start[k]+t.length[k]]
			all.add(w, fnv(w), t.count[k])
		}
	}
	order := make([]int, len(all.start))
	for i := range order {
		order[i] = i
	}
	word := func(k int) []byte { return all.arena[all.start[k] : all.start[k]+all.length[k]] }
	sort.Slice(order, func(a, b int) bool { return bytes.Compare(word(order[a]), word(order[b])) < 0 })
	out, err := os.Create(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	for _, k := range order {
		w.Write(word(k))
		w.WriteByte('\t')
		w.WriteString(strconv.FormatInt(all.count[k], 10))
		w.WriteByte('\n')
	}
	w.Flush()
	out.Close()
}
