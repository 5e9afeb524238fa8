#!/usr/bin/env node
// The native backend's compiled MLP training step (src/backends/native/train_graph/) beside PyTorch's,
// like for like, in one invocation:
//   node scripts/bench-mlp-step.mjs [--models mlp_1x512,mlp_3x512] [--batches 32,128,512] [--steps 20]
//                                   [--rounds 3] [--variants default] [--threads 2] [--no-torch]
//   node scripts/bench-mlp-step.mjs --profile mlp_1x512:128[:variant] [--steps 60]
// Both sides: 2 warm-up runs (the anchor takes 3 steps), then img/s = total images ÷ total time over the
// same number of timed steps, with --threads intra-op threads. Rounds alternate PyTorch and ours so
// drifting load hits both; each side's best round gives the ratio, and the spread over rounds is
// printed beside it, with our step time's min/median/max and CPU time per step (on a busy machine
// the steadier figure). Variants compare session options:
// default,basic,extended (ORT optimisation level),noarena,spin,nospin, k1,k8,k16,k32,k64,k128 (steps per
// ORT run: the compiled step runs the timed steps in chunks of that many, as the training loop
// does, its warm-up runs being chunks of the timed length); 'generic' is the tfjs step
// (src/train/step.ts) every model runs without a compiled step. --profile runs the step's graph under
// ORT's profiler: each node's mean and minimum time, and each Gemm's GFLOP/s.
// Needs `npm run build` and Debian's python3-torch. Each measurement runs in a fresh child process, as
// the PyTorch anchor does.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'mlp_1x512,mlp_3x512' },
    batches: { type: 'string', default: '32,128,512' },
    steps: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    variants: { type: 'string', default: 'default' },
    threads: { type: 'string', default: '2' },
    'no-torch': { type: 'boolean', default: false },
    child: { type: 'string' },
    profile: { type: 'string' },
    anchor: { type: 'string', default: fileURLToPath(new URL('../../shared/anchors/torch_bench.py', import.meta.url)) },
  },
});

const VARIANTS = {
  default: {},
  basic: { optLevel: 'basic' },
  extended: { optLevel: 'extended' },
  noarena: { arena: false },
  generic: {},
  spin: { spinning: true },
  nospin: { spinning: false },
  k1: { chunkSteps: 1 },
  k8: { chunkSteps: 8 },
  k16: { chunkSteps: 16 },
  k32: { chunkSteps: 32 },
  k64: { chunkSteps: 64 },
  k128: { chunkSteps: 128 },
};

const steps = Number(values.steps);
const WARMUP = 2;

async function child(spec) {
  const [model, batchText, variant] = spec.split(':');
  const batch = Number(batchText);
  const { initNative } = await import('../dist/src/backends/native/init.js');
  const r = await initNative();
  if (!r.ok) throw new Error(`native backend unavailable: ${r.detail}`);
  const tf = await import('@tensorflow/tfjs');
  const { getModel } = await import('../dist/src/models/registry.js');
  const { sgdSlots } = await import('../dist/src/train/decay.js');
  const { MomentumSgd } = await import('../dist/src/train/sgd.js');
  const { compileNativeTrainStep } = await import('../dist/src/backends/native/train_graph/compile.js');
  const shape = [28, 28, 3];
  const m = await getModel(model).build({ inputShape: shape, numClasses: 10, seed: 1 });
  const slots = sgdSlots(m, { conv: 0, dense: 0 });
  const sgd = new MomentumSgd(tf, slots, 0.9);
  const { trainStep } = await import('../dist/src/train/step.js');
  // 'generic': the tfjs step every model runs without a compiled step (the 'before' of this work).
  const generic = {
    maxChunkSteps: 1,
    run: ({ images, shape, labels, lrs }) => {
      const out = trainStep(tf, m, sgd, { images, shape, labels, numClasses: 10 }, lrs[0]);
      out.dataSync();
      out.dispose();
    },
    dispose: () => {},
  };
  const step =
    variant === 'generic'
      ? generic
      : compileNativeTrainStep({ model: m, slots, velocities: sgd.velocityVariables, momentum: 0.9, imageShape: shape, numClasses: 10, batchSize: batch }, VARIANTS[variant]);
  if (step === undefined) throw new Error(`${model}: not compiled`);
  const per = batch * 28 * 28 * 3;
  const one = new Float32Array(per);
  let seed = 12345;
  for (let i = 0; i < one.length; i++) one[i] = ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const chunkSteps = Math.min(step.maxChunkSteps, steps);
  // The same batch K times, made before the warm-up (the full chunk and a shorter last one).
  const chunkOf = (k) => {
    const images = new Float32Array(k * per);
    for (let j = 0; j < k; j++) images.set(one, j * per);
    return { images, shape: [batch, 28, 28, 3], labels: Int32Array.from({ length: k * batch }, (_, i) => i % 10), lrs: Array(k).fill(0.01) };
  };
  const chunks = new Map([[chunkSteps, chunkOf(chunkSteps)], [steps % chunkSteps || chunkSteps, chunkOf(steps % chunkSteps || chunkSteps)]]);
  for (let i = 0; i < WARMUP; i++) step.run(chunks.get(chunkSteps));
  // Per step, each run's time ÷ its steps.
  const times = [];
  const cpu0 = process.cpuUsage();
  for (let done = 0; done < steps; ) {
    const k = Math.min(chunkSteps, steps - done);
    const t0 = performance.now();
    step.run(chunks.get(k));
    const ms = performance.now() - t0;
    for (let j = 0; j < k; j++) times.push(ms / k);
    done += k;
  }
  const cpu = process.cpuUsage(cpu0);
  step.dispose();
  const total = times.reduce((a, b) => a + b, 0);
  const sorted = [...times].sort((a, b) => a - b);
  console.log(JSON.stringify({ ips: (steps * batch) / (total / 1000), cpuMs: (cpu.user + cpu.system) / 1000 / steps, min: sorted[0], median: sorted[sorted.length >> 1], max: sorted[sorted.length - 1] }));
}

