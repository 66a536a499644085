/**
 * The job variables a streaming process finds in its environment. Hadoop Streaming exports the
 * job's configuration with every character other than [A-Za-z0-9] turned into '_'
 * (PipeMapRed.safeEnvVarName), so `mapreduce.map.input.file` is `mapreduce_map_input_file`; these
 * are the ones a task's own settings give, with the same names and the same shapes of values:
 * ids as Hadoop's (`task_gort_0001_m_000003`, attempts counted from 0), booleans as true/false.
 */

/** Hadoop's job id for a gort job: one job per runJob, so always the first of a `gort` tracker. */
export const JOB_ID = 'job_gort_0001'

export interface TaskEnvInput {
  readonly phase: 'map' | 'reduce'
  readonly task: number
  /** gort's attempt, from 1. */
  readonly attempt: number
  readonly reducers: number
  /** Map tasks: the split. */
  readonly file?: string
  readonly start?: number
  readonly length?: number
}

/** `task_gort_0001_m_000003`. */
export function hadoopTaskId(phase: 'map' | 'reduce', task: number): string {
  return `task_gort_0001_${phase === 'map' ? 'm' : 'r'}_${String(task).padStart(6, '0')}`
}

export function taskEnv(t: TaskEnvInput): Record<string, string> {
  const id = hadoopTaskId(t.phase, t.task)
  const env: Record<string, string> = Object.create(null) as Record<string, string>
  env['mapreduce_job_id'] = JOB_ID
  env['mapreduce_job_reduces'] = String(t.reducers)
  env['mapreduce_task_id'] = id
  env['mapreduce_task_attempt_id'] = `attempt${id.slice('task'.length)}_${t.attempt - 1}`
  env['mapreduce_task_partition'] = String(t.task)
  env['mapreduce_task_ismap'] = String(t.phase === 'map')
  if (t.file !== undefined) env['mapreduce_map_input_file'] = t.file
  if (t.start !== undefined) env['mapreduce_map_input_start'] = String(t.start)
  if (t.length !== undefined) env['mapreduce_map_input_length'] = String(t.length)
  // Hadoop 1's names, which Hadoop 2 and later still set beside the new ones (Configuration sets
  // a deprecated key's old names too), and which older scripts read.
  for (const [old, name] of LEGACY) if (env[name] !== undefined) env[old] = env[name]
  return env
}

/** Hadoop 1's names of these variables (Hadoop's deprecation table), and the new name each stands for. */
const LEGACY: readonly (readonly [string, string])[] = [
  ['map_input_file', 'mapreduce_map_input_file'], ['map_input_start', 'mapreduce_map_input_start'], ['map_input_length', 'mapreduce_map_input_length'],
  ['mapred_job_id', 'mapreduce_job_id'], ['mapred_reduce_tasks', 'mapreduce_job_reduces'], ['mapred_tip_id', 'mapreduce_task_id'],
  ['mapred_task_id', 'mapreduce_task_attempt_id'], ['mapred_task_partition', 'mapreduce_task_partition'], ['mapred_task_is_map', 'mapreduce_task_ismap'],
]
