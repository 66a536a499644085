/**
 * checkdead across threads, on the main thread: when every goroutine on every thread is blocked
 * and nothing can wake any of them, print Go's `fatal error: all goroutines are asleep - deadlock!`
 * with each goroutine, its thread and what it waits on, and exit 2, as a single thread does
 * (src/chan/goroutine.ts). The algorithm and why it never fires while a thread can still act:
 * docs/design/deadlock.md.
 *
 * Go's rule (proc.go's checkdead): a deadlock is when no M runs and nothing (timers, netpoll) can
 * make a goroutine runnable. Here a thread's keep-alive (sharedchan-wait's interval while an op
 * sleeps, the runtime's while main awaits a G) would turn that into a silent hang, so while main
 * holds one, a check runs every CHECK_MS (an unref'd timer; nothing runs while main holds none,
 * and then the program ends by itself with its own exit code, as a Go program ends when main
 * returns). Each check:
 *   1. main itself: quiet (threadBusy: no timer, immediate, I/O or handle of its own beyond gort's
 *      keep-alives, no sleeping op already claimed, none an AbortSignal may end), and no runtime
 *      work of its own (a result to take, a go() waiting for a record);
 *   2. each runtime's shared words: every alive M started and asleep (PARKED or PARKED_LIVE), no
 *      spinning M, every run queue empty, no outbox, hand-off or import in flight, no cancelled
 *      G still running (a kill timer may end it), recorded with every doorbell and P tick;
 *   3. the answers to the previous check's 'dead?' probe from every M that has a started G or
 *      owns an unsettled one: each quiet, with its epoch;
 *   4. then it probes the Ms again.
 * A check that passes gives a signature (all epochs, doorbells, ticks, M states, G record states);
 * two passing checks in a row with the same signature declare the deadlock. Anything else starts
 * over. The phases (docs/design/deadlock.md, which also argues why no report can come while a
 * value is in flight or a thread is about to wake):
 *   IDLE    no timer: main is not held open by gort (nothing to check);
 *   PROBED  `#prev` empty, probes of the current round out;
 *   PASSED  `#prev` holds the last check's signature, probes of the next round out.
 *
 * Invariants:
 * - Only the main thread checks and prints; Ms only answer probes (m/checkdead.ts).
 * - Answers from an earlier round are dropped (`round`), so a check never mixes two rounds.
 * - Plain Workers are no part of it: a ref'd one is a handle on main, so main is never quiet
 *   while it lives (no report, the program waits as before); an unref'd one is invisible.
 */

import { isMainThread, threadId } from 'node:worker_threads'
import { currentG, goroutineCount } from '../../chan/goroutine.js'
import { G_M, G_STATE, G_TASK, GS_CLAIMED, GS_FREE, GS_QUEUED, GS_RUNNING, H_NMSPINNING, O_DOORBELL, O_HANDOFF, O_LOADING, O_OUTBOX_N, P_TICK, gOff, gUsed, oOff, pOff } from '../shared/layout.js'
import { MS_NAMES, doorbell, isParked, mState } from '../shared/park.js'
import type { DeadAnswer, DeadOp } from '../shared/protocol.js'
import type { Sched } from '../shared/sched.js'
import { cancelFlagged } from '../shared/cancel.js'
import { blockedOps, threadBusy } from '../shared/quiet.js'
import { isPrestarted } from './prestart.js'
import { setGoroutineHint, setGoroutineNamer, setHoldHook, sleepEpoch, sleeping } from '../shared/sharedchan-wait.js'

/**
 * Interval between two checks while main is held open by gort alone. GORT_CHECKDEAD_MS (read at
 * import) changes it: the stress test checks every millisecond to meet as many in-flight values
 * and wake-ups as it can.
 */
const CHECK_MS = Number(process.env['GORT_CHECKDEAD_MS']) > 0 ? Number(process.env['GORT_CHECKDEAD_MS']) : 50
/**
 * While checks keep finding something that runs, the interval doubles up to this many CHECK_MS;
 * a quiet check brings it back to CHECK_MS. A check that passes the cheap tests scans every G
 * record (about 1.5 ms on a MapReduce job's layout, where the Ms often sleep with live tasks): at
 * a fixed 50 ms that was 3 % of the main thread's CPU for the whole job. A deadlock that follows a
 * long busy stretch is reported up to 8 CHECK_MS later.
 */
const BACKOFF_MAX = 8

/** A started G as the report names it. */
export interface StartedG {
  readonly gid: number
  readonly name: string
}

/** What the checker needs of a runtime (each Runtime registers one while it is open). */
export interface DeadHost {
  /** The runtime holds the process open (main awaits a G). */
  held(): boolean
  /** Ref'd timers the runtime holds on main now (its keep-alive). */
  keepAliveTimers(): number
  /**
   * Appends the runtime's shared words and counters to `sig`, filling `started` (per M, the Gs
   * started there) and `owning` (Ms that own an unsettled G); returns why something may still run,
   * or null when everything is still.
   */
  still(sig: number[], started: Map<number, StartedG[]>, owning: Set<number>): string | null
  /** Posts 'dead?' to the alive Ms in `ms`. */
  probe(round: number, ms: Iterable<number>): void
  /** Adds the threadIds of its Ms to `out`. */
  threadIds(out: Set<number>): void
  /** Gs main awaits. */
  awaited(): number
}

