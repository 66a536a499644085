// Streaming mode (src/mapreduce/streaming/): runJob with mapper/reducer/combiner commands, shell
// scripts as Hadoop Streaming users write them, compared with the local recipe
// `cat input | mapper | LC_ALL=C sort | reducer`; the Hadoop partitioner against hand-computed
// Text.hashCode values; command resolution.
import { execFile, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { promisify } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defineJob, MapReduceArgError, runJob, TaskFailedError, type RunJobOptions } from '../../src/mapreduce/index.js'
import { hadoopPartition, partitioner, textHashCode } from '../../src/mapreduce/partition.js'
import { StreamCommandError } from '../../src/mapreduce/errors.js'
import { resolveCommand, splitCommand } from '../../src/mapreduce/streaming/command.js'
import { GROUPS_PER_ATTEMPT, JobGroups, MAIN_ROLE, holdGroup, killAll, releaseGroup } from '../../src/mapreduce/streaming/groups.js'
import { LineSplitter } from '../../src/mapreduce/streaming/pipe.js'
import { deadline } from '../_support/deadline.js'
import { FIXTURES, rng, tempDir, text } from './_helpers.js'

const execFileAsync = promisify(execFile)
const REPO = fileURLToPath(new URL('../..', import.meta.url))
const MS = 90_000

/** Writes an executable `#!/bin/sh` script; returns its path. */
function script(dir: string, name: string, body: string): string {
  const p = path.join(dir, name)
  writeFileSync(p, `#!/bin/sh\nexport LC_ALL=C\n${body}\n`)
  chmodSync(p, 0o755)
  return p
}

/** Word count as shell tools: one `word\t1` line per word; stderr counts lines through reporter lines. */
const MAP = `tr -s ' \\t' '\\n\\n' | awk 'NF { print $0 "\\t1" }'`
/** Sums the values of each run of equal keys (a streaming reducer sees no grouping, only sorted lines). */
const SUM = `awk -F '\\t' '$1 != k { if (NR > 1) print k "\\t" n; k = $1; n = 0 } { n += $2 } END { if (NR > 0) print k "\\t" n }'`

function inputs(dir: string, texts: readonly string[]): string {
  mkdirSync(path.join(dir, 'data'))
  texts.forEach((t, i) => writeFileSync(path.join(dir, 'data', `f${i}.txt`), t))
  return path.join(dir, 'data')
}

const partitionSuite = suite('hadoop partitioner')

partitionSuite("textHashCode is Java's Text.hashCode: h = 31 h + signed byte, from 1, in int32", () => {
  // By hand: 'a' = 31 + 97; 'the' = (31 * (31 * 32 + 104... see below); é = C3 A9 = -61, -87 as Java bytes.
  assert.is(textHashCode(''), 1)
  assert.is(textHashCode('a'), 128)
  assert.is(textHashCode('the'), ((31 * 1 + 116) * 31 + 104) * 31 + 101) // 144592
  assert.is(textHashCode('é'), (31 - 61) * 31 - 87) // -1017: signed bytes, not 0xC3, 0xA9
  assert.is(textHashCode('hello world'), 1923188771) // wraps around 2^32 several times
  assert.is(textHashCode('日本語'), 1243476185)
  assert.is(hadoopPartition('é', 3), (-1017 & 0x7fffffff) % 3) // 2147482631 % 3 = 2
  assert.is(hadoopPartition('é', 3), 2)
  const p = partitioner(3, ((): number => 0) as never, 'hadoop')
  assert.equal(['a', 'b', 'c', 'the', 'é'].map((k) => p(k)), [2, 0, 1, 1, 2], 'hadoop replaces the job partitioner')
  assert.is(partitioner(3, undefined, 'hadoop')(97), partitioner(3, undefined, 'hadoop')('97'), 'a number key partitions as its text')
})

partitionSuite.run()

/** The values declaration follows the job's value type: tsc checks these lines; never called. */
export function valuesTypeChecks(): void {
  defineJob<string, number>({ values: 'number', map: () => {} })
  defineJob<string, string>({ values: 'string', map: () => {} })
  defineJob<string, string | number>({ values: 'string', map: () => {} })
  // @ts-expect-error a job whose values are numbers cannot declare them strings
  defineJob<string, number>({ values: 'string', map: () => {} })
  // @ts-expect-error nor anything else
  defineJob<string, string>({ values: 'text', map: () => {} })
}


const commands = suite('commands')

commands("split as Hadoop's splitArgs: spaces, quotes end arguments, no shell", () => {
  assert.equal(splitCommand('awk  -F "\\t" \'{ print $1 }\'', 'mapper'), ['awk', '-F', '\\t', '{ print $1 }'])
  assert.equal(splitCommand("a'b c'd", 'mapper'), ['a', 'b c', 'd'])
  assert.equal(splitCommand(`x "it's" ''`, 'mapper'), ['x', "it's"])
  assert.equal(splitCommand('   ', 'mapper'), [])
  // A backslash escapes nothing (nor does Hadoop's): a trailing one is an ordinary character.
  assert.equal(splitCommand('tr a\\ \\', 'mapper'), ['tr', 'a\\', '\\'])
})

