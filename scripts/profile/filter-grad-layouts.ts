// Profiling script (not imported by anything): the expanded filter gradient (Conv2DBackpropFilter on
// the 'native' backend, batch 128) with its expansion in rows of pixels (Eᵀ·plain, a TN Gemm) against
// rows of taps (E·plain, NN; src/backends/native/filter_grad_expanded.ts), at the stride-1 layers of
// small Inception and small AlexNet, in interleaved rounds (best of each):
//   npx tsx scripts/profile/filter-grad-layouts.ts [--rounds 8] [--shapes '[[h, ci, co, k, stride], …]']
// Set RETHINK_NATIVE_THREADS=1 on a busy host: one thread is less disturbed by other processes.
// Measured 2026-12-07, RETHINK_NATIVE_THREADS=1, load ≈ 5 (busy host), pixel rows → tap rows (ms):
// AlexNet 5×5 3→64 @28 18.2 → 14.1, 64→64 @14 45.5 → 39.5; Inception 3→96 @28 10.7 → 7.5,
// 96→32 @28 48.8 → 42.8, 64→48 @28 51.0 → 48.7, 160→48/64/80/96 @14 29.8/38.9/48.1/56.1 →
// 24.0/31.2/40.1/45.8, 240→160 @7 34.0 → 30.0, 336→160 @7 48.7 → 41.4; all 430 → 365 (−15%).
// The strided layers stay in pixel rows: split into stride phases by ORT's 6-D Transpose, 3×3/2
// 80→80 @28 took 68 ms against 34, and 144→96 @14 27 against 17.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNative } from '../../src/backends/native/init.js';
import { nativeRegistration } from '../../src/backends/native/register.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '8' }, shapes: { type: 'string' } } });
const r = await initNative();
if (!r.ok) throw new Error(`native backend unavailable: ${r.reason}: ${r.detail}`);
const ctx = nativeRegistration()!.ctx;
/** [input size, Ci, Co, kernel, stride]: small AlexNet's two convs, then small Inception's 3×3/1 ones. */
const CONVS: ReadonlyArray<readonly number[]> = args.shapes !== undefined ? (JSON.parse(args.shapes) as number[][]) : [
  [28, 3, 64, 5, 1], [14, 64, 64, 5, 1],
  [28, 3, 96, 3, 1], [28, 96, 32, 3, 1], [28, 64, 48, 3, 1],
  [14, 160, 48, 3, 1], [14, 160, 64, 3, 1], [14, 160, 80, 3, 1], [14, 160, 96, 3, 1],
  [7, 240, 160, 3, 1], [7, 336, 160, 3, 1],
];
const layouts = ['pixel-rows', 'auto'] as const;
const totals = layouts.map(() => 0);
console.log(`expanded filter gradients, batch 128, best of ${args.rounds} interleaved rounds, ms; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
for (const [h, ci, co, k, s] of CONVS as ReadonlyArray<[number, number, number, number, number]>) {
  const oh = Math.ceil(h / s);
  const x = tf.randomNormal([128, h, h, ci], 0, 1, 'float32', 1);
  const dy = tf.randomNormal([128, oh, oh, co], 0, 1, 'float32', 2);
  const attrs = { strides: [s, s], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], filterShape: [k, k, ci, co] };
  const best = layouts.map(() => Number.POSITIVE_INFINITY);
  for (let i = 0; i <= Number(args.rounds); i++) {
    layouts.forEach((layout, v) => {
      ctx.expansionLayout = layout;
      const t0 = performance.now();
      (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never) as tf.Tensor).dispose();
      // The first round builds the sessions.
      if (i > 0) best[v] = Math.min(best[v]!, performance.now() - t0);
    });
  }
  best.forEach((b, v) => (totals[v] = totals[v]! + b));
  console.log(`${k}x${k}/${s} ${ci}->${co} @${h}`.padEnd(20), layouts.map((l, v) => `${l === 'auto' ? 'tap-rows' : l} ${best[v]!.toFixed(1).padStart(6)}`).join('  '));
  tf.dispose([x, dy]);
}
console.log(`totals: ${layouts.map((l, v) => `${l === 'auto' ? 'tap-rows' : l} ${totals[v]!.toFixed(0)}`).join(', ')}`);
process.exit(0);
