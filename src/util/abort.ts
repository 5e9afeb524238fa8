// AbortSignal plumbing: one signal for several causes, and a wait that ends when a signal aborts even
// if the work waited on never notices it (a plugin that ignores its signal).

export interface CombinedSignal {
  /** Aborts with the reason of whichever of the signals aborts first. */
  readonly signal: AbortSignal;
  /** Unhooks it from its sources: a run's signal outlives thousands of attempts. */
  dispose(): void;
}

/** AbortSignal.any, which is newer than Node 20.0, with an explicit dispose. */
export function anySignal(signals: readonly AbortSignal[]): CombinedSignal {
  const any = new AbortController();
  const hooks = new AbortController();
  for (const s of signals) {
    if (any.signal.aborted) break;
    if (s.aborted) any.abort(s.reason);
    else s.addEventListener('abort', () => any.abort(s.reason), { once: true, signal: hooks.signal });
  }
  return { signal: any.signal, dispose: () => hooks.abort() };
}

/**
 * `work`, or a rejection with the signal's reason as soon as it aborts, whichever comes first. The
 * work itself goes on unobserved: the caller stops waiting for it, and must make sure that anything
 * it does later is ignored.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined); // its own failure, later, is no longer anyone's concern
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const stop = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', stop);
        resolve(value);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', stop);
        reject(e as Error);
      },
    );
  });
}
