// What the queue engine (queue.ts) and `rethink worker` (src/worker/) agree on in Redis: one BullMQ
// queue per capability, what a job carries, what a worker reports while and after running it, and
// how a coordinator cancels a job a worker is running. GPU workers serve both queues, the GPU one
// first; CPU workers only `rethink-cpu`, so a stage that requires a GPU never lands on one of those.
import type { ProgressUpdate } from '../../plugin/types.js';
import type { Resources } from '../../plan/resources.js';
import type { JobSpec } from '../job-spec.js';

export const GPU_QUEUE = 'rethink-gpu';
export const CPU_QUEUE = 'rethink-cpu';
export type QueueName = typeof GPU_QUEUE | typeof CPU_QUEUE;

/** `gpu: required` goes to GPU workers only; `preferred` and `none` to any worker. */
export function queueFor(resources: Resources | undefined): QueueName {
  return resources?.gpu === 'required' ? GPU_QUEUE : CPU_QUEUE;
}

/** The queues a worker with these tags serves, in the order it takes jobs from them. */
export function queuesServedBy(tags: readonly string[]): readonly QueueName[] {
  return tags.includes('gpu') ? [GPU_QUEUE, CPU_QUEUE] : [CPU_QUEUE];
}

/** A job's data; its BullMQ id is the spec's key, its name the stage instance's id. */
export interface QueueJobData {
  readonly spec: JobSpec;
  /** Where the spec is on the remote, relative to its root (`jobs/<key>/spec.json`). */
  readonly specPath: string;
  /** The remote the coordinator publishes to: a worker serving another one refuses the job. */
  readonly remoteUrl: string;
  /** A random id of the coordinator that added it: another one that finds it there attaches. */
  readonly submittedBy: string;
}

/** A job's progress: the worker says where it runs first, then passes on the stage's updates. */
export interface QueueProgress {
  /** The worker's name (`--name`, default host:pid). */
  readonly where: string;
  /** BullMQ's attemptsStarted: a job requeued after its worker died starts again with the next one. */
  readonly attempt: number;
  readonly update?: ProgressUpdate;
}

/** A completed job's return value (the outputs and record are on the remote, not in Redis). */
export interface QueueReturn {
  readonly where: string;
}

/**
 * A failed job's reason is the stage's error as one line, prefixed for the failures that are the
 * input's fault or a refused spec: those fail once, never retried by BullMQ nor by the coordinator.
 */
const USER_ERROR = 'user error: ';
const REFUSED = 'refused: ';

export type QueueFailure =
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'userError'; readonly message: string }
  | { readonly kind: 'refused'; readonly message: string };

export function failedReasonOf(failure: QueueFailure): string {
  switch (failure.kind) {
    case 'failed':
      return failure.message;
    case 'userError':
      return `${USER_ERROR}${failure.message}`;
    case 'refused':
      return `${REFUSED}${failure.message}`;
  }
}

export function failureOf(failedReason: string): QueueFailure {
  if (failedReason.startsWith(USER_ERROR)) return { kind: 'userError', message: failedReason.slice(USER_ERROR.length) };
  if (failedReason.startsWith(REFUSED)) return { kind: 'refused', message: failedReason.slice(REFUSED.length) };
  return { kind: 'failed', message: failedReason };
}

/** BullMQ's reason for a job whose workers kept dying (`maxStalledCount` times): lost, not failed. */
export const STALLED_REASON = /stalled more than allowable limit/;

/** A coordinator publishes a job id here to cancel it where it runs. */
export const CANCEL_CHANNEL = 'rethink:cancel';
/** …and sets this key, for a worker that takes the job just after the message went by. */
export const cancelledKeyOf = (jobId: string) => `rethink:cancelled:${jobId}`;
/** How long a cancellation is remembered (a new submit of the key clears it). */
export const CANCELLED_TTL_MS = 24 * 3600_000;

/** How long finished jobs stay in Redis: a coordinator restarted within it finds its jobs' outcome. */
export const KEEP_FINISHED_S = 24 * 3600;
