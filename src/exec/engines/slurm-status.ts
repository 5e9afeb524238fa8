// Reading Slurm's answers about jobs: `squeue` lines, `scontrol -o show job` and `sacct` records,
// and what a job's final state means for the stage (completed, failed, a user error, lost).
import type { EngineOutcome } from '../engine.js';
import { EXEC_EXIT } from '../engine.js';

/** The squeue format the engine asks for: id, state, node list (empty while pending). */
export const SQUEUE_FORMAT = '%i|%T|%N';

export interface QueuedJob {
  readonly id: string;
  readonly state: string;
  /** The node(s) it runs on; undefined while it waits. */
  readonly node?: string;
}

/** Lines of `squeue -h -o '%i|%T|%N'`. */
export function parseSqueue(stdout: string): QueuedJob[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [id = '', state = '', node = ''] = line.split('|');
      return { id, state, ...(node === '' || node === '(null)' ? {} : { node }) };
    });
}

/** A job's state as the controller or the accounting database last recorded it. */
export interface JobState {
  readonly state: string;
  /** The batch script's exit status, and the signal that ended it (0: none). */
  readonly exitCode: number;
  readonly signal: number;
  readonly node?: string;
  /** Where its output went, when the controller says. */
  readonly log?: string;
}

/** `scontrol -o show job <id>`: one line of `Key=Value` fields. */
export function parseScontrolJob(stdout: string): JobState | undefined {
  const field = (name: string) => new RegExp(`(?:^| )${name}=(\\S*)`).exec(stdout)?.[1];
  const state = field('JobState');
  if (state === undefined) return undefined;
  const [exitCode = 0, signal = 0] = (field('ExitCode') ?? '0:0').split(':').map(Number);
  const node = field('NodeList');
  const log = field('StdOut');
  return {
    state,
    exitCode,
    signal,
    ...(node === undefined || node === '(null)' ? {} : { node }),
    ...(log === undefined || log === '' ? {} : { log }),
  };
}

/** `sacct -n -P -X -j <id> -o State,ExitCode,NodeList`: `CANCELLED by 0|0:15|n1`. */
export function parseSacct(stdout: string): JobState | undefined {
  const line = stdout.split('\n').find((l) => l.trim() !== '');
  if (line === undefined) return undefined;
  const [state = '', exit = '0:0', node = ''] = line.trim().split('|');
  const [exitCode = 0, signal = 0] = exit.split(':').map(Number);
  return { state: state.split(' ')[0]!, exitCode, signal, ...(node === '' || node === 'None assigned' ? {} : { node }) };
}

/** States a job leaves: it will not run again on its own. */
const FINAL = new Set([
  'COMPLETED',
  'FAILED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'CANCELLED',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);

export function isFinal(state: string): boolean {
  return FINAL.has(state);
}

/**
 * What a finished job means for its stage. `rethink exec`'s exit code tells a user error (2, 3: never
 * retried) from a failed stage (1); a job Slurm took away (cancelled, its node failed, preempted
 * without being requeued) is lost, so the coordinator may run it again.
 */
export function outcomeOf(id: string, job: JobState, logTail: string | undefined): EngineOutcome {
  const where = job.node === undefined ? '' : ` on ${job.node}`;
  const what = `slurm job ${id} ${job.state}${where}`;
  const tail = logTail === undefined || logTail === '' ? '' : `\n${logTail}`;
  switch (job.state) {
    case 'COMPLETED':
      return { state: 'completed' };
    case 'FAILED': {
      const exit = job.signal === 0 ? `exit ${job.exitCode}` : `signal ${job.signal}`;
      const userError = job.signal === 0 && (job.exitCode === EXEC_EXIT.userError || job.exitCode === EXEC_EXIT.refused);
      return { state: 'failed', reason: `${what} (${exit})${tail}`, ...(userError ? { userError } : {}) };
    }
    case 'TIMEOUT':
      return { state: 'failed', reason: `${what}: it ran past its time limit (-t)${tail}` };
    case 'OUT_OF_MEMORY':
      return { state: 'failed', reason: `${what}: it used more memory than it asked for (--mem)${tail}` };
    case 'DEADLINE':
    case 'SPECIAL_EXIT':
      return { state: 'failed', reason: `${what}${tail}` };
    default:
      // CANCELLED, NODE_FAIL, PREEMPTED, BOOT_FAIL, REVOKED: not the stage's doing.
      return { state: 'lost', reason: `${what}${tail}` };
  }
}
