/**
 * A TypeScript job module compiled once, on the main thread, so that every M imports plain
 * JavaScript instead of registering tsx's loader and compiling the job itself.
 *
 * Invariants:
 * - The compiled module behaves as the job did under tsx, or it is not used: whatever esbuild
 *   cannot load, refuses, or warns about (a dynamic import it cannot follow), a CommonJS input
 *   or name (`require`, `__dirname`) and any `import.meta` (whose URL would be the compiled
 *   file's, not the source's) make `compileJob` return undefined (NOT_ESM), and the coordinator
 *   keeps the tsx path (tsx in every M, the .ts URL). A job that does not compile at all is
 *   reported by that path too, with tsx's message, as before, but for imports that resolve
 *   nowhere: those throw UnresolvedImportError, in esbuild's words with their lines (tsx would
 *   fail on them as well, in words that need not say so).
 * - Only the job's own files are bundled: relative (and tsconfig `paths`) imports outside
 *   node_modules and outside gort's own src/ and dist/. Everything else stays an import,
 *   rewritten to the absolute URL it resolves to from the importing file (Node's ESM conditions:
 *   import, node, default; `main`, never `module`), so the compiled file may live anywhere and
 *   still load the very modules the source would have loaded. Node builtins stay as written.
 *   `gort` and `gort/...` that do not resolve from the importing file resolve to the gort that
 *   runs the job (its package's exports), so a job outside any project that installs gort runs.
 * - When something left external is itself TypeScript (a job importing gort's sources, as this
 *   repository's fixtures do), the Ms need tsx anyway: `needsTsx` says so, and the compiled
 *   module is still used (one compile of the job's own files instead of one per M).
 * - No esbuild process outlives the compiles: its service is stopped when the last compile in
 *   flight ends, if this module loaded esbuild (under tsx, tsx did, and keeps it).
 * - compileJob writes nothing. jobModule keeps the module (source map inline) in the compile
 *   cache (below), or, when there is none, writes it to a fresh `gort-job-*` directory under the
 *   system's temporary directory, which the coordinator removes when runJob settles.
 * - The compile cache (`GORT_CACHE_DIR`, default `$XDG_CACHE_HOME/gort` or `~/.cache/gort`;
 *   `GORT_CACHE=0` turns it off): a compiled module is kept under a name made from its own
 *   contents (`jobs/gort-job-<hash>/<name>.mjs`) and never rewritten, so Ms of a job that is still
 *   running import what it started with. Its entry (`jobs/<key>.json`, keyed by the job's path and
 *   the versions of gort, esbuild and Node) lists every file whose contents the compile depended
 *   on, with their hashes: the job's own files, each package.json, tsconfig.json and
 *   jsconfig.json in their directories and above (absent ones too), and the package.json of each
 *   package an import resolved into. A hit is used only when all of them read the same; a cache
 *   that cannot be read or written is skipped, never an error. Compiles that return undefined
 *   are not cached.
 */

import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { COMPILED_DIR_PREFIX, isTypeScript } from './job.js'
import { makeDirs } from './dirs.js'

/** A job compiled to one ESM file. */
export interface CompiledJob {
  /** The module's text, with an inline source map whose sources are the job's files. */
  readonly code: string
  /** True when a module left external is TypeScript, so the Ms still need tsx's loader. */
  readonly needsTsx: boolean
  /** The files the compile read: the job's own (bundled), and the files each import resolved to (external). */
  readonly inputs: { readonly bundled: readonly string[]; readonly external: readonly string[] }
}

/** Where gort's own modules are: never bundled into a job (they are imported as they are). */
const GORT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const GORT_OWN = [path.join(GORT_ROOT, 'src') + path.sep, path.join(GORT_ROOT, 'dist') + path.sep]

/** True when a resolved file is bundled into the job: the job's own files only. */
function bundled(file: string): boolean {
  return !file.split(path.sep).includes('node_modules') && !GORT_OWN.some((d) => file.startsWith(d))
}

/**
 * Compiles the job at `jobFile` (a TypeScript file) to one ESM module meant to be written to
 * `outFile`, or returns undefined when the tsx path must be kept (see the header).
 */
