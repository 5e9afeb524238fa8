// Profiling script for the 'native' backend (not imported by anything):
//   npx tsx scripts/profile/native.ts [--kernels] [--models a,b] [--steps N] [--backend native|wasm] [--cpu-clock]
// --cpu-clock times steps and kernels by the process's CPU time instead of the wall clock: on a host
// busy with other work, time spent descheduled then stops counting (run it with
// RETHINK_NATIVE_THREADS=1, or ORT's spinning pool threads count too).
// Prints GFLOP/s of each native kernel at the paper models' shapes, then per model the images/second
// of full training steps (batch 128, 28×28×3, momentum SGD) and where one step's time goes.

import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { nativeRegistration } from '../../src/backends/native/register.js';
import { initNative } from '../../src/backends/native/init.js';
import { kernelMomentum } from '../../src/ops/momentum.js';
import type { FilterGradChoice, KernelTiming, NativeContext } from '../../src/backends/native/native_context.js';
import { getModel } from '../../src/models/registry.js';
import { MomentumSgd } from '../../src/train/sgd.js';
import { sgdSlots } from '../../src/train/decay.js';
import { trainStep } from '../../src/train/step.js';

const BATCH = 128;

const { values: args } = parseArgs({
  options: {
    kernels: { type: 'boolean', default: false },
    models: { type: 'string', default: 'mlp_1x512,mlp_3x512,small_alexnet,small_inception' },
    steps: { type: 'string', default: '10' },
    backend: { type: 'string', default: 'native' },
    compare: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '7' },
    ab: { type: 'boolean', default: false },
    /** With --ab: toggle only these kernels (comma-separated), e.g. LRN,LRNGrad,Sum. */
    'ab-kernels': { type: 'string', default: '' },
    /** Whole run with LRN, LRNGrad, Sum and Mean on the wasm kernels (as before they ran on ORT), for before/after. */
    previous: { type: 'boolean', default: false },
    /** Interleaved native-vs-wasm races of the memory-bound kernels only (LRN, LRNGrad, Sum, MaxPoolGrad). */
    'compare-light': { type: 'boolean', default: false },
    'cpu-clock': { type: 'boolean', default: false },
  },
});

/** Milliseconds of the process's CPU time (user + system). */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const clock = args['cpu-clock'] ? cpuMs : (): number => performance.now();

async function setUp(): Promise<void> {
  // tfjs's profiler times kernels by the platform's clock.
  if (args['cpu-clock']) (tf.env().platform as { now(): number }).now = cpuMs;
  if (args.backend === 'native') {
    const r = await initNative();
    if (!r.ok) throw new Error(`native backend unavailable: ${r.reason}: ${r.detail}`);
    console.log(JSON.stringify(r.info));
    const reg = nativeRegistration();
    if (args.previous && reg !== null) {
      for (const k of ['LRN', 'LRNGrad', 'Sum', 'Mean']) reg.ctx.disabled.add(k);
      console.log('previous kernels: LRN, LRNGrad, Sum, Mean on wasm');
    }
    return;
  }
  const { registerWasmTrainingKernels } = await import('../../src/backends/wasm/register.js');
  registerWasmTrainingKernels('wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed');
  console.log('backend: wasm (single thread) + training kernels');
}

function bestMs(f: () => void, reps = 7): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

