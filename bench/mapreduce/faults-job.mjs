// The job of bench/mapreduce-faults.bench.ts: one record per file; each map attempt sleeps
// $GORT_BENCH_TASK_MS (Atomics.wait: a task's length that the machine's load does not change).
// On attempt 1 of task $GORT_BENCH_FAULT_TASK, $GORT_BENCH_FAULT says what goes wrong:
// 'exit' ends the thread after the task's work (the whole attempt is lost), 'throw' throws there
// instead (the attempt is lost, and its thread retires: the retry runs on a fresh one), 'stall'
// sleeps ten times as long instead. Plain JavaScript from dist/, so a new M starts without tsx.
import { defineJob } from '../../dist/mapreduce/index.js'

const D = Number(process.env.GORT_BENCH_TASK_MS ?? 500)
const fault = process.env.GORT_BENCH_FAULT ?? 'none'
const target = process.env.GORT_BENCH_FAULT_TASK ?? ''
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

export default defineJob({
  records: 'files',
  map(_file, text, emit, ctx) {
    const faulty = ctx.task === target && ctx.attempt === 1
    sleep(faulty && fault === 'stall' ? 10 * D : D)
    if (faulty && fault === 'exit') process.exit(1)
    if (faulty && fault === 'throw') throw new Error('map throws once')
    for (const w of text.split(/\s+/)) if (w) emit(w, 1)
  },
  async reduce(k, vs, emit) {
    let n = 0
    for await (const v of vs) n += v
    emit(k, n)
  },
})
