// A stage's attempts: run it, and after a failure run it again while its `retries` allow, waiting
// longer each time; stop an attempt that runs past its `timeout`. User errors (a bad checksum) and
// an interrupted run are never retried.
import { isUserError } from './errors.js';
import { showDuration } from '../util/duration.js';
import { anySignal } from '../util/abort.js';

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
  /**
   * For an attempt starting now, a signal that aborts when the attempt can never settle (see
   * StallWatch); its reason is the attempt's error.
   */
  stalled?(): AbortSignal;
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

/**
 * Runs `attempt` until it succeeds or may not be tried again. Its signal aborts on the run's
 * interrupt, at the timeout, or when it stalls; the attempt must then settle promptly, having cleaned
 * up (a Runner does, whether or not its stage notices).
 */
export async function withAttempts<T>(attempt: (signal: AbortSignal) => Promise<T>, policy: AttemptPolicy, hooks: AttemptHooks): Promise<{ readonly value: T; readonly attempts: number }> {
  for (let n = 1; ; n++) {
    // Not AbortSignal.timeout: its timer is unref'd, so a plugin that only waits would let the process exit.
    const timeout = policy.timeoutMs === undefined ? undefined : new AbortController();
    const timer = timeout && setTimeout(() => timeout.abort(new Error(`timed out after ${showDuration(policy.timeoutMs!)}`)), policy.timeoutMs);
    const stalled = hooks.stalled?.();
    const stop = anySignal([hooks.signal, ...(timeout ? [timeout.signal] : []), ...(stalled ? [stalled] : [])]);
    try {
      return { value: await attempt(stop.signal), attempts: n };
    } catch (caught) {
      // The cause, not whatever the work threw once it saw its signal abort.
      const e = hooks.signal.aborted ? caught : timeout?.signal.aborted ? timeout.signal.reason : stalled?.aborted ? stalled.reason : caught;
      const last = n >= policy.attempts || hooks.signal.aborted || hooks.stopping() || isUserError(e);
      const delay = Math.min(60_000, policy.delayMs * 2 ** (n - 1));
      if (last) throw new AttemptsFailed(e, n);
      hooks.retrying(n, e, delay);
      if (!(await hooks.pause(delay))) throw new AttemptsFailed(e, n);
    } finally {
      clearTimeout(timer);
      stop.dispose();
    }
  }
}

