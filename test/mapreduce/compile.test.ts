// A TypeScript job compiled once on the main thread (src/mapreduce/compile.ts): what is bundled,
// what stays an import and where it points, when the tsx path is kept, and runJob end to end on
// both paths. Needs dist/ (the jobs import gort/mapreduce, which resolves there).
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { jobModule, selfReference } from '../../src/mapreduce/compile.js'
import { JobModuleError, runJob, TaskFailedError, type ProgressEvent } from '../../src/mapreduce/index.js'
import { deadline } from '../_support/deadline.js'
import { rejection } from '../_support/rejection.js'
import { countsOf, FIXTURES, readParts, sortedEntries, tempDir, text, wordCount } from './_helpers.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const JOB = path.join(FIXTURES, 'compiled/job.ts')
const MS = 90_000
const execFileAsync = promisify(execFile)

type Env = { TMPDIR?: string; GORT_MR_COMPILE?: string; GORT_CACHE?: string; GORT_CACHE_DIR?: string }

/**
 * Runs `body` with TMPDIR (where jobs are compiled to when there is no cache), GORT_MR_COMPILE and
 * the cache's variables set, then restores them. The compile cache is off unless `env` turns it on.
 */
async function withEnv<T>(env: Env, body: () => Promise<T>): Promise<T> {
  const keys = ['TMPDIR', 'GORT_MR_COMPILE', 'GORT_CACHE', 'GORT_CACHE_DIR'] as const
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]))
  Object.assign(process.env, { GORT_CACHE: env.GORT_CACHE_DIR === undefined ? '0' : '1' }, env)
  try {
    return await body()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

const compiled = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('gort-job-'))

const unit = suite('compile: jobModule')

