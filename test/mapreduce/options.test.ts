// Sizes, input patterns and defineJob: what is accepted, and the typed errors for what is not.
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { totalmem } from 'node:os'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defineJob, formatSize, InputNotFoundError, MapReduceArgError, parseSize, TooManyOpenFilesError } from '../../src/mapreduce/index.js'
import { commaList, expandBraces, expandInputs, segmentRegExp } from '../../src/mapreduce/inputs.js'
import { jobOf } from '../../src/mapreduce/job.js'
import { autoProcs, autoSplitSize, BYTES_PER_THREAD, DEFAULT_MEMORY, DEFAULT_SPLIT, defaultMemory, machineMemory, MEMORY_PER_THREAD, MIN_AUTO_SPLIT, threadsWithin } from '../../src/mapreduce/options.js'
import { FILES_BASE, FILES_PER_THREAD, openFileLimit, threadsForFiles } from '../../src/mapreduce/filelimit.js'
import { tempDir } from './_helpers.js'

const sizes = suite('sizes')

sizes('binary and decimal units, any case, bare numbers are bytes', () => {
  const cases: [string | number, number][] = [
    ['64MiB', 64 * 2 ** 20], ['64mib', 64 * 2 ** 20], ['256M', 256 * 2 ** 20], ['1.5GiB', 1.5 * 2 ** 30], ['100MB', 1e8],
    ['4096', 4096], ['10 KiB', 10240], ['2k', 2048], ['3B', 3], [77, 77], ['1TiB', 2 ** 40],
  ]
  for (const [text, want] of cases) assert.is(parseSize('splitSize', text), want, String(text))
})

sizes('the automatic split size: one split per thread for a small input, 64 MiB for a large one, never under 1 MiB', () => {
  const MiB = 2 ** 20
  assert.is(autoSplitSize(4 * MiB, 2), 2 * MiB, 'two splits of a 4 MiB input on two threads')
  assert.is(Math.ceil((4 * MiB - 65) / autoSplitSize(4 * MiB - 65, 2)), 2, 'two splits when the size is odd')
  assert.is(autoSplitSize(1024 * MiB, 2), DEFAULT_SPLIT)
  assert.is(autoSplitSize(100, 16), MIN_AUTO_SPLIT)
  assert.is(autoSplitSize(0, 1), MIN_AUTO_SPLIT)
})

sizes('the automatic thread count: one per 8 MiB of input up to the default, at least one; all of them for streaming', () => {
  const MiB = 2 ** 20
  assert.is(BYTES_PER_THREAD, 8 * MiB)
  assert.is(autoProcs(0, 2, false), 1)
  assert.is(autoProcs(4 * MiB, 2, false), 1, 'a small job: one thread')
  assert.is(autoProcs(8 * MiB, 2, false), 1)
  assert.is(autoProcs(8 * MiB + 1, 2, false), 2)
  assert.is(autoProcs(20 * MiB, 16, false), 3)
  assert.is(autoProcs(1024 * MiB, 16, false), 16)
  assert.is(autoProcs(4 * MiB, 2, true), 2, 'streaming: the code runs in processes of their own')
})

sizes('the default memory budget: 128 MiB a thread, at least 256 MiB, and past that at most a quarter of the machine', () => {
  const MiB = 2 ** 20
  const GiB = 2 ** 30
  assert.equal([DEFAULT_MEMORY, MEMORY_PER_THREAD], [256 * MiB, 128 * MiB])
  assert.is(defaultMemory(1, 24 * GiB), 256 * MiB, 'one thread: the least')
  assert.is(defaultMemory(2, 24 * GiB), 256 * MiB, 'two threads: 128 MiB each, as before')
  assert.is(defaultMemory(3, 24 * GiB), 384 * MiB)
  assert.is(defaultMemory(16, 128 * GiB), 2 * GiB, 'sixteen threads buffer 128 MiB each, as two do')
  assert.is(defaultMemory(16, 4 * GiB), GiB, 'a quarter of a small machine')
  assert.is(defaultMemory(16, 512 * MiB), 256 * MiB, 'never under the least')
  assert.ok(machineMemory() > 0 && machineMemory() <= totalmem(), 'this process: the machine, or a lower cgroup limit')
})

