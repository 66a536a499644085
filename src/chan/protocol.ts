/**
 * The select protocol: what a channel kind implements so that `select` and
 * `trySelect` can drive it. `Chan` (chan.ts, and with it the `after`/`tick`
 * timer channels) implements it here; `SharedChan` (src/scheduler) implements
 * it over shared memory. select.ts knows channels only through these symbols.
 *
 * A channel kind implements, under the symbols below:
 *   [RECV_READY]() / [SEND_READY]()  would the op complete now (or, for a send,
 *                                  throw: closed)? A hint that changes nothing
 *   [POLL_RECV](slot)              try a receive now; true and `slot` filled, or false (would block)
 *   [POLL_SEND](value)             try a send now; true, or false (would block); throws
 *                                  ChanClosedError on a closed channel (Go's panic)
 *   [ENQUEUE_RECV](sel, i)         publish a waiter for case i of `sel`; returns it (opaque)
 *   [ENQUEUE_SEND](sel, i, value)  the same for a send case offering `value`
 *   [WITHDRAW](waiter)             unpublish a waiter; a no-op if it is already gone
 *   [DESCRIBE]()                   one line naming the channel, for the deadlock report
 * and select hands each enqueue a `Selector`: claim(i), claimed(),
 * fire(i, value, ok), fail(i, error), doneWord().
 *
 * How a select runs (Go's selectgo, passes 1 to 3):
 *   1. Poll, in a uniformly random order. select reads every case's readiness
 *      hint and keeps one of the ready cases by reservoir sampling (the k-th
 *      ready case replaces the pick with probability 1/k: uniform, one pass,
 *      no permutation array), then polls only the pick. If that poll fails (a
 *      hint can be stale only when another thread raced us), select polls every
 *      case in a uniformly random permutation (Go's pollorder, built lazily by
 *      Fisher-Yates) and takes the first that succeeds. Either way the choice
 *      is uniform among the ready cases, whatever their kinds. A poll that
 *      throws (send on a closed channel) ends the select with that error.
 *      trySelect stops here.
 *   2. Enqueue: one waiter per non-null case, in case order, all carrying the
 *      same Selector; the select then parks.
 *   3. Fire: the partner that takes a waiter claims the select for that case
 *      and fires it; firing withdraws every case's waiter before it settles.
 *
 * Invariants (each channel kind must keep them; select keeps its own):
 * - Exactly one claim succeeds per select, over its whole life: `claim(i)`
 *   returns true to one caller only, and a cancelled select has been claimed
 *   by its abort. A channel calls claim when it takes a select waiter out of
 *   its queue, BEFORE it moves a value: for a receive case before handing the
 *   value over, for a send case before taking the waiter's value.
 * - A failed claim leaves no trace: the select was won by another case (maybe
 *   on another thread, not yet fired) or cancelled. The channel drops that
 *   waiter (it is stale; the select's own withdraw will find it gone), keeps
 *   its value, and goes on to its next waiter or its buffer as if the stale
 *   one had never been queued.
 * - After a successful claim, the claimer settles the select exactly once:
 *   `fire(i, value, ok)` for a receive (ok=false: closed) or a completed send
 *   (value undefined, ok=true), `fail(i, error)` for a send case whose channel
 *   was closed. Precondition of both: the case's waiter is already out of the
 *   channel's queue and, for a send, its value taken. fire/fail withdraw every
 *   case (WITHDRAW on each channel, the firing one included), so WITHDRAW must
 *   be idempotent.
 * - Selector methods are called on the select's own thread only. A claimer on
 *   another thread claims through the done word (below) and has an agent on the
 *   select's thread call fire/fail; until then, local channels see the select as
 *   claimed and skip its waiters.
 * - A poll that returns false changed nothing. A poll that returns true has
 *   completed the op (a receive filled `slot`; a send delivered or buffered).
 * - A readiness hint changes nothing and claims nothing (a select waiter counts
 *   as a partner only while `claimed()` is false). It is exact for a channel
 *   only this thread touches; for a shared one it may be stale in either
 *   direction, which costs a fallback poll (true but not ready) or an enqueue
 *   that completes at once (false but ready), never correctness.
 * - Enqueue may find the op can now complete (another thread made the channel
 *   ready since the poll): it may then claim and fire `sel` at once, and the
 *   select stops enqueueing. A waiter never pairs with a waiter of its own
 *   select (`w.sel === sel`): Go's select never rendezvous with itself.
 * - After WITHDRAW returns, no thread can reach the waiter any more, so no
 *   thread will claim or fire through it.
 *
 * The done word. A select that only has same-thread channels keeps its state in
 * a plain field: JavaScript runs the claim, the fire and the withdrawal of the
 * other cases in one synchronous step, and no one else can look in between. A
 * channel whose partners live on other threads calls `doneWord()` while
 * enqueueing (before the select parks, so no one has claimed yet); from then on
 * the state lives in an Int32Array cell and every claim, local or remote, is one
 * `Atomics.compareExchange(cells, index, DONE_OPEN, i + 1)`: Go's selectDone.
 * Values: DONE_OPEN (0); i + 1 once case i has won; DONE_CANCELLED (-1) once an
 * abort has. The first channel to ask may supply the cell (in memory it already
 * shares with the other threads); otherwise the select allocates one.
 */
