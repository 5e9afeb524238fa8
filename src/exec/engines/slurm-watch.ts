// Watches the coordinator's Slurm jobs: one `squeue` per interval for all of them (never one per job),
// and for a job that has left the queue, `scontrol show job` (the controller keeps it `MinJobAge`),
// then `sacct` if the cluster has accounting (probed once, never required). A job seen running says
// where; one seen waiting again after it ran was requeued (its node failed, it was preempted) and is
// still watched; one that has ended is reported with what its end means for the stage.
import { open } from 'node:fs/promises';
import type { EngineOutcome } from '../engine.js';
import { complaint, type SlurmCommand } from './slurm-commands.js';
import { isFinal, outcomeOf, parseSacct, parseScontrolJob, parseSqueue, SQUEUE_FORMAT, type JobState } from './slurm-status.js';

export interface WatchedJob {
  readonly id: string;
  /** Its log file, `%j` already replaced, for the tail a failure quotes. */
  readonly log: string;
  /** Each time it starts running on a node (again, after a requeue). */
  placed(node: string): void;
  /** Once, when it has ended. */
  done(outcome: EngineOutcome): void;
}

/** How often the queue is asked. */
export const POLL_MS = 1000;
/** How long the controller may be unreachable before the jobs are given up as lost. */
const OUTAGE_MS = 5 * 60_000;
/** How much of a failed job's log its reason quotes. */
const LOG_TAIL_BYTES = 2000;
const LOG_TAIL_LINES = 12;

interface Entry {
  readonly job: WatchedJob;
  /** The node last reported (undefined: not reported since it last waited). */
  node?: string | undefined;
}

export class SlurmWatch {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Since when squeue has been failing, and whether the user was told. */
  private outage: { readonly since: number; told: boolean } | undefined;
  /** Whether `sacct` answers here; asked the first time a job is unknown to the controller. */
  private sacct: boolean | undefined;

  constructor(
    private readonly run: SlurmCommand,
    private readonly warn: (line: string) => void,
    private readonly intervalMs = POLL_MS,
  ) {}

  add(job: WatchedJob): void {
    this.entries.set(job.id, { job });
    this.schedule();
  }

  /** Stops watching a job (it was cancelled); reports nothing more for it. */
  remove(id: string): void {
    this.entries.delete(id);
  }

  /** Stops watching every job, reporting each as lost with `reason`. */
  close(reason: string): void {
    for (const { job } of this.entries.values()) job.done({ state: 'lost', reason: `slurm job ${job.id}: ${reason}` });
    this.entries.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.polling || this.entries.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = true;
      this.poll()
        .catch((e: unknown) => this.warn(`slurm: watching jobs failed: ${(e as Error).message}`))
        .finally(() => {
          this.polling = false;
          this.schedule();
        });
    }, this.intervalMs);
  }

  private async poll(): Promise<void> {
    const ids = [...this.entries.keys()];
    if (ids.length === 0) return;
    const result = await this.run('squeue', ['-h', '-j', ids.join(','), '-o', SQUEUE_FORMAT]);
    // squeue refuses a list of ids none of which it still holds: that is an empty answer, not an outage.
    if (result.code !== 0 && !/invalid job id/i.test(result.stderr)) return this.failedPoll(complaint(result));
    if (this.outage?.told) this.warn('slurm: squeue answers again');
    this.outage = undefined;
    const queued = new Map(parseSqueue(result.code === 0 ? result.stdout : '').map((j) => [j.id, j]));
    await Promise.all(
      ids.map(async (id) => {
        const entry = this.entries.get(id);
        if (entry === undefined) return;
        const seen = queued.get(id);
        if (seen !== undefined) return this.saw(entry, seen.state, seen.node);
        const final = await this.finalState(id);
        if (this.entries.get(id) !== entry) return; // cancelled meanwhile
        if (final === undefined) return this.end(entry, { state: 'lost', reason: `slurm job ${id} is gone: ${this.sacct === false ? 'neither squeue nor scontrol knows it, and this cluster keeps no accounting (sacct)' : 'Slurm does not know it'}` });
        if (!isFinal(final.state)) return this.saw(entry, final.state, final.node);
        if (entry.node === undefined && final.node !== undefined) entry.job.placed(final.node);
        this.end(entry, outcomeOf(id, final, await logTail(final.log ?? entry.job.log)));
      }),
    );
  }

  /** A job still in the queue: running somewhere (report a new place), or waiting (again). */
  private saw(entry: Entry, state: string, node: string | undefined): void {
    if (state === 'RUNNING' && node !== undefined && node !== entry.node) {
      entry.node = node;
      entry.job.placed(node);
    } else if (state === 'PENDING' || state.startsWith('REQUEUE')) {
      if (entry.node !== undefined) this.warn(`slurm job ${entry.job.id} was requeued after running on ${entry.node}; it waits to run again`);
      entry.node = undefined;
    }
  }

  private end(entry: Entry, outcome: EngineOutcome): void {
    this.entries.delete(entry.job.id);
    entry.job.done(outcome);
  }

  /** The state of a job no longer in the queue: the controller's, else accounting's; undefined if neither knows it. */
  private async finalState(id: string): Promise<JobState | undefined> {
    const shown = await this.run('scontrol', ['-o', 'show', 'job', id]);
    const state = shown.code === 0 ? parseScontrolJob(shown.stdout) : undefined;
    if (state !== undefined || this.sacct === false) return state;
    const acct = await this.run('sacct', ['-n', '-P', '-X', '-j', id, '-o', 'State,ExitCode,NodeList']).catch(() => undefined);
    this.sacct = acct !== undefined && acct.code === 0;
    return this.sacct && acct !== undefined ? parseSacct(acct.stdout) : undefined;
  }

  private failedPoll(why: string): void {
    const now = Date.now();
    this.outage ??= { since: now, told: false };
    if (!this.outage.told) {
      this.outage.told = true;
      this.warn(`slurm: squeue failed (${why}); still trying`);
    }
    if (now - this.outage.since >= OUTAGE_MS) this.close(`squeue has failed for ${Math.round(OUTAGE_MS / 60_000)} minutes (${why})`);
  }
}

/** The last lines of a job's log, if this machine can read it (a shared filesystem). */
async function logTail(path: string): Promise<string | undefined> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const start = Math.max(0, size - LOG_TAIL_BYTES);
      const { buffer, bytesRead } = await file.read(Buffer.alloc(size - start), 0, size - start, start);
      if (bytesRead === 0) return undefined;
      const lines = buffer.subarray(0, bytesRead).toString('utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES);
      return [`log ${path}:`, ...lines.map((l) => `  ${l}`)].join('\n');
    } finally {
      await file.close();
    }
  } catch {
    return undefined;
  }
}