sizes('threads within the open-file limit: as asked when they fit; the default cut to fit; too many asked, or none fitting, is TooManyOpenFilesError', () => {
  const t = tempDir()
  try {
    const limits = path.join(t.dir, 'limits')
    writeFileSync(limits, 'Limit                     Soft Limit           Hard Limit           Units\nMax cpu time              unlimited            unlimited            seconds\nMax open files            1024                 4096                 files\n')
    assert.is(openFileLimit(limits), 1024, 'the soft limit')
    writeFileSync(limits, 'Max open files            unlimited            unlimited            files\n')
    assert.is(openFileLimit(limits), undefined)
    assert.is(openFileLimit(path.join(t.dir, 'none')), undefined)
  } finally {
    t.remove()
  }
  assert.is(threadsForFiles(FILES_BASE + 2 * FILES_PER_THREAD), 2)
  assert.is(threadsForFiles(FILES_BASE + 2 * FILES_PER_THREAD - 1), 1)
  assert.is(threadsForFiles(undefined), Infinity, 'no known limit')
  assert.is(threadsWithin(64, true, FILES_BASE + 64 * FILES_PER_THREAD), 64)
  assert.is(threadsWithin(4, true, 1024), 4)
  assert.is(threadsWithin(12, false, 150), 4, 'the default: as many as fit')
  const asked = (() => { try { threadsWithin(12, true, 150) } catch (e) { return e } })()
  assert.instance(asked, TooManyOpenFilesError)
  assert.equal([(asked as TooManyOpenFilesError).threads, (asked as TooManyOpenFilesError).limit, (asked as TooManyOpenFilesError).most, (asked as TooManyOpenFilesError).code], [12, 150, 4, 'ERR_MR_TOO_MANY_FILES'])
  assert.throws(() => threadsWithin(1, false, 40), (e: unknown) => e instanceof TooManyOpenFilesError && e.most === 0 && e.message === 'gort mapreduce: 1 thread needs more open files than this process may have (ulimit -n is 40): raise it (ulimit -n 4096)')
})

sizes('anything else is MapReduceArgError naming the option and echoing the text', () => {
  for (const bad of ['12parsecs', '', '-1M', '1e9', 'MiB', '1.2.3M', '0', ' ', '1.5', '2.5B', 0.5, 1.5, -3, Number.NaN]) {
    try {
      parseSize('memory', bad as string)
      assert.unreachable(String(bad))
    } catch (e) {
      assert.instance(e, MapReduceArgError)
      const err = e as MapReduceArgError
      assert.is(err.code, 'ERR_INVALID_ARG')
      assert.is(err.option, 'memory')
      assert.ok(Object.is(err.value, bad))
    }
  }
  assert.throws(() => parseSize('memory', '1KiB', 65536), /memory must be a size .* at least 64 KiB, got "1KiB"/)
  assert.is(formatSize(64 * 2 ** 20), '64 MiB')
})

const inputs = suite('inputs')

