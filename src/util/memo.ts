// A cache filled on demand: `get(key, make)` builds a value once per key. The WebGPU kernels keep their
// compiled shaders and GEMM plans in these, since a training run asks for the same few shapes every step.

export class Memo<K, V> {
  private readonly values = new Map<K, V>();

  get(key: K, make: () => V): V {
    let v = this.values.get(key);
    if (v === undefined) {
      v = make();
      this.values.set(key, v);
    }
    return v;
  }
}
