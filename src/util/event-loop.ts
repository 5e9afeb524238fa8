// Long computations whose awaits all settle as microtasks (tfjs's CPU-side backends resolve `data()` at
// once) never let the event loop reach its timers, I/O or signal handlers: a Ctrl-C, an abort timeout
// or a progress redraw waits for the whole computation. A `Breather` gives the event loop one turn
// (setImmediate, after pending I/O and timers) once at least `everyMs` has passed since the last.

import { setImmediate as nextTurn } from 'node:timers/promises';

export class Breather {
  private last = performance.now();

  constructor(private readonly everyMs = 20) {}

  /** Resolves at once, or after one event-loop turn when `everyMs` has passed since the last one. */
  async breathe(): Promise<void> {
    if (performance.now() - this.last < this.everyMs) return;
    await nextTurn();
    this.last = performance.now();
  }
}
