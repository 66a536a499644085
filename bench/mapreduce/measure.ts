/**
 * Runs a command as a child and measures it: wall time (here), and the child's user + system CPU
 * and peak RSS through GNU time (`/usr/bin/time -f`), which counts every thread and every
 * process of a pipeline that the child waits for. Without GNU time, CPU and RSS are NaN.
 */
import { spawnSync, type StdioOptions } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

export interface Measured {
  /** Seconds. */
  readonly wall: number
  /** User + system seconds of the child and what it waited for. */
  readonly cpu: number
  /** Peak resident set of the largest process, in bytes. */
  readonly maxRss: number
}

export interface Run {
  readonly cmd: string
  readonly args: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
  readonly stdio?: StdioOptions
}

export function measure(r: Run): Measured {
  const stats = path.join(tmpdir(), `gort-bench-time-${process.pid}`)
  rmSync(stats, { force: true })
  const [cmd, args] = GNU_TIME === undefined ? [r.cmd, r.args] : [GNU_TIME, ['-f', '%U %S %M', '-o', stats, r.cmd, ...r.args]]
  const t0 = process.hrtime.bigint()
  const res = spawnSync(cmd, args, { env: r.env ?? process.env, cwd: r.cwd, stdio: r.stdio ?? ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 })
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  if (res.status !== 0) {
    throw new Error(`${r.cmd} ${r.args.join(' ').slice(0, 200)} failed (${res.status ?? res.signal}): ${String(res.stderr ?? '').slice(-2000)}`)
  }
  let cpu = NaN
  let maxRss = NaN
  if (GNU_TIME !== undefined && existsSync(stats)) {
    const last = readFileSync(stats, 'utf8').trim().split('\n').at(-1) ?? ''
    const [u, s, m] = last.split(' ').map(Number)
    cpu = u! + s!
    maxRss = m! * 1024
    rmSync(stats, { force: true })
  }
  return { wall, cpu, maxRss }
}

/**
 * One run of a benchmark row, measured and logged (`label`: `run 2`), its sample kept in `samples`;
 * undefined when it failed, which `problems` then says.
 */
export function runRow(name: string, r: Run, label: string, samples: Measured[], problems: string[], log: (s: string) => void, width = 26): Measured | undefined {
  let m: Measured
  try {
    m = measure(r)
  } catch (e) {
    problems.push(`${name}: ${(e as Error).message}`)
    return undefined
  }
  samples.push(m)
  log(`  ${label} ${name.padEnd(width)} ${m.wall.toFixed(2)} s wall, ${m.cpu.toFixed(2)} s CPU, ${(m.maxRss / 2 ** 20).toFixed(0)} MiB`)
  return m
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
