// One of a worker's `--concurrency` slots: a warm child kept alive. A child that dies (a stage that
// crashed it, an OOM kill) is replaced; one that cannot start backs off, so a broken setup logs a
// line every few seconds rather than forking in a loop.
import { WarmChild, type ChildCommand, type ChildHooks, type ChildOutcome, type ToChild } from './child.js';

const RESTART_BACKOFF_MS = [0, 1_000, 2_000, 5_000, 10_000, 30_000] as const;

export class Slot {
  private child: Promise<WarmChild>;
  private failures = 0;
  private stopped = false;
  private running: WarmChild | undefined;

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
    try {
      return await child.run(message, hooks);
    } finally {
      this.running = undefined;
    }
  }

  /** Asks the running job's child to stop it (see WarmChild.cancel). */
  cancel(): void {
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

  private spawn(): Promise<WarmChild> {
    const delay = RESTART_BACKOFF_MS[Math.min(this.failures, RESTART_BACKOFF_MS.length - 1)]!;
    const started = new Promise<void>((r) => setTimeout(r, delay)).then(() => WarmChild.start(this.command, this.graceMs, this.log));
    void started.then(
      (child) => {
        this.failures = 0;
        void child.exited.then((how) => {
          if (this.stopped) return;
          this.log(`slot ${this.index}: its stage process (pid ${child.pid}) ${how.split('\n')[0]}; starting another`);
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
