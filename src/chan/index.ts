// Public surface of src/chan: channels, select, goroutines, timers, sync.
// Explicit named re-exports only, so the API is visible in one place.
export { Chan, inspectChan, MAX_CHAN_CAP } from './chan.js'
export type { OpOptions, RecvResult, ChanState } from './chan.js'
export { select, trySelect, recv, send } from './select.js'
export type { RecvCase, SendCase, SelectCase, SelectResult } from './select.js'
export {
  POLL_RECV,
  POLL_SEND,
  RECV_READY,
  SEND_READY,
  ENQUEUE_RECV,
  ENQUEUE_SEND,
  WITHDRAW,
  DESCRIBE,
  DONE_OPEN,
  DONE_CANCELLED,
  claimDoneWord,
  isReceivable,
  isSendable,
} from './protocol.js'
export type { Receivable, Sendable, Selector, SelectWaiter, RecvSlot, DoneWord } from './protocol.js'
export { go, goroutineCount, setDeadlockDetection, deadlockReport } from './goroutine.js'
export { parkedCount } from './park.js'
export { YIELD_BUDGET } from './yield.js'
export { sleep, after, tick, Ticker } from './timers.js'
export { Mutex } from './sync/mutex.js'
export { RWMutex } from './sync/rwmutex.js'
export { WaitGroup } from './sync/waitgroup.js'
export { Once } from './sync/once.js'
export { ChanClosedError, SyncError } from './errors.js'
export type { ChanErrorCode, SyncErrorCode } from './errors.js'