interface HostRound {
  /** Ms whose answer this round needs. */
  readonly need: Set<number>
  readonly answers: Map<number, DeadAnswer>
  readonly started: Map<number, StartedG[]>
}

class Checker {
  readonly hosts = new Set<DeadHost>()
  #mainHeld = false
  #timer: NodeJS.Timeout | undefined
  #round = 0
  #rounds = new Map<DeadHost, HostRound>()
  /** The previous passing check's signature, '' when the previous check did not pass. */
  #prev = ''
  /** Checks run, and checks that found every thread quiet (tests: the stress test meets both). */
  readonly stats = { checks: 0, quiet: 0 }

  setMainHeld(held: boolean): void {
    this.#mainHeld = held
    this.poke()
  }

  /** Something changed whether main is held open: start checking if it is. */
  poke(): void {
    if (this.#timer !== undefined || !this.#held()) return
    this.#reset()
    this.#every = CHECK_MS
    this.#arm()
  }

  /** The interval now: CHECK_MS, doubled after each check that found something running. */
  #every = CHECK_MS

  #arm(): void {
    this.#timer = setTimeout(() => this.#check(), this.#every)
    this.#timer.unref()
  }

  answer(host: DeadHost, m: number, round: number, a: DeadAnswer): void {
    if (round !== this.#round) return
    this.#rounds.get(host)?.answers.set(m, a)
  }

  #held(): boolean {
    if (this.#mainHeld) return true
    for (const h of this.hosts) if (h.held()) return true
    return false
  }

  #reset(): void {
    this.#prev = ''
    this.#rounds.clear()
    this.#round++
  }

  #check(): void {
    if (!this.#held()) {
      this.#timer = undefined
      this.#reset()
      return
    }
    this.stats.checks++
    const sig = this.#sample()
    if (sig === null) {
      this.#reset()
      this.#every = Math.min(this.#every * 2, CHECK_MS * BACKOFF_MAX)
      this.#arm()
      return
    }
    this.stats.quiet++
    this.#every = CHECK_MS
    if (sig === this.#prev) {
      fatal(this.#report())
      return
    }
    // A round that passed becomes the reference; the first check after a reset has no answers yet.
    this.#prev = this.#rounds.size > 0 || this.hosts.size === 0 ? sig : ''
    this.#probe()
    this.#arm()
  }

  /** One check's signature, or null when something may still run (see the module comment). */
  #sample(): string | null {
    let own = 0
    const ms = new Set<number>()
    for (const h of this.hosts) {
      own += h.keepAliveTimers()
      h.threadIds(ms)
    }
    if (threadBusy(own, undefined, (t) => ms.has(t) || isPrestarted(t)) !== null) return null
    const sig: number[] = [sleepEpoch(), sleeping()]
    for (const h of this.hosts) {
      const started = new Map<number, StartedG[]>()
      const owning = new Set<number>()
      if (h.still(sig, started, owning) !== null) return null
      const r = this.#rounds.get(h)
      if (r === undefined) continue
      // Every M that had to answer did, quietly; an M with a started G now must have been asked.
      for (const m of started.keys()) if (!r.need.has(m)) return null
      for (const m of owning) if (!r.need.has(m)) return null
      for (const m of r.need) {
        const a = r.answers.get(m)
        if (a === undefined || a.busy !== null) return null
        sig.push(m, a.epoch)
      }
      r.started.clear()
      for (const [m, gs] of started) r.started.set(m, gs)
    }
    return sig.join(',')
  }

  #probe(): void {
    this.#round++
    const rounds = new Map<DeadHost, HostRound>()
    for (const h of this.hosts) {
      const started = new Map<number, StartedG[]>()
      const owning = new Set<number>()
      h.still([], started, owning)
      const need = new Set<number>([...started.keys(), ...owning])
      rounds.set(h, { need, answers: new Map(), started })
      h.probe(this.#round, need)
    }
    this.#rounds = rounds
  }

  /** Go's report: every goroutine with its thread and what it waits on. */
  #report(): string {
    const lines = ['fatal error: all goroutines are asleep - deadlock!', '']
    const mainOps = blockedOps()
    const mainWhere = `main thread (threadId ${threadId})`
    for (const op of mainOps) {
      const who = op.local ?? (op.g < 0 ? 'goroutine ?' : op.name !== undefined ? `goroutine ${op.g} (${op.name})` : `goroutine ${op.g}`)
      lines.push(`${who} [${op.reason}]:`, `\t${mainWhere}`, `\t${op.what}`, '')
    }
    let awaited = 0
    for (const h of this.hosts) awaited += h.awaited()
    if (awaited > 0 && !mainOps.some((op) => op.g === 1)) {
      lines.push('goroutine 1 [waiting]:', `\t${mainWhere}`, `\tawaiting ${awaited} task(s) started with go()`, '')
    }
    for (const h of this.hosts) {
      const r = this.#rounds.get(h)
      if (r === undefined) continue
      for (const m of [...r.need].sort((a, b) => a - b)) {
        const a = r.answers.get(m)!
        const where = `M ${m} (threadId ${a.threadId})`
        const gs = r.started.get(m) ?? []
        const named = new Set<number>()
        for (const op of a.ops) {
          lines.push(`${goroutineOf(op, gs, named)} [${op.reason}]:`, `\t${where}`, `\t${op.what}`, '')
        }
        for (const g of gs) {
          if (named.has(g.gid)) continue
          lines.push(`goroutine G${g.gid} (task ${g.name}) [waiting]:`, `\t${where}`, '\tawaiting a promise nothing can settle, or an op listed above', '')
        }
      }
    }
    return lines.join('\n')
  }
}