commands('an unterminated quote is a StreamCommandError, not part of a program name', () => {
  const cases: [string, string][] = [
    ["'unterminated", "'"],
    ['grep "a b', '"'],
    [`awk '{ print "x" }`, "'"], // the other kind of quote inside is an ordinary character
    [`x "it's`, '"'],
    ["a'b c'd'", "'"],
  ]
  for (const [cmd, quote] of cases) {
    for (const call of [() => splitCommand(cmd, 'reducer'), () => resolveCommand('reducer', cmd, '/', '/bin:/usr/bin')]) {
      try {
        call()
        assert.unreachable(cmd)
      } catch (e) {
        assert.instance(e, StreamCommandError, cmd)
        const c = e as StreamCommandError
        assert.equal([c.code, c.option, c.command, c.reason], ['ERR_MR_COMMAND', 'reducer', cmd, `an unterminated ${quote} quote`])
        assert.is(c.message, `gort mapreduce: reducer ${JSON.stringify(cmd)}: an unterminated ${quote} quote`)
      }
    }
  }
})

commands("a script whose #! interpreter is not an executable is refused; #!/usr/bin/env's argument is not looked up", () => {
  const t = tempDir()
  try {
    const exe = (name: string, body: string): string => {
      const p = path.join(t.dir, name)
      writeFileSync(p, body)
      chmodSync(p, 0o755)
      return p
    }
    exe('badinterp.sh', '#!/bin/nonexistent-interp\ncat\n')
    writeFileSync(path.join(t.dir, 'not-exec'), '')
    exe('noexec.sh', `#!${path.join(t.dir, 'not-exec')} -x\ncat\n`)
    exe('dir.sh', `#!${t.dir}\ncat\n`)
    exe('crlf.sh', '#!/bin/sh\r\ncat\r\n')
    const refused: [string, string][] = [
      ['./badinterp.sh', 'its interpreter /bin/nonexistent-interp (from its #! line) is not an executable'],
      ['badinterp.sh -x', 'its interpreter /bin/nonexistent-interp (from its #! line) is not an executable'], // found by name, too
      ['./noexec.sh', `its interpreter ${path.join(t.dir, 'not-exec')} (from its #! line) is not an executable`],
      ['./dir.sh', `its interpreter ${t.dir} (from its #! line) is not an executable`],
      ['./crlf.sh', 'its #! line ends in a carriage return (Windows line endings), so its interpreter is "/bin/sh\\r", which is not an executable (dos2unix fixes the script)'],
    ]
    for (const [cmd, reason] of refused) {
      try {
        resolveCommand('mapper', cmd, t.dir, '')
        assert.unreachable(cmd)
      } catch (e) {
        assert.instance(e, StreamCommandError, cmd)
        assert.is((e as StreamCommandError).reason, reason)
        assert.is((e as StreamCommandError).code, 'ERR_MR_COMMAND')
      }
    }
    // Run as they are: env (python3 is env's to find), spaces after #! and arguments, no newline,
    // a relative interpreter (the kernel's to resolve, against the process's directory), no #!.
    for (const [name, body] of [
      ['env.sh', '#!/usr/bin/env python3\n'], ['spaced.sh', '#! \t/bin/sh -e\ncat\n'], ['bare.sh', '#!/bin/sh'],
      ['relative.sh', '#!no-such-interp\n'], ['plain.sh', 'cat\n'], ['hash.sh', '#\n'],
    ] as const) {
      const file = exe(name, body)
      assert.is(resolveCommand('mapper', `./${name}`, t.dir, '').file, file, name)
    }
  } finally {
    t.remove()
  }
})

