// The fastest single-threaded word count in Node we could write: read each file in 4 MiB chunks,
// scan the bytes for ASCII whitespace, hash each word's bytes (FNV-1a) into an open-addressing
// table whose keys live in one byte arena; no string per word. Words are bytes, so the output
// (sorted by bytes, `word<TAB>count` lines) matches the other peers' on UTF-8 text too.
// usage: node wc-bytes.mjs OUT FILE...
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs'

const [out, ...files] = process.argv.slice(2)

let cap = 1 << 16 // slots, a power of two
let slots = new Int32Array(cap).fill(-1) // word index, or -1
let hashes = new Int32Array(cap)
let words = 0
let wordStart = new Int32Array(1 << 14) // arena offset of word i
let wordLen = new Int32Array(1 << 14)
let wordCount = new Float64Array(1 << 14)
let arena = Buffer.allocUnsafe(1 << 20)
let arenaUsed = 0

function grow() {
  const ncap = cap * 2
  const ns = new Int32Array(ncap).fill(-1)
  const nh = new Int32Array(ncap)
  for (let i = 0; i < cap; i++) {
    const w = slots[i]
    if (w < 0) continue
    let j = hashes[i] & (ncap - 1)
    while (ns[j] >= 0) j = (j + 1) & (ncap - 1)
    ns[j] = w
    nh[j] = hashes[i]
  }
  cap = ncap
  slots = ns
  hashes = nh
}

function addWord(buf, s, e, h) {
  const len = e - s
  let i = h & (cap - 1)
  for (;;) {
    const w = slots[i]
    if (w < 0) break
    if (hashes[i] === h && wordLen[w] === len) {
      const o = wordStart[w]
      let k = 0
      while (k < len && arena[o + k] === buf[s + k]) k++
      if (k === len) {
        wordCount[w]++
        return
      }
    }
    i = (i + 1) & (cap - 1)
  }
  if (words === wordStart.length) {
    const n = words * 2
    const a = new Int32Array(n); a.set(wordStart); wordStart = a
    const b = new Int32Array(n); b.set(wordLen); wordLen = b
    const c = new Float64Array(n); c.set(wordCount); wordCount = c
  }
  if (arenaUsed + len > arena.length) {
    const a = Buffer.allocUnsafe(Math.max(arena.length * 2, arenaUsed + len))
    arena.copy(a, 0, 0, arenaUsed)
    arena = a
  }
  buf.copy(arena, arenaUsed, s, e)
  wordStart[words] = arenaUsed
  wordLen[words] = len
  wordCount[words] = 1
  arenaUsed += len
  slots[i] = words
  hashes[i] = h
  words++
  if (words * 2 > cap) grow()
}

// ASCII whitespace: \t \n \v \f \r and space.
const SPACE = new Uint8Array(256)
for (const c of [9, 10, 11, 12, 13, 32]) SPACE[c] = 1

const CHUNK = 4 << 20
let buf = Buffer.allocUnsafe(CHUNK)
for (const file of files) {
  const fd = openSync(file, 'r')
  let keep = 0 // bytes of an unfinished word carried at buf[0..keep)
  for (;;) {
    if (keep === buf.length) {
      const b = Buffer.allocUnsafe(buf.length * 2)
      buf.copy(b, 0, 0, keep)
      buf = b
    }
    const n = readSync(fd, buf, keep, buf.length - keep, null)
    const end = keep + n
    const last = n === 0
    let i = 0
    let s = -1
    let h = 0
    while (i < end) {
      const c = buf[i]
      if (SPACE[c] === 1) {
        if (s >= 0) {
          addWord(buf, s, i, h)
          s = -1
        }
      } else {
        if (s < 0) {
          s = i
          h = 0x811c9dc5
        }
        h = Math.imul(h ^ c, 0x01000193)
      }
      i++
    }
    if (s >= 0 && last) addWord(buf, s, end, h)
    if (last) break
    keep = s >= 0 ? end - s : 0
    if (keep > 0) buf.copy(buf, 0, s, end)
  }
  closeSync(fd)
}

// Sort by bytes: as latin1 strings (one char per byte), JS string order is byte order.
const keys = new Array(words)
for (let w = 0; w < words; w++) keys[w] = arena.latin1Slice(wordStart[w], wordStart[w] + wordLen[w])
const order = Array.from({ length: words }, (_, i) => i)
order.sort((a, b) => (keys[a] < keys[b] ? -1 : 1))
const parts = []
for (const w of order) parts.push(`${keys[w]}\t${wordCount[w]}\n`)
writeFileSync(out, Buffer.from(parts.join(''), 'latin1'))
