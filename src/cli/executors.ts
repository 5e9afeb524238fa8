// `--executor NAME` (or RETHINK_EXECUTOR): where `rethink run` runs its stages. `local` in its own
// process (the default); `subprocess` each in a child `rethink exec` that a timeout or Ctrl-C can
// always stop; `slurm` and `queue` each as a job on other machines (a Slurm cluster, BullMQ workers on
// Redis) that share only the remote, which they need. Stages placed `local` stay on this machine.
import { CLI_ENTRY } from '../exec/cli-entry.js';
import { UserError } from '../util/user-error.js';
import { InProcessRunner, type Runner } from '../exec/runner.js';
import type { Runners } from '../exec/executor.js';
import type { EngineContext, JobEngine, QueueEngineOptions, SlurmEngineOptions } from '../exec/engine.js';
import type { Plan } from '../plan/plan.js';
import type { LocalStore } from '../store/local.js';
import type { TieredStore } from '../store/tiered.js';
import { errorText } from '../util/error-text.js';
import { localOf } from './workspace.js';
import type { FlagSpec } from './args.js';
import { ENV } from '../util/env.js';

export const EXECUTORS = ['local', 'subprocess', 'slurm', 'queue'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

/** The executors whose jobs run on other machines: they need the shared remote. */
const DISTRIBUTED: ReadonlySet<ExecutorName> = new Set(['slurm', 'queue']);

/** How many jobs a distributed executor keeps in flight unless `--jobs` says. */
export const DEFAULT_REMOTE_JOBS = 100;

export const executorFlags = {
  executor: {
    type: 'string',
    value: 'NAME',
    help: `where stages run: local (in this process, the default), subprocess (each in a child \`rethink exec\`: a stage that blocks or crashes cannot stop the run), slurm (each an sbatch job) or queue (BullMQ workers, \`rethink worker\`); slurm and queue need --remote (or ${ENV.executor.name})`,
  },
  queue: { type: 'string', value: 'URL', help: `the Redis of --executor queue: redis://[:password@]host:6379/0, or rediss://… for TLS (or ${ENV.queue.name})` },
  'slurm-args': { type: 'string', value: 'ARGS', help: `more sbatch options for --executor slurm, after the pipeline's slurm: block ('--partition=gpu --qos=high') (or ${ENV.slurmArgs.name})` },
} as const satisfies Record<string, FlagSpec>;

export interface ExecutorFlags {
  readonly queue?: string | undefined;
  readonly 'slurm-args'?: string | undefined;
}

/** The flag's value, else the environment's, else `local`; anything else is a user error naming its source. */
export function executorName(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): ExecutorName {
  const fromEnv = ENV.executor.read(env);
  const [value, source] = flag !== undefined ? [flag, '--executor'] : fromEnv !== undefined && fromEnv !== '' ? [fromEnv, ENV.executor.name] : ['local', ''];
  if ((EXECUTORS as readonly string[]).includes(value)) return value as ExecutorName;
  throw UserError.of('E_BAD_FLAG', `${source} "${value}" is not an executor`, `executors: ${EXECUTORS.join(', ')}`);
}

export function isDistributed(name: ExecutorName): boolean {
  return DISTRIBUTED.has(name);
}

/** The runners of a run, and what to close once it is over (the engine's connections). */
export interface Executor {
  readonly runners: Runners;
  close(): Promise<void>;
}

export interface ExecutorSetup {
  readonly plan: Plan;
  readonly store: LocalStore | TieredStore;
  readonly flags: ExecutorFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A line for the user, on stderr. */
  readonly warn: (line: string) => void;
  /** Whether the remote is only read from (`--remote-read-only`, RETHINK_REMOTE_READ_ONLY). */
  readonly remoteReadOnly: boolean;
  /** A dry run computes nothing: a distributed executor's settings are checked, its engine not started. */
  readonly dryRun?: boolean;
}

export async function executorFor(name: ExecutorName, setup: ExecutorSetup): Promise<Executor> {
  const { plan, store } = setup;
  if (!isDistributed(name)) return { runners: { local: await localRunner(name, plan, store) }, close: async () => {} };
  const tiered = sharedRemote(name, store, setup.remoteReadOnly);
  const url = name === 'queue' ? queueUrl(setup.flags, setup.env) : undefined;
  // Stages placed `local` run in this process under a distributed executor.
  const runners = { local: new InProcessRunner(store) };
  if (setup.dryRun) return { runners, close: async () => {} };
  await probe(tiered);
  const context: EngineContext = {
    remote: tiered.remote,
    remoteUrl: tiered.remote.url,
    cacheDir: localOf(store).location,
    plan,
    rethink: [process.execPath, CLI_ENTRY],
    env: setup.env,
    warn: setup.warn,
  };
  const engine = name === 'slurm' ? await slurmEngine({ ...context, ...slurmArgs(setup.flags, setup.env) }) : await queueEngine({ ...context, url: url! });
  const { RemoteRunner } = await import('../exec/remote-runner.js');
  return { runners: { ...runners, remote: new RemoteRunner({ engine, store: tiered, plan }) }, close: async () => engine.close?.() };
}

async function localRunner(name: ExecutorName, plan: Plan, store: LocalStore | TieredStore): Promise<Runner> {
  if (name !== 'subprocess') return new InProcessRunner(store);
  const { SubprocessRunner } = await import('../exec/subprocess.js');
  return new SubprocessRunner({ plan, store, cacheDir: localOf(store).location });
}

/** The remote every job reads its inputs from and writes its results to: required, and writable. */
function sharedRemote(name: ExecutorName, store: LocalStore | TieredStore, readOnly: boolean): TieredStore {
  if (!('remote' in store)) {
    throw UserError.of(
      'E_NO_REMOTE',
      `--executor ${name} needs a shared remote: --remote URL (or ${ENV.remote.name})`,
      'its jobs run on other machines, which read their inputs from the remote and write their results there: s3://bucket/prefix, or a directory every machine mounts',
    );
  }
  if (readOnly) {
    throw UserError.of(
      'E_NO_REMOTE',
      `--executor ${name} writes job specs and inputs to the remote ${store.remote.url}, which is read-only here (--remote-read-only or ${ENV.remoteReadOnly.name})`,
      'run with write access to the remote',
    );
  }
  return store;
}

/** A remote that cannot be reached fails the run at its start, not each stage in turn. */
async function probe(store: TieredStore): Promise<void> {
  try {
    await store.remote.has('runs');
  } catch (e) {
    throw UserError.of(
      'E_REMOTE_UNREACHABLE',
      `cannot reach the remote ${store.remote.url}: ${errorText(e)}`,
      'check the URL, that the server is up and reachable from here, and its credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_S3 for a non-AWS server)',
    );
  }
}

function queueUrl(flags: ExecutorFlags, env: ExecutorSetup['env']): string {
  const url = flags.queue ?? ENV.queue.read(env);
  if (url === undefined || url.trim() === '') {
    throw UserError.of('E_BAD_FLAG', `--executor queue needs the Redis its workers take jobs from: --queue URL (or ${ENV.queue.name})`, 'redis://host:6379/0, redis://:password@host:6379/0, or rediss://… for TLS');
  }
  return url.trim();
}

function slurmArgs(flags: ExecutorFlags, env: ExecutorSetup['env']): { args?: string } {
  const args = flags['slurm-args'] ?? ENV.slurmArgs.read(env);
  return args === undefined || args.trim() === '' ? {} : { args };
}

async function slurmEngine(options: SlurmEngineOptions): Promise<JobEngine> {
  const { createSlurmEngine } = await import('../exec/engines/slurm.js');
  return createSlurmEngine(options);
}

async function queueEngine(options: QueueEngineOptions): Promise<JobEngine> {
  const { createQueueEngine } = await import('../exec/engines/queue.js');
  return createQueueEngine(options);
}