/** Names the goroutine of an op on an M: its G when known, the M's only started G, else unknown. */
function goroutineOf(op: DeadOp, gs: readonly StartedG[], named: Set<number>): string {
  if (op.local !== undefined) return op.local
  const g = op.g >= 0 ? gs.find((x) => x.gid === op.g) : gs.length === 1 ? gs[0] : undefined
  if (g === undefined) return op.g >= 0 ? `goroutine G${op.g}` : 'goroutine ?'
  named.add(g.gid)
  return `goroutine G${g.gid} (task ${g.name})`
}

function fatal(report: string): void {
  process.stderr.write(report)
  process.exit(2)
}

/** The process's one checker (main thread only). */
export const checker = new Checker()

if (isMainThread) {
  setHoldHook((held) => checker.setMainHeld(held))
  // On main, a sleeping op names the local goroutine that started it, or the main program (1)
  // when no goroutine of src/chan is live; unknown otherwise.
  setGoroutineHint(() => (currentG !== null ? currentG.id : goroutineCount() === 0 ? 1 : -1))
  setGoroutineNamer(() => currentG?.name)
}

/**
 * Step 2 of a check for one runtime: its shared words, appended to `sig`. Fills `started` (per M,
 * its started Gs) and `owning` (Ms that own an unsettled G). Returns why something may still run
 * there, or null when every M sleeps and no G waits to run.
 */
export function sampleRuntime(
  s: Sched, ms: Iterable<[m: number, ready: boolean]>, sig: number[], started: Map<number, StartedG[]>, owning: Set<number>,
): string | null {
  const I = s.I
  const l = s.l
  if (Atomics.load(I, H_NMSPINNING) !== 0) return 'an M spins'
  if (s.q.globalSize() > 0) return 'the global queue holds a G'
  for (let p = 0; p < l.procs; p++) {
    if (s.q.localSize(p) > 0) return `P ${p} holds a G`
    sig.push(Atomics.load(I, pOff(l, p) + P_TICK))
  }
  sig.push(Atomics.load(I, doorbell(l, 0)))
  for (const [m, ready] of ms) {
    if (!ready) return `M ${m} is starting`
    const st = mState(I, l, m)
    if (!isParked(st)) return `M ${m} is ${MS_NAMES[st] ?? st}`
    const o = oOff(l, m)
    if (Atomics.load(I, o + O_HANDOFF) !== 0 || Atomics.load(I, o + O_OUTBOX_N) !== 0 || Atomics.load(I, o + O_LOADING) !== 0) {
      return `M ${m} has a hand-off, results or an import in flight`
    }
    sig.push(m, st, Atomics.load(I, o + O_DOORBELL))
  }
  // Only the records each owner ever allocated (gUsed): the rest are free and never written.
  for (let owner = 0; owner <= l.maxM; owner++) {
    const used = gUsed(I, l, owner)
    for (let gid = used.first; gid < used.end; gid++) {
      const go = gOff(l, gid)
      const st = Atomics.load(I, go + G_STATE)
      if (st === GS_FREE) continue
      if (owner !== 0) owning.add(owner)
      sig.push(gid, st) // any G made, started or finished between two checks changes the signature
      if (st === GS_QUEUED) return `G ${gid} waits to run`
      if (st === GS_RUNNING || st === GS_CLAIMED) {
        // A cancelled G that still runs may yet end (its signal, a kill timer): not still.
        if (cancelFlagged(I, go)) return `G ${gid} is cancelled and still runs`
        const m = I[go + G_M]!
        let gs = started.get(m)
        if (gs === undefined) started.set(m, (gs = []))
        gs.push({ gid, name: taskName(s.tasks.keyOf(I[go + G_TASK]!)) })
      }
    }
  }
  return null
}

/** A task's key (module URL # export) as the report shows it: file#export. */
function taskName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1)
}
