// `--executor slurm`: each stage is one `sbatch --parsable --requeue` job running `rethink exec` against
// the shared remote. A job is named after its key, so a restarted (or second) coordinator finds it in
// the queue and attaches instead of submitting it twice; its state comes from `squeue`/`scontrol`
// (slurm-watch.ts), its success from the run record the job uploads (the runner reads it).
//
// The job's local cache on the node is `$RETHINK_WORKER_CACHE` where the node's environment sets it
// (a scratch disk), else `${TMPDIR:-/tmp}/rethink-worker-<uid>`: one per user and node, shared by
// that node's jobs (leases keep two of them from computing one key) so that an input is fetched once
// per node. Its log is `<cacheDir>/slurm/<key>-<jobid>.log`, on the coordinator's cache: on a cluster
// that is a shared filesystem, and a failed job's reason quotes the log's last lines.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../util/user-error.js';
import { ShellWordsError, splitShellWords } from '../../util/shell.js';
import type { EngineJob, EngineOutcome, JobEngine, SlurmEngineOptions } from '../engine.js';
import type { JobSpec } from '../job-spec.js';
import { gpuRequestOf, jobNameOf, sbatchArgs, type GpuRequest } from './slurm-args.js';
import { complaint, slurmCommand, type CommandResult, type SlurmCommand } from './slurm-commands.js';
import { isFinal, parseSqueue, SQUEUE_FORMAT, type QueuedJob } from './slurm-status.js';
import { SlurmWatch } from './slurm-watch.js';
import { ENV } from '../../util/env.js';

export async function createSlurmEngine(options: SlurmEngineOptions): Promise<JobEngine> {
  const run = slurmCommand(options.env);
  await reachable(run, options.env['SLURM_CONF']);
  const gpu = gpuRequestOf(ENV.slurmGpu.read(options.env));
  const extraArgs = slurmArgsOf(options.args);
  const logDir = join(options.cacheDir, 'slurm');
  await mkdir(logDir, { recursive: true });
  return new SlurmEngine(options, run, gpu, extraArgs, logDir);
}

/** Slurm's commands are installed and the controller answers; else a user error that says what to check. */
async function reachable(run: SlurmCommand, conf: string | undefined): Promise<void> {
  // Slurm's commands wait a minute for a configuration file that is not there.
  if (conf !== undefined && conf !== '' && !existsSync(conf)) {
    throw UserError.of('E_SLURM_CONF', `SLURM_CONF is ${conf}, and there is no such file`, "point SLURM_CONF at the cluster's slurm.conf, or unset it to use the default (/etc/slurm/slurm.conf)");
  }
  await run('sbatch', ['--version']); // rejects with a user error when sbatch is not installed
  const probe = await run('squeue', ['-h', '--me', '-o', '%i']);
  if (probe.code !== 0) {
    throw UserError.of(
      'E_SLURM_UNREACHABLE',
      `--executor slurm cannot reach the Slurm controller: squeue says "${complaint(probe)}"`,
      'check that slurmctld runs and that this machine may submit to it (SLURM_CONF or /etc/slurm/slurm.conf, munged, the controller address)',
    );
  }
}

/** `--slurm-args`, split as sh would; a string sh could not read is a user error. */
function slurmArgsOf(args: string | undefined): string[] {
  if (args === undefined) return [];
  try {
    return splitShellWords(args);
  } catch (e) {
    if (!(e instanceof ShellWordsError)) throw e;
    throw UserError.of('E_SLURM_ARGS', `--slurm-args "${args}" is not a list of sbatch options: ${e.message}`, `quote it as for a shell: --slurm-args '--qos=high --constraint="a|b"' (or the same in RETHINK_SLURM_ARGS)`);
  }
}

/** sbatch errors that say the controller is busy or unreachable, not that the job is wrong: the job is lost, and retried. */
const TRANSIENT = /unable to contact slurm controller|socket timed out|temporarily unavailable|connection refused|zero bytes were transmitted|slurmctld.*(busy|not responding)/i;

/** One Slurm job as the engine tracks it; every EngineJob for it (a second submit attaches) shares this. */
interface Tracked {
  readonly id: string;
  readonly outcome: Promise<EngineOutcome>;
  /** Settles `outcome` (once: later calls do nothing) and forgets the job. */
  readonly finish: (outcome: EngineOutcome) => void;
  readonly listeners: ((where: string) => void)[];
  place?: string;
  ended: boolean;
}

class SlurmEngine implements JobEngine {
  readonly name = 'slurm';
  private readonly watch: SlurmWatch;
  /** Jobs this coordinator watches, by key. */
  private readonly byKey = new Map<string, Tracked>();

  constructor(
    private readonly options: SlurmEngineOptions,
    private readonly run: SlurmCommand,
    private readonly gpu: GpuRequest,
    private readonly extraArgs: readonly string[],
    private readonly logDir: string,
  ) {
    this.watch = new SlurmWatch(run, options.warn);
  }

