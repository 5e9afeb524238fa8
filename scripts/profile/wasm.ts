// Measures the wasm backend: GFLOP/s per heavy kernel (ours against stock where stock exists) and
// training-step images/second for the MLP 2352-512-10 and the AlexNet-like net, batch 128, 28×28×3,
// with the top kernels by time. Without --threads it runs itself once per thread count (1, 2).
//   npx tsx scripts/profile/wasm.ts [--threads N] [--reps R] [--steps S] [--model a,b] [--json]
// --model takes names from src/models (e.g. small_inception_bn) instead of the two built-in nets;
// --reps 0 skips the per-kernel table.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type * as tfTypes from '@tensorflow/tfjs';

type Tf = typeof tfTypes;

/** GFLOP/s for compute-bound kernels; milliseconds (gflop 0) for the memory-bound JS ones. */
interface KernelResult {
  readonly op: string;
  readonly gflop: number;
  readonly ours: number;
  readonly stock?: number;
}
interface ModelResult {
  readonly model: string;
  readonly imgPerSec: number;
  readonly msPerStep: readonly number[];
  readonly topKernels: readonly { readonly name: string; readonly ms: number; readonly calls: number }[];
}
interface Report {
  readonly threads: number;
  readonly kernels: readonly KernelResult[];
  readonly models: readonly ModelResult[];
}

const batch = 128;

function randomTensor(tf: Tf, shape: number[], seed: number): tfTypes.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** Best-of-`reps` milliseconds of one call of `f` (after a warm-up), disposing its output. */
function bestMs(f: () => tfTypes.TensorInfo | tfTypes.Tensor, dispose: (t: tfTypes.TensorInfo | tfTypes.Tensor) => void, reps: number): number {
  dispose(f());
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    const out = f();
    best = Math.min(best, performance.now() - t);
    dispose(out);
  }
  return best;
}

