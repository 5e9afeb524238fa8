// Profiling script (not imported by anything): the filter gradient's Gemm in each operand layout at
// small Inception's shapes: dW = Xᵀ·dY over a chunk of R rows, X [R, K] (im2col or expanded dy), dY [R, C].
//   npx tsx scripts/profile/gemm-layouts.ts [--rounds 5]
// Measured 2026-12-07 (load ≈ 4, best of 20): the current 'TN xT.dy' at 97–147 GFLOP/s, 'NN xt.dy'
// (the expansion written transposed) 117–183, the others in between; in the kernel itself an NN form
// with the plain operand transposed per chunk tied with TN (519 vs 524 ms over the model's dW), so
// the formulation was kept.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNative } from '../../src/backends/native/init.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const r = await initNative();
if (!r.ok) throw new Error(`native backend unavailable: ${r.detail}`);
const rnd = (shape: readonly [number, number]): tf.Tensor2D => tf.randomNormal([...shape], 0, 1, 'float32', 7) as tf.Tensor2D;
// [rows, K, C]
for (const [rows, k, c] of [[784 * 3, 864, 32], [784 * 3, 288, 96], [784 * 3, 576, 48], [196 * 12, 1440, 80], [196 * 12, 1440, 96], [49 * 40, 3024, 160]] as const) {
  const x = rnd([rows, k]);
  const dy = rnd([rows, c]);
  const xt = x.transpose() as tf.Tensor2D;
  const dyt = dy.transpose() as tf.Tensor2D;
  const variants: Array<[string, () => tf.Tensor]> = [
    ['TN xT.dy', () => tf.matMul(x, dy, true, false)],
    ['TN dyT.x', () => tf.matMul(dy, x, true, false)],
    ['NN dyt.x', () => tf.matMul(dyt, x)],
    ['NN xt.dy', () => tf.matMul(xt, dy)],
    ['NT dyt.xt', () => tf.matMul(dyt, xt, false, true)],
  ];
  const best = variants.map(() => Infinity);
  for (let i = 0; i <= Number(args.rounds); i++) {
    variants.forEach(([, f], j) => {
      const t0 = performance.now();
      tf.tidy(f).dispose();
      if (i > 0) best[j] = Math.min(best[j]!, performance.now() - t0);
    });
  }
  const fl = 2 * rows * k * c;
  console.log(`${rows}x${k}x${c}`.padEnd(18), variants.map(([n], j) => `${n} ${best[j]!.toFixed(2)} (${(fl / best[j]! / 1e6).toFixed(0)})`).join('  '));
  tf.dispose([x, dy, xt, dyt]);
}
process.exit(0);