  async submit(spec: JobSpec, _specPath: string, signal: AbortSignal): Promise<EngineJob> {
    signal.throwIfAborted();
    const key = spec.key;
    const mine = this.byKey.get(key);
    if (mine !== undefined && !mine.ended) return this.view(mine, true);
    const name = jobNameOf(key);
    const queued = await this.queued(name);
    if (queued[0] !== undefined) return this.view(this.track(key, queued[0].id, undefined), true);

    const log = join(this.logDir, `${key}-%j.log`);
    const resources = spec.resources ?? this.options.plan.instances.get(spec.stage.id)?.resources;
    const args = sbatchArgs({
      key,
      resources,
      settings: this.options.plan.slurm,
      extraArgs: this.extraArgs,
      gpu: this.gpu,
      log,
      rethink: this.options.rethink,
      remoteUrl: this.options.remoteUrl,
    });
    const result = await this.run('sbatch', args);
    if (result.code !== 0) return refused(spec, result);
    const id = result.stdout.trim().split(';')[0]!; // --parsable: `id` or `id;cluster`

    // Another coordinator may have submitted the same key at the same moment: the oldest job wins,
    // on both, and the newer one is cancelled before it runs.
    const oldest = (await this.queued(name))[0];
    if (oldest !== undefined && Number(oldest.id) < Number(id)) {
      await this.run('scancel', [id]);
      return this.view(this.track(key, oldest.id, undefined), true);
    }
    const job = this.view(this.track(key, id, log.replace('%j', id)), false);
    // Ctrl-C while sbatch ran: the runner never saw this job, so it is cancelled here (no orphan).
    if (signal.aborted) await job.cancel();
    return job;
  }

  async close(): Promise<void> {
    this.watch.close('the coordinator stopped watching it');
  }

  /**
   * Jobs named `name` that will still run or are running, oldest first. Not one that is COMPLETING:
   * it is ending (cancelled by a coordinator's Ctrl-C, say) and would only be reported lost.
   */
  private async queued(name: string): Promise<QueuedJob[]> {
    const result = await this.run('squeue', ['-h', '-n', name, '-o', SQUEUE_FORMAT]);
    if (result.code !== 0) throw new Error(`squeue -n ${name} failed: ${complaint(result)}`);
    return parseSqueue(result.stdout)
      .filter((job) => job.state !== 'COMPLETING' && !isFinal(job.state))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  private track(key: string, id: string, log: string | undefined): Tracked {
    let resolve!: (outcome: EngineOutcome) => void;
    const outcome = new Promise<EngineOutcome>((r) => (resolve = r));
    const tracked: Tracked = {
      id,
      outcome,
      listeners: [],
      ended: false,
      finish: (result) => {
        if (tracked.ended) return;
        tracked.ended = true;
        if (this.byKey.get(key) === tracked) this.byKey.delete(key);
        resolve(result);
      },
    };
    this.byKey.set(key, tracked);
    this.watch.add({
      id,
      log: log ?? join(this.logDir, `${key}-${id}.log`),
      // The node alone: the runner adds the engine and job id (`n2 (slurm 1234)`).
      placed: (node) => {
        tracked.place = node;
        for (const listener of tracked.listeners) listener(tracked.place);
      },
      done: tracked.finish,
    });
    return tracked;
  }

  private view(tracked: Tracked, attached: boolean): EngineJob {
    return {
      id: tracked.id,
      attached,
      outcome: tracked.outcome,
      onPlacement: (listener) => {
        tracked.listeners.push(listener);
        if (tracked.place !== undefined) listener(tracked.place);
      },
      // Slurm has no progress channel: the runner reads the job's progress file on the remote.
      onProgress: () => {},
      cancel: async () => {
        if (tracked.ended) return;
        const result = await this.run('scancel', [tracked.id]);
        if (result.code !== 0) this.options.warn(`slurm: scancel ${tracked.id} failed: ${complaint(result)}`);
        // The watch no longer reports it: its outcome is settled here.
        this.watch.remove(tracked.id);
        tracked.finish({ state: 'lost', reason: `slurm job ${tracked.id} was cancelled (scancel)` });
      },
    };
  }
}

/**
 * A job sbatch would not take. A controller that is busy or unreachable loses the job (the runner may
 * try again); anything else is the job's options (a partition, account or constraint the cluster does
 * not have): a user error that quotes sbatch.
 */
function refused(spec: JobSpec, result: CommandResult): EngineJob {
  const why = complaint(result);
  const outcome: EngineOutcome = TRANSIENT.test(why)
    ? { state: 'lost', reason: `sbatch could not submit stage ${spec.stage.id}: ${why}` }
    : {
        state: 'failed',
        userError: true,
        reason: `sbatch refused stage ${spec.stage.id}: ${why} (check the pipeline's slurm: block, --slurm-args and the stage's resources)`,
      };
  return {
    id: 'sbatch',
    attached: false,
    outcome: Promise.resolve(outcome),
    onPlacement: () => {},
    onProgress: () => {},
    cancel: async () => {},
  };
}