inputs('globs, plain files and directories; sorted, each file once; dotfiles and _files left out', () => {
  const t = tempDir()
  try {
    const d = t.dir
    mkdirSync(path.join(d, 'data/sub/deep'), { recursive: true })
    for (const f of ['data/b.txt', 'data/a.txt', 'data/c.log', 'data/.hidden.txt', 'data/_SUCCESS', 'data/sub/x.txt', 'data/sub/deep/y.txt', 'data/[x].txt']) {
      writeFileSync(path.join(d, f), f)
    }
    const names = (ps: string[]): string[] => expandInputs(ps, d).map((f) => f.name)
    assert.equal(names(['data/*.txt']), ['data/[x].txt', 'data/a.txt', 'data/b.txt'])
    assert.equal(names(['data/?.txt', 'data/a.txt']), ['data/a.txt', 'data/b.txt'])
    assert.equal(names(['data/[ab].*']), ['data/a.txt', 'data/b.txt'])
    assert.equal(names(['data/[!ab].*']), ['data/c.log'])
    assert.equal(names(['data/**/*.txt']), ['data/[x].txt', 'data/a.txt', 'data/b.txt', 'data/sub/deep/y.txt', 'data/sub/x.txt'])
    // A final ** names every file below, as bash's globstar does (it named none).
    assert.equal(names(['data/**']), ['data/[x].txt', 'data/a.txt', 'data/b.txt', 'data/c.log', 'data/sub/deep/y.txt', 'data/sub/x.txt'])
    assert.equal(names(['data']), ['data/[x].txt', 'data/a.txt', 'data/b.txt', 'data/c.log'])
    assert.equal(names(['data/.h*']), ['data/.hidden.txt'])
    // `_` names, as Hadoop's input filter: not matched by a wildcard (`data/*` is not data/_SUCCESS)
    // unless the segment starts with `_`; `**` does not go into an earlier job's `_logs/`.
    mkdirSync(path.join(d, 'data/_logs'))
    writeFileSync(path.join(d, 'data/_logs/history.txt'), 'h')
    writeFileSync(path.join(d, 'data/_data.txt'), 'u')
    assert.equal(names(['data/*']), ['data/[x].txt', 'data/a.txt', 'data/b.txt', 'data/c.log'])
    assert.equal(names(['data/**/*.txt']), ['data/[x].txt', 'data/a.txt', 'data/b.txt', 'data/sub/deep/y.txt', 'data/sub/x.txt'])
    assert.equal(names(['data/_*']), ['data/_SUCCESS', 'data/_data.txt'])
    assert.equal(names(['data/_logs/*']), ['data/_logs/history.txt'])
    // Braces, as bash and Hadoop expand them: alternatives, nested, literal when they cannot be.
    assert.equal(names(['data/{a,b}.txt']), ['data/a.txt', 'data/b.txt'])
    assert.equal(names(['data/{[ab].txt,sub/{x,deep/y}.txt}']), ['data/a.txt', 'data/b.txt', 'data/sub/deep/y.txt', 'data/sub/x.txt'])
    assert.equal(expandBraces('a{b}c{d,e'), ['a{b}c{d,e'])
    assert.equal(expandBraces('x{1,2}y{a,b}'), ['x1ya', 'x1yb', 'x2ya', 'x2yb'])
    writeFileSync(path.join(d, 'data/{c,d}.txt'), 'braces')
    assert.equal(names(['data/{c,d}.txt']), ['data/{c,d}.txt'], 'a name with braces, as written, when no alternative exists')
    // Hadoop's comma-separated -input list: each part a pattern; commas in braces are the braces';
    // a file named with a comma is that file.
    assert.equal(names(['data/a.txt,data/sub/*.txt']), ['data/a.txt', 'data/sub/x.txt'])
    assert.equal(names(['data/{a,b}.txt,data/c.log']), ['data/a.txt', 'data/b.txt', 'data/c.log'])
    assert.equal(commaList('a,{b,c},d,'), ['a', '{b,c}', 'd'])
    writeFileSync(path.join(d, 'data/a,b.txt'), 'comma')
    assert.equal(names(['data/a,b.txt']), ['data/a,b.txt'])
    assert.throws(() => expandInputs(['data/a.txt,data/none.txt'], d), (e: unknown) => e instanceof InputNotFoundError && e.pattern === 'data/none.txt')
    rmSync(path.join(d, 'data/a,b.txt'))
    // A pattern that matches nothing is the path as written, as in the shell.
    assert.equal(names(['data/[x].txt']), ['data/[x].txt'])
    mkdirSync(path.join(d, 'g[1]'))
    writeFileSync(path.join(d, 'g[1]/z.txt'), 'z')
    assert.equal(names(['g[1]']), ['g[1]/z.txt'])
    const abs = expandInputs([path.join(d, 'data/a.txt')])
    assert.equal(abs.map((f) => [f.path, f.size]), [[path.join(d, 'data/a.txt'), 10]])
    for (const missing of ['nope.txt', 'data/*.csv', 'nope/*.txt']) {
      assert.throws(() => expandInputs([missing], d), (e: unknown) => e instanceof InputNotFoundError && e.code === 'ERR_MR_NO_INPUT' && e.pattern === missing)
    }
    // A FIFO (or a device) exists but has no size to split: said so, not "matches no file".
    execFileSync('mkfifo', [path.join(d, 'pipe')])
    assert.throws(() => expandInputs(['pipe'], d), (e: unknown) => e instanceof InputNotFoundError && /input "pipe" is not a regular file or a directory \(a FIFO, socket or device\)$/.test(e.message))
    assert.throws(() => expandInputs(['/dev/null'], d), /is not a regular file or a directory/)
    // A /proc file is regular, reports a size of 0 and has content: it would read as empty.
    assert.throws(() => expandInputs(['/proc/self/status'], d), (e: unknown) => e instanceof InputNotFoundError && /input "\/proc\/self\/status" reports a size of 0 but has content \(a \/proc or \/sys file\?\): copy it to a regular file first$/.test(e.message))
    // A file of a codec gort does not decompress, which Hadoop would, is refused rather than read
    // as text; gzip, deflate, bzip2 and zstd are inputs (codec.ts).
    for (const [f, codec] of [['logs.lz4', 'lz4'], ['logs.snappy', 'snappy']]) {
      writeFileSync(path.join(d, f!), Buffer.from([0x1f, 0x8b, 8, 0]))
      const want = new RegExp(`^gort mapreduce: input "${f!.replace('.', '\\.')}" is ${codec}-compressed in Hadoop's own framing, which gort does not read \\(it decompresses gzip, deflate, bzip2 and zstd, as Hadoop does by the name's extension\\): decompress it first, or leave it out of the input$`)
      assert.throws(() => expandInputs([f!], d), (e: unknown) => e instanceof InputNotFoundError && want.test(e.message), f)
    }
    for (const f of ['logs.gz', 'logs.deflate', 'logs.bz2', 'logs.zst']) {
      writeFileSync(path.join(d, f), Buffer.from([0x1f, 0x8b, 8, 0]))
      assert.equal(expandInputs([f], d).map((x) => x.name), [f])
    }
    writeFileSync(path.join(d, 'empty.txt'), '')
    assert.equal(expandInputs(['empty.txt'], d).map((f) => f.size), [0], 'an empty file is still an input')
  } finally {
    t.remove()
  }
})

