import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { main } from '../../src/cli/main.js'
import { deadline } from '../_support/deadline.js'

function silenced<T>(body: () => Promise<T>): Promise<{ result: T; err: string }> {
  const original = console.error
  let err = ''
  console.error = (...args: unknown[]) => {
    err += args.join(' ') + '\n'
  }
  return body().then(
    (result) => {
      console.error = original
      return { result, err }
    },
    (error: unknown) => {
      console.error = original
      throw error
    },
  )
}

test(
  'an unknown command is a usage error naming the command, exit 2',
  deadline('unknown command', async () => {
    const { result, err } = await silenced(() => main(['no-such-command']))
    assert.is(result, 2)
    assert.match(err, 'unknown command "no-such-command"')
  }),
)

test(
  '--version prints the package version, exit 0',
  deadline('version', async () => {
    const { readFileSync } = await import('node:fs')
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    const original = console.log
    let out = ''
    console.log = (...args: unknown[]) => {
      out += args.join(' ') + '\n'
    }
    try {
      for (const flag of ['--version', '-v', 'version']) {
        out = ''
        assert.is(await main([flag]), 0)
        assert.is(out, `gort ${pkg.version}\n`)
      }
    } finally {
      console.log = original
    }
  }),
)

test.run()