commands('resolve: PATH, the working directory, paths; a clear error otherwise', () => {
  const t = tempDir()
  try {
    const ok = script(t.dir, 'ok.sh', 'cat')
    writeFileSync(path.join(t.dir, 'plain.sh'), '#!/bin/sh\ncat\n')
    assert.is(resolveCommand('mapper', 'ok.sh -x', t.dir, '').file, ok, 'the working directory is searched first')
    assert.equal(resolveCommand('mapper', './ok.sh -x', t.dir, '').args, ['-x'])
    assert.is(resolveCommand('mapper', 'sh -c x', t.dir, '/bin:/usr/bin').file.endsWith('/sh'), true)
    const cases: [string, RegExp][] = [
      ['./plain.sh', /mapper "\.\/plain\.sh": \.\/plain\.sh is not executable \(chmod \+x/],
      ['./missing.sh', /missing\.sh does not exist/],
      ['./', /is not a file/],
      ['no-such-program-anywhere', /not an executable in the working directory or on PATH/],
      ['  ', /no program to run/],
    ]
    for (const [cmd, re] of cases) {
      try {
        resolveCommand('mapper', cmd, t.dir, '/bin:/usr/bin')
        assert.unreachable(cmd)
      } catch (e) {
        assert.instance(e, StreamCommandError)
        assert.is((e as StreamCommandError).code, 'ERR_MR_COMMAND')
        assert.match((e as Error).message, re)
      }
    }
  } finally {
    t.remove()
  }
})

commands('runJob: a job is a module or commands, and a bad command creates nothing', deadline('args', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['x\n'])
    const out = path.join(t.dir, 'out')
    writeFileSync(path.join(t.dir, 'plain.sh'), '#!/bin/sh\ncat\n')
    const badinterp = path.join(t.dir, 'badinterp.sh')
    writeFileSync(badinterp, '#!/bin/nonexistent-interp\ncat\n')
    chmodSync(badinterp, 0o755)
    const bad: [object, new (...a: never[]) => Error, RegExp][] = [
      [{ job: 'wc.ts', mapper: 'cat' }, MapReduceArgError, /job must be left out when mapper is given/],
      [{ reducer: 'cat' }, MapReduceArgError, /mapper must be a command line when reducer is given/],
      [{ mapper: '' }, MapReduceArgError, /mapper must be a command line/],
      [{ mapper: path.join(t.dir, 'plain.sh') }, StreamCommandError, /is not executable/],
      [{ mapper: 'cat', reducer: path.join(t.dir, 'nope') }, StreamCommandError, /reducer ".*nope": .*nope does not exist/],
      [{ mapper: "'unterminated" }, StreamCommandError, /^gort mapreduce: mapper "'unterminated": an unterminated ' quote$/],
      [{ mapper: 'cat', combiner: badinterp }, StreamCommandError, /^gort mapreduce: combiner ".*badinterp\.sh": its interpreter \/bin\/nonexistent-interp \(from its #! line\) is not an executable$/],
      [{ mapper: 'cat', partition: 'java' }, MapReduceArgError, /partition must be 'default' or 'hadoop'/],
      [{ mapper: 'cat', packFiles: true }, MapReduceArgError, /packFiles must be false with a mapper .*, got true/],
      [{ mapper: 'cat', params: { pattern: 'x' } }, MapReduceArgError, /params must be left out with a mapper: a streaming command takes its parameters on its own command line/],
    ]
    for (const [o, cls, re] of bad) {
      await runJob({ input, output: out, ...o } as RunJobOptions).then(() => assert.unreachable(JSON.stringify(o)), (e: unknown) => {
        assert.instance(e, cls, JSON.stringify(o))
        assert.match((e as Error).message, re)
      })
      assert.not.ok(existsSync(out))
    }
  } finally {
    t.remove()
  }
}, MS))

commands('the CLI: an unterminated quote is a usage error, exit 2, and creates nothing', deadline('cli', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['x\n'])
    const out = path.join(t.dir, 'out')
    const cli = `import { main } from ${JSON.stringify(path.join(REPO, 'src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1))`
    const r = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', cli, 'mapreduce', '--mapper', "'unterminated", '--input', input, '--output', out], { cwd: REPO })
      .then(() => ({ code: 0, stderr: '' }), (e: { code?: number; stderr?: string }) => ({ code: e.code ?? -1, stderr: e.stderr ?? '' }))
    assert.is(r.code, 2, r.stderr)
    assert.match(r.stderr, /^gort mapreduce: mapper "'unterminated": an unterminated ' quote$/m)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, MS))

commands("defineJob: values is 'number' or 'string'", () => {
  assert.throws(() => defineJob({ values: 'text' as never, map: () => {} }), /defineJob: values must be 'number' or 'string', got "text"/)
})

commands('LineSplitter: a command\'s output lines end at \\n, \\r\\n or a lone \\r (Hadoop\'s LineReader), however the chunks fall; keepCR: at \\n only', () => {
  /** Lines by the rule itself, character by character. */
  const reference = (t: string, keepCR: boolean): string[] => {
    const out: string[] = []
    let start = 0
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '\n' || (!keepCR && t[i] === '\r')) {
        out.push(t.slice(start, i))
        if (!keepCR && t[i] === '\r' && t[i + 1] === '\n') i++
        start = i + 1
      }
    }
    if (start < t.length) out.push(t.slice(start))
    return out
  }
  const r = rng(5)
  const alphabet = ['a', 'b', '\t', '\r', '\n', '\r', '\n']
  for (let round = 0; round < 400; round++) {
    const t = Array.from({ length: Math.floor(r() * 30) }, () => alphabet[Math.floor(r() * alphabet.length)]!).join('')
    for (const keepCR of [false, true]) {
      const split = new LineSplitter(keepCR, 'latin1')
      const got: string[] = []
      const bytes = Buffer.from(t, 'latin1')
      for (let at = 0; at < bytes.length;) {
        const n = 1 + Math.floor(r() * 5)
        got.push(...split.push(bytes.subarray(at, at + n)))
        at += n
      }
      got.push(...split.end())
      assert.equal(got, reference(t, keepCR), `${JSON.stringify(t)}, keepCR ${keepCR}`)
    }
  }
})

commands.run()

const test = suite('streaming runJob')

test('R = 1: the part file equals cat input | mapper | LC_ALL=C sort | reducer', deadline('recipe', async () => {
  const t = tempDir()
  try {
    // LF-terminated: `cat` would glue a last line without \n to the next file's first, and pass \r on (gort, like
    // Hadoop's LineRecordReader, drops it).
    const texts = [text(11, 1500), text(12, 700), text(13, 3)].map((s) => (s.endsWith('\n') ? s : `${s}\n`))
    const input = inputs(t.dir, texts)
    const mapper = script(t.dir, 'map.sh', MAP)
    const reducer = script(t.dir, 'reduce.sh', SUM)
    const out = path.join(t.dir, 'out')
    const r = await runJob({ mapper, reducer, input, output: out, reducers: 1, procs: 2, splitSize: '8KiB' })
    assert.ok(r.maps > 3, `${r.maps} maps`)
    const files = readdirSync(path.join(t.dir, 'data')).sort().map((f) => path.join(t.dir, 'data', f))
    const { stdout: want } = await execFileAsync('sh', ['-c', `cat "$@" | ${mapper} | LC_ALL=C sort | ${reducer}`, 'sh', ...files], { maxBuffer: 1 << 26 })
    assert.ok(want.length > 100)
    assert.is(readFileSync(path.join(out, 'part-r-00000'), 'utf8'), want)
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-r-00000'])
    assert.is(r.counters.mapInputRecords, texts.reduce((n, s) => n + s.replace(/\n$/, '').split('\n').length, 0))
    assert.is(r.counters.reduceInputRecords, r.counters.mapOutputRecords)
  } finally {
    t.remove()
  }
}, MS))

test('a combiner command runs over each spill and leaves the result as without it', deadline('combiner', async () => {
  const t = tempDir()
  try {
    // WORDS' 80 keys alone fit in 64 KiB (a key's repeated values take no more room): a second
    // file brings 5,000 more keys, each a few times.
    const wide = Array.from({ length: 6000 }, (_, i) => `u${i % 2500} v${(i * 7) % 2500}`).join('\n') + '\n'
    const texts = [text(21, 6000), wide]
    const input = inputs(t.dir, texts)
    const mapper = script(t.dir, 'map.sh', MAP)
    const reducer = script(t.dir, 'reduce.sh', SUM)
    const plain = await runJob({ mapper, reducer, input, output: path.join(t.dir, 'plain'), reducers: 2, procs: 1 })
    const out = path.join(t.dir, 'out')
    const r = await runJob({ mapper, reducer, combiner: reducer, input, output: out, reducers: 2, procs: 1, memory: '64KiB' })
    assert.ok(r.counters.spills > 0, `the map task spilled (${JSON.stringify(r.counters)})`)
    // A spill holds hundreds of pairs at this budget: one spill per fill, not one per line read meanwhile.
    assert.ok(r.counters.spills < r.counters.mapOutputRecords / 100, `${r.counters.spills} spills of ${r.counters.mapOutputRecords} pairs`)
    assert.ok(r.counters.combineInputRecords === r.counters.mapOutputRecords, `${r.counters.combineInputRecords} combined of ${r.counters.mapOutputRecords}`)
    assert.ok(r.counters.combineOutputRecords < r.counters.combineInputRecords / 4, `${r.counters.combineOutputRecords} out of ${r.counters.combineInputRecords}`)
    assert.is(r.counters.reduceInputRecords, r.counters.combineOutputRecords)
    // Spilled records are counted after combining, as in process (they were counted before).
    assert.is(r.counters.spilledRecords, r.counters.combineOutputRecords)
    for (const f of ['part-r-00000', 'part-r-00001']) assert.is(readFileSync(path.join(out, f), 'utf8'), readFileSync(path.join(plain.output, f), 'utf8'), f)
  } finally {
    t.remove()
  }
}, MS))

test('R = 3 with the hadoop partitioner: each key in its Text.hashCode part file; no reducer: pairs as they are', deadline('hadoop', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['the\t1\nc\t2\na\t3\nb\t4\né\t5\nthe\t6\na\n'])
    const out = path.join(t.dir, 'out')
    await runJob({ mapper: 'cat', input, output: out, reducers: 3, procs: 2, partition: 'hadoop' })
    const part = (n: number): string => readFileSync(path.join(out, `part-r-0000${n}`), 'utf8')
    // Hashes worked out in the partition suite: a 2, b 0, c 1, the 1, é 2. A line without a tab is
    // the key with an empty value, written back as `key\t` (Hadoop's TextOutputFormat).
    assert.is(part(0), 'b\t4\n')
    assert.is(part(1), 'c\t2\nthe\t1\nthe\t6\n')
    assert.is(part(2), 'a\t3\na\t\né\t5\n')
  } finally {
    t.remove()
  }
}, MS))

