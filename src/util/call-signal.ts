// One remote call's abort signal: it aborts when the command's signal does (Ctrl-C) or when the call's
// own deadline passes, whichever comes first. AbortSignal.any and AbortSignal.timeout would do, but the
// first is newer than Node 20.0 and the second keeps its listeners on the command's signal, which
// outlives thousands of calls; this one unhooks itself when the call is over.

export interface CallSignal {
  readonly signal: AbortSignal;
  /** Whether the deadline, rather than the command, ended the call. */
  readonly expired: boolean;
  /** Stops the clock and unhooks from the command's signal. */
  dispose(): void;
}

/** Without a deadline, the signal follows the command's alone (a transfer, bounded by its idle timeout). */
export function callSignal(command: AbortSignal | undefined, deadlineMs: number | undefined): CallSignal {
  const call = new AbortController();
  const hooks = new AbortController();
  let expired = false;
  const timer =
    deadlineMs === undefined
      ? undefined
      : setTimeout(() => {
          expired = true;
          call.abort(new Error(`deadline of ${deadlineMs}ms passed`));
        }, deadlineMs);
  if (command?.aborted) call.abort(command.reason);
  else command?.addEventListener('abort', () => call.abort(command.reason), { once: true, signal: hooks.signal });
  return {
    signal: call.signal,
    get expired() {
      return expired;
    },
    dispose() {
      clearTimeout(timer);
      hooks.abort();
    },
  };
}
