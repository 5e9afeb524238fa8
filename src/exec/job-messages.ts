// What `rethink exec` tells the process that started it, over the IPC channel of
// child_process.fork (or, without one, the `result` as one JSON line on stdout).
import type { JsonValue, ProgressUpdate } from '../plugin/types.js';
import type { OutputRef } from '../store/types.js';

/** A stage's error as data: enough to tell it the way the executor tells a local one. */
export interface JobError {
  readonly name: string;
  readonly message: string;
  /** The input's fault (exit 2): never retried. */
  readonly userError?: true;
}

export type JobResult =
  | { readonly ok: true; readonly outputs: Readonly<Record<string, OutputRef>>; readonly provenance: Readonly<Record<string, JsonValue>> }
  | { readonly ok: false; readonly error: JobError };

export type JobMessage =
  | { readonly type: 'progress'; readonly update: ProgressUpdate }
  | { readonly type: 'log'; readonly message: string }
  | ({ readonly type: 'result' } & JobResult);

export function jobError(e: unknown, userError: boolean): JobError {
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  return { name, message, ...(userError ? { userError: true as const } : {}) };
}

/** The error a coordinator rejects with: it reads as the child's did (name, message, userError). */
export function errorOf(error: JobError): Error {
  return Object.assign(new Error(error.message), { name: error.name }, error.userError ? { userError: true } : {});
}

/** Narrows what arrived over IPC; anything else is ignored by the receiver. */
export function isJobMessage(m: unknown): m is JobMessage {
  if (m === null || typeof m !== 'object') return false;
  const type = (m as { type?: unknown }).type;
  return type === 'progress' || type === 'log' || type === 'result';
}