test('bytes pass through as they are, whatever their encoding (Hadoop Streaming passes bytes)', deadline('bytes', async () => {
  const t = tempDir()
  try {
    // Latin-1, bytes that are no UTF-8 at all, UTF-8, a CRLF line: nothing may become U+FFFD.
    const lines = [Buffer.from('caf\xe9 latin1', 'latin1'), Buffer.from([0xff, 0xfe, 0x20, 0x62, 0x09, 0x76, 0xe9]), Buffer.from('café utf8'), Buffer.from('plain'), Buffer.from([0xe9, 0x74, 0xe9]), Buffer.from('\xc0\xc0', 'latin1')]
    mkdirSync(path.join(t.dir, 'data'))
    writeFileSync(path.join(t.dir, 'data', 'f0.txt'), Buffer.concat(lines.flatMap((l, i) => [l, Buffer.from(i === 3 ? '\r\n' : '\n')])))
    const input = path.join(t.dir, 'data')
    const withTab = (l: Buffer): Buffer => (l.includes(0x09) ? l : Buffer.concat([l, Buffer.from('\t')]))
    const expect = (ls: Buffer[]): Buffer => Buffer.concat(ls.flatMap((l) => [withTab(l), Buffer.from('\n')]))
    // Map-only: each line as it was (the CRLF's \r dropped, as for every record).
    await runJob({ mapper: 'cat', input, output: path.join(t.dir, 'm'), reducers: 0, procs: 1 })
    assert.ok(readFileSync(path.join(t.dir, 'm', 'part-m-00000')).equals(expect(lines)))
    // Through the sort, a combiner and a reducer: sorted by bytes, as LC_ALL=C sort sorts them.
    await runJob({ mapper: 'cat', combiner: 'cat', reducer: 'cat', input, output: path.join(t.dir, 'r'), reducers: 1, procs: 1 })
    const sorted = [...lines].sort(Buffer.compare)
    assert.ok(readFileSync(path.join(t.dir, 'r', 'part-r-00000')).equals(expect(sorted)))
    // Hadoop's partitioner hashes the key's bytes (Java's signed bytes, h = 31 h + b, from 1).
    await runJob({ mapper: 'cat', input, output: path.join(t.dir, 'h'), reducers: 3, procs: 1, partition: 'hadoop' })
    const javaHash = (b: Buffer): number => b.reduce((h, x) => (Math.imul(h, 31) + ((x << 24) >> 24)) | 0, 1)
    const keyOf = (l: Buffer): Buffer => (l.includes(0x09) ? l.subarray(0, l.indexOf(0x09)) : l)
    for (let p = 0; p < 3; p++) {
      const want = sorted.filter((l) => (javaHash(keyOf(l)) & 0x7fffffff) % 3 === p)
      assert.ok(readFileSync(path.join(t.dir, 'h', `part-r-0000${p}`)).equals(expect(want)), `part ${p}`)
    }
  } finally {
    t.remove()
  }
}, MS))

