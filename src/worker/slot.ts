// One of a worker's `--concurrency` slots: a warm child kept alive. A child that dies (a stage that
// crashed it, an OOM kill) is replaced; one that cannot start backs off, so a broken setup logs a
// line every few seconds rather than forking in a loop. A child whose job was cancelled, or stopped
// by its timeout, is replaced too: a stage that ignores its signal is only left behind by its
// runner, and would compute on in the warm process beside the next job.
import { WarmChild, type ChildCommand, type ChildHooks, type ChildOutcome, type ToChild } from './child.js';

const RESTART_BACKOFF_MS = [0, 1_000, 2_000, 5_000, 10_000, 30_000] as const;

export class Slot {
  private child: Promise<WarmChild>;
  private failures = 0;
  private stopped = false;
  /** The worker is stopping: its job is stopped and no child is started after it. */
  private draining = false;
  private running: WarmChild | undefined;
  /** The running job was cancelled: its child is replaced once it settles. */
  private cancelled = false;
  /** Children killed on purpose, whose exit is not news. */
  private readonly retired = new WeakSet<WarmChild>();

  constructor(
    readonly index: number,
    private readonly command: ChildCommand,
    private readonly graceMs: number,
    private readonly log: (line: string) => void,
  ) {
    this.child = this.spawn();
  }

  /** The first start: rejects with how the child ended if it never became ready (the worker then stops). */
  ready(): Promise<WarmChild> {
    return this.child;
  }

  /** A ready child, starting others (backing off) until one is; rejects only once stopped. */
  async warm(): Promise<WarmChild> {
    for (;;) {
      try {
        return await this.child;
      } catch (e) {
        if (this.stopped) throw e;
        this.child = this.spawn();
      }
    }
  }

  async run(message: ToChild & { type: 'job' }, hooks: ChildHooks): Promise<ChildOutcome> {
    const child = await this.warm();
    this.running = child;
    this.cancelled = false;
    let stopped = false;
    try {
      const outcome = await child.run(message, hooks);
      // Stopped by its own timeout: the stage may be computing on, left behind, in this child.
      stopped = outcome.kind === 'result' && !outcome.result.ok && outcome.result.error.stopped === true;
      return outcome;
    } finally {
      this.running = undefined;
      if ((this.cancelled || stopped) && !this.draining) await this.replace(child);
    }
  }

  /** Asks the running job's child to stop it (see WarmChild.cancel); the next job gets a fresh child. */
  cancel(): void {
    if (this.running === undefined) return;
    this.cancelled = true;
    this.running.cancel();
  }

  /** The worker stops: asks the running job's child to stop it (it checkpoints), and starts no other child. */
  drain(): void {
    this.draining = true;
    this.running?.cancel();
  }

  /** Kills the child and starts no other. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = await this.child.catch(() => undefined);
    if (child === undefined) return;
    child.kill();
    await child.exited;
  }

  /**
   * Kills the child of a cancelled job, whether or not its stage stopped; its exit starts another
   * (the handler below runs before this wait ends: it was registered first).
   */
  private async replace(child: WarmChild): Promise<void> {
    this.retired.add(child);
    child.kill();
    await child.exited;
  }

  private spawn(): Promise<WarmChild> {
    const delay = RESTART_BACKOFF_MS[Math.min(this.failures, RESTART_BACKOFF_MS.length - 1)]!;
    const started = new Promise<void>((r) => setTimeout(r, delay)).then(() => WarmChild.start(this.command, this.graceMs, this.log));
    void started.then(
      (child) => {
        this.failures = 0;
        void child.exited.then((how) => {
          if (this.stopped || this.draining) return;
          const why = this.retired.has(child) ? 'was stopped after its job was cancelled, so that nothing of that job runs on' : how.split('\n')[0];
          this.log(`slot ${this.index}: its stage process (pid ${child.pid}) ${why}; starting another`);
          this.child = this.spawn();
        });
      },
      (e: Error) => {
        this.failures++;
        if (this.stopped) return;
        this.log(`slot ${this.index}: ${e.message}`);
      },
    );
    return started;
  }
}
