/**
 * A thread's stdout and stderr at the runtime's close. In a worker, `console.log` goes to a
 * stream whose writes reach the main thread by message, one write in flight at a time: the rest
 * wait in the stream until the main thread acknowledges the one before. A worker ended meanwhile
 * (Runtime.close terminates its Ms) loses them: a task's last lines of output, printed just
 * before its result, which travels through shared memory and so arrives first. Measured on Node
 * 20: a worker printing 4 lines and then signalling through an Atomics word, terminated at
 * once, lost its lines in 49 of 50 runs. So the M is asked to flush first (main/threads.ts).
 */

/** How often the streams are looked at while data is on its way. */
const POLL_MS = 1

/** Bytes this thread's stdout and stderr hold that the main thread has not taken. */
export const pending = (): number => process.stdout.writableLength + process.stderr.writableLength

/**
 * Resolves once this thread's stdout and stderr hold nothing the main thread has not taken
 * (their writableLength counts each write until its acknowledgement), or once they have held
 * some for `ms` with none taken meanwhile. A fixed `ms` from the start lost output whenever the
 * main thread's own stdout was slower than that: a pipe read by a pager, `| (sleep 4; cat)`
 * (main's writes to a pipe block), lost every line of the job's last three map tasks.
 */
export function stdioFlushed(ms: number): Promise<void> {
  let until = Date.now() + ms
  let left = pending()
  return new Promise((resolve) => {
    const check = (): void => {
      const now = pending()
      if (now === 0) return resolve()
      if (now < left) until = Date.now() + ms // taken since the last look: the main thread is reading
      left = now
      if (Date.now() >= until) resolve()
      else setTimeout(check, POLL_MS)
    }
    check()
  })
}
