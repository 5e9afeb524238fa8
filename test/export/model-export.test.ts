import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { getModel } from '../../src/models/registry.js';
import { exportModelFiles } from '../../src/models/export/files.js';
import { loadModel } from '../../src/models/export/load.js';
import { Rng } from '../../src/util/random.js';
import { tempDir } from '../support/temp.js';

const run = promisify(execFile);
const layersModule = resolve('dist/src/models/export/layers.js');

/** A model with every weight drawn from a seeded normal (variances kept positive), so nothing is trivially zero or one. */
async function randomModel(name: string, inputShape: [number, number, number]) {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const model = await getModel(name).build({ inputShape, numClasses: 5, seed: 1 });
  const rng = Rng.derive(11, name);
  for (const w of model.weights) {
    const n = (w.shape as number[]).reduce((a, b) => a * b, 1);
    // Kernels keep their (seeded, scaled) initial values; biases and batch-norm statistics get nonzero ones.
    if (w.originalName.endsWith('/kernel')) continue;
    const values = Float32Array.from({ length: n }, () => (w.originalName.endsWith('moving_variance') ? 0.5 + rng.next() : 0.1 * rng.normal()));
    w.write(tf.tensor(values, w.shape as number[]));
  }
  const images = Float32Array.from({ length: 3 * inputShape.reduce((a, b) => a * b) }, () => rng.normal());
  const logits = model.predict(tf.tensor(images, [3, ...inputShape])) as import('@tensorflow/tfjs').Tensor;
  const want = Array.from(await logits.data());
  logits.dispose();
  const meta = { model: name, inputShape, numClasses: 5, dropout: 0, preprocessing: { crop: null, standardize: true }, classes: ['a', 'b', 'c', 'd', 'e'] };
  return { tf, model, meta, images, want };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// A plain tfjs program: imports @tensorflow/tfjs and the small layers module, nothing else of rethink.
const PLAIN = `
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const [dir, layers, inputFile, shape] = process.argv.slice(2);
if (layers !== '-') (await import(layers)).registerRethinkLayers(tf);
await tf.setBackend('cpu');
// tf.loadLayersModel with an IOHandler reading the two files (tfjs has no file:// loader without tfjs-node).
const handler = { load: async () => {
  const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const data = readFileSync(join(dir, doc.weightsManifest[0].paths[0]));
  return { modelTopology: doc.modelTopology, weightSpecs: doc.weightsManifest[0].weights, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) };
} };
const model = await tf.loadLayersModel(handler);
const raw = readFileSync(inputFile);
const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
const y = model.predict(tf.tensor(x, JSON.parse(shape)));
process.stdout.write(JSON.stringify(Array.from(await y.data())));
`;

for (const [name, shape, needsLayers] of [
  ['mlp_3x512', [6, 6, 3], false],
  ['small_alexnet', [8, 8, 3], true],
  ['small_inception_bn', [8, 8, 3], false],
  ['small_inception', [8, 8, 1], false],
] as const) {
  test(`${name}: the exported model.json loads in plain tfjs and model.onnx runs in ONNX Runtime, both giving rethink's logits (≤ 1e-5)`, async () => {
    const { tf, model, meta, images, want } = await randomModel(name, [...shape]);
    const dir = join(await tempDir('rethink-export-'), 'model');
    try {
      const card = await exportModelFiles(tf, { model, meta }, dir, ['tfjs', 'onnx'], { key: 'k' });
      assert.deepEqual(card.files, { tfjs: 'model.json', onnx: 'model.onnx' });
      const doc = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: { class_name: string }[] } } };
      const classes = new Set(doc.modelTopology.config.layers.map((l) => l.class_name));
      assert.ok(![...classes].some((c) => c === 'RethinkBetaBatchNorm' || c === 'RethinkSeededDropout'), `training-only layers exported as stock ones: ${[...classes]}`);
      assert.equal(classes.has('RethinkLRN'), needsLayers);

      // (a) Stock tfjs in a child process.
      const input = join(dir, '..', 'input.f32');
      await writeFile(input, new Uint8Array(images.buffer));
      // A separate project whose node_modules holds tfjs: the script resolves it as a user's would.
      const script = join(dir, '..', 'plain.mjs');
      await writeFile(script, PLAIN);
      await symlink(resolve('node_modules'), join(dir, '..', 'node_modules'));
      const child = await run(process.execPath, [script, dir, needsLayers ? layersModule : '-', input, JSON.stringify([3, ...shape])]);
      const plain = maxDiff(JSON.parse(child.stdout) as number[], want);
      assert.ok(plain <= 1e-5, `tfjs: ${plain}`);

      // (b) ONNX Runtime's public API.
      const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-node');
      const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
      const result = await session.run({ image: new ort.Tensor('float32', images, [3, ...shape]) });
      assert.ok(maxDiff(result['logits']!.data as Float32Array, want) <= 1e-5, `onnx: ${maxDiff(result['logits']!.data as Float32Array, want)}`);
      await session.release();

      // loadModel (the public API) gives the same model and its card.
      const loaded = await loadModel(dir);
      const y = loaded.model.predict(tf.tensor(images, [3, ...shape])) as import('@tensorflow/tfjs').Tensor;
      assert.ok(maxDiff(await y.data(), want) <= 1e-6);
      assert.deepEqual([loaded.card.model, loaded.card.inputShape, loaded.card.classes.length], [name, [...shape], 5]);
      loaded.model.dispose();
      y.dispose();
    } finally {
      model.dispose();
    }
  });
}