unit('a TypeScript job is bundled with its own helper; gort/mapreduce and builtins stay imports, by absolute URL', deadline('bundle', async () => {
  const t = tempDir()
  try {
    const m = await withEnv({ TMPDIR: t.dir }, () => jobModule(pathToFileURL(JOB).href))
    try {
      assert.is(m.loader, 'none', 'nothing it imports is TypeScript: the Ms need no tsx')
      const file = fileURLToPath(m.url)
      assert.ok(file.startsWith(path.join(t.dir, 'gort-job-')) && file.endsWith('/job.mjs'), file)
      const code = readFileSync(file, 'utf8')
      assert.ok(code.includes('function tokens('), 'the helper module is bundled')
      assert.not.ok(/from\s*["']\.\/words/.test(code), 'no relative import is left')
      assert.ok(code.includes(`from${JSON.stringify(pathToFileURL(path.join(REPO, 'dist/mapreduce/index.js')).href)}`), 'gort/mapreduce: an absolute URL into dist/')
      assert.ok(/from\s*"node:path"/.test(code), 'a builtin stays as written')
      assert.match(code, /\n\/\/# sourceMappingURL=data:application\/json;base64,/)
    } finally {
      m.remove()
    }
    assert.equal(compiled(t.dir), [], 'remove() removes the compiled file and its directory')
  } finally {
    t.remove()
  }
}, MS))

unit('kept as given: JavaScript jobs, GORT_MR_COMPILE=0, import.meta, __dirname, a syntax error; tsx kept when an import is TypeScript', deadline('as given', async () => {
  const t = tempDir()
  try {
    await withEnv({ TMPDIR: t.dir }, async () => {
      const js = pathToFileURL(path.join(t.dir, 'job.mjs')).href
      assert.equal({ ...(await jobModule(js)), remove: null }, { url: js, loader: 'auto', remove: null })
      const off = await withEnv({ GORT_MR_COMPILE: '0' }, () => jobModule(pathToFileURL(JOB).href))
      assert.equal([off.url, off.loader], [pathToFileURL(JOB).href, 'tsx'])
      for (const f of ['meta.ts', 'dirname.ts']) {
        const url = pathToFileURL(path.join(FIXTURES, 'compiled', f)).href
        const m = await jobModule(url)
        assert.equal([m.url, m.loader], [url, 'tsx'], f)
      }
      writeFileSync(path.join(t.dir, 'bad.ts'), 'export default {\n  map(_f, line: string, emit) { emit(line, 1 },\n}\n')
      const bad = await jobModule(pathToFileURL(path.join(t.dir, 'bad.ts')).href)
      assert.equal([bad.url, bad.loader], [pathToFileURL(path.join(t.dir, 'bad.ts')).href, 'tsx'])
      // faulty.ts imports gort's sources by a relative path: they stay imports, TypeScript ones.
      const faulty = await jobModule(pathToFileURL(path.join(FIXTURES, 'faulty.ts')).href)
      try {
        assert.is(faulty.loader, 'tsx')
        assert.ok(readFileSync(fileURLToPath(faulty.url), 'utf8').includes(pathToFileURL(path.join(REPO, 'src/mapreduce/index.ts')).href))
      } finally {
        faulty.remove()
      }
      assert.equal(compiled(t.dir), [], 'nothing is left behind')
    })
  } finally {
    t.remove()
  }
}, MS))

unit('gort/mapreduce resolves from this repository (self-reference) and from an installed copy', deadline('resolve', async () => {
  assert.is(selfReference('gort/mapreduce', path.join(REPO, 'examples/mapreduce')), path.join(REPO, 'dist/mapreduce/index.js'))
  assert.is(selfReference('gort', path.join(REPO, 'test')), path.join(REPO, 'dist/index.js'))
  assert.is(selfReference('gort/package.json', REPO), path.join(REPO, 'package.json'))
  assert.is(selfReference('gort/no-such-entry', REPO), undefined)
  assert.is(selfReference('tsx', REPO), undefined, 'not this package')
  const t = tempDir()
  try {
    // An installed copy: the job's project has node_modules/gort (a link to this repository).
    mkdirSync(path.join(t.dir, 'node_modules'))
    symlinkSync(REPO, path.join(t.dir, 'node_modules/gort'), 'dir')
    writeFileSync(path.join(t.dir, 'package.json'), '{ "name": "user-project", "type": "module" }')
    writeFileSync(path.join(t.dir, 'job.ts'), "import { defineJob } from 'gort/mapreduce'\nexport default defineJob({ map(_f, line: string, emit) { emit(line, 1) } })\n")
    assert.is(selfReference('gort/mapreduce', t.dir), undefined, 'not a self-reference there')
    const m = await withEnv({ TMPDIR: t.dir }, () => jobModule(pathToFileURL(path.join(t.dir, 'job.ts')).href))
    try {
      assert.is(m.loader, 'none')
      assert.ok(readFileSync(fileURLToPath(m.url), 'utf8').includes(pathToFileURL(path.join(REPO, 'dist/mapreduce/index.js')).href))
    } finally {
      m.remove()
    }
  } finally {
    t.remove()
  }
}, MS))

unit('a job where no gort is installed imports the gort that runs it; one whose import resolves nowhere is a JobModuleError saying so', deadline('no gort', async () => {
  const t = tempDir()
  try {
    // A scratch directory (os.tmpdir()): no node_modules/gort anywhere above it.
    const job = path.join(t.dir, 'scratch job.ts')
    writeFileSync(job, "import { defineJob } from 'gort/mapreduce'\nexport default defineJob({ map(_f, line: string, emit) { emit(line, 1) }, reduce: async (k: string, vs: AsyncIterable<number>, emit) => { let n = 0; for await (const v of vs) n += v; emit(k, n) } })\n")
    writeFileSync(path.join(t.dir, 'in.txt'), 'x\ny\nx\n')
    const m = await withEnv({ TMPDIR: t.dir }, () => jobModule(pathToFileURL(job).href))
    try {
      assert.is(m.loader, 'none')
      assert.ok(readFileSync(fileURLToPath(m.url), 'utf8').includes(pathToFileURL(path.join(REPO, 'dist/mapreduce/index.js')).href))
    } finally {
      m.remove()
    }
    const out = path.join(t.dir, 'out')
    await withEnv({ TMPDIR: t.dir }, () => runJob({ job, input: path.join(t.dir, 'in.txt'), output: out, procs: 1 }))
    assert.is(readFileSync(path.join(out, 'part-r-00000'), 'utf8'), 'x\t2\ny\t1\n')

    const missing = path.join(t.dir, 'missing.ts')
    writeFileSync(missing, "import { helper } from 'not-installed-pkg'\nimport { defineJob } from 'gort/mapreduce'\nexport default defineJob({ map(_f, line: string, emit) { emit(helper(line), 1) } })\n")
    const err = await rejection(withEnv({ TMPDIR: t.dir }, () => runJob({ job: missing, input: path.join(t.dir, 'in.txt'), output: path.join(t.dir, 'out2'), procs: 1 })))
    assert.instance(err, JobModuleError)
    assert.match((err as Error).message, /job module .*missing\.ts: cannot resolve "not-installed-pkg" \(missing\.ts:1:24\): is the package installed where the job can import it\?$/)
    assert.not.ok(existsSync(path.join(t.dir, 'out2')))

    // JavaScript is imported as it is, so Node resolves gort from the job's directory: a hint says so.
    const js = path.join(t.dir, 'job.mjs')
    writeFileSync(js, "import { defineJob } from 'gort/mapreduce'\nexport default defineJob({ map(_f, line, emit) { emit(line, 1) } })\n")
    const jsErr = await rejection(runJob({ job: js, input: path.join(t.dir, 'in.txt'), output: path.join(t.dir, 'out3'), procs: 1 }))
    assert.instance(jsErr, JobModuleError)
    assert.match((jsErr as Error).message, /Cannot find package 'gort' imported from .*job\.mjs \(a JavaScript job imports gort as Node resolves it, from its own directory: install gort in its project, or write the job in TypeScript/)
  } finally {
    t.remove()
  }
}, MS))

unit.run()

const cache = suite('compile: cache')

/** A job in `dir` with a helper module and a package of its own in node_modules (and gort, a link to this repository). */
function cacheJob(dir: string): string {
  mkdirSync(path.join(dir, 'node_modules/wordpkg'), { recursive: true })
  symlinkSync(REPO, path.join(dir, 'node_modules/gort'), 'dir')
  writeFileSync(path.join(dir, 'node_modules/wordpkg/package.json'), '{ "name": "wordpkg", "version": "1.0.0", "type": "module", "main": "index.js" }')
  writeFileSync(path.join(dir, 'node_modules/wordpkg/index.js'), 'export const lower = (s) => s.toLowerCase()\n')
  writeFileSync(path.join(dir, 'helper.ts'), 'export const split = (line: string): string[] => line.split(/\\s+/)\n')
  const job = path.join(dir, 'job.ts')
  writeFileSync(job, [
    "import { defineJob } from 'gort/mapreduce'",
    "import { lower } from 'wordpkg'",
    "import { split } from './helper.js'",
    'export default defineJob({ map(_f, line: string, emit) { for (const w of split(line)) if (w) emit(lower(w), 1) } })',
    '',
  ].join('\n'))
  return job
}

cache('a compiled job is kept: the next compile of the same files reuses it; a change to any file it depends on compiles again', deadline('cache', async () => {
  const t = tempDir()
  try {
    const job = cacheJob(t.dir)
    const url = pathToFileURL(job).href
    const cacheDir = path.join(t.dir, 'cache')
    const tmp = path.join(t.dir, 'tmp')
    mkdirSync(tmp)
    const env = { TMPDIR: tmp, GORT_CACHE_DIR: cacheDir }
    const jobs = path.join(cacheDir, 'jobs')
    const entry = (): string => { const e = readdirSync(jobs).filter((f) => f.endsWith('.json')); assert.is(e.length, 1); return path.join(jobs, e[0]!) }
    const first = await withEnv(env, () => jobModule(url))
    assert.is(first.loader, 'none')
    assert.ok(fileURLToPath(first.url).startsWith(path.join(jobs, 'gort-job-')) && first.url.endsWith('/job.mjs'), first.url)
    const code = readFileSync(fileURLToPath(first.url), 'utf8')
    assert.ok(code.includes('split(/\\s+/)'), 'the helper is bundled')
    // Its source map names the job's files where they are, not relative to where it was compiled.
    const map = JSON.parse(Buffer.from(code.slice(code.lastIndexOf('base64,') + 7), 'base64').toString('utf8')) as { sources: string[] }
    assert.equal(map.sources.sort(), [job, path.join(t.dir, 'helper.ts')].map((f) => pathToFileURL(f).href).sort())
    first.remove()
    assert.ok(existsSync(fileURLToPath(first.url)), 'a cached module is not removed with the job')
    assert.equal(compiled(tmp), [], 'nothing in the temporary directory')
    // A hit rewrites nothing: the entry keeps the time it was given here.
    const past = new Date(Date.now() - 3600_000)
    utimesSync(entry(), past, past)
    const again = await withEnv(env, () => jobModule(url))
    assert.is(again.url, first.url)
    assert.ok(statSync(entry()).mtimeMs < Date.now() - 1800_000, 'a hit: the entry was not written again')
    // Each of these changes what the compile depends on: a miss, and a new compile.
    const changes: [string, () => void, boolean][] = [
      ['the job', () => writeFileSync(job, readFileSync(job, 'utf8') + 'export const edited = 1\n'), true],
      ['its helper', () => writeFileSync(path.join(t.dir, 'helper.ts'), 'export const split = (line: string): string[] => line.split(/ +/)\n'), true],
      ['a tsconfig.json beside it', () => writeFileSync(path.join(t.dir, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }'), false],
      ['the package it imports', () => writeFileSync(path.join(t.dir, 'node_modules/wordpkg/package.json'), '{ "name": "wordpkg", "version": "1.0.1", "type": "module", "main": "index.js" }'), false],
    ]
    let prev = first.url
    for (const [what, change, newCode] of changes) {
      utimesSync(entry(), past, past)
      change()
      const m = await withEnv(env, () => jobModule(url))
      assert.ok(statSync(entry()).mtimeMs > past.getTime(), `${what} changed: compiled again`)
      assert.is(m.url !== prev, newCode, `${what}: ${newCode ? 'a new module' : 'the same code, so the same module'}`)
      assert.ok(existsSync(fileURLToPath(prev)), 'a kept module is never rewritten or removed by a newer compile')
      prev = m.url
    }
  } finally {
    t.remove()
  }
}, MS))

cache('without a usable cache directory, or with GORT_CACHE=0, a job compiles to a temporary directory as before', deadline('no cache', async () => {
  const t = tempDir()
  try {
    const url = pathToFileURL(cacheJob(t.dir)).href
    const tmp = path.join(t.dir, 'tmp')
    mkdirSync(tmp)
    writeFileSync(path.join(t.dir, 'a-file'), '')
    for (const env of [{ GORT_CACHE_DIR: path.join(t.dir, 'a-file') }, { GORT_CACHE_DIR: path.join(t.dir, 'cache'), GORT_CACHE: '0' }]) {
      const m = await withEnv({ TMPDIR: tmp, ...env }, () => jobModule(url))
      assert.ok(fileURLToPath(m.url).startsWith(path.join(tmp, 'gort-job-')), m.url)
      m.remove()
      assert.equal(compiled(tmp), [])
    }
    assert.not.ok(existsSync(path.join(t.dir, 'cache')))
  } finally {
    t.remove()
  }
}, MS))

cache('entries and modules unused for 30 days are removed when a new compile is kept', deadline('prune', async () => {
  const t = tempDir()
  try {
    const job = cacheJob(t.dir)
    const env = { TMPDIR: t.dir, GORT_CACHE_DIR: path.join(t.dir, 'cache') }
    const jobs = path.join(t.dir, 'cache/jobs')
    const old = await withEnv(env, () => jobModule(pathToFileURL(job).href))
    const stale = new Date(Date.now() - 31 * 24 * 3600_000)
    for (const f of readdirSync(jobs)) utimesSync(path.join(jobs, f), stale, stale)
    writeFileSync(job, readFileSync(job, 'utf8') + 'export const edited = 1\n')
    const fresh = await withEnv(env, () => jobModule(pathToFileURL(job).href))
    assert.not.ok(existsSync(fileURLToPath(old.url)), 'the old module is gone')
    assert.ok(existsSync(fileURLToPath(fresh.url)))
    assert.is(readdirSync(jobs).length, 2, 'one entry and one module directory')
  } finally {
    t.remove()
  }
}, MS))

cache.run()

const e2e = suite('compile: runJob')

/** Writes `texts` as data/f<i>.txt under dir; returns the glob. */
function writeInputs(dir: string, texts: readonly string[]): string {
  mkdirSync(path.join(dir, 'data'))
  texts.forEach((s, i) => writeFileSync(path.join(dir, 'data', `f${i}.txt`), s))
  return path.join(dir, 'data/*.txt')
}

for (const mode of ['compiled', 'tsx'] as const) {
  e2e(`${mode}: a TypeScript job with a TypeScript helper equals the sequential word count; nothing compiled is left`, deadline(mode, async () => {
    const t = tempDir()
    try {
      const texts = [text(21, 2000), text(22, 1500, true)]
      const input = writeInputs(t.dir, texts)
      const tmp = path.join(t.dir, 'tmp')
      mkdirSync(tmp)
      const out = path.join(t.dir, 'out')
      let during: string[] = []
      const r = await withEnv({ TMPDIR: tmp, ...(mode === 'tsx' ? { GORT_MR_COMPILE: '0' } : {}) }, () =>
        runJob({
          job: JOB, input, output: out, procs: 2, reducers: 2, splitSize: '16KiB',
          onProgress: (e: ProgressEvent) => { if (e.type === 'start') during = compiled(tmp).flatMap((d) => readdirSync(path.join(tmp, d))) },
        }))
      assert.equal(sortedEntries(countsOf(readParts(out))), sortedEntries(wordCount(texts)))
      assert.is(r.counters.failedAttempts, 0)
      assert.equal(during, mode === 'compiled' ? ['job.mjs'] : [], 'the Ms import the compiled module only when compiling')
      assert.equal(compiled(tmp), [], 'the compiled module is removed when the job ends')
    } finally {
      t.remove()
    }
  }, MS))
}

e2e('a syntax error is a JobModuleError before the output directory exists', deadline('syntax', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['a b'])
    const job = path.join(t.dir, 'bad.ts')
    writeFileSync(job, 'export default {\n  map(_f, line: string, emit) { emit(line, 1 },\n}\n')
    const out = path.join(t.dir, 'out')
    const err = await runJob({ job, input, output: out, procs: 1 }).then(() => assert.unreachable('ran'), (e: unknown) => e)
    assert.instance(err, JobModuleError)
    assert.is((err as JobModuleError).job, job, 'the error names the user\'s file')
    assert.match((err as Error).message, /bad\.ts/)
    assert.not.ok(existsSync(out), 'nothing was created')
  } finally {
    t.remove()
  }
}, MS))

e2e('a map that throws: the attempts report its message, and its stack names the .ts line', deadline('throws', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['fine words', 'x\nTHROW\ny'])
    const out = path.join(t.dir, 'out')
    const tmp = path.join(t.dir, 'tmp')
    mkdirSync(tmp)
    const err = await withEnv({ TMPDIR: tmp }, () => runJob({ job: JOB, input, output: out, procs: 2, maxAttempts: 2 }))
      .then(() => assert.unreachable('ran'), (e: unknown) => e)
    assert.instance(err, TaskFailedError)
    const e = err as TaskFailedError
    assert.is(e.task, 'm-00001')
    for (const a of e.attempts) assert.is(a.error, 'Error: bad record at offset 2 of f1.txt')
    const stack = String((e.cause as Error).stack)
    assert.match(stack, /compiled\/job\.ts:11:\d+/, stack)
    assert.not.ok(existsSync(out))
    assert.equal(compiled(tmp), [])
  } finally {
    t.remove()
  }
}, MS))