function ours(model, batch, variant) {
  const env = { ...process.env, RETHINK_NATIVE_THREADS: values.threads };
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', `${model}:${batch}:${variant}`, '--steps', String(steps)], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`ours ${model} ${batch} ${variant} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function torch(model, batch) {
  const args = [values.anchor, '--threads', values.threads, '--steps', String(steps), '--models', model, '--batch', String(batch)];
  const r = spawnSync('/usr/bin/python3', args, { encoding: 'utf8' });
  const m = /([\d.]+) img\/s/.exec(r.stdout);
  if (!m) throw new Error(`torch_bench failed: ${r.stderr}`);
  return Number(m[1]);
}

// --profile mlp_1x512:128 — the step's graph under ORT's profiler (same session options as the default
// variant): mean time per node over the timed steps, and GFLOP/s of each Gemm.
async function profile(spec) {
  const [model, batchText, variant = 'default'] = spec.split(':');
  const batch = Number(batchText);
  const depth = Number(/^mlp_(\d+)x/.exec(model)[1]);
  const dims = [28 * 28 * 3, ...Array(depth).fill(512), 10];
  const { mlpStepGraph, layerStateNames, mlpNames } = await import('../dist/src/backends/native/train_graph/mlp_graph.js');
  const { encodeModel } = await import('../dist/src/util/onnx-proto.js');
  const { DEFAULT_SESSION_OPTIONS } = await import('../dist/src/backends/native/train_graph/compile.js');
  const o = { ...DEFAULT_SESSION_OPTIONS, ...VARIANTS[variant] };
  const graph = mlpStepGraph({ batch, dims, kernelDecay: dims.slice(1).map(() => 0), momentum: 0.9, });
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  const b = require('onnxruntime-node/dist/binding');
  const { Tensor } = require('onnxruntime-common');
  b.initOrt();
  const session = new b.binding.InferenceSession();
  const bytes = encodeModel(graph);
  const threads = Number(process.env.RETHINK_NATIVE_THREADS ?? '2');
  const prefix = `${process.env.TMPDIR ?? '/tmp'}/mlp-step-profile-${process.pid}`;
  session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: o.optLevel,
    enableCpuMemArena: o.arena, enableMemPattern: o.arena, enableProfiling: true, profileFilePrefix: prefix,
    extra: { 'session.intra_op.allow_spinning': (o.spinning ?? process.env.RETHINK_NATIVE_SPIN === '1') ? '1' : '0' },
  });
  const feeds = {};
  for (const v of graph.inputs) feeds[v.name] = new Tensor('float32', Float32Array.from({ length: v.shape.reduce((a, c) => a * c, 1) }, () => Math.random() * 0.02 - 0.01), v.shape);
  feeds[mlpNames.lr] = new Tensor('float32', Float32Array.of(0.01), []);
  const fetches = {};
  for (const v of graph.outputs) fetches[v.name] = new Tensor('float32', new Float32Array(v.shape.reduce((a, c) => a * c, 1)), v.shape);
  for (let i = 0; i < WARMUP + steps; i++) session.run(feeds, fetches, {});
  const file = session.endProfiling();
  session.dispose();
  const { readFileSync, rmSync } = await import('node:fs');
  const events = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file);
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur / 1000).slice(WARMUP);
  // A Gemm's FLOPs from its first input and its output: a is [M, K] or [K, M], the output [M, N].
  const flopsOf = (args) => {
    if (!(args.op_name ?? '').includes('Gemm') || args.input_type_shape === undefined || args.output_type_shape === undefined) return 0;
    const a = Object.values(args.input_type_shape[0])[0];
    const [, n] = Object.values(args.output_type_shape[0])[0];
    return 2 * a.reduce((x, y) => x * y, 1) * n;
  };
  const perNode = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    const r = perNode.get(name) ?? { op: e.args?.op_name ?? '?', us: [], shapes: e.args?.input_type_shape, flops: flopsOf(e.args ?? {}) };
    r.us.push(e.dur);
    perNode.set(name, r);
  }
  const mean = (xs) => xs.slice(WARMUP).reduce((x, y) => x + y, 0) / Math.max(1, xs.length - WARMUP);
  console.log(`${model} batch ${batch}, ${threads} threads: model_run mean ${mean([0, 0, ...runs]).toFixed(2)} ms (min ${Math.min(...runs).toFixed(2)}), ${perNode.size} nodes`);
  // The minimum over steps is the node's cost without preemption (the machine may be busy).
  const rows = [...perNode.entries()].map(([name, r]) => ({ name, op: r.op, us: mean(r.us), min: Math.min(...r.us.slice(WARMUP)), flops: r.flops, shapes: JSON.stringify((r.shapes ?? []).map((s) => Object.values(s)[0])) }));
  rows.sort((x, y) => y.min - x.min);
  console.log(`sum of node minimums ${(rows.reduce((a, r) => a + r.min, 0) / 1000).toFixed(2)} ms`);
  console.log('op             mean µs  min µs  GFLOP/s at min  input shapes');
  for (const r of rows) {
    const gf = r.flops > 0 ? (r.flops / r.min / 1e3).toFixed(1) : '';
    console.log(`${r.op.padEnd(14)} ${r.us.toFixed(0).padStart(7)} ${r.min.toFixed(0).padStart(7)}  ${gf.padStart(14)}  ${r.shapes}`);
  }
}