export async function compileJob(jobFile: string, outFile: string): Promise<CompiledJob | undefined> {
  if (process.env['GORT_MR_COMPILE'] === '0') return undefined
  let esbuild: typeof import('esbuild')
  try {
    esbuild = loadEsbuild()
  } catch {
    return undefined
  }
  compiling++
  try {
    return await build(esbuild, jobFile, outFile)
  } finally {
    // esbuild's service process is unref'd, so it never held a process open; but a program that
    // goes on after the job would keep it as an idle child. Stopped once no compile needs it,
    // unless someone else in this process loaded esbuild first (tsx does): theirs to keep.
    if (--compiling === 0 && ownsEsbuild) void esbuild.stop()
  }
}

/** The temporary directories of compiled jobs this process holds now (jobModule), and whether an 'exit' listener removes them. */
const liveTemps = new Set<string>()
let exitHooked = false

/** Compiles in flight in this process. */
let compiling = 0
/** True when this module loaded esbuild's API first in this process, so its service is ours to stop. */
let ownsEsbuild = false

function loadEsbuild(): typeof import('esbuild') {
  // require, not import(): esbuild's API is CommonJS, and an ESM import of it first scans its
  // source for export names (cjs-module-lexer), several times the cost of loading it.
  const require = createRequire(import.meta.url)
  const id = require.resolve('esbuild')
  if (require.cache[id] === undefined) ownsEsbuild = true
  return require(id) as typeof import('esbuild')
}

async function build(esbuild: typeof import('esbuild'), jobFile: string, outFile: string): Promise<CompiledJob | undefined> {
  let needsTsx = false
  const external = new Set<string>()
  const RESOLVING = Symbol('resolving')
  const plugin: import('esbuild').Plugin = {
    name: 'gort-job',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === RESOLVING || args.kind === 'entry-point') return undefined
        const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RESOLVING })
        let file: string | undefined
        if (r.errors.length === 0) {
          if (r.external) return { path: args.path, external: true } // a Node builtin
          file = r.path
        } else {
          // esbuild has no package self-reference (`gort/mapreduce` from inside gort): Node's own.
          // Then `gort/...` where the job's directory has no gort (a job in a scratch directory,
          // a gort installed globally): the gort running the job, whose Ms will run it anyway.
          file = selfReference(args.path, args.resolveDir) ?? selfReference(args.path, GORT_ROOT)
          if (file === undefined) return { errors: r.errors }
        }
        if (bundled(file)) return { path: file }
        external.add(file)
        if (isTypeScript(pathToFileURL(file).href)) needsTsx = true
        return { path: pathToFileURL(file).href, external: true }
      })
    },
  }
  let result: import('esbuild').BuildResult<{ write: false; metafile: true }>
  try {
    result = await esbuild.build({
      entryPoints: [jobFile], outfile: outFile, write: false, metafile: true,
      bundle: true, format: 'esm', platform: 'node', target: `node${process.versions.node}`,
      conditions: [], mainFields: ['main'], sourcemap: 'inline', sourcesContent: false,
      minifyWhitespace: true, // drops comments, so only code can trip NOT_ESM
      logLevel: 'silent', plugins: [plugin],
    })
  } catch (e) {
    // An import that resolves nowhere fails the same way on the tsx path, in words that need not
    // say so (a package-less .ts is CommonJS to tsx, and Node then speaks of require cycles).
    const unresolved = unresolvedImports(e)
    if (unresolved !== undefined) throw new UnresolvedImportError(unresolved)
    // Other errors: the job is loaded as given, through tsx, which may know better (a construct
    // only CommonJS output takes); if that fails too, esbuild's words say where (CompileError).
    const said = esbuildErrors(e)
    if (said !== undefined) throw new CompileError(said)
    return undefined
  }
  if (result.warnings.length > 0 || Object.values(result.metafile.inputs).some((i) => i.format === 'cjs')) return undefined
  const out = result.outputFiles[0]
  if (out === undefined || NOT_ESM.test(stripSourceMap(out.text))) return undefined
  const cwd = process.cwd() // esbuild's absWorkingDir, which the metafile's paths are relative to
  return { code: withAbsoluteSources(out.text, outFile), needsTsx, inputs: { bundled: Object.keys(result.metafile.inputs).map((f) => path.resolve(cwd, f)), external: [...external] } }
}

