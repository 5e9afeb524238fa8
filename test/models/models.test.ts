import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsInput, countParams, listModels, paramCount } from '../../src/models/index.js';
import { modelsCommand, parseInputShape } from '../../src/models/cli.js';
import { loadCpu } from '../train/helpers.js';

// Paper Table 1 (28×28×3) and the same networks on 28×28×1 (only the first layer changes).
const EXPECTED: Readonly<Record<string, readonly [number, number]>> = {
  mlp_1x512: [1_209_866, 407_050],
  mlp_3x512: [1_735_178, 932_362],
  small_alexnet: [1_387_786, 1_384_586],
  small_inception: [1_649_402, 1_647_674],
  small_inception_bn: [1_649_402, 1_647_674],
};

test('the registry lists the five CIFAR-10 models and Inception V3 (ImageNet, test/models/inception_v3.test.ts)', () => {
  assert.deepEqual(listModels().map((m) => m.name).sort(), [...Object.keys(EXPECTED), 'inception_v3'].sort());
});

test('analytic parameter counts match the paper at 28x28x3 and 28x28x1', () => {
  for (const [name, [rgb, grey]] of Object.entries(EXPECTED)) {
    assert.equal(countParams(name, [28, 28, 3]), rgb, name);
    assert.equal(countParams(name, [28, 28, 1]), grey, name);
  }
  assert.equal(paramCount('small_inception_bn', [28, 28, 3]).nonTrainable, 3424);
  assert.equal(paramCount('small_inception', [28, 28, 3]).nonTrainable, 0);
  assert.throws(() => countParams('nope', [28, 28, 3]), /unknown model/);
});

