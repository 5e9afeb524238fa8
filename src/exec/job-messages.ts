// What `rethink exec` tells the process that started it, over the IPC channel of
// child_process.fork (or, without one, the `result` as one JSON line on stdout); and what a worker
// tells the warm child it forked with `rethink exec --serve` (ServeRequest).
import type { JsonValue, ProgressUpdate } from '../plugin/types.js';
import type { OutputRef, RunRecord } from '../store/types.js';
import type { JobSpec } from './job-spec.js';

/** A stage's error as data: enough to tell it the way the executor tells a local one. */
export interface JobError {
  readonly name: string;
  readonly message: string;
  /** The input's fault (exit 2): never retried. */
  readonly userError?: true;
  /** The job was refused before its stage ran (exit 3): a bad or forged spec, other code, a missing input. */
  readonly refused?: true;
  /**
   * The stage was stopped (its timeout, a cancel) and may never have settled: a plugin that ignores
   * its signal is left computing in this process, which is therefore not reused for another job.
   */
  readonly stopped?: true;
}

export type JobResult =
  | {
      readonly ok: true;
      readonly outputs: Readonly<Record<string, OutputRef>>;
      readonly provenance: Readonly<Record<string, JsonValue>>;
      /** The run record, when the job wrote it to the shared remote (it ran with `--remote`). */
      readonly record?: RunRecord;
      /** The remote already held the key's result: nothing ran (an engine that starts a job twice). */
      readonly already?: true;
    }
  | { readonly ok: false; readonly error: JobError };

export type JobMessage =
  | { readonly type: 'progress'; readonly update: ProgressUpdate }
  | { readonly type: 'log'; readonly message: string }
  | ({ readonly type: 'result' } & JobResult)
  /** `rethink exec --serve` has loaded what stages need and takes jobs. */
  | { readonly type: 'ready' };

/** Where an attempt runs, as the run record's provenance tells it. */
export interface RanOn {
  readonly host: string;
  /** The worker's name (`rethink worker --name`, default the host). */
  readonly worker?: string;
  /** `queue`, `slurm`, `process`. */
  readonly engine?: string;
  /** The engine's id for the job: a Slurm job id, a BullMQ job id. */
  readonly jobId?: string;
  /** Which attempt of the job this is, as the engine counts (1 first). */
  readonly attempt?: number;
}

/** What a worker sends the warm child (`rethink exec --serve`): one job at a time, or stop the current one. */
export type ServeRequest = { readonly type: 'job'; readonly spec: JobSpec; readonly ranOn: RanOn } | { readonly type: 'cancel' };

export function jobError(e: unknown, userError: boolean, refused = false): JobError {
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  return { name, message, ...(userError || refused ? { userError: true as const } : {}), ...(refused ? { refused: true as const } : {}) };
}

/** The error a coordinator rejects with: it reads as the child's did (name, message, userError). */
export function errorOf(error: JobError): Error {
  return Object.assign(new Error(error.message), { name: error.name }, error.userError ? { userError: true } : {});
}

/** Narrows what arrived over IPC; anything else is ignored by the receiver. */
export function isJobMessage(m: unknown): m is JobMessage {
  if (m === null || typeof m !== 'object') return false;
  const type = (m as { type?: unknown }).type;
  return type === 'progress' || type === 'log' || type === 'result' || type === 'ready';
}

/** Narrows what a worker sent the warm child; anything else is ignored. */
export function isServeRequest(m: unknown): m is ServeRequest {
  if (m === null || typeof m !== 'object') return false;
  const r = m as { type?: unknown; spec?: unknown; ranOn?: unknown };
  return r.type === 'cancel' || (r.type === 'job' && typeof r.spec === 'object' && r.spec !== null && typeof r.ranOn === 'object' && r.ranOn !== null);
}
