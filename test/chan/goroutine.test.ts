import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { flush, runChild, thrown } from './_support.js'
import { Chan, deadlockReport, go, goroutineCount, parkedCount } from '../../src/index.js'

const fx = (name: string): string => `test/chan/fixtures/${name}.ts`

test(
  'go runs a function with its arguments and counts it until it returns',
  deadline('go', async () => {
    const out = new Chan<number>()
    const before = goroutineCount()
    go(async (x: number, y: number) => {
      await out.send(x + y)
    }, 2, 3)
    go((s: string) => void s.length, 'sync functions are fine too')
    assert.is(goroutineCount(), before + 1, 'sync goroutine already finished; async one is parked')
    assert.equal(await out.recv(), { value: 5, ok: true })
    await flush()
    assert.is(goroutineCount(), before)
    assert.is(parkedCount(), 0)
  }),
)

test('go rejects a non-function, echoing it', () => {
  const err = thrown(() => go(42 as unknown as () => void))
  assert.instance(err, TypeError)
  assert.match((err as Error).message, '42')
})

test('deadlockReport names what each parked op waits on', () => {
  const c = new Chan<number>()
  const ac = new AbortController()
  go(async function waiter() {
    await c.recv({ signal: ac.signal }).catch(() => undefined)
  })
  const report = deadlockReport()
  assert.ok(report.startsWith('fatal error: all goroutines are asleep - deadlock!'), report)
  assert.match(report, /goroutine \d+ \(waiter\) \[chan receive\]:/)
  assert.match(report, new RegExp(`chan#\\d+ \\(cap 0, len 0\\)`))
  ac.abort()
})

test(
  'an uncaught goroutine error crashes the process, like a Go panic',
  deadline('panic', async () => {
    const r = await runChild(fx('panic'))
    assert.is.not(r.code, 0)
    assert.match(r.stderr, 'boom from goroutine')
    assert.not.match(r.stdout, 'main still running')
  }, 30_000),
)

test(
  'process.on("uncaughtException") recovers a goroutine panic',
  deadline('recover', async () => {
    const r = await runChild(fx('panic'), ['recover'])
    assert.is(r.code, 0, r.stderr)
    assert.match(r.stdout, 'recovered: boom from goroutine')
    assert.match(r.stdout, 'main still running')
  }, 30_000),
)

const FATAL = 'fatal error: all goroutines are asleep - deadlock!'

test(
  'deadlock: main blocked on a receive exits 2 with the report',
  deadline('deadlock main', async () => {
    const r = await runChild(fx('deadlock'), ['main-recv'])
    assert.is(r.code, 2)
    assert.ok(r.stderr.startsWith(FATAL), r.stderr)
    assert.match(r.stderr, '[chan receive]')
  }, 30_000),
)

test(
  'deadlock: two goroutines waiting on each other are both listed',
  deadline('deadlock cycle', async () => {
    const r = await runChild(fx('deadlock'), ['cycle'])
    assert.is(r.code, 2)
    assert.ok(r.stderr.startsWith(FATAL), r.stderr)
    assert.match(r.stderr, /goroutine \d+ \(left\) \[chan receive\]/)
    assert.match(r.stderr, /goroutine \d+ \(right\) \[chan receive\]/)
  }, 30_000),
)

test(
  'deadlock: sync waits and selects are reported by what they wait on',
  deadline('deadlock sync', async () => {
    const s = await runChild(fx('deadlock'), ['sync'])
    assert.is(s.code, 2)
    assert.match(s.stderr, '[sync.Mutex.Lock]')
    assert.match(s.stderr, '[sync.WaitGroup.Wait]')
    const sel = await runChild(fx('deadlock'), ['select'])
    assert.is(sel.code, 2)
    assert.match(sel.stderr, /goroutine \d+ \(selector\) \[select\]/)
    assert.match(sel.stderr, /case 0: receive from chan#\d+/)
  }, 30_000),
)

test(
  'a program that finishes normally exits 0 without a report',
  deadline('no deadlock', async () => {
    const r = await runChild(fx('deadlock'), ['ok'])
    assert.is(r.code, 0, r.stderr)
    assert.is(r.stderr, '')
    assert.is(r.stdout.trim(), 'sum 3')
  }, 30_000),
)

test(
  'a tight ping-pong does not starve a setTimeout or I/O',
  deadline('no starvation', async () => {
    const r = await runChild(fx('starve'))
    assert.is(r.code, 0, r.stderr)
    assert.match(r.stdout, /round trips [1-9]\d*/)
  }, 30_000),
)

test(
  'GORT_TRACEBACK=1 adds the stack of each parked op, naming the goroutine function',
  deadline('traceback', async () => {
    const r = await runChild(fx('deadlock'), ['cycle'], { GORT_TRACEBACK: '1' })
    assert.is(r.code, 2)
    assert.match(r.stderr, /at left \(/)
    assert.match(r.stderr, /at right \(/)
  }, 30_000),
)

test.run()
