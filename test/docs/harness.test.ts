// The docs check can fail: a page of deliberately broken examples goes through the
// same workspace, tsc run and child runs as the real docs, and each breakage is
// reported at its page line. Without this, a harness that passed everything
// (a tsc that checked no file, a runner that ignored exit codes) would look green.
import { existsSync } from 'node:fs'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { deadline } from '../_support/deadline.js'
import { judge, limiter, runExample, typecheck, type Workspace, writeWorkspace } from './harness.js'
import { type Example, parseDoc } from './markdown.js'

const F = '```'
const PAGE = [
  '# broken on purpose', //                                       1
  '<!-- file: lib.ts -->', //                                     2
  `${F}ts`, //                                                    3
  'export const twice = (n: number): number => n * 2', //        4
  F, //                                                           5
  `${F}ts`, //                                                    6
  "import { twice } from './lib.js'", //                          7
  'console.log(twice(21))', //                                    8
  F, //                                                           9
  `${F}output`, //                                               10
  '42', //                                                       11
  F, //                                                          12
  '<!-- typecheck-only: its type error is the point -->', //     13
  `${F}ts`, //                                                   14
  '// a comment first, so the error is on the block line 2', // 15
  "const n: number = 'not a number'", //                        16
  F, //                                                          17
  `${F}ts`, //                                                   18
  "throw new Error('example broke')", //                        19
  F, //                                                          20
  `${F}ts`, //                                                   21
  "console.log('the docs say one thing')", //                   22
  F, //                                                          23
  `${F}output`, //                                              24
  'the code does another', //                                   25
  F, //                                                          26
  `${F}ts`, //                                                   27
  'setInterval(() => {}, 1000) // never ends', //               28
  F, //                                                          29
  `${F}ts`, //                                                   30
  'await new Promise(() => {}) // a settled-never top-level await', // 31
  F, //                                                          32
].join('\n')

const HANG_MS = 2_000
const RUN_MS = 20_000

const broken = suite('docs harness on a broken page')

let ws: Workspace | undefined

broken.after(async () => {
  await ws?.remove()
})

broken(
  'reports each breakage at its page line, and passes the working example',
  deadline('broken page', async () => {
    const { examples, errors } = parseDoc('fixture.md', PAGE)
    assert.equal(errors, [])
    const at = (line: number): Example => {
      const e = examples.find((x) => x.line === line)
      if (e === undefined) throw new Error(`no example at line ${line}`)
      return e
    }
    ws = await writeWorkspace(examples)
    const w = ws
    const limit = limiter(2)
    const run = (line: number, ms = RUN_MS): Promise<string | undefined> =>
      limit(() => runExample(w, at(line), process.env, ms)).then((r) => judge(at(line), r, ms))
    const [types, ok, thrown, wrongOutput, hung, unsettled] = await Promise.all([
      typecheck(ws),
      run(6),
      run(18),
      run(21),
      run(27, HANG_MS),
      run(30),
    ])

    assert.equal(types.other, [])
    assert.equal([...types.byExample.keys()].map((e) => e.line), [14], 'only the typecheck-only block has a type error')
    const typeErrors = types.byExample.get(at(14)) ?? []
    assert.is(typeErrors.length, 1, typeErrors.join('\n'))
    assert.match(typeErrors[0] ?? '', /^fixture\.md:16:\d+: error TS2322: /)

    assert.is(ok, undefined, ok)
    assert.match(thrown ?? '', /^fixture\.md:18: exited with 1\n[\s\S]*example broke/)
    assert.match(wrongOutput ?? '', /^fixture\.md:21: stdout differs[\s\S]*the code does another[\s\S]*the docs say one thing/)
    assert.match(hung ?? '', new RegExp(`^fixture\\.md:27: still running after ${HANG_MS} ms \\(killed\\)`))
    assert.match(unsettled ?? '', /^fixture\.md:30: exited with 13/)
  }, 40_000),
)

broken(
  'removing the workspace leaves nothing behind',
  deadline('workspace removal', async () => {
    assert.ok(ws !== undefined && existsSync(ws.dir))
    const dir = ws?.dir ?? ''
    await ws?.remove()
    assert.not.ok(existsSync(dir))
  }),
)

broken.run()