/** Whether a receive would complete now: `[RECV_READY](): boolean`, a hint that changes nothing. */
export const RECV_READY: unique symbol = Symbol.for('gort.chan.recvReady')
/** Whether a send would complete (or throw: closed) now: `[SEND_READY](): boolean`, a hint. */
export const SEND_READY: unique symbol = Symbol.for('gort.chan.sendReady')
/** Try a receive now: `[POLL_RECV](slot): boolean`. */
export const POLL_RECV: unique symbol = Symbol.for('gort.chan.pollRecv')
/** Try a send now: `[POLL_SEND](value): boolean`; throws ChanClosedError if closed. */
export const POLL_SEND: unique symbol = Symbol.for('gort.chan.pollSend')
/** Publish a receive waiter of a select: `[ENQUEUE_RECV](sel, index): SelectWaiter`. */
export const ENQUEUE_RECV: unique symbol = Symbol.for('gort.chan.enqueueRecv')
/** Publish a send waiter of a select: `[ENQUEUE_SEND](sel, index, value): SelectWaiter`. */
export const ENQUEUE_SEND: unique symbol = Symbol.for('gort.chan.enqueueSend')
/** Unpublish a select waiter: `[WITHDRAW](waiter): void`, idempotent. */
export const WITHDRAW: unique symbol = Symbol.for('gort.chan.withdraw')
/** One line naming the channel, for reports: `[DESCRIBE](): string`. */
export const DESCRIBE: unique symbol = Symbol.for('gort.chan.describe')

/** The done word's value while no case has won. */
export const DONE_OPEN = 0
/** The done word's value once an abort has claimed the select. */
export const DONE_CANCELLED = -1

/** Where a successful receive poll leaves its result. */
export interface RecvSlot<T = unknown> {
  value: T | undefined
  /** false: the channel is closed and drained (value undefined). */
  ok: boolean
}

/** A waiter as its channel made it; select only hands it back to WITHDRAW. */
export type SelectWaiter = object

/** A select's done word in shared memory: `cells[index]`. */
export interface DoneWord {
  readonly cells: Int32Array
  readonly index: number
  /**
   * Called once the select is settled and every case withdrawn, so that a
   * supplier that pools its cells may reuse this one; absent for a fresh cell.
   */
  readonly release?: (() => void) | undefined
}

/** What a channel sees of a blocked select (all calls on the select's thread). */
export interface Selector {
  /**
   * The select's AbortSignal, if it has one; set before the select parks (a channel reads it
   * later, e.g. so the deadlock check knows that a timeout may end the wait).
   */
  readonly signal?: AbortSignal | null
  /** Wins the select for case `index`; true for exactly one claim per select. */
  claim(index: number): boolean
  /** Whether some claim (a case's or the abort's) has succeeded; for readiness hints. */
  claimed(): boolean
  /** Settles a select claimed for `index` with the case's result. */
  fire(index: number, value: unknown, ok: boolean): void
  /** Settles a select claimed for `index` by rejecting (a send case's channel closed). */
  fail(index: number, error: unknown): void
  /**
   * Moves the select's state to a shared cell that other threads can claim by
   * CAS, and returns it; every later call returns the same cell. `supply`, if
   * given and no cell exists yet, provides it (its value must be DONE_OPEN).
   * Precondition: called from an ENQUEUE_* method.
   */
  doneWord(supply?: () => DoneWord): DoneWord
}

/** A channel that select can receive from. */
export interface Receivable<T> {
  [RECV_READY](): boolean
  [POLL_RECV](slot: RecvSlot<T>): boolean
  [ENQUEUE_RECV](sel: Selector, index: number): SelectWaiter
  [WITHDRAW](waiter: SelectWaiter): void
  [DESCRIBE](): string
}

/** A channel that select can send to. */
export interface Sendable<T> {
  [SEND_READY](): boolean
  [POLL_SEND](value: T): boolean
  [ENQUEUE_SEND](sel: Selector, index: number, value: T): SelectWaiter
  [WITHDRAW](waiter: SelectWaiter): void
  [DESCRIBE](): string
}

/** Whether `x` implements the receive side of the protocol (a runtime check of shape only). */
export function isReceivable(x: unknown): x is Receivable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as Receivable<unknown>)[POLL_RECV] === 'function'
}

/** Whether `x` implements the send side of the protocol (a runtime check of shape only). */
export function isSendable(x: unknown): x is Sendable<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as Sendable<unknown>)[POLL_SEND] === 'function'
}

/**
 * The claim a thread without the Selector object makes: one CAS on the done
 * word, from DONE_OPEN to `index + 1`. True for exactly one claimer.
 */
export function claimDoneWord(cells: Int32Array, at: number, index: number): boolean {
  return Atomics.compareExchange(cells, at, DONE_OPEN, index + 1) === DONE_OPEN
}