test('a lone \\r ends a line, in the input the mapper gets and in what it writes, as Hadoop\'s LineReader ends one', deadline('cr', async () => {
  const t = tempDir()
  try {
    mkdirSync(path.join(t.dir, 'data'))
    // Old Mac text, a terminal's progress line, a CRLF line.
    writeFileSync(path.join(t.dir, 'data', 'f0.txt'), 'alpha\rbeta\r\rdone 10%\rdone 99%\ngamma\r\n')
    const input = path.join(t.dir, 'data')
    await runJob({ mapper: 'cat', input, output: path.join(t.dir, 'in'), reducers: 0, procs: 1 })
    assert.is(readFileSync(path.join(t.dir, 'in', 'part-m-00000'), 'utf8'), 'alpha\t\nbeta\t\n\t\ndone 10%\t\ndone 99%\t\ngamma\t\n')
    // The mapper's own output: each of its '\r'-ended lines is a pair of its own.
    const emit = script(t.dir, 'emit.sh', `cat >/dev/null; printf 'k1\\tv1\\rk2\\tv2\\r\\nk3\\tv3\\r'`)
    await runJob({ mapper: emit, input, output: path.join(t.dir, 'out'), reducers: 0, procs: 1 })
    assert.is(readFileSync(path.join(t.dir, 'out', 'part-m-00000'), 'utf8'), 'k1\tv1\nk2\tv2\nk3\tv3\n')
  } finally {
    t.remove()
  }
}, MS))

