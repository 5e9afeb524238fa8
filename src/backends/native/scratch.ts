// Two reusable plain-memory (off-heap) float buffers, grown on demand: operands and results that ORT
// reads or writes between graph runs of one kernel call (ping-pong sums, padded copies).

export class Scratch {
  private readonly bufs: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];

  /** Slot `slot` as n floats; valid until the next get of the same slot with a larger n. */
  get(slot: 0 | 1, n: number): Float32Array {
    if (this.bufs[slot].length < n) this.bufs[slot] = new Float32Array(n);
    return this.bufs[slot].subarray(0, n);
  }
}
