import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project } from '../support/tmp-project.js';
import { trainingPipeline } from '../support/training.js';
import { loadModel } from '../../src/models/export/load.js';
import { preprocessBatch } from '../../src/data/preprocess.js';
import { Rng } from '../../src/util/random.js';

test('export --model writes a trained model as tfjs + ONNX files; predict reads them and feeds images as training did', async () => {
  const p = await project({ 'p.yaml': trainingPipeline(2) });
  assert.equal((await p.run('p.yaml')).code, 0);
  const r = await p.cli('export', 'fit', 'p.yaml', '--model', '--to', 'out');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['out/fit/model/model.json', 'out/fit/model/model.onnx', 'out/fit/model/model-card.json']);
  assert.deepEqual((await readdir(join(p.dir, 'out', 'fit', 'model'))).sort(), ['model-card.json', 'model.json', 'model.onnx', 'weights.bin']);
  const onnxOnly = await p.cli('export', 'fit', 'p.yaml', '--model', '--format', 'onnx', '--to', 'onnx', '--json');
  assert.equal(onnxOnly.code, 0, onnxOnly.stderr);
  assert.deepEqual((JSON.parse(onnxOnly.stdout) as { exported: { files: string[] }[] }).exported.map((e) => e.files), [['model.onnx', 'model-card.json']]);

  // Two 28×28 grey images (the model's input): predict's top-1 is the model's argmax on the same pixels.
  const { default: sharp } = await import('sharp');
  const rng = Rng.derive(5, 'images');
  const pixels = [0, 1].map(() => Uint8Array.from({ length: 28 * 28 }, () => rng.int(256)));
  for (const [i, px] of pixels.entries()) await sharp(Buffer.from(px), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(p.dir, `img${i}.png`));
  const out = await p.cli('predict', 'out/fit/model', 'img0.png', 'img1.png', '--top', '2', '--json');
  assert.equal(out.code, 0, out.stderr);
  const doc = JSON.parse(out.stdout) as { format: number; predictions: { image: string; top: { index: number; class: string; p: number }[] }[] };
  assert.equal(doc.format, 1);
  const { model, card } = await loadModel(join(p.dir, 'out', 'fit', 'model'));
  const tf = await import('@tensorflow/tfjs');
  for (const [i, px] of pixels.entries()) {
    const batch = preprocessBatch(px, [1, 28, 28, 1], { standardize: card.preprocessing.standardize });
    const probs = Array.from(await (tf.softmax(model.predict(tf.tensor(batch.data, [...batch.shape])) as import('@tensorflow/tfjs').Tensor2D)).data());
    const best = probs.indexOf(Math.max(...probs));
    const got = doc.predictions[i]!;
    assert.equal(got.top.length, 2);
    assert.equal(got.top[0]!.index, best, `img${i}`);
    assert.equal(got.top[0]!.class, card.classes[best]);
    assert.ok(Math.abs(got.top[0]!.p - probs[best]!) < 1e-6);
  }
  model.dispose();
  const text = await p.cli('predict', 'out/fit/model', 'img0.png');
  assert.match(text.stdout, /^img0\.png: \S.* \d+\.\d%, .* \d+\.\d%, .* \d+\.\d%\n$/);
});

test('export --model and predict: bad input is a user error naming it (exit 2)', async () => {
  const p = await project({ 'p.yaml': trainingPipeline(1), 'notes.txt': 'not an image\n' });
  assert.equal((await p.run('p.yaml')).code, 0);
  const noModel = await p.cli('export', 'small', 'p.yaml', '--model');
  assert.equal(noModel.code, 2, noModel.stderr);
  assert.match(noModel.stderr, /E_EXPORT_MODEL.*small has no trained model among its outputs/);
  const badFormat = await p.cli('export', 'fit', 'p.yaml', '--model', '--format', 'tflite');
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.stderr, /"tflite" is not a model format[\s\S]*tfjs, onnx/);
  const formatAlone = await p.cli('export', 'fit', 'p.yaml', '--format', 'onnx');
  assert.equal(formatAlone.code, 2);
  assert.match(formatAlone.stderr, /--format goes with --model/);
  const missing = await p.cli('predict', 'nowhere', 'notes.txt');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /E_MODEL.*model-card\.json: no such file/);
  assert.equal((await p.cli('export', 'fit', 'p.yaml', '--model', '--to', 'm')).code, 0);
  const notImage = await p.cli('predict', 'm/fit/model', 'notes.txt');
  assert.equal(notImage.code, 2);
  assert.match(notImage.stderr, /E_IMAGE.*notes\.txt: cannot read it as an image/);
  await writeFile(join(p.dir, 'm', 'fit', 'model', 'model-card.json'), '{"format": "other"}');
  const badCard = await p.cli('predict', 'm/fit/model', 'notes.txt');
  assert.equal(badCard.code, 2);
  assert.match(badCard.stderr, /not a rethink model card/);
});