e2e.run()

const plain = suite('compile: from dist/ under plain node')

plain('a compiled job runs in plain workers, a throwing map\'s stack still names the .ts line, and no esbuild process outlives the compile', deadline('plain', async () => {
  const t = tempDir()
  try {
    const input = writeInputs(t.dir, ['a b', 'THROW'])
    const script = [
      `import { runJob } from ${JSON.stringify(pathToFileURL(path.join(REPO, 'dist/mapreduce/index.js')).href)}`,
      `const err = await runJob({ job: ${JSON.stringify(JOB)}, input: ${JSON.stringify(input)}, output: ${JSON.stringify(path.join(t.dir, 'out'))}, procs: 1, maxAttempts: 1 }).then(() => undefined, (e) => e)`,
      // esbuild's service process: stopped once the job is compiled, not left as an idle child (Linux: /proc).
      "const { readFileSync } = await import('node:fs')",
      'let kids = null; try { kids = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim() } catch {}',
      'console.log(JSON.stringify({ message: err?.message, stack: err?.cause?.stack, kids }))',
    ].join('\n')
    // A file, not `-e`: workers inherit execArgv, and `--input-type` fails there.
    writeFileSync(path.join(t.dir, 'run.mjs'), script)
    const { stdout } = await execFileAsync(process.execPath, [path.join(t.dir, 'run.mjs')], { env: { ...process.env, NODE_OPTIONS: '', TMPDIR: t.dir } })
    const r = JSON.parse(stdout) as { message: string; stack: string; kids: string | null }
    assert.ok(r.kids === null || r.kids === '', `child processes left after the job: ${r.kids}`)
    assert.match(r.message, /task m-00001 failed 1 attempt: attempt 1: Error: bad record at offset 0 of f1\.txt$/)
    assert.match(r.stack, /compiled\/job\.ts:11:\d+/, r.stack)
    assert.equal(compiled(t.dir), [])
  } finally {
    t.remove()
  }
}, MS))

