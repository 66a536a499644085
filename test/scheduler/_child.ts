// Runs fixtures/deadlock.ts as a whole program in a child process (deadlock*.test.ts).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const program = fileURLToPath(new URL('./fixtures/deadlock.ts', import.meta.url))

/** Runs the program with `args`; a child that outlives `killMs` is killed (code null) so a hang fails its test. */
export function runDeadlockProgram(args: string[], env: Record<string, string> = {}, killMs = 60_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', program, ...args], {
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
