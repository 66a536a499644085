// npm test's first step: find redis-server, chromium, bzip2 and zstd, install them with
// apt-get where that can work, else stop with one line. plan() is checked on
// made-up hosts (no apt is ever run here); the script itself end to end on a
// host whose variables point nowhere.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type Host, plan, programPath, REDIS } from './system-deps.js'

const bin = mkdtempSync(join(tmpdir(), 'gort-deps-'))
const empty = mkdtempSync(join(tmpdir(), 'gort-deps-empty-'))
/** Only the programs that have no variable, as a PATH. */
const tools = mkdtempSync(join(tmpdir(), 'gort-deps-tools-'))
for (const [dir, name] of [[bin, 'redis-server'], [bin, 'chromium'], [bin, 'my-chromium'], [bin, 'bzip2'], [bin, 'zstd'], [tools, 'bzip2'], [tools, 'zstd']] as const) {
  writeFileSync(join(dir, name), '#!/bin/sh\n')
  chmodSync(join(dir, name), 0o755)
}

function host(env: Record<string, string>, privilege: Host['privilege'], hasApt = true): Host {
  return { env, privilege, hasApt }
}

test.after(() => {
  rmSync(bin, { recursive: true, force: true })
  rmSync(empty, { recursive: true, force: true })
  rmSync(tools, { recursive: true, force: true })
})

test('both on the PATH, or named by their variables: nothing to do', () => {
  assert.equal(plan(host({ PATH: bin }, null)), { action: 'ok' })
  assert.equal(plan(host({ PATH: tools, REDIS_SERVER: join(bin, 'redis-server'), CHROMIUM: join(bin, 'my-chromium') }, null)), { action: 'ok' })
  assert.is(programPath(REDIS, { PATH: bin }), join(bin, 'redis-server'))
})

test('missing as root or with passwordless sudo where apt-get exists: install just the missing packages', () => {
  assert.equal(plan(host({ PATH: empty }, 'root')), { action: 'install', packages: ['redis-server', 'chromium', 'bzip2', 'zstd'], sudo: false })
  assert.equal(plan(host({ PATH: tools, REDIS_SERVER: join(bin, 'redis-server') }, 'sudo')), { action: 'install', packages: ['chromium'], sudo: true })
  assert.equal(plan(host({ PATH: empty, REDIS_SERVER: join(bin, 'redis-server') }, 'sudo')), { action: 'install', packages: ['chromium', 'bzip2', 'zstd'], sudo: true })
})

test('missing where nothing can be installed: one line saying what to install or which variable to set', () => {
  const cases: [Host, string][] = [
    [host({ PATH: empty }, null), 'not root and no passwordless sudo'],
    [host({ PATH: empty }, 'root', false), 'no apt-get here'],
  ]
  for (const [h, why] of cases) {
    const p = plan(h)
    assert.is(p.action, 'fail')
    const message = p.action === 'fail' ? p.message : ''
    assert.not.ok(message.includes('\n'), 'more than one line')
    for (const text of [why, 'apt-get install redis-server chromium bzip2 zstd', 'REDIS_SERVER=/path/to/redis-server', 'CHROMIUM=/path/to/chromium', 'the compressed-input tests']) {
      assert.ok(message.includes(text), `"${message}" lacks "${text}"`)
    }
  }
})

test('a program without a variable (bzip2, zstd) is found on the PATH only; its message offers no variable', () => {
  const p = plan(host({ PATH: empty, REDIS_SERVER: join(bin, 'redis-server'), CHROMIUM: join(bin, 'my-chromium') }, null))
  assert.is(p.action, 'fail')
  const message = p.action === 'fail' ? p.message : ''
  assert.ok(message.includes('apt-get install bzip2 zstd'), message)
  assert.not.ok(message.includes('or set'), message)
  assert.not.ok(message.includes('undefined'), message)
})

test('a variable that names a missing program is reported, never installed around', () => {
  const p = plan(host({ PATH: bin, REDIS_SERVER: '/nonexistent/redis-server' }, 'root'))
  assert.is(p.action, 'fail')
  assert.match(p.action === 'fail' ? p.message : '', 'REDIS_SERVER=/nonexistent/redis-server is not an executable')
})

test('the script: exit 1 and exactly one line on stderr when it cannot go on', () => {
  const script = fileURLToPath(new URL('./system-deps.ts', import.meta.url))
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { PATH: empty, REDIS_SERVER: '/nonexistent/redis-server', CHROMIUM: '/nonexistent/chromium' },
    encoding: 'utf8',
  })
  assert.is(r.status, 1, r.stderr)
  assert.is(r.stdout, '')
  const lines = r.stderr.trimEnd().split('\n')
  assert.is(lines.length, 1, r.stderr)
  assert.match(lines[0] as string, /^npm test: REDIS_SERVER=\/nonexistent\/redis-server is not an executable .*CHROMIUM=\/nonexistent\/chromium/)
})

test.run()
