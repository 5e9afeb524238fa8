// Profiling script (not imported by anything): whole training steps (batch 128, 28×28×3, momentum
// SGD) of one model on the 'native' backend with the filter gradients' expansions in rows of pixels
// against rows of taps (ctx.expansionLayout; src/backends/native/filter_grad_expanded.ts), in one
// process, alternating every two steps, so a drifting load hits both alike:
//   npx tsx scripts/profile/expansion-layout-steps.ts [--model small_inception] [--rounds 6]
// Measured 2026-12-08, load ≈ 1.5–2.3 (busy host), 2 threads, ms/step mean (min) over 12 steps each:
// small_inception 1390 (1191) → 1288 (1118), −7%; small_inception_bn 1540 (1463) → 1389 (1314), −10%.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNative } from '../../src/backends/native/init.js';
import { nativeRegistration } from '../../src/backends/native/register.js';
import { getModel } from '../../src/models/registry.js';
import { sgdSlots } from '../../src/train/decay.js';
import { kernelMomentum } from '../../src/ops/momentum.js';
import { MomentumSgd } from '../../src/train/sgd.js';
import { trainStep } from '../../src/train/step.js';

const { values: args } = parseArgs({ options: { model: { type: 'string', default: 'small_inception' }, rounds: { type: 'string', default: '6' } } });
const r = await initNative();
if (!r.ok) throw new Error(`native backend unavailable: ${r.reason}: ${r.detail}`);
const ctx = nativeRegistration()!.ctx;
const name = args.model!;
const SHAPE = [28, 28, 3] as const;
const BATCH = 128;
const model = await getModel(name).build({ inputShape: SHAPE, numClasses: 10, seed: 7 });
const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 5e-4, dense: 5e-4 }), 0.9, kernelMomentum(tf));
const images = Float32Array.from({ length: BATCH * SHAPE[0] * SHAPE[1] * SHAPE[2] }, (_, i) => Math.sin(i));
const labels = Int32Array.from({ length: BATCH }, (_, i) => i % 10);
const step = (): void => {
  const out = trainStep(tf, model, sgd, { images, shape: [BATCH, ...SHAPE], labels, numClasses: 10 }, 0.01);
  out.dataSync();
  out.dispose();
};
const layouts = ['pixel-rows', 'auto'] as const;
const times = new Map<string, number[]>(layouts.map((l) => [l, []]));
for (const layout of layouts) {
  ctx.expansionLayout = layout;
  step();
}
for (let round = 0; round < Number(args.rounds); round++) {
  for (const layout of layouts) {
    ctx.expansionLayout = layout;
    const t0 = performance.now();
    step();
    step();
    times.get(layout)!.push((performance.now() - t0) / 2);
  }
}
for (const layout of layouts) {
  const t = times.get(layout)!;
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  console.log(`${name} ${layout === 'auto' ? 'tap rows' : 'pixel rows'}: ${mean.toFixed(0)} ms/step mean, ${Math.min(...t).toFixed(0)} min (${t.length} pairs of steps)`);
}
process.exit(0);