if (values.profile !== undefined) {
  await profile(values.profile);
} else if (values.child !== undefined) {
  await child(values.child);
} else {
  const variants = values.variants.split(',');
  const rows = [];
  for (const model of values.models.split(',')) {
    for (const batch of values.batches.split(',').map(Number)) {
      const seen = { torch: [] };
      for (const v of variants) seen[v] = [];
      for (let round = 0; round < Number(values.rounds); round++) {
        if (!values['no-torch']) seen.torch.push(torch(model, batch));
        for (const v of variants) seen[v].push(ours(model, batch, v));
      }
      const t = seen.torch.length ? Math.max(...seen.torch) : NaN;
      for (const v of variants) {
        const best = seen[v].reduce((a, b) => (b.ips > a.ips ? b : a));
        const spread = `${Math.min(...seen[v].map((x) => x.ips)).toFixed(0)}–${best.ips.toFixed(0)}`;
        const tSpread = seen.torch.length ? `${Math.min(...seen.torch).toFixed(0)}–${t.toFixed(0)}` : '-';
        rows.push([model, batch, v, best.ips.toFixed(0), spread, t.toFixed(0), tSpread, (best.ips / t).toFixed(2), `${best.min.toFixed(2)}/${best.median.toFixed(2)}/${best.max.toFixed(2)}`, Math.min(...seen[v].map((x) => x.cpuMs)).toFixed(2)]);
        process.stderr.write(`${rows[rows.length - 1].join('  ')}\n`);
      }
    }
  }
  console.log(`img/s = images ÷ time over ${steps} timed steps (ours: ${WARMUP} warm-up, PyTorch: 3), best of ${values.rounds} alternating rounds; PyTorch ${values.threads} threads`);
  console.log('model      batch variant   ours    (rounds)     torch   (rounds)     ratio  step ms min/med/max (best round)  CPU ms/step (least)');
  for (const r of rows) {
    console.log(`${r[0].padEnd(10)} ${String(r[1]).padStart(5)} ${r[2].padEnd(8)} ${r[3].padStart(6)} ${r[4].padStart(13)} ${r[5].padStart(6)} ${r[6].padStart(13)} ${r[7].padStart(6)}  ${r[8].padEnd(22)} ${r[9]}`);
  }
}
