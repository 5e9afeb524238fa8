// Notices work that can never finish: when Node's event loop empties ('beforeExit') while stage
// attempts are still pending, nothing is left that could settle them (no timer, no I/O, no child), so
// a plugin left a promise pending with nothing to wait on. Without this the process would simply exit,
// with status 0 and no report, in the middle of a run.

/** Why a stalled attempt failed (named plain Error: its message is the whole reason). */
export class NeverSettled extends Error {
  constructor(what: string) {
    super(`${what} never settled: the plugin left a promise pending with nothing to wait on`);
  }
}

export class StallWatch {
  private generation = new AbortController();
  private readonly onEmpty = (): void => {
    // Attempts that start from here on (a retry, a stage that was waiting for cores) get a fresh
    // signal: only what was pending when the loop emptied is stuck.
    const stuck = this.generation;
    this.generation = new AbortController();
    stuck.abort(new NeverSettled(this.what));
  };

  /** `what` names the work in the failure: "its run()". */
  constructor(private readonly what: string) {
    process.on('beforeExit', this.onEmpty);
  }

  /**
   * For an attempt starting now: aborts, with a NeverSettled reason, if the event loop empties while
   * it is still pending.
   */
  signal(): AbortSignal {
    return this.generation.signal;
  }

  close(): void {
    process.removeListener('beforeExit', this.onEmpty);
  }
}
