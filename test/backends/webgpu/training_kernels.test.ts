// Our hand-recorded WebGPU training kernels against tfjs's composed ops on the cpu backend:
// RethinkDenseGrad (a dense layer's backward pass: ReLU mask, dW, db and dx) and RethinkSoftmaxXent (the
// loss, its gradient and the accuracy count), on shapes that do not fill the GEMM tiles and batches
// larger than the loss kernel's workgroup; then a whole MLP training step on webgpu against cpu, and
// how many GPU dispatches that step takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { countBindGroups, countBuffers, countDispatches, sessionOf, webgpuOrSkipReason, randomArray, relL2, type Tf } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

type T = tfType.Tensor;

interface DenseCase {
  readonly batch: number;
  readonly k: number;
  readonly n: number;
  readonly relu: boolean;
  readonly inputGrad: boolean;
}

/** Composed reference: dz = dy·step(y) (relu) or dy; dx = dz·Wᵀ; dW = xᵀ·dz; db = Σ dz. */
async function denseGradsComposed(tf: Tf, c: DenseCase): Promise<Float32Array[]> {
  await tf.setBackend('cpu');
  const { x, w, dy, b } = denseInputs(tf, c);
  const out = tf.tidy(() => {
    const z = tf.add(tf.matMul(x, w), b);
    const y = c.relu ? tf.relu(z) : z;
    const dz = c.relu ? tf.mul(dy, tf.step(y)) : dy;
    const grads = [tf.matMul(x, dz, true, false), tf.sum(dz, 0)];
    return c.inputGrad ? [tf.matMul(dz, w, false, true), ...grads] : grads;
  });
  const values = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([x, w, dy, b, ...out]);
  return values;
}

function denseInputs(tf: Tf, c: DenseCase): { x: T; w: T; dy: T; b: T } {
  return {
    x: tf.tensor2d(randomArray(11, 'x', c.batch * c.k), [c.batch, c.k]),
    w: tf.tensor2d(randomArray(11, 'w', c.k * c.n), [c.k, c.n]),
    b: tf.tensor1d(randomArray(11, 'b', c.n)),
    dy: tf.tensor2d(randomArray(11, 'dy', c.batch * c.n), [c.batch, c.n]),
  };
}

async function denseGradsKernel(tf: Tf, c: DenseCase): Promise<{ values: Float32Array[]; shapes: number[][]; dispatches: number }> {
  await tf.setBackend('webgpu');
  const { DENSE_GRAD } = await import('../../../src/ops/bias_relu.js');
  const before = tf.memory().numTensors;
  const { x, w, dy, b } = denseInputs(tf, c);
  const y = tf.tidy(() => (c.relu ? tf.relu(tf.add(tf.matMul(x, w), b)) : tf.add(tf.matMul(x, w), b)));
  const count = countDispatches(tf);
  const inputs = c.relu ? { x, W: w, dy, y } : { x, W: w, dy };
  const out = tf.engine().runKernel(DENSE_GRAD, inputs, { relu: c.relu, inputGrad: c.inputGrad } as unknown as tfType.NamedAttrMap) as T[];
  const dispatches = count.stop();
  const values = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
  const shapes = out.map((t) => t.shape);
  tf.dispose([x, w, dy, b, y, ...out]);
  assert.equal(tf.memory().numTensors, before, 'RethinkDenseGrad leaked tensors');
  return { values, shapes, dispatches };
}



