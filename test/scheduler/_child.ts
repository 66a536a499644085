// Runs a fixture as a whole program in a child process, for the tests whose subject is the
// process itself: how it exits, what it prints, whether it hangs (exit, deadlock, actors).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface ChildResult {
  /** The exit code; null when the child was killed for outliving killMs. */
  readonly code: number | null
  readonly out: string
  readonly err: string
}

/**
 * Runs `file` (a TypeScript program, under tsx) with `args`. A child that outlives `killMs` is
 * killed (code null), so a program that would never end fails its test instead of hanging the suite.
 */
export function runProgram(file: string, args: readonly string[], env: Record<string, string> = {}, killMs = 60_000): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: killMs,
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out, err }))
  })
}

const deadlockProgram = fileURLToPath(new URL('./fixtures/deadlock.ts', import.meta.url))

/** Runs fixtures/deadlock.ts with `args` (deadlock*.test.ts). */
export function runDeadlockProgram(args: string[], env: Record<string, string> = {}, killMs = 60_000): Promise<ChildResult> {
  return runProgram(deadlockProgram, args, env, killMs)
}