/**
 * esbuild could not compile the job (a syntax error, most often), in its words with where: the
 * job is then loaded as given, and if its import fails as well, this is what is reported. tsx's
 * own words were worse: for a .ts file in a package that is not "type": "module" Node speaks of a
 * require cycle, and for a .mts one it names a .ts file that does not exist.
 */
export class CompileError extends Error {
  override readonly name = 'CompileError'
}

/** A failed build's errors as one line, `file:line:column: text` each (at most three), or undefined when it has none. */
function esbuildErrors(e: unknown): string | undefined {
  const errors = (e as { errors?: unknown } | null)?.errors
  if (!Array.isArray(errors) || errors.length === 0) return undefined
  const said = (errors as import('esbuild').Message[]).slice(0, 3).map((m) => (m.location === null ? m.text : `${m.location.file}:${m.location.line}:${m.location.column + 1}: ${m.text}`))
  return said.join('; ') + (errors.length > 3 ? ` (and ${errors.length - 3} more)` : '')
}

/** A job whose imports do not all resolve, in esbuild's words with where each is: the coordinator reports it as a JobModuleError. */
export class UnresolvedImportError extends Error {
  override readonly name = 'UnresolvedImportError'
}

/** esbuild's "Could not resolve" errors of a failed build, as one line, when they are all it failed with. */
function unresolvedImports(e: unknown): string | undefined {
  const errors = (e as { errors?: unknown } | null)?.errors
  if (!Array.isArray(errors) || errors.length === 0) return undefined
  const lines: string[] = []
  for (const m of errors as import('esbuild').Message[]) {
    if (!m.text.startsWith('Could not resolve')) return undefined
    const at = m.location === null ? '' : ` (${path.basename(m.location.file)}:${m.location.line}:${m.location.column + 1})`
    lines.push(m.text.replace(/^Could not resolve/, 'cannot resolve') + at)
  }
  return `${lines.join('; ')}: is the package installed where the job can import it?`
}

/** The module the Ms import for a job, how they load it, and what to remove when the job ends. */
export interface JobModule {
  readonly url: string
  /** The Runtime's loader: 'none' for a compiled module that imports no TypeScript (no tsx in the Ms even when this process runs under tsx). */
  readonly loader: 'auto' | 'tsx' | 'none'
  /** Removes the compiled file, if any (idempotent). */
  remove(): void
  /** Why the job could not be compiled (it is then loaded as given): what to report if its import fails too. */
  readonly compileError?: string
}


/**
 * The module the Ms of a job at `url` import: a TypeScript file compiled once to a temporary
 * file (tsx in the Ms only when something it imports is TypeScript), else the job as given (tsx
 * in the Ms when it is TypeScript). Writes nothing when it returns the job as given.
 */
export async function jobModule(url: string): Promise<JobModule> {
  const asGiven: JobModule = { url, loader: isTypeScript(url) ? 'tsx' : 'auto', remove: () => {} }
  if (!url.startsWith('file:') || !isTypeScript(url)) return asGiven
  const source = fileURLToPath(url)
  const name = path.basename(source).replace(/\.[cm]?tsx?$/, '.mjs')
  const cache = cacheDir()
  const key = cache === undefined ? undefined : cacheKey(source)
  if (cache !== undefined && key !== undefined) {
    const hit = lookUp(cache, key)
    if (hit !== undefined) return hit
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), COMPILED_DIR_PREFIX))
  liveTemps.add(dir)
  if (liveTemps.size === 1 && !exitHooked) {
    // A process that exits mid-job (a second Ctrl-C) removes them too.
    exitHooked = true
    process.on('exit', () => {
      for (const d of liveTemps) rmSync(d, { recursive: true, force: true })
    })
  }
  const remove = (): void => {
    liveTemps.delete(dir)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const out = path.join(dir, name)
    let compiled
    try {
      compiled = await compileJob(source, out)
    } catch (e) {
      if (!(e instanceof CompileError)) throw e
      remove()
      return { ...asGiven, compileError: e.message }
    }
    if (compiled === undefined) {
      remove()
      return asGiven
    }
    const loader = compiled.needsTsx ? 'tsx' : 'none'
    if (cache !== undefined && key !== undefined) {
      const kept = keep(cache, key, name, compiled)
      if (kept !== undefined) {
        remove()
        return { url: pathToFileURL(kept).href, loader, remove: () => {} }
      }
    }
    writeFileSync(out, compiled.code)
    return { url: pathToFileURL(out).href, loader, remove }
  } catch (e) {
    remove()
    throw e
  }
}

