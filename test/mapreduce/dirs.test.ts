// makeDirs (src/mapreduce/dirs.ts): mkdir -p that ends where Node's recursive mkdir spins forever.
import { existsSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { makeDirs } from '../../src/mapreduce/dirs.js'
import { tempDir } from './_helpers.js'

const test = suite('makeDirs')

test('makes missing parents, keeps what is there, and refuses a file in the way', () => {
  const t = tempDir()
  try {
    const deep = path.join(t.dir, 'a/b/c')
    makeDirs(deep)
    assert.ok(statSync(deep).isDirectory())
    makeDirs(deep)
    makeDirs(path.join(t.dir, 'a'))
    writeFileSync(path.join(t.dir, 'f'), '')
    assert.throws(() => makeDirs(path.join(t.dir, 'f')), (e: NodeJS.ErrnoException) => e.code === 'EEXIST')
    assert.throws(() => makeDirs(path.join(t.dir, 'f/x')), (e: NodeJS.ErrnoException) => e.code === 'ENOTDIR')
  } finally {
    t.remove()
  }
})

// procfs answers ENOENT for a child it will never make, under a parent that exists: Node's
// mkdirSync(…, { recursive: true }) spins on that forever (this test then never ends).
test('a path under /proc fails with ENOENT instead of hanging', () => {
  if (!existsSync('/proc/self')) return // not Linux
  assert.throws(() => makeDirs('/proc/gort-no-such/dir'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT')
})

test.run()
