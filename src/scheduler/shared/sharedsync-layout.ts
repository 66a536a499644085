/**
 * Memory layout and state names of the shared sync primitives (sharedsync*.ts): every word's
 * meaning and every state value, in one place.
 *
 * A primitive's SharedArrayBuffer is a header followed by zero or more wait queues:
 *
 *   header   [MAGIC, KIND, NWAIT, (kind's own words) ...]                      HDR words
 *   queue 0  [Q_STATE, Q_LOCK, HEAD, TAIL, LEN, FREE, FREESEQ, FREEWAIT] + NWAIT records
 *   queue 1  ...
 *
 * Each queue is read through its own Int32Array view starting at the queue, so Q_LOCK sits at
 * index H_LOCK of that view and sharedchan-wait.ts's lock()/unlock() serve it unchanged.
 *
 * | kind          | header words                     | queues                                   |
 * |---------------|----------------------------------|------------------------------------------|
 * | SharedMutex   | -                                | 0: the mutex (Q_STATE: MU_*)             |
 * | SharedSemaphore | H_SIZE                         | 0: the semaphore (Q_STATE: free permits)  |
 * | SharedRWMutex | H_READERS, H_READERWAIT          | 0: writers' mutex (MU_*), 1: writerSem,  |
 * |               |                                  | 2: readerSem (Q_STATE: Go's sema count)  |
 * | SharedWaitGroup | H_COUNT, H_GEN                 | none (waiters sleep on H_GEN)            |
 */

import { H_LOCK } from './sharedchan-layout.js'

export const MAGIC = 0x47535931 // 'GSY1'

/** Header words. */
export const H_MAGIC = 0
export const H_KIND = 1
export const H_NWAIT = 2 // records per queue
export const H_SIZE = 3 // SharedSemaphore: its size (permits in all)
export const H_READERS = 3 // SharedRWMutex: Go's readerCount (readers in, minus MAX_READERS while a writer is in or waits)
export const H_READERWAIT = 4 // SharedRWMutex: Go's readerWait (readers a waiting writer still waits for)
export const H_COUNT = 3 // SharedWaitGroup: the counter
export const H_GEN = 4 // SharedWaitGroup: bumped (and notified) each time the counter reaches 0
export const HDR = 8

export const KIND_MUTEX = 1
export const KIND_SEMAPHORE = 2
export const KIND_RWMUTEX = 3
export const KIND_WAITGROUP = 4
export const KIND_NAMES = ['', 'SharedMutex', 'SharedSemaphore', 'SharedRWMutex', 'SharedWaitGroup'] as const

/** Go's rwmutexMaxReaders: a writer subtracts it from H_READERS to announce itself. */
export const MAX_READERS = 1 << 30

/** Queue words (offsets in the queue's own view). */
export const Q_STATE = 0 // the primitive's word: MU_* for a mutex, free permits for a semaphore
export const Q_LOCK = 1 // the queue's lock: sharedchan-wait.ts's LK_FREE, LK_HELD, LK_CONTENDED
export const Q_HEAD = 2 // first queued record (index + 1), 0 when empty
export const Q_TAIL = 3
export const Q_LEN = 4 // records queued
export const Q_FREE = 5 // free list of records (index + 1): pushed lock-free, popped under Q_LOCK
export const Q_FREESEQ = 6 // bumped (and notified) when a record is freed while ops wait for one
export const Q_FREEWAIT = 7 // ops waiting for a free record
export const QHDR = 8

if (Q_LOCK !== H_LOCK) throw new Error('sharedsync-layout: Q_LOCK must be sharedchan-layout H_LOCK')

/** A waiter record (offsets from the record). */
export const R_STATE = 0 // RS_* below; leaves RS_WAITING only by CAS
export const R_NEXT = 1 // index + 1 of the next record in the queue or on the free list
export const R_PREV = 2
export const R_QUEUED = 3 // 1 while linked in the queue (written under Q_LOCK)
export const R_SLEEP = 4 // 1 once the owner sleeps in Atomics.waitAsync: a waker must notify
export const R_ARG = 5 // what it waits for: the weight of a semaphore acquire
export const R_OWNER = 6 // threadId of the owner (diagnostics)
export const RWORDS = 8

/** Record states. */
export const RS_FREE = 0 // on the free list
export const RS_WAITING = 1 // queued; its owner spins or sleeps on this word
export const RS_DONE = 2 // granted: the lock or the permits were handed to it
export const RS_CANCELLED = 3 // its owner withdrew it (abort) before anyone granted it
export const RS_NAMES = ['FREE', 'WAITING', 'DONE', 'CANCELLED'] as const

/** A mutex's Q_STATE (Drepper's three states, with a FIFO queue behind the third). */
export const MU_UNLOCKED = 0
export const MU_LOCKED = 1 // held, nobody queued: unlock is one CAS
export const MU_QUEUED = 2 // held, and the queue is not empty: unlock hands the lock to its head
export const MU_NAMES = ['UNLOCKED', 'LOCKED', 'QUEUED'] as const

export const DEFAULT_WAITERS = 256
export const MAX_WAITERS = 1 << 16

/** Words of a queue with `nwait` records. */
export const queueWords = (nwait: number): number => QHDR + nwait * RWORDS

/** Word index of queue `i` in a buffer whose queues have `nwait` records. */
export const queueAt = (nwait: number, i: number): number => HDR + i * queueWords(nwait)

/** Word offset of record `i` (0-based) in a queue's view. */
export const recordAt = (i: number): number => QHDR + i * RWORDS
