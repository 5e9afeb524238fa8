// The seam between `RemoteRunner` (remote-runner.ts) and the engines that run jobs on other machines
// (engines/slurm.ts, engines/queue.ts, engines/process.ts). An engine only starts, finds, watches and
// cancels jobs: each job runs `rethink exec` against the shared remote, which uploads the outputs and
// then the run record. So the remote, not the engine, says a stage succeeded: the record under
// `runs/<key>.json` is the commit marker, and an engine only has to say when a job failed or was lost.
import type { ProgressUpdate } from '../plugin/types.js';
import type { JobSpec } from './job-spec.js';
import type { Plan } from '../plan/plan.js';
import type { Remote } from '../store/remote.js';

export interface JobEngine {
  /** `slurm`, `queue`, `process`: shown in stage lines (`on n2 (slurm 1234)`). */
  readonly name: string;
  /**
   * Starts the job that runs this spec (already on the remote at `specPath`, relative to its root:
   * `jobSpecPathOf(key)`, `jobs/<key>/spec.json`), or attaches to one already queued or running for the same key (a
   * restarted coordinator, a second coordinator on the same sweep): never two jobs for one key.
   */
  submit(spec: JobSpec, specPath: string, signal: AbortSignal): Promise<EngineJob>;
  /** Stops watching; cancels nothing (Ctrl-C cancels each job through `EngineJob.cancel`). */
  close?(): Promise<void>;
}

export interface EngineJob {
  /** The engine's id for it: a Slurm job id, a BullMQ job id (the key). */
  readonly id: string;
  /** Whether `submit` found it already queued or running instead of starting it. */
  readonly attached: boolean;
  /**
   * Resolves when the engine is done with the job. `completed` means the job said it succeeded; the
   * runner still reads the record from the remote. Never rejects: an engine that cannot be asked
   * resolves `lost` with why.
   */
  readonly outcome: Promise<EngineOutcome>;
  /** Called with where the job runs each time that changes (a node, a worker's name). */
  onPlacement(listener: (where: string) => void): void;
  /** Progress the job reported through the engine (BullMQ job progress); Slurm's comes from the remote. */
  onProgress(listener: (update: ProgressUpdate) => void): void;
  /** Cancels it (scancel, removing it from the queue); resolves once the engine has taken the request. */
  cancel(): Promise<void>;
}

export type EngineOutcome =
  | { readonly state: 'completed' }
  /** The stage failed; `userError`: its input's fault (exit 2 or 3), never retried. */
  | { readonly state: 'failed'; readonly reason: string; readonly userError?: boolean }
  /** The engine gave up on it (cancelled, NODE_FAIL without requeue, vanished from the queue). */
  | { readonly state: 'lost'; readonly reason: string };

/** Exit codes of `rethink exec`: 0 done, 1 the stage failed (retried), 2 and 3 user errors (never retried). */
export const EXEC_EXIT = { ok: 0, failed: 1, userError: 2, refused: 3 } as const;

/** What every engine is built with, by the coordinator (src/cli/executors.ts). */
export interface EngineContext {
  /** The shared remote as the coordinator opened it; `remoteUrl` is what jobs get as `--remote`. */
  readonly remote: Remote;
  readonly remoteUrl: string;
  /** The coordinator's local cache directory (an engine may keep job logs below it, e.g. `slurm/`). */
  readonly cacheDir: string;
  readonly plan: Plan;
  /** How to start rethink on a worker: `[process.execPath, <the CLI entry: cli-entry.ts>]`, then `exec …`. */
  readonly rethink: readonly string[];
  /** The environment jobs inherit (RETHINK_BACKEND, signing keys, AWS credentials and endpoint). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A line for the user, on stderr (a missing `sacct`, a job requeued). */
  readonly warn: (line: string) => void;
}

/** `--executor slurm`: `createSlurmEngine(options)` in engines/slurm.ts. */
export interface SlurmEngineOptions extends EngineContext {
  /** `--slurm-args` / RETHINK_SLURM_ARGS, added to every sbatch after the pipeline's `slurm:` block. */
  readonly args?: string;
}

/** `--executor queue`: `createQueueEngine(options)` in engines/queue.ts. */
export interface QueueEngineOptions extends EngineContext {
  /** `--queue` / RETHINK_QUEUE: `redis://[:password@]host:port/db` or `rediss://…` (TLS). */
  readonly url: string;
}
