// The docs convention as the extractor reads it: fences, markers, output blocks,
// and the `gort <subcommand>` uses in shell blocks.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { gortCommands, parseDoc, parseFences } from './markdown.js'

const F = '```'
const page = (...lines: string[]): string => lines.join('\n')

const fences = suite('markdown fences')

fences('finds ts and typescript blocks with their first line and code', () => {
  const md = page('# t', '', `${F}ts`, 'const a = 1', `${F}`, 'prose', `${F}TypeScript title="x"`, 'const b = 2', '', 'b', `${F}`)
  const { examples, errors } = parseDoc('p.md', md)
  assert.equal(errors, [])
  assert.equal(
    examples.map((e) => [e.line, e.code, e.mode]),
    [
      [3, 'const a = 1', 'run'],
      [7, 'const b = 2\n\nb', 'run'],
    ],
  )
})

fences('tilde fences, longer fences and indented fences (list items) are read like CommonMark', () => {
  const md = page('~~~ts', 'const a = "```"', '~~~', '- item', '', '   ````ts', '   const b = 1', '     nested()', '   ````')
  const { examples, errors } = parseDoc('p.md', md)
  assert.equal(errors, [])
  assert.equal(
    examples.map((e) => e.code),
    ['const a = "```"', 'const b = 1\n  nested()'],
  )
})

fences('a shorter fence inside a longer one does not close it', () => {
  const [outer, ...rest] = parseFences(page('````md', '```ts', 'x', '```', '````'))
  assert.is(rest.length, 0)
  assert.is(outer?.lang, 'md')
  assert.is(outer?.code, '```ts\nx\n```')
})

fences('an unclosed fence is an error naming its line', () => {
  const { errors } = parseDoc('p.md', page('a', `${F}ts`, 'x'))
  assert.equal(errors, ['p.md:2: unclosed code fence'])
})

const markers = suite('markdown markers')

markers('not-run, typecheck-only and file markers, also across a blank line', () => {
  const md = page(
    '<!-- not-run: a fragment of the example above -->',
    `${F}ts`,
    'x',
    F,
    '<!-- typecheck-only: needs a cluster -->',
    '',
    `${F}ts`,
    'y',
    F,
    '<!-- file: fib.ts -->',
    `${F}ts`,
    'export const z = 1',
    F,
  )
  const { examples, errors } = parseDoc('p.md', md)
  assert.equal(errors, [])
  assert.equal(
    examples.map((e) => [e.mode, e.reason, e.name]),
    [
      ['not-run', 'a fragment of the example above', undefined],
      ['typecheck-only', 'needs a cluster', undefined],
      ['module', undefined, 'fib.ts'],
    ],
  )
})

markers('a comment followed by prose is not a marker', () => {
  const md = page('<!-- not-run: x -->', 'Some prose.', `${F}ts`, 'x', F)
  assert.is(parseDoc('p.md', md).examples[0]?.mode, 'run')
})

markers('a marker without a reason, a misspelt marker and a bad module name are errors', () => {
  const md = page(
    '<!-- not-run: -->',
    `${F}ts`,
    'a',
    F,
    '<!-- notrun: typo -->',
    `${F}ts`,
    'b',
    F,
    '<!-- file: ../escape.ts -->',
    `${F}ts`,
    'c',
    F,
    '<!-- file: line-3.ts -->',
    `${F}ts`,
    'd',
    F,
  )
  const { errors } = parseDoc('p.md', md)
  assert.is(errors.length, 4, errors.join('\n'))
  assert.match(errors[0] ?? '', /^p\.md:2: .*needs a reason/)
  assert.match(errors[1] ?? '', /^p\.md:6: unknown marker <!-- notrun: typo -->/)
  assert.match(errors[2] ?? '', /^p\.md:10: .*must name a module/)
  assert.match(errors[3] ?? '', /^p\.md:14: .*must name a module/)
})

markers('two modules of one name on a page are an error', () => {
  const md = page('<!-- file: a.ts -->', `${F}ts`, 'x', F, '<!-- file: a.ts -->', `${F}ts`, 'y', F)
  assert.equal(parseDoc('p.md', md).errors, ['p.md:6: a second block named a.ts'])
})

const outputs = suite('markdown output blocks')

outputs('an output block right after a ts block is its expected stdout', () => {
  const md = page(`${F}ts`, 'console.log(1)', F, '', `${F}output`, '1', F)
  const { examples, errors } = parseDoc('p.md', md)
  assert.equal(errors, [])
  assert.is(examples[0]?.output, '1')
})

outputs('an output block after prose, after a non-ts block, or after a not-run block is an error', () => {
  const afterProse = page(`${F}ts`, 'x', F, 'prose', `${F}output`, '1', F)
  const afterSh = page(`${F}sh`, 'ls', F, `${F}output`, '1', F)
  const afterNotRun = page('<!-- not-run: fragment -->', `${F}ts`, 'x', F, `${F}output`, '1', F)
  assert.equal(parseDoc('p.md', afterProse).errors, ['p.md:5: an output block must directly follow a ts block'])
  assert.equal(parseDoc('p.md', afterSh).errors, ['p.md:4: an output block must directly follow a ts block'])
  assert.equal(parseDoc('p.md', afterNotRun).errors, ['p.md:5: an output block follows a block that is not run (not-run)'])
  assert.is(parseDoc('p.md', afterProse).examples[0]?.output, undefined)
})

const commands = suite('gort commands in shell blocks')

commands('finds gort, npx gort and node bin/gort.js in shell blocks, through && and after comments', () => {
  const md = page(
    `${F}sh`,
    'gort gc-sim --list        # scenarios',
    'npm run build && node bin/gort.js mapreduce in out',
    '$ npx gort bench',
    '# gort commented-out',
    'gort --help',
    'echo gort notacommand',
    F,
  )
  assert.equal(gortCommands(parseFences(md)), [
    { line: 2, command: 'gc-sim' },
    { line: 3, command: 'mapreduce' },
    { line: 4, command: 'bench' },
  ])
})

commands('in an untagged block only $-prompt lines count; ts blocks are not shell', () => {
  const md = page(F, '$ gort gc-sim --pacer', 'gort gc-sim: bad.json: heap.A.x: unknown object', F, `${F}ts`, "// gort fake", F)
  assert.equal(gortCommands(parseFences(md)), [{ line: 2, command: 'gc-sim' }])
})

fences.run()
markers.run()
outputs.run()
commands.run()