test('RethinkDenseGrad gives the composed dx, dW and db in one or two dispatches', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  const cases: DenseCase[] = [
    { batch: 5, k: 70, n: 13, relu: true, inputGrad: true },
    { batch: 5, k: 70, n: 13, relu: true, inputGrad: false },
    { batch: 37, k: 9, n: 130, relu: false, inputGrad: true },
    { batch: 1, k: 64, n: 64, relu: false, inputGrad: false },
  ];
  for (const c of cases) {
    const want = await denseGradsComposed(tf, c);
    const got = await denseGradsKernel(tf, c);
    const names = c.inputGrad ? ['dx', 'dW', 'db'] : ['dW', 'db'];
    assert.equal(got.values.length, names.length, `${JSON.stringify(c)}: outputs`);
    assert.deepEqual(got.shapes, c.inputGrad ? [[c.batch, c.k], [c.k, c.n], [c.n]] : [[c.k, c.n], [c.n]]);
    assert.equal(got.dispatches, c.inputGrad ? 2 : 1, `${JSON.stringify(c)}: dispatches`);
    for (const [i, name] of names.entries()) {
      const err = relL2(got.values[i]!, want[i]!);
      assert.ok(err <= 1e-5, `${JSON.stringify(c)} ${name}: relative L2 error ${err}`);
    }
    if (c.relu) assert.ok(want[c.inputGrad ? 2 : 1]!.some((v) => v !== 0), 'the case exercises the mask with live units');
  }
  await tf.setBackend('cpu');
});

test('RethinkSoftmaxXent gives tfjs softmax cross-entropy, its gradient and the accuracy count in one dispatch', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  const { softmaxCrossEntropyTrain } = await import('../../../src/ops/softmax_xent.js');
  for (const [batch, classes] of [
    [3, 10],
    [300, 7],
  ] as const) {
    const logits = randomArray(13, `logits${batch}`, batch * classes).map((v) => v * 3);
    const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7) % classes);
    // A row whose label is its maximum, so at least one prediction is right.
    logits[labels[0]!] = 50;
    const want = await lossComposed(tf, logits, labels, classes);
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const z = tf.tidy(() => tf.variable(tf.tensor2d(logits, [batch, classes]), true, `xent_z_${batch}`));
    const lab = tf.tensor1d(labels, 'int32');
    let correct: tfType.Scalar | undefined;
    let stats: tfType.Tensor | undefined;
    const count = countDispatches(tf);
    const { value, grads } = tf.variableGrads(() => {
      const out = softmaxCrossEntropyTrain(tf, z, lab, classes);
      correct = out.correct;
      stats = out.stats;
      return out.loss;
    }, [z]);
    const dispatches = count.stop();
    const loss = (await value.data())[0]!;
    const hits = (await correct!.data())[0]!;
    const grad = (await grads[z.name]!.data()) as Float32Array;
    assert.deepEqual(Array.from(await stats!.data()), [loss, hits], 'stats = [loss, correct]');
    tf.dispose([z, lab, value, correct!, stats!, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
    assert.equal(dispatches, 2, 'one dispatch forward, one multiply by dy backward');
    assert.ok(Math.abs(loss - want.loss) <= 1e-5 * Math.abs(want.loss), `loss ${loss} vs ${want.loss}`);
    assert.equal(hits, want.correct);
    assert.ok(hits >= 1);
    const err = relL2(grad, want.grad);
    assert.ok(err <= 1e-5, `gradient: relative L2 error ${err}`);
  }
  await tf.setBackend('cpu');
});

/** tf.losses.softmaxCrossEntropy, its gradient (logits as a variable) and the argMax count, on cpu. */
interface ConvCase {
  readonly x: readonly [number, number, number, number];
  readonly filter: readonly [number, number, number, number];
  readonly strides: [number, number];
  readonly pad: 'same' | 'valid';
  readonly inputGrad: boolean;
}

function convInputs(tf: Tf, c: ConvCase): { x: T; w: T; b: T; dy: (y: T) => T } {
  const size = (s: readonly number[]): number => s.reduce((a, d) => a * d, 1);
  return {
    x: tf.tensor4d(randomArray(19, 'cx', size(c.x)), [...c.x]),
    w: tf.tensor4d(randomArray(19, 'cw', size(c.filter)), [...c.filter]),
    b: tf.tensor1d(randomArray(19, 'cb', c.filter[3])),
    dy: (y) => tf.tensor(randomArray(19, 'cdy', size(y.shape)), y.shape),
  };
}

