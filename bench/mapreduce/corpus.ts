/**
 * The word-count corpus of bench/mapreduce.bench.ts and `npm start`: text files of Zipf-distributed
 * words (lowercase ASCII, separated by spaces, a tab now and then, 4-20 words a line), the same
 * bytes for the same seed on every machine. Cached under `.cache/corpus-<seed>-<files>x<size>/`
 * (git-ignored); a `_COMPLETE` file written last marks a finished corpus, so an interrupted
 * generation is redone, never used.
 *
 * Words: a vocabulary of VOCAB distinct words, rank r drawn with probability proportional to
 * 1/(r+1) (Zipf, s = 1), through Vose's alias table: two random numbers per word. Frequent words
 * are short, as in natural text.
 */
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const CACHE = path.join(REPO, '.cache')
const VOCAB = 1_000_000
const CHUNK = 4 * 2 ** 20

export interface Corpus {
  readonly dir: string
  /** Absolute paths, in name order. */
  readonly files: readonly string[]
  readonly bytes: number
  /** True when this call wrote it (false: found in the cache). */
  readonly generated: boolean
}

/** mulberry32: a small, fast, seedable PRNG (32-bit outputs). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

interface Vocabulary {
  /** The words' bytes, back to back; word r is bytes[start[r], start[r + 1]). */
  readonly bytes: Uint8Array
  readonly start: Int32Array
  readonly prob: Float64Array
  readonly alias: Int32Array
}

/** Word length by rank: frequent words are short. Each class is far smaller than 26^length. */
function wordLength(r: number): [len: number, index: number] {
  if (r < 10) return [1, r]
  if (r < 300) return [2, r - 10]
  if (r < 5000) return [3, r - 300]
  if (r < 60_000) return [4, r - 5000]
  return [5 + ((r - 60_000) % 8), Math.floor((r - 60_000) / 8)]
}

function vocabulary(seed: number): Vocabulary {
  // Word r spells (index * A + B) mod 26^len in base 26: an injection of each length class (A is
  // coprime to 26), so words are distinct without a set, and look random.
  const next = prng(seed ^ 0x5eed)
  const a = 2 * (next() % 1_000_000) + 1
  const A = a % 13 === 0 ? a + 2 : a
  const B = next()
  const start = new Int32Array(VOCAB + 1)
  for (let r = 0; r < VOCAB; r++) start[r + 1] = start[r]! + wordLength(r)[0]
  const bytes = new Uint8Array(start[VOCAB]!)
  for (let r = 0; r < VOCAB; r++) {
    const [len, index] = wordLength(r)
    // The first min(len, 6) letters are the injection; any further ones are a hash of the index.
    let x = (index * A + B) % 26 ** Math.min(len, 6)
    let y = Math.imul(index ^ B, 0x9e3779b1) >>> 0
    for (let i = 0; i < len; i++) {
      if (i < 6) {
        bytes[start[r]! + i] = 0x61 + (x % 26)
        x = Math.floor(x / 26)
      } else {
        bytes[start[r]! + i] = 0x61 + (y % 26)
        y = Math.floor(y / 26) || Math.imul(y ^ i, 0x85ebca6b) >>> 0
      }
    }
  }
  // Vose's alias method over p(r) = (1 / (r + 1)) / H.
  let h = 0
  for (let r = 0; r < VOCAB; r++) h += 1 / (r + 1)
  const scaled = new Float64Array(VOCAB)
  for (let r = 0; r < VOCAB; r++) scaled[r] = (VOCAB / (r + 1)) / h
  const prob = new Float64Array(VOCAB)
  const alias = new Int32Array(VOCAB)
  const small: number[] = []
  const large: number[] = []
  for (let r = 0; r < VOCAB; r++) (scaled[r]! < 1 ? small : large).push(r)
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!
    const l = large.pop()!
    prob[s] = scaled[s]!
    alias[s] = l
    scaled[l] = scaled[l]! + scaled[s]! - 1
    ;(scaled[l]! < 1 ? small : large).push(l)
  }
  for (const r of [...small, ...large]) prob[r] = 1
  return { bytes, start, prob, alias }
}

/** One file of about `size` bytes (whole lines, never more than `size`), from its own seed. */
function writeFile(file: string, size: number, seed: number, v: Vocabulary): number {
  const next = prng(seed)
  const { bytes, start, prob, alias } = v
  const buf = Buffer.allocUnsafe(CHUNK + 256)
  const fd = openSync(file, 'w')
  let written = 0
  let n = 0
  try {
    for (;;) {
      // One line into buf at n.
      const lineStart = n
      const words = 4 + (next() % 17)
      for (let i = 0; i < words; i++) {
        const r = next() % VOCAB
        const coin = next()
        const rank = coin * 2.3283064365386963e-10 < prob[r]! ? r : alias[r]!
        const end = start[rank + 1]!
        for (let j = start[rank]!; j < end; j++) buf[n++] = bytes[j]!
        buf[n++] = i === words - 1 ? 0x0a : (coin & 0xf) === 0 ? 0x09 : 0x20
      }
      if (written + n > size) {
        n = lineStart
        break
      }
      if (n >= CHUNK) {
        writeSync(fd, buf, 0, n)
        written += n
        n = 0
      }
    }
    writeSync(fd, buf, 0, n)
    written += n
  } finally {
    closeSync(fd)
  }
  return written
}

function corpusDir(seed: number, files: number, fileBytes: number): { dir: string; names: string[]; complete: string } {
  const dir = path.join(CACHE, `corpus-${seed}-${files}x${fileBytes}`)
  const names = Array.from({ length: files }, (_, i) => path.join(dir, `part-${String(i).padStart(3, '0')}.txt`))
  return { dir, names, complete: path.join(dir, '_COMPLETE') }
}

const fileSeed = (seed: number, i: number): number => (seed * 1_000_003 + i) >>> 0

/**
 * The corpus of `files` files of about `fileBytes` bytes each for `seed`: from the cache, or
 * generated now, `procs` child processes at a time (each file has its own seed, so the bytes do
 * not depend on how many).
 */
export async function ensureCorpus(seed: number, files: number, fileBytes: number, log: (s: string) => void = () => {}, procs = availableParallelism()): Promise<Corpus> {
  const { dir, names, complete } = corpusDir(seed, files, fileBytes)
  if (existsSync(complete)) {
    const bytes = Number((JSON.parse(readFileSync(complete, 'utf8')) as { bytes: number }).bytes)
    return { dir, files: names, bytes, generated: false }
  }
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  log(`generating ${files} x ${(fileBytes / 2 ** 20).toFixed(0)} MiB corpus (seed ${seed}) in ${path.relative(REPO, dir)}/ (once; cached) ...`)
  const me = fileURLToPath(import.meta.url)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', me, names[i]!, String(fileBytes), String(seed), String(fileSeed(seed, i))], { stdio: 'inherit' })
        child.on('error', reject)
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`corpus generator for ${names[i]} exited with ${code}`))))
      })
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(procs, files)) }, worker))
  const bytes = names.reduce((n, f) => n + statSync(f).size, 0)
  writeFileSync(complete, JSON.stringify({ seed, files, fileBytes, bytes }))
  return { dir, files: names, bytes, generated: true }
}

// As a child of ensureCorpus: FILE SIZE SEED FILESEED writes one file.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, size, seed, fseed] = process.argv.slice(2)
  writeFile(file!, Number(size), Number(fseed), vocabulary(Number(seed)))
}