test('reducers 0: part-m files of the mapper output; the job variables are in its environment', deadline('env', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['one\ntwo\n', 'three\n'])
    const mapper = script(t.dir, 'env.sh', [
      'n=0; while read -r line; do n=$((n + 1)); done',
      'for v in mapreduce_map_input_file mapreduce_map_input_start mapreduce_map_input_length mapreduce_task_id mapreduce_task_attempt_id mapreduce_task_partition mapreduce_job_reduces mapreduce_task_ismap; do',
      '  eval "printf \'%s\\t%s\\n\' $v \\"\\$$v\\""',
      'done',
      'printf "lines\\t%s\\n" $n',
    ].join('\n'))
    const out = path.join(t.dir, 'out')
    const r = await runJob({ mapper, input, output: out, reducers: 0, procs: 2 })
    assert.equal(readdirSync(out).sort(), ['_SUCCESS', 'part-m-00000', 'part-m-00001'])
    assert.is(r.counters.mapOutputRecords, 18)
    const envOf = (n: number): Map<string, string> =>
      new Map(readFileSync(path.join(out, `part-m-0000${n}`), 'utf8').trimEnd().split('\n').map((l) => l.split('\t') as [string, string]))
    const m0 = envOf(0)
    assert.equal(Object.fromEntries(m0), {
      mapreduce_map_input_file: path.join(input, 'f0.txt'), mapreduce_map_input_start: '0', mapreduce_map_input_length: '8',
      mapreduce_task_id: 'task_gort_0001_m_000000', mapreduce_task_attempt_id: 'attempt_gort_0001_m_000000_0',
      mapreduce_task_partition: '0', mapreduce_job_reduces: '0', mapreduce_task_ismap: 'true', lines: '2',
    })
    const m1 = envOf(1)
    assert.is(m1.get('mapreduce_map_input_file'), path.join(input, 'f1.txt'))
    assert.is(m1.get('mapreduce_task_attempt_id'), 'attempt_gort_0001_m_000001_0')
    assert.is(m1.get('lines'), '1')
    // Hadoop 1's names, as older scripts read them.
    const legacy = script(t.dir, 'legacy.sh', 'cat > /dev/null; printf "%s\\t%s %s %s\\n" "$map_input_file" "$mapred_task_id" "$mapred_tip_id" "$mapred_task_is_map"')
    const out2 = path.join(t.dir, 'out2')
    await runJob({ mapper: legacy, input: path.join(input, 'f0.txt'), output: out2, reducers: 0, procs: 1 })
    assert.is(readFileSync(path.join(out2, 'part-m-00000'), 'utf8'), `${path.join(input, 'f0.txt')}\tattempt_gort_0001_m_000000_0 task_gort_0001_m_000000 true\n`)
  } finally {
    t.remove()
  }
}, MS))

test('a mapper that fails its first attempt is retried; reporter lines on stderr are counters', deadline('retry', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['a b\nb c\n', 'c d\n'])
    const mapper = script(t.dir, 'flaky.sh', [
      'case "$mapreduce_task_attempt_id" in *_0) echo "reporter:counter:gort,never,1" >&2; echo "first attempt fails" >&2; exit 1;; esac',
      'echo "reporter:status:mapping" >&2',
      'echo "reporter:counter:gort,maps,1" >&2',
      'echo "reporter:counter:Custom Group,seen,2" >&2',
      'echo "reporter:counter:gort,bad,x" >&2',
      MAP,
    ].join('\n'))
    const reducer = script(t.dir, 'reduce.sh', ['echo "reporter:counter:gort,reduces,1" >&2', SUM].join('\n'))
    const out = path.join(t.dir, 'out')
    const r = await runJob({ mapper, reducer, input, output: out, reducers: 2, procs: 2, maxAttempts: 2 })
    assert.is(r.counters.failedAttempts, 2)
    assert.is(r.counters.mapAttempts, 4)
    assert.equal(Object.fromEntries(r.userCounters), { maps: 2, 'Custom Group,seen': 4, reduces: 2 })
    const all = ['part-r-00000', 'part-r-00001'].map((f) => readFileSync(path.join(out, f), 'utf8')).join('').trimEnd().split('\n').sort()
    assert.equal(all, ['a\t1', 'b\t2', 'c\t2', 'd\t1'])
  } finally {
    t.remove()
  }
}, MS))

test('a reporter counter line without a group or a name is no counter: it passes through as stderr', deadline('counter-names', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['a\n'])
    const malformed = ['reporter:counter:,,5', 'reporter:counter:G,,5', 'reporter:counter:,C,5', 'reporter:counter:G, ,5']
    const lines = [...malformed, 'reporter:counter:G,C,1', 'reporter:counter:gort,n,2'].map((l) => `echo "${l}" >&2`)
    const mapper = script(t.dir, 'map.sh', [...lines, 'cat'].join('\n'))
    const r = await runJob({ mapper, input, output: path.join(t.dir, 'out'), reducers: 0, procs: 1 })
    assert.equal(Object.fromEntries(r.userCounters), { 'G,C': 1, n: 2 })
    // Passed through as the process's own lines: the tail a failed attempt reports holds them.
    const failing = script(t.dir, 'fail.sh', [...lines, 'exit 4'].join('\n'))
    const e = await runJob({ mapper: failing, input, output: path.join(t.dir, 'out2'), maxAttempts: 1, procs: 1 }).then(() => undefined, (x: unknown) => x)
    assert.instance(e, TaskFailedError)
    const cause = (e as TaskFailedError).attempts[0]!.cause as { stderr: string }
    assert.is(cause.stderr, malformed.join('\n'))
  } finally {
    t.remove()
  }
}, MS))