async function convGrads(tf: Tf, backend: 'cpu' | 'webgpu', c: ConvCase): Promise<{ values: Float32Array[]; dispatches: number }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const { x, w, b, dy: makeDy } = convInputs(tf, c);
  const y = tf.tidy(() => tf.relu(tf.add(tf.conv2d(x as tfType.Tensor4D, w as tfType.Tensor4D, c.strides, c.pad), b)));
  const dy = makeDy(y);
  let out: T[];
  let dispatches = 0;
  if (backend === 'webgpu') {
    const { CONV_GRAD } = await import('../../../src/ops/bias_relu.js');
    const count = countDispatches(tf);
    const attrs = { strides: c.strides, pad: c.pad, relu: true, inputGrad: c.inputGrad };
    out = tf.engine().runKernel(CONV_GRAD, { x, W: w, dy, y }, attrs as unknown as tfType.NamedAttrMap) as T[];
    dispatches = count.stop();
  } else {
    out = tf.tidy(() => {
      const dz = tf.mul(dy, tf.step(y)) as tfType.Tensor4D;
      const conv = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] };
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz }, { ...conv, filterShape: [...c.filter] } as unknown as tfType.NamedAttrMap) as T;
      const grads = [dw, tf.sum(dz, [0, 1, 2])];
      if (!c.inputGrad) return grads;
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: w }, { ...conv, inputShape: [...c.x] } as unknown as tfType.NamedAttrMap) as T;
      return [dx, ...grads];
    });
  }
  const values = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([x, w, b, y, dy, ...out]);
  assert.equal(tf.memory().numTensors, before, `${backend}: no tensors leaked`);
  return { values, dispatches };
}

test('RethinkConvGrad gives the composed dx, dW and db of a conv+bias+ReLU layer', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  const cases: ConvCase[] = [
    // K = 2·9·9 = 162 positions: one K chunk, so dW and db come from the GEMM itself.
    { x: [2, 9, 9, 3], filter: [3, 3, 3, 5], strides: [1, 1], pad: 'same', inputGrad: true },
    // K = 8·10·10 = 800 positions on a single 64×64 tile: split over K, then one summing dispatch.
    { x: [8, 10, 10, 4], filter: [3, 3, 4, 6], strides: [1, 1], pad: 'same', inputGrad: false },
    { x: [3, 11, 11, 4], filter: [3, 3, 4, 7], strides: [2, 2], pad: 'valid', inputGrad: true },
  ];
  const { filterBiasGradSpec } = await import('../../../src/backends/webgpu/kernels/conv_grad.js');
  const { convGeometry } = await import('../../../src/backends/webgpu/kernels/conv_geometry.js');
  const splits = cases.map((c) => filterBiasGradSpec(convGeometry(tf, c.x, c.filter, { strides: c.strides, pad: c.pad })!, 'relu').splits);
  assert.equal(splits[0], 1);
  assert.ok(splits[1]! > 1, 'the second case splits over K');
  for (const [i, c] of cases.entries()) {
    const want = await convGrads(tf, 'cpu', c);
    const got = await convGrads(tf, 'webgpu', c);
    assert.equal(got.dispatches, (c.inputGrad ? 1 : 0) + (splits[i] === 1 ? 1 : 2), `case ${i}: dispatches`);
    const names = c.inputGrad ? ['dx', 'dW', 'db'] : ['dW', 'db'];
    assert.equal(got.values.length, names.length);
    for (const [j, name] of names.entries()) {
      const err = relL2(got.values[j]!, want.values[j]!);
      assert.ok(err <= 1e-5, `case ${i} ${name}: relative L2 error ${err}`);
    }
  }
  await tf.setBackend('cpu');
});

