// gort's main entry: channels, select, timers and sync primitives (src/chan).
// Explicit named re-exports only, so the public surface is visible in one place.
export { GortError, InternalError } from './errors.js'
export {
  Chan,
  inspectChan,
  MAX_CHAN_CAP,
  select,
  trySelect,
  recv,
  send,
  go,
  goroutineCount,
  setDeadlockDetection,
  deadlockReport,
  parkedCount,
  YIELD_BUDGET,
  sleep,
  after,
  tick,
  Ticker,
  Mutex,
  RWMutex,
  WaitGroup,
  Once,
  ChanClosedError,
  SyncError,
} from './chan/index.js'
export type {
  OpOptions,
  RecvResult,
  ChanState,
  RecvCase,
  SendCase,
  SelectCase,
  SelectResult,
  ChanErrorCode,
  SyncErrorCode,
} from './chan/index.js'
