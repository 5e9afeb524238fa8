// Profiling script (not imported by anything): every convolution of small Inception at batch 128 on
// the 'native' backend, its forward (FusedConv2D, bias + ReLU), input gradient and filter gradient
// timed separately, beside a plain MLAS Gemm of the same im2col shape ([N·OH·OW, fh·fw·Ci] ×
// [fh·fw·Ci, Co] through tf.matMul), the rate a conv formulated as one big Gemm could reach.
//   npx tsx scripts/profile/inception-convs.ts [--rounds 5] [--batch 128] [--only fwd,dx,dw,gemm]
// Rounds are interleaved (each round runs every variant once), best of the rounds is printed, so a
// busy host slows all alike. GFLOP/s count 2 per multiply-add of the conv itself.

import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNative } from '../../src/backends/native/init.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '128' },
    only: { type: 'string', default: 'fwd,dx,dw,gemm' },
  },
});

/** [input size, Ci, Co, kernel, stride] of each conv, in model order (src/models/inception.ts). */
const CONVS: ReadonlyArray<readonly [number, number, number, number, number]> = [
  [28, 3, 96, 3, 1],
  [28, 96, 32, 1, 1], [28, 96, 32, 3, 1],
  [28, 64, 32, 1, 1], [28, 64, 48, 3, 1],
  [28, 80, 80, 3, 2],
  [14, 160, 112, 1, 1], [14, 160, 48, 3, 1],
  [14, 160, 96, 1, 1], [14, 160, 64, 3, 1],
  [14, 160, 80, 1, 1], [14, 160, 80, 3, 1],
  [14, 160, 48, 1, 1], [14, 160, 96, 3, 1],
  [14, 144, 96, 3, 2],
  [7, 240, 176, 1, 1], [7, 240, 160, 3, 1],
  [7, 336, 176, 1, 1], [7, 336, 160, 3, 1],
];

const r = await initNative();
if (!r.ok) throw new Error(`native backend unavailable: ${r.reason}: ${r.detail}`);
const batch = Number(args.batch);
const rounds = Number(args.rounds);
const only = new Set((args.only ?? '').split(','));
const rnd = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', 7);
const totals = new Map<string, number>();
console.log(`small Inception convs, batch ${batch}, best of ${rounds} interleaved rounds; ms (GFLOP/s); load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
for (const [h, ci, co, k, s] of CONVS) {
  const oh = Math.ceil(h / s);
  const flops = 2 * batch * oh * oh * co * k * k * ci;
  const x = rnd([batch, h, h, ci]);
  const w = rnd([k, k, ci, co]);
  const bias = rnd([co]);
  const dy = rnd([batch, oh, oh, co]);
  const attrs = { strides: [s, s], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
  const a = rnd([batch * oh * oh, k * k * ci]);
  const b = rnd([k * k * ci, co]);
  const variants: Array<readonly [string, () => tf.Tensor]> = [];
  if (only.has('fwd')) variants.push(['fwd', () => tf.engine().runKernel('FusedConv2D', { x, filter: w, bias }, { ...attrs, activation: 'relu' } as never) as tf.Tensor]);
  if (only.has('dx') && ci > 3) variants.push(['dx', () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape } as never) as tf.Tensor]);
  if (only.has('dw')) variants.push(['dw', () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as never) as tf.Tensor]);
  if (only.has('gemm')) variants.push(['gemm', () => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)]);
  const best = variants.map(() => Number.POSITIVE_INFINITY);
  for (let i = 0; i < rounds + 1; i++) {
    variants.forEach(([, run], j) => {
      const t0 = performance.now();
      tf.tidy(run).dispose();
      // The first round builds the sessions.
      if (i > 0) best[j] = Math.min(best[j]!, performance.now() - t0);
    });
  }
  const cells = variants.map(([name], j) => {
    totals.set(name, (totals.get(name) ?? 0) + best[j]!);
    return `${name} ${best[j]!.toFixed(1).padStart(6)} (${(flops / best[j]! / 1e6).toFixed(0).padStart(3)})`;
  });
  console.log(`${`${k}x${k}/${s} ${ci}->${co} @${h}`.padEnd(20)} ${(flops / 1e9).toFixed(2).padStart(5)} GF  ${cells.join('  ')}`);
  tf.dispose([x, w, bias, dy, a, b]);
}
console.log(`totals (ms): ${[...totals.entries()].map(([n, ms]) => `${n} ${ms.toFixed(0)}`).join(', ')}`);
process.exit(0);
