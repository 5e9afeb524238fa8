import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../src/testing/harness.js';
import { trainPlugin } from '../../../stages/train/plugin.js';
import { evaluatePlugin } from '../../../stages/evaluate/plugin.js';
import { toyDataset, toyImages } from '../../train/helpers.js';

const trainSet = toyImages(48, 8, 8, 3, 1);
const testSet = toyImages(24, 8, 8, 3, 2);
const dataset = toyDataset(trainSet, testSet);
const params = { model: 'mlp_1x512', epochs: 4, batch_size: 16, preprocessing: { crop: 6, standardize: true }, backend: 'cpu' };

interface Metrics {
  history: { epoch: number; loss: number; acc: number; testAcc?: number }[];
  final: { train: { acc: number }; test: { acc: number; loss: number }; best_test_acc: number };
  params: number;
  input_shape: number[];
  stopped_by: string;
  backend: { name: string };
  hyperparams: { lr: number; lr_decay: number; momentum: number };
}

test('train stage: learns the toy set, writes weights + metadata, is reproducible; evaluate agrees', async () => {
  const h = await createHarness();
  try {
    const a = await h.run(trainPlugin, { params, seed: 7, inputs: { data: dataset } });
    const m = await a.outputs['metrics']!.readJson<Metrics>();
    assert.equal(m.history.length, 4);
    assert.ok(m.history.every((e) => e.testAcc !== undefined));
    assert.ok(m.final.test.acc > 0.9, `test acc ${m.final.test.acc}`);
    // Early stopping's proxy: the best of every evaluation, the final one included.
    assert.equal(m.final.best_test_acc, Math.max(m.final.test.acc, ...m.history.map((e) => e.testAcc!)));
    assert.equal(m.params, 6 * 6 * 3 * 512 + 512 + 512 * 2 + 2);
    assert.deepEqual(m.input_shape, [6, 6, 3]);
    assert.equal(m.stopped_by, 'epochs');
    assert.equal(m.backend.name, 'cpu');
    assert.deepEqual([m.hyperparams.lr, m.hyperparams.lr_decay, m.hyperparams.momentum], [0.01, 0.95, 0.9]);
    assert.ok(a.progress.length > 0);
    const prov = a.provenance['backend'] as { name: string; versions: Record<string, string> };
    assert.equal(prov.name, 'cpu', 'the run record names the backend');
    assert.equal(prov.versions['@tensorflow/tfjs'] ?? prov.versions['tfjs'], '4.22.0');

    const weights = await a.outputs['model']!.readTensors();
    assert.deepEqual(Object.keys(weights.tensors).sort(), ['fc1/bias', 'fc1/kernel', 'logits/bias', 'logits/kernel']);
    assert.equal(weights.metadata['model'], 'mlp_1x512');
    assert.equal(weights.metadata['input_shape'], '[6,6,3]');
    await weights.close();

    const again = await h.run(trainPlugin, { params, seed: 7, inputs: { data: dataset } });
    assert.equal(again.outputs['model']!.hash, a.outputs['model']!.hash, 'same seed → byte-identical weights');
    assert.equal(again.outputs['metrics']!.hash, a.outputs['metrics']!.hash, 'and byte-identical metrics: no wall-clock time in them');
    const epochSeconds = a.provenance['epoch_seconds'] as number[];
    assert.equal(epochSeconds.length, 4, 'the times are in the run record');
    assert.ok(epochSeconds.every((t) => t > 0) && (a.provenance['train_seconds'] as number) >= epochSeconds[0]!);
    const other = await h.run(trainPlugin, { params, seed: 8, inputs: { data: dataset } });
    assert.notEqual(other.outputs['model']!.hash, a.outputs['model']!.hash);

    const e = await h.run(evaluatePlugin, { params: { backend: 'cpu' }, inputs: { model: a.outputs['model']!, data: dataset } });
    const em = await e.outputs['metrics']!.readJson<{ test: { acc: number; loss: number; per_class_acc: number[]; n: number }; train: { acc: number }; classes: string[] }>();
    assert.equal(em.test.n, 24);
    assert.equal(em.test.acc, m.final.test.acc);
    assert.ok(Math.abs(em.test.loss - m.final.test.loss) < 1e-6);
    assert.equal(em.train.acc, m.final.train.acc);
    assert.equal(em.test.per_class_acc.length, 2);
    assert.deepEqual(em.classes, ['left', 'right']);
    assert.equal((e.provenance['backend'] as { name: string }).name, 'cpu');
    assert.equal(a.provenance['train_step'], 'ops', 'the cpu backend runs the step op by op');
  } finally {
    await h.close();
  }
});

test('train stage on native: an MLP trains through the compiled whole step, reproducibly, and the run record says so', async () => {
  const h = await createHarness();
  try {
    const native = { ...params, backend: 'native' };
    const a = await h.run(trainPlugin, { params: native, seed: 7, inputs: { data: dataset } });
    assert.equal(a.provenance['train_step'], 'compiled');
    const m = await a.outputs['metrics']!.readJson<Metrics>();
    assert.equal(m.backend.name, 'native');
    assert.ok(m.final.test.acc > 0.9, `test acc ${m.final.test.acc}`);
    const again = await h.run(trainPlugin, { params: native, seed: 7, inputs: { data: dataset } });
    assert.equal(again.outputs['model']!.hash, a.outputs['model']!.hash, 'same seed, same backend → the same weights');
    // Dropout is outside what the compiled step takes: the same backend steps op by op.
    const dropout = await h.run(trainPlugin, { params: { ...native, dropout: 0.5 }, seed: 7, inputs: { data: dataset } });
    assert.equal(dropout.provenance['train_step'], 'ops');
  } finally {
    await h.close();
  }
});

