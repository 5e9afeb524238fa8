// Sends updates one at a time, dropping those superseded while one is in flight: a stage that
// reports progress every batch costs Redis one write at a time, and the last update always lands.
export class LatestOnly<T> {
  private pending: { value: T } | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly write: (value: T) => Promise<unknown>) {}

  send(value: T): void {
    this.pending = { value };
    this.inFlight ??= this.drain();
  }

  /** Resolves once every update sent so far was written (or failed: progress is best effort). */
  async flushed(): Promise<void> {
    while (this.inFlight !== undefined) await this.inFlight;
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const { value } = this.pending;
      this.pending = undefined;
      await this.write(value).catch(() => undefined);
    }
    this.inFlight = undefined;
  }
}
