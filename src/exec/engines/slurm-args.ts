// What `sbatch` is run with for one stage: the job's name (how a restarted coordinator finds it), its
// log, the stage's resources as sbatch options, the pipeline's `slurm:` block, `--slurm-args`, and the
// `--wrap` command that runs `rethink exec` against the remote. Pure, so that every mapping is tested
// without a cluster.
import { UserError } from '../../util/user-error.js';
import type { SlurmSettings } from '../../plan/plan.js';
import type { Resources } from '../../plan/resources.js';
import { shellQuote } from '../../util/shell.js';
import { ENV } from '../../util/env.js';

/** How a GPU stage asks for a GPU: a generic resource (`--gres=gpu:N`), or a node feature (`--constraint=gpu`). */
export type GpuRequest = { readonly kind: 'gres' } | { readonly kind: 'constraint'; readonly features: string };

/** Where a job keeps its local cache on the node: `$RETHINK_WORKER_CACHE` there, else a per-user folder in its TMPDIR. */
export const WORKER_CACHE = `"\${${ENV.workerCache.name}:-\${TMPDIR:-/tmp}/rethink-worker-$(id -u)}"`;

/** Seconds before the time limit at which the job gets SIGTERM (it checkpoints and stops); less for short limits. */
const TERM_BEFORE_END_S = 120;

export interface SbatchRequest {
  readonly key: string;
  readonly resources?: Resources | undefined;
  readonly settings?: SlurmSettings | undefined;
  /** `--slurm-args`, already split into words. */
  readonly extraArgs: readonly string[];
  readonly gpu: GpuRequest;
  /** The job's log file; `%j` becomes the job id. */
  readonly log: string;
  /** How to start rethink on a node (`[node, …/main.js]`). */
  readonly rethink: readonly string[];
  readonly remoteUrl: string;
}

/** The job name for a key: what `squeue -n` finds a job by, and the same on every coordinator. */
export function jobNameOf(key: string): string {
  return `rethink-${key.slice(0, 16)}`;
}

/** The arguments of `sbatch` (without the command itself) for one stage. */
export function sbatchArgs(request: SbatchRequest): string[] {
  const { resources, settings } = request;
  const needsGpu = resources?.gpu === 'required';
  const partition = needsGpu ? (settings?.gpuPartition ?? settings?.partition) : settings?.partition;
  return [
    '--parsable',
    '--requeue',
    ...['-J', jobNameOf(request.key)],
    ...['-o', request.log],
    // A requeued job appends to the log its first attempt wrote, rather than erasing it.
    '--open-mode=append',
    ...resourceArgs(resources, request.gpu),
    ...(partition === undefined ? [] : [`--partition=${partition}`]),
    ...(settings?.account === undefined ? [] : [`--account=${settings.account}`]),
    ...(settings?.args ?? []),
    ...request.extraArgs,
    ...['--wrap', wrapOf(request.rethink, request.key, request.remoteUrl)],
  ];
}

/** sbatch options for what a stage needs; `gpu: preferred` asks for nothing (Slurm cannot prefer). */
export function resourceArgs(resources: Resources | undefined, gpu: GpuRequest): string[] {
  if (resources === undefined) return [`--signal=B:TERM@${TERM_BEFORE_END_S}`];
  const args: string[] = [];
  if (resources.cores === 'all') args.push('--exclusive');
  else args.push(`--cpus-per-task=${resources.cores}`);
  if (resources.memoryMb !== undefined) args.push(`--mem=${Math.ceil(resources.memoryMb)}M`);
  let termBefore = TERM_BEFORE_END_S;
  if (resources.timeMs !== undefined) {
    const minutes = Math.max(1, Math.ceil(resources.timeMs / 60_000));
    args.push(`--time=${minutes}`);
    termBefore = Math.min(TERM_BEFORE_END_S, minutes * 30);
  }
  if (resources.gpu === 'required') {
    args.push(gpu.kind === 'gres' ? `--gres=gpu:${resources.gpus ?? 1}` : `--constraint=${gpu.features}`);
  }
  // B: signals the batch shell, which is `rethink exec` itself (the wrap `exec`s it).
  args.push(`--signal=B:TERM@${termBefore}`);
  return args;
}

/**
 * The job's shell command: `rethink exec` against the remote, with the node's cache folder. `exec`
 * makes rethink the batch shell, so that `--signal=B:TERM` and scancel's SIGTERM reach it directly.
 */
export function wrapOf(rethink: readonly string[], key: string, remoteUrl: string): string {
  const words = [...rethink, 'exec', '--key', key, '--remote', remoteUrl].map(shellQuote);
  return `exec ${words.join(' ')} --cache-dir ${WORKER_CACHE}`;
}

/** `RETHINK_SLURM_GPU` read: `gres` (or unset), `constraint` (the `gpu` feature), `constraint=<features>`. */
export function gpuRequestOf(value: string | undefined): GpuRequest {
  if (value === undefined || value === '' || value === 'gres') return { kind: 'gres' };
  if (value === 'constraint') return { kind: 'constraint', features: 'gpu' };
  const features = value.startsWith('constraint=') ? value.slice('constraint='.length) : undefined;
  if (features !== undefined && features !== '') return { kind: 'constraint', features };
  throw UserError.of(
    'E_SLURM_GPU',
    `${ENV.slurmGpu.name} "${value}" is not a way to ask Slurm for a GPU`,
    'use gres (--gres=gpu:N, the default), constraint (--constraint=gpu) or constraint=<features> for clusters that mark GPU nodes by feature',
  );
}
