/**
 * Runs the Go reference benchmarks (bench/go/chan_test.go) when `go` is on the
 * PATH, and returns ns per op by benchmark name; null when Go is absent or fails.
 * GOMAXPROCS=1 (-cpu 1): gort's goroutines share one thread, so one P is the
 * like-for-like reference. GOFLAGS=-mod=mod and a local GOCACHE keep it working
 * offline from a fresh clone (the module has no dependencies).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface GoResults {
  version: string
  nsPerOp: Record<string, number>
}

export function runGoBenchmarks(benchtime: string): GoResults | null {
  const dir = fileURLToPath(new URL('.', import.meta.url))
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOCACHE: process.env['GOCACHE'] ?? join(tmpdir(), 'gort-go-cache') }
  const version = spawnSync('go', ['version'], { encoding: 'utf8', env })
  if (version.status !== 0) return null
  const r = spawnSync('go', ['test', '-run', '^$', '-bench', '.', '-cpu', '1', '-benchtime', benchtime], {
    cwd: dir,
    encoding: 'utf8',
    env,
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
