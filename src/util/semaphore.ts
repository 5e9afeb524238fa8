// A FIFO counting semaphore over cores: a stage asking for many cores is not starved by small ones.

export class CoreSemaphore {
  private free: number;
  private readonly waiting: { n: number; wake: () => void }[] = [];

  constructor(readonly capacity: number) {
    this.free = capacity;
  }

  async acquire(n: number): Promise<() => void> {
    const need = Math.min(Math.max(1, n), this.capacity);
    if (this.waiting.length === 0 && this.free >= need) this.free -= need;
    else await new Promise<void>((wake) => this.waiting.push({ n: need, wake }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free += need;
      this.drain();
    };
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.free >= this.waiting[0]!.n) {
      const w = this.waiting.shift()!;
      this.free -= w.n;
      w.wake();
    }
  }
}