test('built models have exactly the analytic counts and free every tensor', async () => {
  const tf = await loadCpu();
  const before = tf.memory().numTensors;
  for (const def of listModels().filter((m) => acceptsInput(m, [28, 28, 3]))) {
    for (const shape of [[28, 28, 3], [28, 28, 1]] as const) {
      const model = await def.build({ inputShape: shape, numClasses: 10, seed: 3 });
      const trainable = model.trainableWeights.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
      const expected = def.countParams(shape, 10);
      assert.equal(trainable, expected.trainable, `${def.name} ${shape.join('x')}`);
      assert.equal(model.countParams(), expected.trainable + expected.nonTrainable, `${def.name} total`);
      assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
      model.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

test('initial weights are a function of the seed and stable weight names', async () => {
  const tf = await loadCpu();
  const def = listModels().find((m) => m.name === 'small_alexnet')!;
  const build = (seed: number) => def.build({ inputShape: [12, 12, 3], numClasses: 10, seed });
  const [a, b, c] = [await build(1), await build(1), await build(2)];
  assert.deepEqual(
    a.weights.map((w) => w.originalName),
    ['conv1/kernel', 'conv1/bias', 'conv2/kernel', 'conv2/bias', 'fc3/kernel', 'fc3/bias', 'fc4/kernel', 'fc4/bias', 'logits/kernel', 'logits/bias'],
  );
  const values = (m: typeof a) => m.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(values(a), values(b));
  assert.notDeepEqual(values(a)[0], values(c)[0]);
  // TF tutorial biases: conv1 0, conv2 0.1.
  assert.ok(values(a)[1]!.every((v) => v === 0));
  assert.ok(values(a)[3]!.every((v) => Math.abs(v - 0.1) < 1e-7));
  for (const m of [a, b, c]) m.dispose();
  void tf;
});

test('the LRN layer is TF-style (window 2r+1, alpha on the raw sum of squares)', async () => {
  const tf = await loadCpu();
  const def = listModels().find((m) => m.name === 'small_alexnet')!;
  const model = await def.build({ inputShape: [4, 4, 3], numClasses: 10, seed: 1 });
  const lrn = model.getLayer('norm1');
  const x = tf.tidy(() => tf.add(tf.mul(tf.range(0, 64), 0.01), 0.5).reshape([1, 1, 1, 64]));
  const y = lrn.apply(x) as import('@tensorflow/tfjs').Tensor;
  const xs = x.dataSync();
  const ys = y.dataSync();
  for (const ch of [0, 10, 63]) {
    let sq = 0;
    for (let j = Math.max(0, ch - 4); j <= Math.min(63, ch + 4); j++) sq += xs[j]! ** 2;
    const want = xs[ch]! / Math.pow(1 + (0.001 / 9) * sq, 0.75);
    assert.ok(Math.abs(ys[ch]! - want) < 1e-6, `channel ${ch}: ${ys[ch]} vs ${want}`);
  }
  tf.dispose([x, y]);
  model.dispose();
});

test('seeded dropout: fresh mask per training call, replayable, identity at inference', async () => {
  const tf = await loadCpu();
  const def = listModels().find((m) => m.name === 'mlp_1x512')!;
  const masks = async (): Promise<number[][]> => {
    const model = await def.build({ inputShape: [2, 2, 1], numClasses: 2, seed: 5, dropout: 0.5 });
    const drop = model.getLayer('fc1_dropout');
    const x = tf.ones([4, 512]);
    const out: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const y = drop.apply(x, { training: true }) as import('@tensorflow/tfjs').Tensor;
      out.push(Array.from(y.dataSync()));
      y.dispose();
    }
    const inf = drop.apply(x, { training: false }) as import('@tensorflow/tfjs').Tensor;
    assert.ok(inf.dataSync().every((v) => v === 1));
    tf.dispose([x, inf]);
    model.dispose();
    return out;
  };
  const [first, again] = [await masks(), await masks()];
  assert.deepEqual(first, again);
  assert.notDeepEqual(first[0], first[1]);
  const kept = first[0]!.filter((v) => v !== 0);
  assert.ok(kept.every((v) => v === 2), 'kept units are scaled by 1/(1-rate)');
  assert.ok(kept.length > 900 && kept.length < 1150, `about half kept: ${kept.length}`);
});

test('rethink models: text and JSON', async () => {
  const lines: string[] = [];
  assert.equal(await modelsCommand({ input: [28, 28, 3], json: false }, (s) => lines.push(s)), 0);
  const text = lines.join('\n');
  assert.match(text, /small_alexnet\s+1,387,786/);
  assert.match(text, /mlp_3x512\s+1,735,178/);
  const json: string[] = [];
  assert.equal(await modelsCommand({ input: [28, 28, 1], json: true }, (s) => json.push(s)), 0);
  const parsed = JSON.parse(json.join('')) as { input: number[]; models: { name: string; params: number }[] };
  assert.deepEqual(parsed.input, [28, 28, 1]);
  assert.equal(parsed.models.find((m) => m.name === 'mlp_1x512')!.params, 407_050);
  assert.deepEqual(parseInputShape('32x32x3'), [32, 32, 3]);
  assert.equal(parseInputShape('32x32'), undefined);
  assert.equal(await modelsCommand({ input: [0, 28, 3], json: false }, () => {}), 2);
});

test('beta-only batch norm: batch statistics in training, moving averages updated, used at inference', async () => {
  const tf = await loadCpu();
  // Unfused: the batch norm alone, its ReLU a layer of its own.
  const model = await listModels().find((m) => m.name === 'small_inception_bn')!.build({ inputShape: [4, 4, 3], numClasses: 10, seed: 1, fuseBiasRelu: false });
  const bn = model.getLayer('b1_bn');
  assert.deepEqual(bn.trainableWeights.map((w) => w.originalName), ['b1_bn/beta']);
  const x = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([8, 2, 2, 96], 0, 1, 'float32', 1), 3), 5));
  const y = bn.apply(x, { training: true }) as import('@tensorflow/tfjs').Tensor;
  const { mean, variance } = tf.moments(y, [0, 1, 2]);
  assert.ok(mean.dataSync().every((v) => Math.abs(v) < 1e-4), 'normalized with batch mean (beta = 0)');
  assert.ok(variance.dataSync().every((v) => Math.abs(v - 1) < 1e-2));
  const [movingMean, movingVar] = bn.getWeights().slice(1).map((t) => t.dataSync());
  const xMean = tf.moments(x, [0, 1, 2]);
  const want = xMean.mean.dataSync();
  movingMean!.forEach((v, i) => assert.ok(Math.abs(v - 0.01 * want[i]!) < 1e-5));
  assert.ok(movingVar!.every((v) => v > 0.99 && v < 1.2));
  const inf = bn.apply(x, { training: false }) as import('@tensorflow/tfjs').Tensor;
  const xs = x.dataSync();
  const is = inf.dataSync();
  const i = 5;
  const c = i % 96;
  assert.ok(Math.abs(is[i]! - (xs[i]! - movingMean![c]!) / Math.sqrt(movingVar![c]! + 1e-3)) < 1e-4, 'inference uses moving statistics');
  tf.dispose([x, y, mean, variance, xMean.mean, xMean.variance, inf]);
  model.dispose();
});