async function lossComposed(tf: Tf, logits: Float32Array, labels: Int32Array, classes: number): Promise<{ loss: number; correct: number; grad: Float32Array }> {
  await tf.setBackend('cpu');
  const batch = labels.length;
  const z = tf.tidy(() => tf.variable(tf.tensor2d(logits, [batch, classes]), true, `xent_ref_${batch}`));
  const lab = tf.tensor1d(labels, 'int32');
  const y = tf.oneHot(lab, classes);
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, z) as tfType.Scalar, [z]);
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(z, 1), lab), 'float32')));
  const out = { loss: (await value.data())[0]!, correct: (await correct.data())[0]!, grad: (await grads[z.name]!.data()) as Float32Array };
  tf.dispose([z, lab, y, value, correct, ...Object.values(grads)]);
  return out;
}

test('an MLP training step on webgpu matches cpu, in 8 dispatches, reusing its bind groups', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  const { getModel } = await import('../../../src/models/registry.js');
  const { MomentumSgd } = await import('../../../src/train/sgd.js');
  const { sgdSlots } = await import('../../../src/train/decay.js');
  const { trainStepOn } = await import('../../../src/train/step.js');
  const batch = 6;
  const run = async (backend: 'cpu' | 'webgpu'): Promise<{ stats: Float32Array[]; weights: Float32Array[]; dispatches: number; bindGroups: number }> => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const model = await getModel('mlp_1x512').build({ inputShape: [4, 4, 3], numClasses: 10, seed: 2 });
    const session = await sessionOf(tf, backend);
    const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 0, dense: 5e-4 }), 0.9, session.momentum);
    const x = tf.tensor4d(randomArray(17, 'mlp-x', batch * 48), [batch, 4, 4, 3]);
    const labels = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
    const stats: Float32Array[] = [];
    let dispatches = 0;
    let bindGroups = 0;
    for (let i = 0; i < 3; i++) {
      const count = backend === 'webgpu' ? countDispatches(tf) : null;
      const created = backend === 'webgpu' ? countBindGroups(tf) : null;
      const out = trainStepOn(tf, model, sgd, x, labels, 10, 0.05);
      session.endStep?.();
      dispatches = count?.stop() ?? 0;
      bindGroups = created?.stop() ?? 0;
      stats.push((await out.data()) as Float32Array);
      out.dispose();
    }
    const weights = await Promise.all(model.trainableWeights.map(async (w) => (await w.read().data()) as Float32Array));
    sgd.dispose();
    model.dispose();
    tf.dispose([x, labels]);
    assert.equal(tf.memory().numTensors, before, `${backend}: no tensors leaked`);
    return { stats, weights, dispatches, bindGroups };
  };
  const want = await run('cpu');
  const got = await run('webgpu');
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(got.stats[i]![0]! - want.stats[i]![0]!) <= 1e-4 * Math.abs(want.stats[i]![0]!), `step ${i} loss ${got.stats[i]![0]} vs ${want.stats[i]![0]}`);
    assert.equal(got.stats[i]![1], want.stats[i]![1], `step ${i} correct`);
  }
  for (const [i, w] of want.weights.entries()) {
    const err = relL2(got.weights[i]!, w);
    assert.ok(err <= 1e-5, `weight ${i}: relative L2 error ${err}`);
  }
  // 2 forward matmuls, the loss (which also writes the returned [loss, correct]), its dy multiply, the
  // logits layer's backward (dx; dW+db), fc1's (dW+db) and the momentum updates of 4 variables, in
  // place and grouped as the device allows (1 dispatch on llvmpipe). tfjs's own path takes 50.
  const { momentumInPlaceGroupSize } = await import('../../../src/backends/webgpu/kernels/momentum.js');
  assert.equal(got.dispatches, 7 + Math.ceil(4 / momentumInPlaceGroupSize(tf)));
  // Every one of them is a recorded dispatch now (the forward GEMMs and the dy multiply too), and by the
  // third step each finds its bind group cached (src/backends/webgpu/record.ts).
  assert.equal(got.bindGroups, 0);
  await tf.setBackend('cpu');
});

