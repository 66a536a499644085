/**
 * Runs the Go reference benchmarks when `go` is on the PATH: bench/go/chan_test.go
 * (ns per op by benchmark name) and bench/go/sched (the scheduler bench's shapes,
 * as JSON). Each returns null when Go is absent or fails.
 * GOMAXPROCS=1 (-cpu 1): gort's goroutines share one thread, so one P is the
 * like-for-like reference. GOFLAGS=-mod=mod and a local GOCACHE keep it working
 * offline from a fresh clone (the module has no dependencies).
 * GORT_GO_SCHED_BIN names a prebuilt bench/go/sched binary to run instead of `go run`: a
 * machine with no Go toolchain still gets the reference (bench/device/pack.sh builds one).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface GoResults {
  version: string
  nsPerOp: Record<string, number>
}

const dir = fileURLToPath(new URL('.', import.meta.url))
const env = (): NodeJS.ProcessEnv => ({ ...process.env, GOFLAGS: '-mod=mod', GOCACHE: process.env['GOCACHE'] ?? join(tmpdir(), 'gort-go-cache') })

export function runGoBenchmarks(benchtime: string): GoResults | null {
  const version = spawnSync('go', ['version'], { encoding: 'utf8', env: env() })
  if (version.status !== 0) return null
  const r = spawnSync('go', ['test', '-run', '^$', '-bench', '.', '-cpu', '1', '-benchtime', benchtime], {
    cwd: dir,
    encoding: 'utf8',
    env: env(),
    timeout: 120_000,
  })
  if (r.status !== 0) {
    process.stderr.write(`go benchmarks failed (exit ${String(r.status)}):\n${r.stdout}${r.stderr}\n`)
    return null
  }
  const nsPerOp: Record<string, number> = {}
  for (const line of r.stdout.split('\n')) {
    const m = /^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns\/op/.exec(line)
    if (m) nsPerOp[m[1]!] = Number(m[2])
  }
  return { version: version.stdout.trim(), nsPerOp }
}

/** What bench/go/sched prints: Go's own scheduler on the scheduler bench's shapes. */
export interface GoSchedResults {
  version: string
  maxProcs: number
  a: { perSec: number; cpuUsPerTask: number }
  aInside: { wave4096: number; wave128: number }
  /** procs: keyed by GOMAXPROCS. */
  b: { serialMs: number; procs: Record<string, { makespanMs: number; idealMs: number; overIdealPct: number }> }
  cSmall: { n: number; cutoff: number; serialMs: number; procs: Record<string, number> }
  cLarge: { n: number; cutoff: number; serialMs: number; procs: Record<string, number> }
  d: { p50: number; p99: number }
}

export function runGoScheduler(procs: readonly number[], quick: boolean): GoSchedResults | null {
  const flags = ['-procs', procs.join(','), ...(quick ? ['-quick'] : [])]
  const bin = process.env['GORT_GO_SCHED_BIN'] || undefined // unset or empty: go run
  if (bin === undefined && spawnSync('go', ['version'], { env: env() }).status !== 0) return null
  const [cmd, args] = bin !== undefined ? [bin, flags] : ['go', ['run', './sched', ...flags]]
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', env: env(), timeout: 300_000 })
  if (r.status !== 0) {
    process.stderr.write(`go scheduler reference (${cmd}) failed (exit ${String(r.status)}${r.error ? `, ${r.error.message}` : ''}):\n${r.stdout ?? ''}${r.stderr ?? ''}\n`)
    return null
  }
  return JSON.parse(r.stdout) as GoSchedResults
}