test('train stage: stops at the target train accuracy; rejects a crop larger than the images', async () => {
  const h = await createHarness();
  try {
    const r = await h.run(trainPlugin, { params: { ...params, epochs: 50, target_train_acc: 1, eval_every: 0 }, inputs: { data: dataset } });
    const m = await r.outputs['metrics']!.readJson<Metrics>();
    assert.equal(m.stopped_by, 'target_train_acc');
    assert.ok(m.history.length < 50);
    assert.equal(m.history.at(-1)!.acc, 1);
    await assert.rejects(h.run(trainPlugin, { params: { ...params, preprocessing: { crop: 9, standardize: true } }, inputs: { data: dataset } }), /larger than the 8x8/);
    await assert.rejects(h.run(trainPlugin, { params: { ...params, model: 'resnet' }, inputs: { data: dataset } }), /invalid params/);
  } finally {
    await h.close();
  }
});

test('train stage: a diverged training says so once and records diverged: true and where, not a silent null', async () => {
  const h = await createHarness();
  try {
    const r = await h.run(trainPlugin, { params: { ...params, epochs: 2, lr: 1e6 }, seed: 7, inputs: { data: dataset } });
    const m = await r.outputs['metrics']!.readJson<Metrics & { diverged?: boolean; diverged_at?: { epoch: number; step: number; lr: number; metric: string } }>();
    assert.equal(m.diverged, true);
    assert.equal(m.diverged_at?.metric, 'loss');
    assert.ok(m.diverged_at.epoch >= 1 && m.diverged_at.step >= 1, JSON.stringify(m.diverged_at));
    assert.equal(m.history.at(-1)!.loss, null, 'NaN is written as an explicit null beside the flag');
    const warnings = r.logs.filter((l) => l.startsWith('warning: training diverged'));
    assert.equal(warnings.length, 1, r.logs.join('\n'));
    assert.ok(m.diverged_at.lr > 0 && m.diverged_at.lr <= 1e6, 'the lr of that step');
    assert.ok(warnings[0]!.includes(`at epoch ${m.diverged_at.epoch} step ${m.diverged_at.step} (loss is not a finite number; lr ${m.diverged_at.lr})`), warnings[0]);
    const healthy = await (await h.run(trainPlugin, { params, seed: 7, inputs: { data: dataset } })).outputs['metrics']!.readJson<Record<string, unknown>>();
    assert.equal('diverged' in healthy, false, 'a healthy run writes what it always wrote');
  } finally {
    await h.close();
  }
});

test('train and evaluate stages: top-5 accuracy in the metrics with more than five classes (per epoch, final, best); none with two', async () => {
  const h = await createHarness();
  try {
    const eight = (set: typeof trainSet) => ({ ...set, labels: set.labels.map((_, i) => i % 8) });
    const data = toyDataset(eight(trainSet), eight(testSet));
    const r = await h.run(trainPlugin, { params: { ...params, epochs: 2 }, seed: 3, inputs: { data } });
    const m = await r.outputs['metrics']!.readJson<{ history: { testAcc: number; testTop5?: number }[]; final: { train: { acc: number; top5?: number }; test: { acc: number; top5?: number }; best_test_top5?: number } }>();
    assert.equal(m.history.length, 2);
    for (const e of m.history) assert.ok(e.testTop5 !== undefined && e.testTop5 >= e.testAcc, JSON.stringify(e));
    const { train, test: held } = m.final;
    assert.ok(train.top5 !== undefined && train.top5 >= train.acc && held.top5 !== undefined && held.top5 >= held.acc, JSON.stringify(m.final));
    assert.equal(m.final.best_test_top5, Math.max(held.top5, ...m.history.map((e) => e.testTop5!)));
    // The evaluate stage reports the same top-5 for the trained model.
    const e = await h.run(evaluatePlugin, { params: { backend: 'cpu' }, inputs: { model: r.outputs['model']!, data } });
    const em = await e.outputs['metrics']!.readJson<{ test: { acc: number; top5?: number } }>();
    assert.equal(em.test.top5, held.top5);
    const two = await (await h.run(trainPlugin, { params: { ...params, epochs: 1 }, inputs: { data: dataset } })).outputs['metrics']!.readJson<Metrics & { final: { test: { top5?: number } } }>();
    assert.equal(two.final.test.top5, undefined);
  } finally {
    await h.close();
  }
});

test('train stage: Inception V3 below its 75x75 minimum is refused as the user’s error, naming the fix', async () => {
  const h = await createHarness();
  try {
    await assert.rejects(
      h.run(trainPlugin, { params: { ...params, model: 'inception_v3' }, inputs: { data: dataset } }),
      (e: unknown) => (e as { userError?: boolean }).userError === true && /inception_v3 needs an input of at least 75x75, not 6x6: raise preprocessing.crop/.test((e as Error).message),
    );
  } finally {
    await h.close();
  }
});
