// The paper's per-model learning-rate schedule (SPEC §3.1) is one table that drives the train
// stage's defaults, into its params and so its cache key; explicit values win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { protocolOf } from '../../src/models/protocol.js';
import { modelNames } from '../../src/models/registry.js';
import { modelsCommand } from '../../src/models/cli.js';
import { resolveParams } from '../../src/config/params.js';
import { trainPlugin } from '../../stages/train/plugin.js';
import { scheduleOf, type TrainParams } from '../../stages/train/params.js';

function trainParams(given: Record<string, unknown>): TrainParams {
  const r = resolveParams(trainPlugin, structuredClone(given));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.params as unknown as TrainParams;
}

test('protocol: the paper values, one per registered model', () => {
  const paper: Record<string, [number, number]> = {
    small_inception_bn: [0.1, 0.95],
    small_inception: [0.1, 0.95],
    small_alexnet: [0.01, 0.95],
    mlp_1x512: [0.01, 0.95],
    mlp_3x512: [0.01, 0.95],
    // Table 2: the paper gives no schedule for ImageNet; the one chosen in pipelines/table2.yaml.
    inception_v3: [0.1, 0.9407],
  };
  for (const name of modelNames()) {
    const p = protocolOf(name);
    assert.deepEqual([p.lr, p.lrDecay], paper[name], name);
  }
  assert.throws(() => protocolOf('nope'), /no training protocol for model 'nope'/);
});

test('train params: lr and lr_decay default to the model’s protocol, filled in (so in the key); explicit values win', () => {
  for (const name of modelNames()) {
    const p = trainParams({ model: name });
    assert.equal(p.lr, protocolOf(name).lr, name);
    assert.equal(p.lr_decay, protocolOf(name).lrDecay, name);
    assert.deepEqual(scheduleOf(p), { kind: 'exponential', initial: protocolOf(name).lr, decay: protocolOf(name).lrDecay, staircase: true });
  }
  const explicit = trainParams({ model: 'small_inception', lr: 0.05, lr_decay: 1 });
  assert.deepEqual([explicit.lr, explicit.lr_decay], [0.05, 1]);
  const onlyDecay = trainParams({ model: 'small_alexnet', lr_decay: 0.999 });
  assert.deepEqual([onlyDecay.lr, onlyDecay.lr_decay], [0.01, 0.999]);
  // lr_decay_steps has no default (pipelines without it keep their keys); given, it reaches the schedule.
  assert.equal('lr_decay_steps' in trainParams({ model: 'mlp_1x512' }), false);
  assert.deepEqual(scheduleOf(trainParams({ model: 'mlp_1x512', lr_decay_steps: 391 })), { kind: 'exponential', initial: 0.01, decay: 0.95, staircase: true, decaySteps: 391 });
  // `lr: null` as written stays null in the params and resolves to the same value when it runs.
  const asNull = trainParams({ model: 'small_inception_bn', lr: null });
  assert.equal(asNull.lr, null);
  assert.deepEqual(scheduleOf(asNull), { kind: 'exponential', initial: 0.1, decay: 0.95, staircase: true });
});

test('rethink models shows each model’s schedule', async () => {
  const lines: string[] = [];
  await modelsCommand({ input: [28, 28, 3], json: false }, (s) => lines.push(s));
  assert.match(lines.join('\n'), /small_inception_bn\s+1,649,402\s+0\.1 ×0\.95\/epoch/);
  assert.match(lines.join('\n'), /mlp_1x512\s+1,209,866\s+0\.01 ×0\.95\/epoch/);
  const json: string[] = [];
  await modelsCommand({ input: [28, 28, 3], json: true }, (s) => json.push(s));
  const models = (JSON.parse(json.join('')) as { models: { name: string; learningRate: number; lrDecay: number }[] }).models;
  const alexnet = models.find((m) => m.name === 'small_alexnet')!;
  assert.deepEqual([alexnet.learningRate, alexnet.lrDecay], [0.01, 0.95]);
});