test('an interpreter missing at spawn time is named, not reported as the script missing', deadline('enoent', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['a\n'])
    // A relative #! interpreter passes resolveCommand (the kernel resolves it when it runs); here it is not there.
    const mapper = path.join(t.dir, 'relinterp.sh')
    writeFileSync(mapper, '#!no-such-interp\ncat\n')
    chmodSync(mapper, 0o755)
    const e = await runJob({ mapper, input, output: path.join(t.dir, 'out'), maxAttempts: 1, procs: 1 }).then(() => undefined, (x: unknown) => x)
    assert.instance(e, TaskFailedError)
    assert.is((e as TaskFailedError).attempts[0]!.code, 'ERR_MR_STREAM_FAILED')
    assert.match((e as Error).message, /attempt 1: StreamProcessError: mapper ".*relinterp\.sh" could not start: its #! interpreter "no-such-interp" was not found \(spawn ENOENT\)$/)
  } finally {
    t.remove()
  }
}, MS))

test('a mapper that always fails fails the job, naming the command, the exit code and its stderr; no output', deadline('fails', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['a\n'])
    const mapper = script(t.dir, 'fail.sh', 'cat >/dev/null\necho "cannot parse line 1" >&2\nexit 3')
    const out = path.join(t.dir, 'out')
    const e = await runJob({ mapper: `${mapper} --strict`, input, output: out, maxAttempts: 2, procs: 1 }).then(() => undefined, (x: unknown) => x)
    assert.instance(e, TaskFailedError)
    const f = e as TaskFailedError
    assert.is(f.task, 'm-00000')
    assert.is(f.attempts.length, 2)
    assert.is(f.attempts[0]!.code, 'ERR_MR_STREAM_FAILED')
    assert.match(f.message, /attempt 1: StreamProcessError: mapper ".*fail\.sh --strict" exited with code 3; its stderr ends: cannot parse line 1/)
    assert.not.ok(existsSync(out))
    const killed = script(t.dir, 'killed.sh', 'kill -9 $$')
    const e2 = await runJob({ mapper: 'cat', reducer: killed, input, output: out, maxAttempts: 1, procs: 1 }).then(() => undefined, (x: unknown) => x)
    assert.match((e2 as Error).message, /task r-00000 failed 1 attempt: .*reducer ".*killed\.sh" was killed by SIGKILL/)
    assert.not.ok(existsSync(out))
  } finally {
    t.remove()
  }
}, MS))

