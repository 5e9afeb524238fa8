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
 * `work`, or a rejection with the signal's reason once it aborts: at once if the work has not
 * settled within `graceMs` of the abort (a plugin that ignores its signal), else when it settles (a
 * plugin that stops on its own, whose cleanup then finishes before the caller's). Past the grace the
 * work goes on unobserved: the caller stops waiting for it, and must make sure that anything it does
 * later is ignored.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, graceMs = 0): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = (): void => {
      work.catch(() => undefined); // its own failure, later, is no longer anyone's concern
      if (graceMs <= 0) reject(signal.reason as Error);
      else timer = setTimeout(() => reject(signal.reason as Error), graceMs);
    };
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    const settled = (): void => {
      signal.removeEventListener('abort', stop);
      clearTimeout(timer);
    };
    work.then(
      (value) => {
        settled();
        if (signal.aborted) reject(signal.reason as Error);
        else resolve(value);
      },
      (e: unknown) => {
        settled();
        reject((signal.aborted ? signal.reason : e) as Error);
      },
    );
  });
}