/** Bump when what compileJob makes of the same files changes: older entries then miss. */
const CACHE_FORMAT = 2
/** Compiled modules and entries unused this long are removed when something new is kept. */
const CACHE_MAX_AGE_MS = 30 * 24 * 3600 * 1000

/** The compile cache's directory, or undefined when it is off. */
function cacheDir(): string | undefined {
  if (process.env['GORT_CACHE'] === '0' || process.env['GORT_MR_COMPILE'] === '0') return undefined
  const dir = process.env['GORT_CACHE_DIR']
  if (dir !== undefined && dir !== '') return path.join(path.resolve(dir), 'jobs')
  const xdg = process.env['XDG_CACHE_HOME']
  return path.join(xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'gort', 'jobs')
}

/** The entry's name for the job at `source`: its path and the versions that make the compile. */
function cacheKey(source: string): string | undefined {
  try {
    const require = createRequire(import.meta.url)
    const esbuild = (JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8')) as { version: string }).version
    const gort = (JSON.parse(readFileSync(path.join(GORT_ROOT, 'package.json'), 'utf8')) as { version: string }).version
    return hash([CACHE_FORMAT, gort, esbuild, process.version, source].join('\0')).slice(0, 32)
  } catch {
    return undefined
  }
}

function hash(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A file's contents' hash, or null when it does not exist. */
function fileHash(file: string): string | null {
  try {
    return hash(readFileSync(file))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw e
  }
}

/** A cache entry: the compiled module and what it was compiled from. */
interface Entry {
  readonly module: string
  readonly needsTsx: boolean
  /** [file, its contents' hash or null when it did not exist]. */
  readonly files: readonly (readonly [string, string | null])[]
}

/** The compiled module an entry names, when every file it lists reads as it did. */
function lookUp(cache: string, key: string): JobModule | undefined {
  try {
    const entry = JSON.parse(readFileSync(path.join(cache, `${key}.json`), 'utf8')) as Entry
    if (typeof entry.module !== 'string' || !Array.isArray(entry.files)) return undefined
    for (const [file, h] of entry.files) if (fileHash(file) !== h) return undefined
    const module = path.join(cache, entry.module)
    const now = new Date()
    utimesSync(path.dirname(module), now, now) // in use: not old (prune)
    statSync(module)
    return { url: pathToFileURL(module).href, loader: entry.needsTsx ? 'tsx' : 'none', remove: () => {} }
  } catch {
    return undefined
  }
}

/**
 * The files a compile's output depends on: the bundled files; each package.json, tsconfig.json
 * and jsconfig.json in their directories and above (resolution, compiler options); and for each
 * file an import resolved to, its package's package.json (its version, its exports).
 */
function dependencies(inputs: CompiledJob['inputs']): string[] {
  const files = new Set(inputs.bundled)
  for (const f of inputs.bundled) {
    for (let d = path.dirname(f); ; d = path.dirname(d)) {
      for (const n of ['package.json', 'tsconfig.json', 'jsconfig.json']) files.add(path.join(d, n))
      if (path.dirname(d) === d) break
    }
  }
  for (const f of inputs.external) files.add(nearestPackageJson(path.dirname(f)) ?? path.join(path.parse(f).root, 'package.json'))
  return [...files]
}

/**
 * Writes a compile to the cache and returns its module's path, or undefined when the cache
 * cannot take it. Every write is a rename of a file written in full, so a reader sees a whole
 * file or none.
 */
function keep(cache: string, key: string, name: string, compiled: CompiledJob): string | undefined {
  try {
    const files = dependencies(compiled.inputs).map((f) => [f, fileHash(f)] as const)
    const module = path.join(`${COMPILED_DIR_PREFIX}${hash(compiled.code).slice(0, 32)}`, name)
    const file = path.join(cache, module)
    makeDirs(cache)
    prune(cache)
    makeDirs(path.dirname(file))
    writeWhole(file, compiled.code)
    const entry: Entry = { module, needsTsx: compiled.needsTsx, files }
    writeWhole(path.join(cache, `${key}.json`), JSON.stringify(entry))
    return file
  } catch {
    return undefined
  }
}

/** Writes `file` through a temporary file beside it and a rename: a reader sees all of it or none. */
function writeWhole(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, data)
  renameSync(tmp, file)
}

/** Removes the cache's entries and modules unused for CACHE_MAX_AGE_MS (a lookup touches a module's directory). */
function prune(cache: string): void {
  const old = Date.now() - CACHE_MAX_AGE_MS
  for (const f of readdirSync(cache)) {
    const p = path.join(cache, f)
    try {
      if (statSync(p).mtimeMs < old) rmSync(p, { recursive: true, force: true })
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

/**
 * Where a JavaScript job module's syntax error is, ` (at file:line:column)`, or '': Node's
 * SyntaxError from import() names no place. esbuild parses the file again to find it (only after
 * an import failed, so it costs nothing otherwise).
 */
export function syntaxErrorWhere(url: string, e: unknown): string {
  if (!(e instanceof Error) || e.name !== 'SyntaxError' || !url.startsWith('file:') || isTypeScript(url)) return ''
  try {
    const file = fileURLToPath(url)
    loadEsbuild().transformSync(readFileSync(file, 'utf8'), { loader: 'js', sourcefile: file })
  } catch (err) {
    const at = (err as { errors?: { location?: { file: string; line: number; column: number } | null }[] }).errors?.[0]?.location
    if (at != null) return ` (at ${at.file}:${at.line}:${at.column + 1})`
  }
  return ''
}

/** A hint for a JavaScript job that imports gort where no gort is installed (Node resolves it from the job's directory). */
export function missingGortHint(message: string): string {
  return /Cannot find package 'gort'/.test(message)
    ? ' (a JavaScript job imports gort as Node resolves it, from its own directory: install gort in its project, or write the job in TypeScript, which gort compiles against the gort that runs it)'
    : ''
}

/**
 * What to add to the message of a TypeScript job that failed to load through tsx as given (not
 * compiled): when the job's package is not `"type": "module"` (npm init's default) and the file
 * is not .mts, tsx loads it as CommonJS, and the error (a require() cycle, a default export that
 * is the CommonJS exports object) speaks of neither. '' otherwise.
 */
export function commonJsHint(url: string): string {
  if (!url.startsWith('file:') || !isTypeScript(url) || /\.mts$/.test(url)) return ''
  const file = fileURLToPath(url)
  if (!existsSync(file)) return '' // a missing file's error says so itself
  const pkgFile = nearestPackageJson(path.dirname(file))
  if (pkgFile !== undefined) {
    try {
      if ((JSON.parse(readFileSync(pkgFile, 'utf8')) as { type?: unknown }).type === 'module') return ''
    } catch {
      return ''
    }
  }
  return ` (tsx loads ${path.basename(file)} as CommonJS, since its package.json does not say "type": "module"; gort loads a job as an ES module, compiled, and this one was not compiled because ${/\.cts$/.test(file) ? 'it is .cts' : 'it uses import.meta, require, __dirname or __filename, or does not compile'}: rename it .mts or add "type": "module" to the package.json)`
}

/** Node's ESM conditions, in the order a package's `exports` is matched against them. */
const CONDITIONS = new Set(['import', 'node', 'default'])

/**
 * The file a bare specifier names when it is a self-reference (the package that holds `dir`,
 * through its `exports`), as Node resolves one for `import`; undefined when it is not one.
 */
export function selfReference(specifier: string, dir: string): string | undefined {
  const m = /^((?:@[^/]+\/)?[^/@][^/]*)(\/.*)?$/.exec(specifier)
  if (m === null) return undefined
  // Only the nearest package.json counts, as in Node.
  const file = nearestPackageJson(dir)
  if (file === undefined) return undefined
  let pkg: { name?: unknown; exports?: unknown }
  try {
    pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; exports?: unknown }
  } catch {
    return undefined
  }
  if (pkg.name !== m[1] || pkg.exports === undefined || pkg.exports === null) return undefined
  const target = exportTarget(pkg.exports, '.' + (m[2] ?? ''))
  return target === undefined ? undefined : path.resolve(path.dirname(file), target)
}

/** The package.json nearest to `dir` (in it or a directory above), or undefined when there is none. */
function nearestPackageJson(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const file = path.join(d, 'package.json')
    if (existsSync(file)) return file
    if (path.dirname(d) === d) return undefined
  }
}

/** The target of `subpath` ('.', './x') in an `exports` value, under CONDITIONS. */
function exportTarget(exports: unknown, subpath: string): string | undefined {
  const keyed = typeof exports === 'object' && exports !== null && !Array.isArray(exports) && Object.keys(exports).some((k) => k.startsWith('.'))
  if (!keyed) return subpath === '.' ? conditional(exports, undefined) : undefined
  const map = new Map(Object.entries(exports as Record<string, unknown>))
  if (map.has(subpath)) return conditional(map.get(subpath), undefined)
  for (const [key, value] of map) {
    const star = key.indexOf('*')
    if (star < 0) continue
    const head = key.slice(0, star)
    const tail = key.slice(star + 1)
    if (subpath.startsWith(head) && subpath.endsWith(tail) && subpath.length >= key.length - 1) {
      return conditional(value, subpath.slice(head.length, subpath.length - tail.length))
    }
  }
  return undefined
}

/** A target string from a conditional `exports` value (strings, condition objects, arrays). */
function conditional(value: unknown, star: string | undefined): string | undefined {
  if (typeof value === 'string') return star === undefined ? value : value.replaceAll('*', star)
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = conditional(v, star)
      if (t !== undefined) return t
    }
    return undefined
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const t = CONDITIONS.has(k) ? conditional(v, star) : undefined
      if (t !== undefined) return t
    }
  }
  return undefined
}

