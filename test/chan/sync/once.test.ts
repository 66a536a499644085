import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../../_support/deadline.js'
import { flush } from '../_support.js'
import { Once } from '../../../src/index.js'

test(
  'Once runs its function once; concurrent callers wait for it',
  deadline('once', async () => {
    const once = new Once()
    let runs = 0
    let finished = false
    const slow = async (): Promise<void> => {
      runs++
      await flush()
      finished = true
    }
    const a = once.do(slow)
    const b = once.do(slow).then(() => finished)
    await a
    assert.is(await b, true, 'second caller returned only after the first fn finished')
    await once.do(slow)
    assert.is(runs, 1)
    assert.is(once.done, true)
    const failing = new Once()
    let err: unknown
    await failing.do(() => {
      throw new Error('x')
    }).catch((e: unknown) => (err = e))
    assert.instance(err, Error)
    await failing.do(() => assert.unreachable('ran twice'))
  }),
)

test.run()
