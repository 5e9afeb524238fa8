// Tile that only repeats leading size-1 axes (how tfjs-core's batch-norm gradient broadcasts
// [1,1,1,C] to the activation shape) as copies that double in the heap; the stock kernel took
// ≈0.5 s for 128×28×28×64. Other tilings go to the stock kernel.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { composedKernel, input, type KernelArgs } from '../ops.js';

/** The number of copies when `reps` only repeats leading axes of size 1; else 0. */
export function leadingRepeats(shape: readonly number[], reps: readonly number[]): number {
  let last = -1;
  reps.forEach((r, i) => {
    if (r !== 1) last = i;
  });
  if (last < 0) return 0;
  for (let i = 0; i <= last; i++) if (shape[i] !== 1) return 0;
  return tf.util.sizeFromShape(reps.slice(0, last + 1));
}

export function tileConfig(backendName: string, original: KernelFunc): KernelConfig {
  return composedKernel('Tile', backendName, (ops, args: KernelArgs) => {
    const x = input(args, 'x');
    const { reps } = args.attrs as { reps: number[] };
    const copies = x.dtype === 'float32' ? leadingRepeats(x.shape, reps) : 0;
    if (copies === 0) return ops.call(original, args.inputs, args.attrs);
    const out = ops.output(x.shape.map((s, i) => s * reps[i]!));
    const o = ops.f32(out);
    const n = tf.util.sizeFromShape(x.shape);
    o.set(ops.f32(x));
    for (let have = n; have < o.length; have *= 2) o.copyWithin(have, 0, Math.min(have, o.length - have));
    return out;
  });
}
