import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../src/testing/harness.js';
import { trainPlugin } from '../../../stages/train/plugin.js';
import { evaluatePlugin } from '../../../stages/evaluate/plugin.js';
import { toyImages } from '../../train/helpers.js';
import type { ImageSet } from '../../../src/train/types.js';

function dataset(train: ImageSet, test: ImageSet) {
  return {
    tensors: {
      x_train: { dtype: 'uint8', shape: train.shape, data: train.images },
      y_train: { dtype: 'int32', shape: [train.shape[0]], data: train.labels },
      x_test: { dtype: 'uint8', shape: test.shape, data: test.images },
      y_test: { dtype: 'int32', shape: [test.shape[0]], data: test.labels },
    },
  } as const;
}

test('evaluate: per-class accuracy for the chosen splits; refuses mismatched images and non-model inputs', async () => {
  const h = await createHarness();
  try {
    const data = dataset(toyImages(32, 6, 6, 1, 1), toyImages(20, 6, 6, 1, 2));
    const trained = await h.run(trainPlugin, {
      params: { model: 'mlp_1x512', epochs: 2, batch_size: 8, preprocessing: { crop: null, standardize: true }, backend: 'cpu' },
      inputs: { data },
    });
    const r = await h.run(evaluatePlugin, { params: { splits: ['test'], backend: 'cpu', batch_size: 7 }, inputs: { model: trained.outputs['model']!, data } });
    const m = await r.outputs['metrics']!.readJson<Record<string, { n: number; acc: number; per_class_acc: (number | null)[]; per_class_count: number[] }>>();
    assert.equal(m['train'], undefined);
    const t = m['test']!;
    assert.equal(t.n, 20);
    assert.equal(t.per_class_count.reduce((a, b) => a + b, 0), 20);
    const weighted = t.per_class_acc.reduce<number>((s, a, k) => s + (a ?? 0) * t.per_class_count[k]!, 0) / 20;
    assert.ok(Math.abs(weighted - t.acc) < 1e-9, 'per-class accuracies add up to the overall one');

    const wrong = dataset(toyImages(4, 8, 8, 1, 3), toyImages(4, 8, 8, 1, 4));
    await assert.rejects(h.run(evaluatePlugin, { params: { backend: 'cpu' }, inputs: { model: trained.outputs['model']!, data: wrong } }), /do not give the model/);
    await assert.rejects(h.run(evaluatePlugin, { params: { backend: 'cpu' }, inputs: { model: { tensors: {} }, data } }), /not a model artifact/);
  } finally {
    await h.close();
  }
});

test('evaluate: a diverged model is recorded as diverged with null losses, not refused or silently nulled', async () => {
  const h = await createHarness();
  try {
    const data = dataset(toyImages(32, 6, 6, 1, 1), toyImages(20, 6, 6, 1, 2));
    const trained = await h.run(trainPlugin, {
      params: { model: 'mlp_1x512', epochs: 2, batch_size: 8, lr: 1e6, preprocessing: { crop: null, standardize: true }, backend: 'cpu' },
      inputs: { data },
    });
    const r = await h.run(evaluatePlugin, { params: { splits: ['test'], backend: 'cpu', batch_size: 7 }, inputs: { model: trained.outputs['model']!, data } });
    const m = await r.outputs['metrics']!.readJson<{ diverged?: boolean; diverged_at?: { metric: string }; test: { loss: number | null } }>();
    assert.equal(m.diverged, true);
    assert.equal(m.test.loss, null);
    assert.equal(m.diverged_at?.metric, '$.test.loss');
    assert.equal(r.logs.filter((l) => l.startsWith('warning: the model gives a non-finite')).length, 1);
  } finally {
    await h.close();
  }
});
