// A stage's attempts: run it, and after a failure run it again while its `retries` allow, waiting
// longer each time; stop an attempt that runs past its `timeout`. User errors (a bad checksum) and
// an interrupted run are never retried.
import { isUserError } from './errors.js';

export interface AttemptPolicy {
  /** 1 + the stage's retries. */
  readonly attempts: number;
  readonly timeoutMs?: number;
  /** The wait before the second attempt; it doubles each time, to at most a minute. */
  readonly delayMs: number;
}

export interface AttemptHooks {
  /** The run's signal: once aborted, nothing more is tried. */
  readonly signal: AbortSignal;
  /** Whether the run is stopping (another stage failed): then nothing more is tried either. */
  stopping(): boolean;
  /** Says that attempt `n` failed and that another follows after `delayMs`. */
  retrying(n: number, error: unknown, delayMs: number): void;
  /** Waits `ms` (without the stage's cores); false if the run was interrupted meanwhile. */
  pause(ms: number): Promise<boolean>;
}

/** The last attempt's error, and how many attempts were made. */
export class AttemptsFailed extends Error {
  override readonly name = 'AttemptsFailed';

  constructor(
    readonly error: unknown,
    readonly attempts: number,
  ) {
    super('every attempt failed');
  }
}

/** Runs `attempt` until it succeeds or may not be tried again; its signal carries the timeout. */
export async function withAttempts<T>(attempt: (signal: AbortSignal) => Promise<T>, policy: AttemptPolicy, hooks: AttemptHooks): Promise<{ readonly value: T; readonly attempts: number }> {
  for (let n = 1; ; n++) {
    // Not AbortSignal.timeout: its timer is unref'd, so a plugin that only waits would let the process exit.
    const timeout = policy.timeoutMs === undefined ? undefined : new AbortController();
    const timer = timeout && setTimeout(() => timeout.abort(new Error('timed out')), policy.timeoutMs);
    const combined = timeout && eitherAborts(hooks.signal, timeout.signal);
    try {
      return { value: await attempt(combined?.signal ?? hooks.signal), attempts: n };
    } catch (caught) {
      const e = timeout?.signal.aborted && !hooks.signal.aborted ? new Error(`timed out after ${showDuration(policy.timeoutMs!)}`) : caught;
      const last = n >= policy.attempts || hooks.signal.aborted || hooks.stopping() || isUserError(e);
      const delay = Math.min(60_000, policy.delayMs * 2 ** (n - 1));
      if (last) throw new AttemptsFailed(e, n);
      hooks.retrying(n, e, delay);
      if (!(await hooks.pause(delay))) throw new AttemptsFailed(e, n);
    } finally {
      clearTimeout(timer);
      combined?.dispose();
    }
  }
}

/** 250ms, 1.5s, 90s, 30m, 2h: as a timeout or a delay reads best. */
export function showDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 120_000) return `${Number((ms / 1000).toFixed(1))}s`;
  if (ms < 7_200_000) return `${Number((ms / 60_000).toFixed(1))}m`;
  return `${Number((ms / 3_600_000).toFixed(1))}h`;
}

/**
 * A signal that aborts with whichever of the two does first (AbortSignal.any is newer than Node 20.0),
 * and a dispose that unhooks it from both: the run's signal outlives thousands of attempts.
 */
function eitherAborts(a: AbortSignal, b: AbortSignal): { readonly signal: AbortSignal; dispose(): void } {
  const both = new AbortController();
  const hooks = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) both.abort(s.reason);
    else s.addEventListener('abort', () => both.abort(s.reason), { once: true, signal: hooks.signal });
  }
  return { signal: both.signal, dispose: () => hooks.abort() };
}
