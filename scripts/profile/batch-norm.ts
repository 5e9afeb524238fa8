// Profiling script for the fused training batch norm on the native backend (not imported by anything):
//   npx tsx scripts/profile/batch-norm.ts [--rounds N] [--batch B] [--clock cpu|wall]
// Times each fused kernel (src/ops/batch_norm_math.ts) summed over small_inception_bn's 19 batch-norm
// shapes, beside what the same layers cost in small_inception without batch norm (the ReLU gradient
// and the bias gradient's Sum; bias and ReLU ride inside the conv there). Rounds interleave all the
// kernels so a busy host slows them alike; the best round of each is printed, with the bytes each
// kernel streams and the GB/s that makes. Timed by the process's CPU time (--clock wall for the wall
// clock): on a host busy with other work the wall clock mostly measures waiting for a core (the
// batch-norm kernels are single-threaded wasm; the Sum runs on ORT, whose pool threads count too).

import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNative } from '../../src/backends/native/init.js';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_STATS, BN_MOVING, BN_STATS } from '../../src/ops/batch_norm_math.js';
import { RELU_GRAD } from '../../src/ops/bias_relu.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    batch: { type: 'string', default: '128' },
    clock: { type: 'string', default: 'cpu' },
  },
});
if (args.clock !== 'cpu' && args.clock !== 'wall') throw new Error(`--clock: cpu or wall, got ${args.clock}`);
/** Milliseconds by the chosen clock. */
const clock = args.clock === 'wall' ? (): number => performance.now() : (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** [height, channels] of every batch-norm layer of small_inception_bn at 28×28 input, in order. */
const LAYERS: readonly (readonly [number, number])[] = [
  [28, 96], [28, 32], [28, 32], [28, 32], [28, 48],
  [14, 80], [14, 112], [14, 48], [14, 96], [14, 64], [14, 80], [14, 80], [14, 48], [14, 96],
  [7, 96], [7, 176], [7, 160], [7, 176], [7, 160],
];

const r = await initNative();
if (!r.ok) throw new Error(`native backend unavailable: ${r.reason}: ${r.detail}`);
const batch = Number(args.batch);
const e = tf.engine();
const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number | boolean> = {}): tf.Tensor[] => {
  const out = e.runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
};

interface Layer {
  readonly x: tf.Tensor;
  readonly dy: tf.Tensor;
  readonly beta: tf.Tensor;
  readonly stats: tf.Tensor;
  readonly y: tf.Tensor;
  readonly sums: tf.Tensor;
  readonly moving: tf.Tensor;
}
const attrs = { epsilon: 1e-3, relu: true };
const layers: Layer[] = LAYERS.map(([h, c], i) => {
  const x = tf.add(tf.mul(tf.randomNormal([batch, h, h, c], 0, 1, 'float32', 2 * i), 2), 1);
  const dy = tf.randomNormal([batch, h, h, c], 0, 1, 'float32', 2 * i + 1);
  const beta = tf.randomNormal([c], 0, 0.1, 'float32', 99);
  const [stats] = run(BN_STATS, { x }) as [tf.Tensor];
  const [y] = run(BN_APPLY, { x, stats, beta }, attrs) as [tf.Tensor];
  const [sums] = run(BN_GRAD_STATS, { x, stats, dy, y, beta }, attrs) as [tf.Tensor];
  return { x, dy, beta, stats, y, sums, moving: tf.zeros([c]) };
});

/** Each timed unit: a kernel over all layers, and how many activation-sized arrays it streams. */
const units: readonly (readonly [string, number, (l: Layer) => tf.Tensor[]])[] = [
  ['stats', 1, (l) => run(BN_STATS, { x: l.x })],
  ['apply+relu', 2, (l) => run(BN_APPLY, { x: l.x, stats: l.stats, beta: l.beta }, attrs)],
  ['moving', 0, (l) => run(BN_MOVING, { mean: l.moving, variance: l.moving, stats: l.stats }, { momentum: 0.99 })],
  ['grad stats', 2, (l) => run(BN_GRAD_STATS, { x: l.x, stats: l.stats, dy: l.dy, y: l.y, beta: l.beta }, attrs)],
  ['grad input', 4, (l) => run(BN_GRAD_INPUT, { x: l.x, stats: l.stats, dy: l.dy, y: l.y, sums: l.sums }, attrs)],
  ['(no BN) relu grad', 3, (l) => run(RELU_GRAD, { dy: l.dy, y: l.y })],
  ['(no BN) bias Sum', 1, (l) => [tf.sum(l.dy, [0, 1, 2])]],
];
const best = units.map(() => Number.POSITIVE_INFINITY);
for (let round = 0; round < Number(args.rounds); round++) {
  units.forEach(([, , f], i) => {
    const t0 = clock();
    for (const l of layers) tf.dispose(f(l));
    best[i] = Math.min(best[i]!, clock() - t0);
  });
}
const bytes = layers.reduce((s, l) => s + 4 * l.x.size, 0);
console.log(`# fused batch norm, ${LAYERS.length} layers of small_inception_bn, batch ${batch}: best of ${args.rounds} interleaved rounds, ${args.clock} ms per step`);
let bn = 0;
units.forEach(([name, arrays], i) => {
  const ms = best[i]!;
  if (!name.startsWith('(')) bn += ms;
  const rate = arrays === 0 ? '' : `  ${((arrays * bytes) / ms / 1e6).toFixed(1).padStart(5)} GB/s (${arrays} arrays)`;
  console.log(`  ${name.padEnd(20)} ${ms.toFixed(1).padStart(7)} ms${rate}`);
});
const noBn = best[5]! + best[6]!;
console.log(`  batch norm total ${bn.toFixed(1)} ms; without batch norm ${noBn.toFixed(1)} ms; extra ${(bn - noBn).toFixed(1)} ms per step`);
process.exit(0);
