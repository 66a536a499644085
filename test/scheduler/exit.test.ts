import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { deadline } from '../_support/deadline.js'

const program = fileURLToPath(new URL('./fixtures/program.ts', import.meta.url))

function run(mode: string, env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', program, mode], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out, err }))
  })
}

test('a program that closes the runtime exits by itself, with no live handles left', deadline('exit-close', async () => {
  const r = await run('close')
  assert.is(r.code, 0, r.err)
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.is(lines[0]!['sum'], 499500)
  assert.is(lines[0]!['f'], 6765)
  const after = lines[1]!['after'] as string[]
  assert.not.ok(after.includes('Timeout'), `left: ${after.join(',')}`)
  assert.not.ok(after.some((r) => /Worker|MessagePort/.test(r)), `left: ${after.join(',')}`)
}, 20_000))

test('a program that forgets close() still exits by itself once its work is done', deadline('exit-forget', async () => {
  const r = await run('forget')
  assert.is(r.code, 0, r.err)
  assert.match(r.out, /"sum":499500/)
}, 20_000))

test('GODEBUG=schedtrace=N prints Go-style SCHED lines', deadline('schedtrace', async () => {
  const r = await run('close', { GODEBUG: 'schedtrace=100' })
  assert.is(r.code, 0, r.err)
  assert.match(r.err, /SCHED \d+ms: gomaxprocs=2 idleprocs=\d+ threads=\d+ spinningthreads=\d+ runqueue=\d+ \[\d+ \d+\]/)
}, 20_000))

test.run()