function kernelBench(): void {
  const rnd = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', 7);
  const reg = nativeRegistration();
  const row = (label: string, flops: number, f: () => tf.Tensor): void => {
    // Inside ORT only: the best single call as timed around session.run.
    let ortBest = Number.POSITIVE_INFINITY;
    const ms = bestMs(() => {
      const stats = new Map<string, KernelTiming>();
      if (reg !== null) reg.ctx.stats = stats;
      tf.tidy(f).dispose();
      for (const t of stats.values()) ortBest = Math.min(ortBest, t.ms);
    });
    if (reg !== null) reg.ctx.stats = null;
    const ort = Number.isFinite(ortBest) ? `  (in ORT ${ortBest.toFixed(2)} ms, ${(flops / ortBest / 1e6).toFixed(1)} GFLOP/s)` : '';
    console.log(`${label.padEnd(46)} ${ms.toFixed(2).padStart(8)} ms ${(flops / ms / 1e6).toFixed(1).padStart(7)} GFLOP/s${ort}`);
  };
  console.log('\n# kernels (best of 7 through tf ops, including tfjs dispatch and wasm allocation)');
  for (const [m, k, n] of [[128, 2352, 512], [128, 3136, 384], [128, 384, 192]] as const) {
    const fl = 2 * m * k * n;
    const a = rnd([m, k]);
    const b = rnd([k, n]);
    const dy = rnd([m, n]);
    row(`matMul NN ${m}x${k}x${n}`, fl, () => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D));
    row(`matMul TN (dW) ${k}x${m}x${n}`, fl, () => tf.matMul(a as tf.Tensor2D, dy as tf.Tensor2D, true, false));
    row(`matMul NT (dX) ${m}x${n}x${k}`, fl, () => tf.matMul(dy as tf.Tensor2D, b as tf.Tensor2D, false, true));
    tf.dispose([a, b, dy]);
  }
  for (const [h, ci, co, k] of [[28, 3, 64, 5], [14, 64, 64, 5], [28, 64, 64, 5]] as const) {
    const fl = 2 * BATCH * h * h * co * k * k * ci;
    const x = rnd([BATCH, h, h, ci]);
    const w = rnd([k, k, ci, co]);
    const dy = rnd([BATCH, h, h, co]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
    row(`conv2d ${k}x${k} ${ci}->${co} @${h}x${h}`, fl, () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
    row(`Conv2DBackpropInput ${k}x${k} ${ci}->${co} @${h}x${h}`, fl, () =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor,
    );
    row(`Conv2DBackpropFilter ${k}x${k} ${ci}->${co} @${h}x${h}`, fl, () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor,
    );
    tf.dispose([x, w, dy]);
  }
}

/**
 * Interleaves the alternatives for each heavy kernel (native formulations and the wasm fallback)
 * round-robin, so a noisy shared host slows them all alike; prints the best of each.
 */
function compareBench(rounds: number): void {
  const reg = nativeRegistration();
  if (reg === null) throw new Error('--compare needs the native backend');
  const ctx = reg.ctx;
  const rnd = (shape: number[]): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', 7);
  type Variant = readonly [string, () => void];
  const race = (label: string, flops: number, run: () => tf.Tensor, variants: readonly Variant[]): void => {
    const best = variants.map(() => Number.POSITIVE_INFINITY);
    for (let r = 0; r < rounds; r++) {
      variants.forEach(([, setUp], i) => {
        setUp();
        const t0 = performance.now();
        tf.tidy(run).dispose();
        best[i] = Math.min(best[i] as number, performance.now() - t0);
      });
    }
    ctx.disabled.clear();
    ctx.filterGrad = 'auto';
    const cells = variants.map(([name], i) => {
      const ms = best[i] as number;
      return `${name} ${ms.toFixed(1)} ms${flops > 0 ? ` ${(flops / ms / 1e6).toFixed(0)} GF/s` : ''}`;
    });
    console.log(`${label.padEnd(36)} ${cells.join(' | ')}`);
  };
  const native: Variant = ['native', () => ctx.disabled.clear()];
  const wasmOf = (k: string): Variant => ['wasm', () => ctx.disabled.add(k)];
  if (args['compare-light']) {
    console.log(`\n# native vs wasm, interleaved, best of ${rounds}`);
    lrnSumRaces(ctx, race, native, wasmOf, rnd);
    return;
  }
  console.log(`\n# native vs wasm, interleaved, best of ${rounds}`);
  for (const [h, ci, co, k] of [[28, 3, 64, 5], [14, 64, 64, 5], [28, 96, 32, 3], [28, 64, 48, 3], [14, 160, 96, 3], [7, 336, 160, 3], [7, 240, 176, 1]] as const) {
    const fl = 2 * BATCH * h * h * co * k * k * ci;
    const x = rnd([BATCH, h, h, ci]);
    const w = rnd([k, k, ci, co]);
    const dy = rnd([BATCH, h, h, co]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
    const tag = `${k}x${k} ${ci}->${co} @${h}`;
    race(`Conv2D ${tag}`, fl, () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), [native, wasmOf('Conv2D')]);
    race(`Conv2DBackpropInput ${tag}`, fl, () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor, [native, wasmOf('Conv2DBackpropInput')]);
    const fg = (m: Exclude<FilterGradChoice, 'auto'>): Variant => [m, () => { ctx.disabled.clear(); ctx.filterGrad = m; }];
    race(`Conv2DBackpropFilter ${tag}`, fl, () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor, [fg('expanded-dy'), fg('expanded-x'), fg('transposed-conv'), fg('tap-gemm'), fg('taps'), wasmOf('Conv2DBackpropFilter')]);
    tf.dispose([x, w, dy]);
  }
  for (const [h, c] of [[28, 64], [14, 64]] as const) {
    const x = tf.relu(rnd([BATCH, h, h, c]));
    const y = tf.maxPool(x as tf.Tensor4D, 3, 2, 'same');
    const dy = rnd(y.shape);
    race(`MaxPoolGrad 3/2 same ${h}x${h}x${c}`, 0, () => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 3, strides: 2, pad: 'same' }) as tf.Tensor, [native, wasmOf('MaxPoolGrad')]);
    tf.dispose([x, y, dy]);
  }
  for (const [m, k, n] of [[128, 2352, 512], [128, 3136, 384]] as const) {
    const a = rnd([m, k]);
    const b = rnd([k, n]);
    const dy = rnd([m, n]);
    const fl = 2 * m * k * n;
    race(`matMul NN ${m}x${k}x${n}`, fl, () => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), [native, wasmOf('BatchMatMul')]);
    race(`matMul TN ${m}x${k}x${n}`, fl, () => tf.matMul(a as tf.Tensor2D, dy as tf.Tensor2D, true, false), [native, wasmOf('BatchMatMul')]);
    race(`matMul NT ${m}x${k}x${n}`, fl, () => tf.matMul(dy as tf.Tensor2D, b as tf.Tensor2D, false, true), [native, wasmOf('BatchMatMul')]);
    tf.dispose([a, b, dy]);
  }
}

