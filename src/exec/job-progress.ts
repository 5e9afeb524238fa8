// A job's progress on the shared remote (`jobs/<key>/progress.json`), for coordinators that have no
// channel to the job but the remote (Slurm's). Throttled: at most one PUT per interval, the last
// update wins, and `close` writes the last one that had not gone up. A write that fails is logged
// once and never fails the stage: progress is a courtesy, the run record is what counts.
import type { JsonValue, ProgressUpdate } from '../plugin/types.js';
import type { Remote } from '../store/remote.js';
import { jobProgressPathOf } from '../store/remote.js';
import { errorText } from '../util/error-text.js';

export class RemoteProgress {
  private pending: ProgressUpdate | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private lastPut = -Infinity;
  private warned = false;

  constructor(
    private readonly remote: Remote,
    private readonly key: string,
    private readonly ranOn: JsonValue,
    private readonly log: (message: string) => void,
    private readonly intervalMs = 1000,
  ) {}

  update(update: ProgressUpdate): void {
    this.pending = update;
    if (this.timer) return;
    const wait = this.lastPut + this.intervalMs - Date.now();
    if (wait <= 0) this.put();
    else this.timer = setTimeout(() => this.put(), wait);
  }

  /** Writes the update still waiting for its turn, and waits for every write. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending) this.put();
    await this.inFlight;
  }

  private put(): void {
    this.timer = undefined;
    const update = this.pending;
    if (!update) return;
    this.pending = undefined;
    this.lastPut = Date.now();
    const body = `${JSON.stringify({ update, at: new Date().toISOString(), ranOn: this.ranOn })}\n`;
    // One write at a time, in order: a slow PUT never lets an older update land after a newer one.
    this.inFlight = this.inFlight.then(() =>
      this.remote.putText(jobProgressPathOf(this.key), body).catch((e: unknown) => {
        if (this.warned) return;
        this.warned = true;
        this.log(`cannot write progress to ${this.remote.url}/${jobProgressPathOf(this.key)}: ${errorText(e)}`);
      }),
    );
  }
}