/**
 * Conv → batch norm + ReLU → two 1×1 conv branches, each with batch norm + ReLU of one size (their
 * buffers are interchangeable in tfjs's pool) → concat → global average pool → dense: every kernel
 * recorded, and variables and moving statistics all written in place.
 */
async function convBnModel(tf: Tf): Promise<tfType.LayersModel> {
  const { customLayers } = await import('../../../src/models/custom-layers.js');
  const { fuseBiasReluInTraining } = await import('../../../src/models/fused-training.js');
  const custom = customLayers(tf);
  type Sym = tfType.SymbolicTensor;
  const convBn = (x: Sym, name: string, kernel: number): Sym => {
    const z = tf.layers.conv2d({ filters: 8, kernelSize: kernel, padding: 'same', useBias: false, kernelInitializer: tf.initializers.glorotUniform({ seed: kernel }), name }).apply(x) as Sym;
    return custom.betaBatchNorm({ momentum: 0.9, epsilon: 1e-3, relu: true, name: `${name}_bn` }).apply(z) as Sym;
  };
  const input = tf.input({ shape: [6, 6, 3] });
  const trunk = convBn(input, 'trunk', 3);
  const joined = tf.layers.concatenate({ axis: -1 }).apply([convBn(trunk, 'left', 1), convBn(trunk, 'right', 1)]) as Sym;
  const flat = tf.layers.globalAveragePooling2d({}).apply(joined) as Sym;
  const dense = tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) });
  return tf.model({ inputs: input, outputs: fuseBiasReluInTraining(tf, dense).apply(flat) as Sym });
}

test('a conv + batch-norm step on webgpu creates no bind group and no buffer once warm: every step binds the same buffers', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  await tf.setBackend('webgpu');
  const { MomentumSgd } = await import('../../../src/train/sgd.js');
  const { sgdSlots } = await import('../../../src/train/decay.js');
  const { trainStepOn } = await import('../../../src/train/step.js');
  const before = tf.memory().numTensors;
  const model = await convBnModel(tf);
  const session = await sessionOf(tf, 'webgpu');
  const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 5e-4, dense: 5e-4 }), 0.9, session.momentum);
  const x = tf.tensor4d(randomArray(23, 'bn-step-x', 4 * 6 * 6 * 3), [4, 6, 6, 3]);
  const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
  const created: number[] = [];
  const buffers: number[] = [];
  const losses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const count = countBindGroups(tf);
    const made = countBuffers(tf);
    const out = trainStepOn(tf, model, sgd, x, labels, 10, 0.05);
    session.endStep?.();
    created.push(count.stop());
    buffers.push(made.stop());
    losses.push((await out.data())[0]!);
    out.dispose();
  }
  sgd.dispose();
  model.dispose();
  tf.dispose([x, labels]);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
  assert.ok(losses[7]! < losses[0]!, `it trains: loss ${losses[0]} → ${losses[7]}`);
  // Steps 1–2 bind fresh buffers as tfjs's pool fills; from then on every step ends on a submission with
  // the pool's free lists in one order (src/backends/webgpu/record.ts submitEncoded), and no variable
  // changes buffer, so each dispatch finds its bind group cached.
  assert.ok(created[0]! > 20, `the first step creates its bind groups (${created[0]})`);
  assert.deepEqual(created.slice(3), [0, 0, 0, 0, 0], `bind groups created per step: ${created.join(', ')}`);
  // No tfjs program is left either (the global average pool and its gradient are ours), and nothing is
  // uploaded: the tape's seed dy = 1 reaches the GPU as a uniform, not through a staging buffer.
  assert.deepEqual(buffers.slice(3), [0, 0, 0, 0, 0], `buffers created per step: ${buffers.join(', ')}`);
  await tf.setBackend('cpu');
});