type Race = (label: string, flops: number, run: () => tf.Tensor, variants: ReadonlyArray<readonly [string, () => void]>) => void;

/** LRN (the small AlexNet's constants), LRNGrad and the bias-gradient Sum at the models' shapes. */
function lrnSumRaces(reg: NativeContext, race: Race, native: readonly [string, () => void], wasmOf: (k: string) => readonly [string, () => void], rnd: (s: number[]) => tf.Tensor): void {
  const lrn = { depthRadius: 4, bias: 1, alpha: 0.001 / 9, beta: 0.75 };
  for (const h of [14, 7]) {
    const x = rnd([BATCH, h, h, 64]);
    const dy = rnd([BATCH, h, h, 64]);
    const y = tf.engine().runKernel('LRN', { x }, lrn) as tf.Tensor;
    const way = (g: 'simd' | 'graph'): readonly [string, () => void] => [g, () => { native[1](); reg.lrn = g; }];
    race(`LRN ${h}x${h}x64`, 0, () => tf.engine().runKernel('LRN', { x }, lrn) as tf.Tensor, [way('simd'), way('graph'), wasmOf('LRN')]);
    race(`LRNGrad ${h}x${h}x64`, 0, () => tf.engine().runKernel('LRNGrad', { x, y, dy }, lrn) as tf.Tensor, [way('simd'), way('graph'), wasmOf('LRNGrad')]);
    reg.lrn = 'simd';
    tf.dispose([x, dy, y]);
  }
  for (const shape of [[BATCH, 28, 28, 64], [BATCH, 14, 14, 64], [BATCH, 28, 28, 96], [BATCH, 384]]) {
    const x = rnd(shape);
    const axes = shape.slice(0, -1).map((_, i) => i);
    race(`Sum ${shape.join('x')} over ${axes.length} axes`, 0, () => tf.sum(x, axes), [native, wasmOf('Sum')]);
    x.dispose();
  }
  for (const [h, c] of [[28, 64], [14, 64], [28, 96]] as const) {
    const x = tf.relu(rnd([BATCH, h, h, c]));
    const y = tf.maxPool(x as tf.Tensor4D, 3, 2, 'same');
    const dy = rnd(y.shape);
    const way = (g: 'simd' | 'indices'): readonly [string, () => void] => [g, () => { native[1](); reg.maxPoolGrad = g; }];
    race(`MaxPoolGrad 3/2 same ${h}x${h}x${c}`, 0, () => tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 3, strides: 2, pad: 'same' }) as tf.Tensor, [way('simd'), way('indices'), wasmOf('MaxPoolGrad')]);
    reg.maxPoolGrad = 'simd';
    tf.dispose([x, y, dy]);
  }
}

