// Typed events the executor emits; renderers (listr2, plain lines, JSON) observe them.
import type { CacheKey, ObjectHash, StageId } from '../util/brand.js';
import type { ProgressUpdate } from '../plugin/types.js';

export type StageStatus = 'ran' | 'cached' | 'failed' | 'skipped' | 'would-run';

export interface StageReport {
  readonly id: StageId;
  readonly stage: string;
  readonly plugin: string;
  /** Null when it could not be computed (an upstream stage failed or, in a dry run, has not run). */
  readonly key: CacheKey | null;
  readonly status: StageStatus;
  readonly seconds: number;
  readonly outputs: Readonly<Record<string, ObjectHash>>;
  /** Why it failed or was skipped; for a hit another process computed while this one waited, who. */
  readonly reason?: string;
  /** A cache hit found on the shared remote, not in the local cache. */
  readonly remote?: true;
  /** How many attempts it took, when more than one (the stage's `retries`). */
  readonly attempts?: number;
  /** The failure was the user's input (a bad URL, a checksum mismatch): exit code 2, not 1. */
  readonly userError?: boolean;
  /** Where it last ran, when not in this process (`n2 (slurm 1234)`). */
  readonly where?: string;
}

export type ExecEvent =
  /** `jobs`: cores in use at most, or, under a distributed `executor` (its engine's name), jobs in flight. */
  | { readonly type: 'run-start'; readonly pipeline: string; readonly total: number; readonly jobs: number; readonly executor?: string }
  | { readonly type: 'stage-start'; readonly id: StageId; readonly plugin: string; readonly key: CacheKey; readonly cores: number }
  /** Another process sharing the cache is computing this key; this one waits for its result. */
  | { readonly type: 'stage-waiting'; readonly id: StageId; readonly holder: string }
  /** Where a stage that runs elsewhere runs now (`n2 (slurm 1234)`), each time that changes. */
  | { readonly type: 'stage-placed'; readonly id: StageId; readonly where: string }
  | { readonly type: 'stage-progress'; readonly id: StageId; readonly update: ProgressUpdate }
  | { readonly type: 'stage-log'; readonly id: StageId; readonly message: string }
  | { readonly type: 'stage-end'; readonly report: StageReport }
  /** Something the user should know that fails nothing (a corrupt cache object, recomputed). */
  | { readonly type: 'warning'; readonly message: string }
  | { readonly type: 'run-end'; readonly stages: readonly StageReport[]; readonly seconds: number };

export type Observer = (event: ExecEvent) => void;