for (const relu of [false, true]) {
  test(`beta-only batch norm${relu ? ' with its ReLU fused in' : ''}: its closed-form gradient equals autodiff of the plain formula`, async () => {
    const tf = await loadCpu();
    // fuseBiasRelu (the default) puts each conv module's ReLU into its batch-norm layer.
    const model = await listModels().find((m) => m.name === 'small_inception_bn')!.build({ inputShape: [4, 4, 3], numClasses: 10, seed: 1, fuseBiasRelu: relu });
    const bn = model.getLayer('b2_1x1_bn'); // 32 channels
    const betaVar = bn.trainableWeights[0]!.read() as import('@tensorflow/tfjs').Variable;
    betaVar.assign(tf.tidy(() => tf.randomNormal([32], 0, 1, 'float32', 3)));
    const before = tf.memory().numTensors;
    const x = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([5, 3, 3, 32], 0, 1, 'float32', 4), 2), 1));
    const w = tf.randomNormal([5, 3, 3, 32], 0, 1, 'float32', 5);
    const beta = tf.clone(betaVar);
    const loss = (y: import('@tensorflow/tfjs').Tensor) => tf.sum(tf.mul(y, w));
    const reference = (xs: import('@tensorflow/tfjs').Tensor, b: import('@tensorflow/tfjs').Tensor) => {
      const { mean, variance } = tf.moments(xs, [0, 1, 2]);
      const y = tf.add(tf.div(tf.sub(xs, mean), tf.sqrt(tf.add(variance, 1e-3))), b);
      return loss(relu ? tf.relu(y) : y);
    };
    const [wantDx, wantDb] = tf.grads(reference)([x, beta]);
    const gotDx = tf.grad((xs: import('@tensorflow/tfjs').Tensor) => loss(bn.apply(xs, { training: true }) as import('@tensorflow/tfjs').Tensor))(x);
    const { value, grads } = tf.variableGrads(() => loss(bn.apply(x, { training: true }) as import('@tensorflow/tfjs').Tensor) as import('@tensorflow/tfjs').Scalar, [betaVar]);
    const close = (a: import('@tensorflow/tfjs').Tensor, b: import('@tensorflow/tfjs').Tensor, what: string) => {
      const [av, bv] = [a.dataSync(), b.dataSync()];
      const scale = Math.max(...Array.from(bv, Math.abs));
      av.forEach((v, i) => assert.ok(Math.abs(v - bv[i]!) <= 1e-5 * scale, `${what}[${i}] ${v} vs ${bv[i]}`));
    };
    close(gotDx, wantDx!, 'dx');
    close(grads[betaVar.name]!, wantDb!, 'dbeta');
    tf.dispose([x, w, beta, wantDx!, wantDb!, gotDx, value, grads[betaVar.name]!]);
    assert.equal(tf.memory().numTensors, before, 'no tensors leak through the custom gradient');
    model.dispose();
  });
}