/**
 * Alternates whole training steps with the native kernels on and off (off: the same backend's wasm
 * kernels), so both see the same host load; prints median and best of each.
 */
function abSteps(name: string, step: () => void, steps: number): void {
  const reg = nativeRegistration();
  if (reg === null) return;
  const only = (args['ab-kernels'] ?? '').split(',').filter((k) => k !== '');
  const names = only.length > 0 ? only : [...tf.getKernelsForBackend('native').map((k) => k.kernelName)];
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < steps; i++) {
    for (const native of [true, false]) {
      reg.ctx.disabled.clear();
      if (!native) for (const n of names) reg.ctx.disabled.add(n);
      const t0 = performance.now();
      step();
      (native ? on : off).push(performance.now() - t0);
    }
  }
  reg.ctx.disabled.clear();
  const fmt = (xs: number[]): string => {
    xs.sort((a, b) => a - b);
    const med = xs[Math.floor(xs.length / 2)] as number;
    return `${((BATCH * 1000) / med).toFixed(0)} img/s median, ${((BATCH * 1000) / (xs[0] as number)).toFixed(0)} best`;
  };
  const which = (only.length > 0 ? only.join(',') : 'all');
  console.log(`\n# A/B ${name}, alternating steps: native ${fmt(on)} | wasm kernels (${which}) ${fmt(off)}`);
}

async function modelBench(name: string, steps: number): Promise<void> {
  const def = getModel(name);
  const model = await def.build({ inputShape: [28, 28, 3], numClasses: 10, seed: 1 });
  // The momentum update the native and wasm sessions use (backends/native/session.ts, wasm/session.ts).
  const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 0, dense: 0 }), 0.9, kernelMomentum(tf));
  const images = new Float32Array(BATCH * 28 * 28 * 3).map((_, i) => Math.sin(i * 12.9898) * 0.5);
  const labels = new Int32Array(BATCH).map((_, i) => (i * 7) % 10);
  const input = { images, shape: [BATCH, 28, 28, 3] as const, labels, numClasses: 10 };
  const step = (): void => trainStep(tf, model, sgd, input, 0.01).dispose();
  step();
  step();
  if (args.ab) abSteps(name, step, steps);
  const tensors = tf.memory().numTensors;
  const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = clock();
    step();
    times.push(clock() - t0);
  }
  const leaked = tf.memory().numTensors - tensors;
  const leakedIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds() - dataIds;
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)] as number;
  const best = times[0] as number;
  console.log(
    `\n# ${name}: ${((BATCH * 1000) / med).toFixed(0)} img/s median (${med.toFixed(1)} ms/step), ` +
      `${((BATCH * 1000) / best).toFixed(0)} best; ${steps} steps; leaked tensors ${leaked}, heap buffers ${leakedIds}; ` +
      `RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB; ORT sessions ${nativeRegistration()?.ctx.cache.size ?? 0}`,
  );
  // Where one step's time goes: tfjs's profiler times every kernel (each is synchronous here).
  const reg = nativeRegistration();
  const stats = new Map<string, KernelTiming>();
  if (reg !== null) reg.ctx.stats = stats;
  const prof = await tf.profile(step);
  if (reg !== null) reg.ctx.stats = null;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.calls += 1;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`kernel time in the profiled step: ${total.toFixed(1)} ms (${med.toFixed(1)} ms wall median)`);
  for (const [k, e] of [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) {
    const nat = stats.get(k);
    const gf = nat === undefined || nat.ms === 0 ? '' : ` native ${(nat.flops / nat.ms / 1e6).toFixed(1)} GFLOP/s`;
    console.log(`  ${k.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.calls).padStart(4)} calls${gf}`);
  }
  model.dispose();
  sgd.dispose?.();
}

await setUp();
if (args.kernels) kernelBench();
if (args.compare) compareBench(Number(args.rounds));
for (const name of (args.models ?? '').split(',').filter((s) => s !== '')) {
  await modelBench(name, Number(args.steps));
}
process.exit(0);
