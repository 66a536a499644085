/** Helpers of the mapreduce tests: temp dirs, generated text, part files read back, a sequential word count. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as assert from 'uvu/assert'

export const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures')

/** A fresh temp dir, and its removal. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gort-mr-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Words that trip up `{}`-keyed code, multi-byte and astral ones, and plain ones. */
export const WORDS = [
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype',
  'naïve', 'café', 'Straße', '日本語', '😀', '𝒳y', '\uffff', 'zebra', 'apple', 'Apple', '10', '9', 'a', 'b',
  ...Array.from({ length: 60 }, (_, i) => `w${i}`),
]

/** `lines` lines of 1-12 words from WORDS, separated by spaces (and a tab now and then); `crlf` ends lines with \r\n. */
export function text(seed: number, lines: number, crlf = false): string {
  const r = rng(seed)
  const out: string[] = []
  for (let i = 0; i < lines; i++) {
    const n = 1 + Math.floor(r() * 12)
    const ws: string[] = []
    for (let j = 0; j < n; j++) ws.push(WORDS[Math.floor(r() * r() * WORDS.length)]!)
    out.push(ws.join(r() < 0.1 ? '\t' : ' '))
  }
  return out.join(crlf ? '\r\n' : '\n') + (r() < 0.5 ? (crlf ? '\r\n' : '\n') : '')
}

/** The sequential word count of texts: what wc.ts must produce. */
export function wordCount(texts: readonly string[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const t of texts) for (const line of t.split('\n')) for (const w of line.split(/\s+/)) if (w) m.set(w, (m.get(w) ?? 0) + 1)
  return m
}

/** UTF-8 byte order of two strings. */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/**
 * The `key\tvalue` lines of the part files in `dir` (the given kind), checking that each file is
 * sorted by key bytes when `sorted`, and that no key is in two files.
 */
export function readParts(dir: string, kind: 'r' | 'm' = 'r', sorted = true): Map<string, string[]> {
  const files = readdirSync(dir).filter((f) => f.startsWith(`part-${kind}-`)).sort()
  const all = new Map<string, string[]>()
  for (const f of files) {
    const body = readFileSync(path.join(dir, f), 'utf8')
    const lines = body === '' ? [] : body.replace(/\n$/, '').split('\n')
    const keys = lines.map((l) => l.slice(0, l.indexOf('\t')))
    const seen = new Set<string>()
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!
      const k = keys[i]!
      if (sorted && i > 0) assert.ok(byteOrder(keys[i - 1]!, k) <= 0, `${f}: ${JSON.stringify(keys[i - 1])} before ${JSON.stringify(k)}`)
      if (!seen.has(k)) {
        seen.add(k)
        if (sorted) assert.not.ok(all.has(k), `key ${JSON.stringify(k)} in two part files`)
      }
      const vs = all.get(k) ?? []
      vs.push(l.slice(l.indexOf('\t') + 1))
      all.set(k, vs)
    }
  }
  return all
}

/** Word counts as read from part files. */
export function countsOf(parts: Map<string, string[]>): Map<string, number> {
  const m = new Map<string, number>()
  for (const [k, vs] of parts) {
    assert.is(vs.length, 1, `key ${JSON.stringify(k)} has ${vs.length} lines`)
    m.set(k, Number(vs[0]))
  }
  return m
}

export function sortedEntries<V>(m: Map<string, V>): [string, V][] {
  return [...m].sort((a, b) => byteOrder(a[0], b[0]))
}