/** Whether process `pid` still runs (a zombie does not: it is dead, waiting to be reaped). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** Resolves once none of `pids` runs, or rejects after `ms` naming those that still do (and kills them: a failed check leaks nothing). */
async function gone(pids: Record<string, number>, ms: number): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    const left = Object.entries(pids).filter(([, pid]) => running(pid))
    if (left.length === 0) return
    if (Date.now() > end) {
      for (const [, pid] of left) process.kill(pid, 'SIGKILL')
      throw new Error(`still running: ${left.map(([name, pid]) => `${name} (pid ${pid})`).join(', ')}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** The pids a mapper script wrote as files under `dir`, by file name. */
const readPids = (dir: string, names: readonly string[]): Record<string, number> =>
  Object.fromEntries(names.map((n) => {
    const pid = Number(readFileSync(path.join(dir, n), 'utf8'))
    assert.ok(Number.isInteger(pid) && pid > 0, `${n}: no pid`)
    return [n, pid]
  }))

test('an abandoned job kills the processes of its other attempts, and what they started', deadline('abandon', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['a\n', 'b\n'])
    const pids = path.join(t.dir, 'pids')
    mkdirSync(pids)
    // f1's attempt reads nothing and waits on a child of its own that never ends; f0's fails for
    // good, once f1's child runs (or after 10 s), so the job is abandoned with f1's processes up.
    const mapper = script(t.dir, 'map.sh', [
      `case "$mapreduce_map_input_file" in *f0.txt) for i in $(seq 200); do [ -s ${pids}/sleep ] && break; sleep 0.05; done; exit 5;; esac`,
      `echo $$ > ${pids}/sh`, 'sleep 100000 &', `echo $! > ${pids}/sleep`, 'wait', 'echo never',
    ].join('\n'))
    const out = path.join(t.dir, 'out')
    const e = await runJob({ mapper, input, output: out, maxAttempts: 1, procs: 2 }).then(() => undefined, (x: unknown) => x)
    assert.instance(e, TaskFailedError)
    assert.is((e as TaskFailedError).task, 'm-00000')
    assert.match((e as Error).message, /exited with code 5/)
    assert.not.ok(existsSync(out))
    // When runJob rejects, f1's attempt has killed its process group: no process of it is left.
    await gone(readPids(pids, ['sh', 'sleep']), 0)
  } finally {
    t.remove()
  }
}, MS))

test('a command\'s stray background process does not outlive its attempt', deadline('stray', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['a b\n'])
    const pids = path.join(t.dir, 'pids')
    mkdirSync(pids)
    // The background sleep holds none of the pipes: the mapper ends, its output is whole, the
    // attempt succeeds; what is left of its process group is killed with it.
    const mapper = script(t.dir, 'map.sh', [`sleep 100000 </dev/null >/dev/null 2>&1 &`, `echo $! > ${pids}/sleep`, 'cat'].join('\n'))
    const out = path.join(t.dir, 'out')
    const r = await runJob({ mapper, input, output: out, reducers: 1, procs: 1 })
    assert.is(r.counters.mapOutputRecords, 1)
    await gone(readPids(pids, ['sleep']), 5_000)
    // One that holds the mapper's stdout and stderr: the pipes end only when it does, so it is
    // killed when the mapper exits (the attempt waited for the task timeout, 10 minutes, before).
    const holder = script(t.dir, 'map2.sh', ['sleep 100000 &', `echo $! > ${pids}/holder`, 'cat'].join('\n'))
    const r2 = await runJob({ mapper: holder, input, output: path.join(t.dir, 'out2'), reducers: 1, procs: 1 })
    assert.is(r2.counters.mapOutputRecords, 1)
    await gone(readPids(pids, ['holder']), 5_000)
  } finally {
    t.remove()
  }
}, MS))

test('JobGroups.close kills the groups still named, and only those', deadline('groups', async () => {
  // Two process groups as an attempt's thread would hold them; one is released first.
  const start = (): number => {
    const c = spawn('sh', ['-c', 'sleep 100000 & wait'], { detached: true, stdio: 'ignore' })
    c.unref()
    return c.pid!
  }
  const held = start()
  const released = start()
  const jg = new JobGroups()
  const words = jg.table(2)
  const a0 = { words, at: 0 }
  const a1 = { words, at: GROUPS_PER_ATTEMPT }
  holdGroup(a0, MAIN_ROLE, held)
  holdGroup(a1, MAIN_ROLE, released)
  releaseGroup(a1, MAIN_ROLE, released)
  releaseGroup(a0, MAIN_ROLE, released) // a stale release: not a0's pid, so a0 keeps its own
  try {
    assert.is(jg.close(), 1, 'one group was still named')
    await gone({ held }, 5_000)
    assert.ok(running(released), 'a released group is not touched')
  } finally {
    try {
      process.kill(-released, 'SIGKILL')
    } catch {
      // gone already
    }
  }
}, MS))

test('the exit listener waits for a spawn in progress to name its pid, and kills its group', deadline('spawning', async () => {
  const words = new Int32Array(new SharedArrayBuffer(4 * GROUPS_PER_ATTEMPT))
  const pidOut = new Int32Array(new SharedArrayBuffer(8))
  // A thread that marks its word SPAWNING and spawns only 100 ms later, as one descheduled
  // inside spawn() would: the process may already run, so a skipped word would leak it.
  const worker = new Worker(new URL('../../src/scheduler/m/worker-bootstrap.mjs', import.meta.url), {
    workerData: { entry: new URL('./fixtures/group-spawner.ts', import.meta.url).href, words, delayMs: 100, pidOut },
  })
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve))
  try {
    while (Atomics.load(pidOut, 1) === 0) await new Promise((r) => setTimeout(r, 5))
    // What the 'exit' listener runs (blocking this thread, as it would at exit, until the pid is there).
    assert.is(killAll(words, Date.now() + 10_000), 1, 'the group, once its pid was stored')
    await gone({ spawned: Atomics.load(pidOut, 0) }, 5_000)
    assert.is(await exited, 0)
  } finally {
    await exited
    try {
      process.kill(-Atomics.load(pidOut, 0), 'SIGKILL') // a failed check leaks nothing
    } catch {
      // gone, as it should be
    }
  }
}, MS))

test('a program that exits while a streaming job runs takes the job\'s processes with it', deadline('exit', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, ['a\n'])
    const pids = path.join(t.dir, 'pids')
    mkdirSync(pids)
    // Reads nothing and never ends (a sleep of its own in the background, and one in its place).
    const mapper = script(t.dir, 'map.sh', [
      'sleep 100000 &', `echo $! > ${pids}/child`, `echo $$ > ${pids}/mapper`, `touch ${pids}/ready`, 'exec sleep 100000',
    ].join('\n'))
    const out = path.join(t.dir, 'out')
    const fixture = path.join(FIXTURES, 'exit-midjob.ts')
    const r = await execFileAsync(process.execPath, ['--import', 'tsx', fixture, input, out, mapper, path.join(pids, 'ready')], { cwd: REPO }).then(
      () => 0, (e: { code?: number; stderr?: string }) => e.code ?? -1,
    )
    assert.is(r, 7)
    await gone(readPids(pids, ['mapper', 'child']), 5_000)
  } finally {
    t.remove()
  }
}, MS))

test('a mapper that stops reading early is judged by its exit status alone', deadline('early', async () => {
  const t = tempDir()
  try {
    const input = inputs(t.dir, [text(31, 20000)])
    const out = path.join(t.dir, 'out')
    const r = await runJob({ mapper: 'head -n 3', input, output: out, reducers: 1, procs: 1 })
    assert.is(readFileSync(path.join(out, 'part-r-00000'), 'utf8').split('\n').length, 4)
    assert.is(r.counters.mapOutputRecords, 3)
  } finally {
    t.remove()
  }
}, MS))

test.run()
