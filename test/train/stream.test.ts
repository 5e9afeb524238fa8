// Training and evaluation read a dataset batch by batch: from three shards they give the same bytes
// as from one file (the same seeded global permutation per epoch, labels fixed to their images).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../src/testing/harness.js';
import { trainPlugin } from '../../stages/train/plugin.js';
import { evaluatePlugin } from '../../stages/evaluate/plugin.js';
import { asSource, fileSource, readAhead } from '../../src/train/source.js';
import { toyImages } from './helpers.js';
import { emitDataset, withShardBytes } from '../support/shards.js';

const train = toyImages(48, 8, 8, 3, 1); // 192 bytes an image: 14,112 bytes in all
const testSet = toyImages(24, 8, 8, 3, 2);
const emit = emitDataset(train, testSet, ['left', 'right']);
const params = {
  model: 'mlp_1x512',
  epochs: 3,
  batch_size: 16,
  preprocessing: { crop: 6, standardize: true },
  augment: { random_crop: true, pad: 1, flip: true, rotate_degrees: 0 },
  backend: 'cpu',
};

test('training on a 3-shard dataset gives the same weights and metrics, byte for byte, as on the same data in one file; evaluation too', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());
  const one = (await h.run(emit, {})).outputs['dataset']!;
  const three = (await withShardBytes(5000, () => h.run(emit, {}))).outputs['dataset']!;
  assert.equal(one.parts, undefined);
  assert.equal(three.parts?.length, 3);
  const a = await h.run(trainPlugin, { params, seed: 7, inputs: { data: one } });
  const b = await h.run(trainPlugin, { params, seed: 7, inputs: { data: three } });
  assert.equal(b.outputs['model']!.hash, a.outputs['model']!.hash, 'same weights');
  assert.equal(b.outputs['metrics']!.hash, a.outputs['metrics']!.hash, 'same metrics');
  const [ea, eb] = await Promise.all(
    [one, three].map((data) => h.run(evaluatePlugin, { params: { backend: 'cpu' }, inputs: { model: a.outputs['model']!, data } })),
  );
  assert.equal(eb!.outputs['metrics']!.hash, ea!.outputs['metrics']!.hash);
});

test('a file source reads the batches of an order with their own labels, one batch ahead, as the in-memory set gives them', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());
  const three = (await withShardBytes(5000, () => h.run(emit, {}))).outputs['dataset']!;
  const file = await three.readTensors();
  t.after(() => file.close());
  const source = await fileSource(file, 'train');
  const order = Uint32Array.from({ length: 48 }, (_, i) => (i * 29) % 48);
  const streamed = [];
  for await (const batch of readAhead(source, order, 10)) streamed.push(batch);
  const inMemory = [];
  for await (const batch of readAhead(asSource(train), order, 10)) inMemory.push(batch);
  assert.deepEqual(streamed.map((s) => s.shape), [10, 10, 10, 10, 8].map((n) => [n, 8, 8, 3]));
  assert.deepEqual(streamed, inMemory);
});
