/**
 * Turns the docs' examples into files, type-checks them in one `tsc` run and runs
 * each as a user would: `node --import tsx <file>` in a child process.
 *
 * Invariants:
 * - The workspace is a fresh directory under <repo>/.tmp (git-ignored), so that
 *   `import ... from 'gort'` resolves by package self-reference (package.json
 *   `exports` -> dist/) and node_modules resolves as for any file of the repo.
 *   One directory per page: blocks of a page can import that page's `file:`
 *   modules, and pages cannot collide.
 * - Line k of an example file is line k of its block (nothing is prepended), so
 *   a type error maps back to page:line.
 * - `runExample` always settles with a result, never rejects, and the child has
 *   exited (killed if it ran past its time) when it settles.
 * - `Workspace.remove()` deletes everything the workspace wrote, including files
 *   the examples themselves wrote into their working directory.
 */
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import type { Example } from './markdown.js'

export const REPO = resolve(import.meta.dirname, '../..')
// typescript's `exports` hide bin/, but publish package.json: find bin/tsc beside it.
const TSC = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc')

export interface Workspace {
  readonly dir: string
  /** Absolute path of each example's file. */
  readonly files: ReadonlyMap<Example, string>
  /** Working directory for an example's run (its page's directory). */
  cwdOf(example: Example): string
  remove(): Promise<void>
}

function slug(doc: string): string {
  return doc.replace(/\.md$/i, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase()
}

/** Writes every example that is at least type-checked, plus a tsconfig for them. */
export async function writeWorkspace(examples: readonly Example[], root = join(REPO, '.tmp')): Promise<Workspace> {
  await mkdir(root, { recursive: true })
  const dir = await mkdtemp(join(root, 'docs-examples-'))
  const files = new Map<Example, string>()
  try {
    for (const example of examples) {
      if (example.mode === 'not-run') continue
      const pageDir = join(dir, slug(example.doc))
      await mkdir(pageDir, { recursive: true })
      const file = join(pageDir, example.name ?? `line-${example.line}.ts`)
      await writeFile(file, example.code.endsWith('\n') ? example.code : `${example.code}\n`)
      files.set(example, file)
    }
    // The repository's strict settings, minus emit. `include` lists the files so
    // that a page with no examples does not make tsc fail with "no inputs".
    const tsconfig = {
      extends: relative(dir, join(REPO, 'tsconfig.json')),
      compilerOptions: { noEmit: true, rootDir: '.', declaration: false, sourceMap: false },
      include: [...files.values()].map((f) => relative(dir, f)),
    }
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2))
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
  return {
    dir,
    files,
    cwdOf: (example) => join(dir, slug(example.doc)),
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}

export interface ChildResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
  /** spawn itself failed (no such executable, ...). */
  readonly error: Error | undefined
}

/** Runs a child to completion; kills it (SIGKILL) after `timeoutMs`. Never rejects. */
export function runChild(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ChildResult> {
  return new Promise((resolveResult) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    let error: Error | undefined
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, options.timeoutMs)
    child.once('error', (err) => (error = err))
    // 'close' comes after the process exited and its pipes are drained (also after 'error').
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolveResult({ code, signal, stdout, stderr, timedOut, error })
    })
  })
}

/** Type errors per example, rewritten to point at page:line. One tsc run for all. */
export async function typecheck(ws: Workspace, timeoutMs = 60_000): Promise<{ byExample: Map<Example, string[]>; other: string[] }> {
  const r = await runChild(process.execPath, [TSC, '-p', join(ws.dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: REPO, timeoutMs })
  const byFile = new Map<string, Example>()
  for (const [example, file] of ws.files) byFile.set(file, example)
  const byExample = new Map<Example, string[]>()
  const other: string[] = []
  if (r.error !== undefined || r.timedOut) {
    other.push(`tsc did not run: ${r.error?.message ?? `no result within ${timeoutMs} ms`}`)
    return { byExample, other }
  }
  let current: string[] = other
  for (const line of r.stdout.split('\n')) {
    if (line.trim() === '') continue
    const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(line)
    const example = m === null ? undefined : byFile.get(resolve(REPO, m[1] ?? ''))
    if (m !== null && example !== undefined) {
      current = byExample.get(example) ?? []
      byExample.set(example, current)
      current.push(`${example.doc}:${example.line + Number(m[2])}:${m[3]}: ${m[4]}`)
    } else if (m !== null || !/^\s/.test(line)) {
      current = other
      current.push(line)
    } else {
      current.push(line) // continuation of the previous diagnostic
    }
  }
  if (r.code !== 0 && byExample.size === 0 && other.length === 0) other.push(`tsc exited ${r.code}: ${r.stderr}`)
  return { byExample, other }
}

/** Runs one example as a user would, from its page's directory in the workspace. */
export function runExample(ws: Workspace, example: Example, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ChildResult> {
  const file = ws.files.get(example)
  if (file === undefined) throw new Error(`${example.doc}:${example.line} is not in the workspace`)
  return runChild(process.execPath, ['--import', 'tsx', file], { cwd: ws.cwdOf(example), env, timeoutMs })
}

function trimLines(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim()
}

/** Why a run does not pass, or undefined if it does: exit 0 and, if given, the exact stdout. */
export function judge(example: Example, r: ChildResult, timeoutMs: number): string | undefined {
  const where = `${example.doc}:${example.line}`
  const tail = (s: string): string => (s.length > 4000 ? `...${s.slice(-4000)}` : s)
  if (r.error !== undefined) return `${where}: could not start node: ${r.error.message}`
  if (r.timedOut) return `${where}: still running after ${timeoutMs} ms (killed)\nstdout:\n${tail(r.stdout)}\nstderr:\n${tail(r.stderr)}`
  if (r.code !== 0) {
    return `${where}: exited with ${r.code ?? r.signal}\nstdout:\n${tail(r.stdout)}\nstderr:\n${tail(r.stderr)}`
  }
  if (example.output !== undefined && trimLines(r.stdout) !== trimLines(example.output)) {
    return `${where}: stdout differs from the output block\n--- expected\n${trimLines(example.output)}\n--- got\n${trimLines(r.stdout)}\nstderr:\n${tail(r.stderr)}`
  }
  return undefined
}

/** A concurrency limit: `limit(task)` starts `task` once fewer than `n` are in flight. */
export function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0
  const waiting: Array<() => void> = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < n) active++
    else await new Promise<void>((wake) => waiting.push(wake)) // a finishing task hands us its slot
    try {
      return await task()
    } finally {
      const wake = waiting.shift()
      if (wake === undefined) active--
      else wake()
    }
  }
}