inputs('symbolic links: ** does not descend into linked directories, so a link to a parent ends; a loop names nothing', () => {
  const t = tempDir()
  try {
    const d = t.dir
    mkdirSync(path.join(d, 'data/sub'), { recursive: true })
    mkdirSync(path.join(d, 'elsewhere'))
    writeFileSync(path.join(d, 'data/a.txt'), 'a')
    writeFileSync(path.join(d, 'data/sub/b.txt'), 'b')
    writeFileSync(path.join(d, 'elsewhere/c.txt'), 'c')
    symlinkSync('..', path.join(d, 'data/sub/up')) // a cycle through `**` before
    symlinkSync(path.join(d, 'data'), path.join(d, 'data/self'))
    symlinkSync(path.join(d, 'elsewhere'), path.join(d, 'data/linked'))
    symlinkSync('loop', path.join(d, 'data/loop')) // resolves to itself: ELOOP
    symlinkSync(path.join(d, 'elsewhere/c.txt'), path.join(d, 'data/c-link.txt'))
    const names = (ps: string[]): string[] => expandInputs(ps, d).map((f) => f.name)
    assert.equal(names(['data/**/*.txt']), ['data/a.txt', 'data/c-link.txt', 'data/sub/b.txt'])
    // Named by a segment, a linked directory is followed, as the shell does.
    assert.equal(names(['data/linked/*.txt']), ['data/linked/c.txt'])
    assert.equal(names(['data/*/c.txt']), ['data/linked/c.txt'])
    assert.equal(names(['data']), ['data/a.txt', 'data/c-link.txt'])
    assert.throws(() => expandInputs(['data/loop'], d), (e: unknown) => e instanceof InputNotFoundError)
  } finally {
    t.remove()
  }
})

inputs('segmentRegExp: one segment, literal dots and parentheses', () => {
  assert.ok(segmentRegExp('a(1).txt').test('a(1).txt'))
  assert.not.ok(segmentRegExp('*.txt').test('a.txtx'))
  assert.not.ok(segmentRegExp('a.txt').test('abtxt'))
})

const jobs = suite('defineJob')