async function kernelBench(tf: Tf, reps: number): Promise<KernelResult[]> {
  const { stockWasmKernel } = await import('../../src/backends/wasm/register.js');
  const backend = tf.backend() as unknown as { disposeData(id: object): void };
  const results: KernelResult[] = [];
  const measure = (op: string, gflop: number, name: string, inputs: Record<string, tfTypes.Tensor>, attrs: object, withStock: boolean): void => {
    const rate = (ms: number): number => (gflop === 0 ? ms : gflop / ms / 1e-3);
    const run = (): tfTypes.Tensor => tf.engine().runKernel(name, inputs, attrs as tfTypes.NamedAttrMap) as tfTypes.Tensor;
    const ours = rate(bestMs(run, (t) => (t as tfTypes.Tensor).dispose(), reps));
    const stockKernel = withStock ? stockWasmKernel(name) : undefined;
    if (stockKernel === undefined) {
      results.push({ op, gflop, ours });
      return;
    }
    const callStock = (): tfTypes.TensorInfo => stockKernel({ inputs, backend, attrs: attrs as tfTypes.NamedAttrMap }) as tfTypes.TensorInfo;
    const stock = rate(bestMs(callStock, (t) => backend.disposeData(t.dataId), Math.max(1, Math.floor(reps / 3))));
    results.push({ op, gflop, ours, stock });
  };
  const mm = (m: number, k: number, n: number, ta: boolean, tb: boolean): void => {
    const a = randomTensor(tf, ta ? [k, m] : [m, k], 1);
    const b = randomTensor(tf, tb ? [n, k] : [k, n], 2);
    const label = `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;
    measure(`matMul ${label} ${m}x${k}x${n}`, (2 * m * k * n) / 1e9, 'BatchMatMul', { a, b }, { transposeA: ta, transposeB: tb }, ta || tb);
    tf.dispose([a, b]);
  };
  mm(128, 2352, 512, false, false);
  mm(128, 2352, 512, true, false);
  mm(128, 2352, 512, false, true);
  // dense layer gradients as tfjs-core issues them: dW = xᵀ·dy (TN), dx = dy·Wᵀ (NT)
  mm(2352, 128, 512, true, false);
  mm(128, 512, 2352, false, true);
  const conv = (h: number, ci: number, co: number, k: number, s: number): void => {
    const x = randomTensor(tf, [batch, h, h, ci], 3);
    const w = randomTensor(tf, [k, k, ci, co], 4);
    const oh = Math.ceil(h / s);
    const dy = randomTensor(tf, [batch, oh, oh, co], 5);
    const gflop = (2 * batch * oh * oh * k * k * ci * co) / 1e9;
    const shape = `${k}x${k} ${ci}->${co} ${h}x${h}${s > 1 ? ` stride ${s}` : ''}`;
    const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    measure(`conv2d fwd ${shape}`, gflop, 'Conv2D', { x, filter: w }, attrs, false);
    measure(`conv dW ${shape}`, gflop, 'Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [k, k, ci, co] }, false);
    measure(`conv dX ${shape}`, gflop, 'Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: [batch, h, h, ci] }, true);
    tf.dispose([x, w, dy]);
  };
  conv(28, 3, 64, 5, 1);
  conv(14, 64, 64, 5, 1);
  conv(28, 96, 80, 3, 2);
  conv(14, 160, 96, 3, 1);
  // The AlexNet-like net's memory-bound kernels, in ms.
  for (const h of [28, 14]) {
    const x = randomTensor(tf, [batch, h, h, 64], 6);
    const dy = randomTensor(tf, [batch, h / 2, h / 2, 64], 7);
    const y = tf.maxPool(x as tfTypes.Tensor4D, 3, 2, 'same');
    measure(`MaxPoolGrad 3/2 ${h}x${h}x64 (ms)`, 0, 'MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 3, strides: 2, pad: 'same' }, true);
    const lrn = { depthRadius: 4, bias: 1, alpha: 0.001 / 9, beta: 0.75 };
    const xl = randomTensor(tf, [batch, h / 2, h / 2, 64], 8);
    const yl = tf.localResponseNormalization(xl as tfTypes.Tensor4D, 4, 1, 0.001 / 9, 0.75);
    measure(`LRN ${h / 2}x${h / 2}x64 (ms)`, 0, 'LRN', { x: xl }, lrn, true);
    measure(`LRNGrad ${h / 2}x${h / 2}x64 (ms)`, 0, 'LRNGrad', { x: xl, y: yl, dy }, lrn, true);
    tf.dispose([x, dy, y, xl, yl]);
  }
  return results;
}

type Params = Record<string, tfTypes.Variable>;

function variables(tf: Tf, shapes: Record<string, number[]>): Params {
  let seed = 100;
  const fanIn = (s: number[]): number => s.slice(0, -1).reduce((p, q) => p * q, 1);
  return Object.fromEntries(
    Object.entries(shapes).map(([k, s]) => [
      k,
      tf.variable(s.length === 1 ? tf.zeros(s) : tf.mul(tf.randomNormal(s, 0, 1, 'float32', seed++), Math.sqrt(2 / fanIn(s)))),
    ]),
  );
}

/** The two nets of the issue, written with plain ops: loss(x, labels) and their variables. */
function models(tf: Tf): Record<string, { readonly params: Params; loss(x: tfTypes.Tensor, y: tfTypes.Tensor): tfTypes.Scalar; readonly input: number[] }> {
  const mlp = variables(tf, { w1: [2352, 512], b1: [512], w2: [512, 10], b2: [10] });
  const alex = variables(tf, {
    c1: [5, 5, 3, 64], cb1: [64], c2: [5, 5, 64, 64], cb2: [64],
    f1: [7 * 7 * 64, 384], fb1: [384], f2: [384, 192], fb2: [192], f3: [192, 10], fb3: [10],
  });
  const lrn = (h: tfTypes.Tensor): tfTypes.Tensor4D => tf.localResponseNormalization(h as tfTypes.Tensor4D, 4, 1, 0.001 / 9, 0.75);
  const block = (h: tfTypes.Tensor, w: tfTypes.Tensor, b: tfTypes.Tensor): tfTypes.Tensor =>
    lrn(tf.maxPool(tf.relu(tf.add(tf.conv2d(h as tfTypes.Tensor4D, w as tfTypes.Tensor4D, 1, 'same'), b)) as tfTypes.Tensor4D, 3, 2, 'same'));
  const dense = (h: tfTypes.Tensor, w: tfTypes.Tensor, b: tfTypes.Tensor): tfTypes.Tensor => tf.add(tf.matMul(h as tfTypes.Tensor2D, w as tfTypes.Tensor2D), b);
  return {
    'mlp 2352-512-10': {
      params: mlp,
      input: [batch, 2352],
      loss: (x, y) => tf.losses.softmaxCrossEntropy(y, dense(tf.relu(dense(x, mlp.w1!, mlp.b1!)), mlp.w2!, mlp.b2!)) as tfTypes.Scalar,
    },
    'alexnet-like (conv5x5x64, pool 3/2, LRN) x2, fc 384-192-10': {
      params: alex,
      input: [batch, 28, 28, 3],
      loss: (x, y) => {
        let h = block(block(x, alex.c1!, alex.cb1!), alex.c2!, alex.cb2!);
        h = tf.reshape(h, [batch, -1]);
        h = tf.relu(dense(h, alex.f1!, alex.fb1!));
        h = tf.relu(dense(h, alex.f2!, alex.fb2!));
        return tf.losses.softmaxCrossEntropy(y, dense(h, alex.f3!, alex.fb3!)) as tfTypes.Scalar;
      },
    },
  };
}

type Net = { readonly params: Params | readonly tfTypes.Variable[]; loss(x: tfTypes.Tensor, y: tfTypes.Tensor): tfTypes.Scalar; readonly input: number[] };

/** The project's model definitions (src/models), looked up by name at run time. */
async function registryModels(tf: Tf, names: readonly string[]): Promise<Record<string, Net>> {
  type Registry = { getModel(n: string): { build(o: object): Promise<tfTypes.LayersModel> } };
  const specifier = '../../models/index.js';
  const registry = (await import(specifier)) as Registry;
  const nets: Record<string, Net> = {};
  for (const name of names) {
    const model = await registry.getModel(name).build({ inputShape: [28, 28, 3], numClasses: 10, seed: 1 });
    nets[name] = {
      params: model.trainableWeights.map((w) => w.read() as tfTypes.Variable),
      input: [batch, 28, 28, 3],
      loss: (x, y) => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tfTypes.Tensor) as tfTypes.Scalar,
    };
  }
  return nets;
}

async function modelBench(tf: Tf, steps: number, names: readonly string[]): Promise<ModelResult[]> {
  const results: ModelResult[] = [];
  const nets = names.length > 0 ? await registryModels(tf, names) : models(tf);
  for (const [name, m] of Object.entries(nets)) {
    const x = randomTensor(tf, m.input, 7);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => (i * 7) % 10), 'int32'), 10);
    const opt = tf.train.momentum(0.01, 0.9);
    const step = (): void => {
      const cost = opt.minimize(() => m.loss(x, y), true, Object.values(m.params) as tfTypes.Variable[]);
      cost?.dataSync();
      cost?.dispose();
    };
    step();
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      step();
      ms.push(performance.now() - t);
    }
    const prof = await tf.profile(step);
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of prof.kernels) {
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      byName.set(k.name, { ms: e.ms + (k.kernelTimeMs as number), calls: e.calls + 1 });
    }
    const topKernels = [...byName].map(([n, e]) => ({ name: n, ...e })).sort((p, q) => q.ms - p.ms).slice(0, 8);
    results.push({ model: name, imgPerSec: batch / (Math.min(...ms) / 1000), msPerStep: ms, topKernels });
    opt.dispose();
    tf.dispose([x, y, ...(Object.values(m.params) as tfTypes.Variable[])]);
  }
  return results;
}

async function measure(threads: number, reps: number, steps: number, names: readonly string[]): Promise<Report> {
  const tf = await import('@tensorflow/tfjs');
  const { initWasm } = await import('../../src/backends/wasm/init.js');
  const info = await initWasm({ threads });
  const kernels = reps > 0 ? await kernelBench(tf, reps) : [];
  return { threads: info.threads, kernels, models: await modelBench(tf, steps, names) };
}

function print(reports: readonly Report[]): void {
  const f = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(1));
  console.log(`GFLOP/s (or ms where marked), best of reps (ours / stock wasm kernel), batch ${batch}`);
  reports[0]!.kernels.forEach((k, i) => {
    if (i === 0) console.log(['op', ...reports.map((r) => `${r.threads}T ours / stock`)].join(' | '));
    console.log([k.op, ...reports.map((r) => `${f(r.kernels[i]!.ours)} / ${f(r.kernels[i]!.stock)}`)].join(' | '));
  });
  console.log('\ntraining step, batch 128, 28x28x3 (img/s from the best step; all steps in ms)');
  reports[0]!.models.forEach((m, i) => {
    for (const r of reports) {
      const mr = r.models[i]!;
      console.log(`${m.model} ${r.threads}T: ${mr.imgPerSec.toFixed(0)} img/s; steps ${mr.msPerStep.map((v) => v.toFixed(0)).join(', ')} ms`);
      console.log(`    top kernels (ms): ${mr.topKernels.map((k) => `${k.name} ${k.ms.toFixed(0)} (${k.calls})`).join(', ')}`);
    }
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string' },
      reps: { type: 'string', default: '5' },
      steps: { type: 'string', default: '5' },
      model: { type: 'string', default: '' },
      json: { type: 'boolean', default: false },
    },
  });
  const reps = Number(values.reps);
  const steps = Number(values.steps);
  const names = values.model === '' ? [] : values.model.split(',');
  if (values.threads !== undefined) {
    const report = await measure(Number(values.threads), reps, steps, names);
    if (values.json) console.log(JSON.stringify(report));
    else print([report]);
    return;
  }
  // The wasm build and its thread count are fixed per process: one child per thread count.
  const reports = [1, 2].map((t) => {
    const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--threads', String(t), '--reps', String(reps), '--steps', String(steps), '--model', values.model, '--json'];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    if (r.status !== 0 || line === undefined) throw new Error(`profile with ${t} threads failed:\n${r.stderr}`);
    return JSON.parse(line) as Report;
  });
  if (values.json) console.log(JSON.stringify(reports));
  else print(reports);
}

await main();
