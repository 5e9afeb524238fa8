// Where the JavaScript of a training step goes on webgpu: a V8 CPU profile of the enqueue part of N
// steps only (Profiler started after warm-up, stopped before the GPU work is waited for), so the
// software rasteriser's execution (llvmpipe runs in this process) does not drown it. Small inputs and
// batches keep llvmpipe's share short; the JavaScript per dispatch does not depend on sizes.
//   node --import tsx scripts/gpu/profile-js.ts [--model small_inception] [--size 28] [--batch 1]
//        [--steps 40] [--out /tmp/step.cpuprofile] [--no-profile]
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import { tryInitWebGpu } from '../../src/backends/webgpu/init.js';
import { webgpuSession } from '../../src/backends/webgpu/session.js';
import { getModel } from '../../src/models/registry.js';
import { sgdSlots } from '../../src/train/decay.js';
import { MomentumSgd } from '../../src/train/sgd.js';
import { trainStepOn } from '../../src/train/step.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'small_inception' },
    size: { type: 'string', default: '28' },
    batch: { type: 'string', default: '1' },
    steps: { type: 'string', default: '40' },
    out: { type: 'string', default: '/tmp/step.cpuprofile' },
    // Time the enqueue without the profiler (its sampling slows JavaScript down).
    'no-profile': { type: 'boolean', default: false },
  },
});

const info = await tryInitWebGpu({ allowSoftware: true });
if (info === null) throw new Error('no WebGPU adapter');
const tf = await import('@tensorflow/tfjs');
const backend = webgpuSession(tf, info);
// SUBMIT_BATCH=N: dispatches encoded per queue submission (tfjs default 15).
if (process.env['SUBMIT_BATCH'] !== undefined) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number(process.env['SUBMIT_BATCH']));
const size = Number(args.size);
const batch = Number(args.batch);
const def = getModel(args.model!);
const model = await def.build({ inputShape: [size, size, 3], numClasses: 10, seed: 1 });
const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 0, dense: 0 }), 0.9, backend.momentum);
const x = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 7);
const labels = tf.randomUniform([batch], 0, 10, 'int32', 8);
const step = (): void => {
  trainStepOn(tf, model, sgd, x, labels, 10, 0.001).dispose();
  backend.endStep?.();
};
// Waits for all work so far: a read of a weight the last step wrote.
const sync = async (): Promise<void> => void (await model.trainableWeights[0]!.read().data());
for (let i = 0; i < 3; i++) {
  step();
  await sync();
}
const profiling = args['no-profile'] !== true;
const session = new Session();
session.connect();
if (profiling) {
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  await session.post('Profiler.start');
}
const t0 = performance.now();
const n = Number(args.steps);
for (let i = 0; i < n; i++) step();
const ms = (performance.now() - t0) / n;
if (profiling) writeFileSync(args.out!, JSON.stringify((await session.post('Profiler.stop')).profile));
const s = performance.now();
await sync();
console.log(JSON.stringify({ model: args.model, size, batch, steps: n, enqueueMsPerStep: +ms.toFixed(3), gpuWaitS: +((performance.now() - s) / 1000).toFixed(1), profile: profiling ? args.out : null }));