jobs('checks the shape where the job is written; a module needs a default export that is a job', () => {
  const map = (): void => {}
  assert.throws(() => defineJob({} as never), /defineJob: the job has no map function/)
  assert.throws(() => defineJob({ map, reduce: 3 } as never), /reduce must be a function, got 3/)
  assert.throws(() => defineJob({ map, records: 'words' } as never), /records must be 'lines', 'files' or 'chunks', got .*words/)
  assert.ok(Object.isFrozen(defineJob({ map })))
  assert.equal(jobOf({}), { problem: 'it has no default export (export default defineJob({ map, reduce }))' })
  assert.ok('problem' in jobOf({ default: { reduce: map } }))
  assert.ok('job' in jobOf({ default: { map } }), 'a plain object with map is a job too')
  // tsc's CommonJS output, as Node imports it: the default export is the exports object.
  const cjs = jobOf({ default: { __esModule: true, default: { map } } })
  assert.ok('job' in cjs && typeof cjs.job.map === 'function', 'the job of a CommonJS module compiled from ESM')
  assert.ok('problem' in jobOf({ default: { default: { map } } }), 'without __esModule, default is just a property')
})

jobs('a typo in a plain job is refused; a class instance keeps its prototype methods and its this', () => {
  const map = (): void => {}
  assert.throws(() => defineJob({ map, reduer: map } as never), /"reduer" is not a field of a job \(map, combine, reduce, partition, setup, cleanup, records, values, sample\)/)
  const typo = jobOf({ default: { map, combiner: map } })
  assert.ok('problem' in typo && /"combiner" is not a field of a job/.test(typo.problem))
  class Job {
    readonly seen: string[] = []
    map(_f: string, line: string): void {
      this.seen.push(line)
    }
    reduce(): void {}
  }
  const instance = new Job()
  for (const job of [defineJob(instance as never) as unknown as Job, (jobOf({ default: instance }) as { job: Job }).job]) {
    assert.type(job.reduce, 'function', 'a prototype method is kept (spreading dropped it)')
    const m = job.map as (f: string, line: string) => void
    m('f', 'called without its object')
    assert.equal(instance.seen.at(-1), 'called without its object', 'this is the instance')
  }
})

jobs('types: emit takes what combine and reduce take; map gets strings', () => {
  const sum = async (w: string, vs: AsyncIterable<number>, emit: (k: string, v: number) => void): Promise<void> => {
    let n = 0
    for await (const v of vs) n += v
    emit(w, n)
  }
  defineJob({
    map(key, line, emit, ctx) {
      const k: string = key
      const o: number = ctx.offset
      void [k, o]
      emit(line, 1)
      // @ts-expect-error: values are numbers in this job
      emit(line, 'one')
    },
    combine: sum,
    reduce: sum,
  })
  // @ts-expect-error: keys are strings or numbers
  defineJob({ map(_k, _v, emit: (k: object, v: number) => void) { emit({}, 1) } })

  // `values` types the values of inline functions that say nothing of them.
  defineJob({
    values: 'number',
    map(_k, line, emit) {
      emit(line, 1)
      // @ts-expect-error: values: 'number'
      emit(line, 'one')
    },
    async reduce(word, values, emit) {
      let n = 0
      for await (const v of values) n += v
      emit(word, n)
    },
  })
  defineJob({
    values: 'string',
    map(_k, line, emit) {
      emit(line, line)
      // @ts-expect-error: values: 'string'
      emit(line, 1)
    },
    async reduce(word, values, emit) {
      const all: string[] = []
      for await (const v of values) all.push(v.toUpperCase())
      emit(word, all.join(','))
    },
  })
  // Explicit type arguments keep their order (K, V, OK, OV) with a declaration too.
  defineJob<string, number, string, string>({ values: 'number', map(_k, line, emit) { emit(line, 1) }, async reduce(w, vs, emit) { for await (const v of vs) emit(w, v.toFixed(1)) } })
  // @ts-expect-error: a declaration that contradicts the values
  defineJob<string, string>({ values: 'number', map(_k, line, emit) { emit(line, line) } })
  // A sample maps text records: not for a chunks job, in its type and when it runs.
  assert.throws(
    // @ts-expect-error: sample with records: 'chunks'
    () => defineJob({ records: 'chunks', map(_f, chunk: Uint8Array, emit) { emit('bytes', chunk.length) }, sample: {} }),
    /defineJob: sample is not supported with records: 'chunks' \(sampling runs map on text records\)/,
  )
  defineJob({ records: 'chunks', map(_f, chunk: Uint8Array, emit) { emit('bytes', chunk.length) } })
})

sizes.run()
inputs.run()
jobs.run()