plain('a process that exits while it holds a compiled job (a second Ctrl-C) leaves no temporary directory', deadline('exit', async () => {
  const t = tempDir()
  try {
    const script = [
      `import { jobModule } from ${JSON.stringify(pathToFileURL(path.join(REPO, 'dist/mapreduce/compile.js')).href)}`,
      `const m = await jobModule(${JSON.stringify(pathToFileURL(JOB).href)})`,
      "const { existsSync } = await import('node:fs')",
      "const { fileURLToPath } = await import('node:url')",
      'console.log(JSON.stringify({ url: m.url, there: existsSync(fileURLToPath(m.url)) }))',
      'process.exit(0)',
    ].join('\n')
    writeFileSync(path.join(t.dir, 'run.mjs'), script)
    const { stdout } = await execFileAsync(process.execPath, [path.join(t.dir, 'run.mjs')], { env: { ...process.env, NODE_OPTIONS: '', TMPDIR: t.dir, GORT_CACHE: '0' } })
    const r = JSON.parse(stdout) as { url: string; there: boolean }
    assert.ok(r.there && r.url.startsWith(pathToFileURL(t.dir).href), `compiled into the temporary directory: ${r.url}`)
    assert.equal(compiled(t.dir), [])
  } finally {
    t.remove()
  }
}, MS))

plain.run()