/**
 * What a compiled module may not mention: `import.meta` (the compiled file's, not the source's)
 * and CommonJS's free names, which tsx provides a .ts file in a package that is not
 * `"type": "module"` and an ES module lacks (`module.exports` makes its input CommonJS, caught
 * by the metafile). A match in a string is a needless fall back, never a wrong module.
 */
const NOT_ESM = /\bimport\.meta\b|(?<![.\w$])(?:require|__dirname|__filename)(?![\w$])/

/** The module without its inline source map comment (whose base64 could spell anything). */
function stripSourceMap(code: string): string {
  const i = code.lastIndexOf('\n//# sourceMappingURL=')
  return i < 0 ? code : code.slice(0, i)
}

const INLINE_MAP = '\n//# sourceMappingURL=data:application/json;base64,'

/**
 * `code` with the sources of its inline source map made absolute file URLs. esbuild writes them
 * relative to `outFile`, but the compile cache keeps the module elsewhere: its stack traces named
 * the job's .ts file under the cache directory, where no such file is.
 */
function withAbsoluteSources(code: string, outFile: string): string {
  const i = code.lastIndexOf(INLINE_MAP)
  if (i < 0) return code
  const map = JSON.parse(Buffer.from(code.slice(i + INLINE_MAP.length), 'base64').toString('utf8')) as { sources?: string[] }
  const dir = path.dirname(outFile)
  map.sources = (map.sources ?? []).map((s) => pathToFileURL(path.resolve(dir, s)).href)
  return `${code.slice(0, i)}${INLINE_MAP}${Buffer.from(JSON.stringify(map)).toString('base64')}\n`
}
