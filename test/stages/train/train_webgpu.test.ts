// The train and evaluate stages on the WebGPU backend (llvmpipe in CI): a whole stage, not only its
// kernels, must run there. tfjs's WebGPU backend cannot read tensors synchronously in Node (dataSync
// needs OffscreenCanvas), so every read on the way to the artifacts has to be asynchronous.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../src/testing/harness.js';
import { trainPlugin } from '../../../stages/train/plugin.js';
import { evaluatePlugin } from '../../../stages/evaluate/plugin.js';
import { toyDataset, toyImages } from '../../train/helpers.js';
import { webgpuOrSkipReason } from '../../backends/webgpu/helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

const trainSet = toyImages(32, 8, 8, 3, 1);
const testSet = toyImages(16, 8, 8, 3, 2);
const dataset = toyDataset(trainSet, testSet);

test('train and evaluate stages run on webgpu, and evaluate reproduces the trained model on cpu', { skip }, async () => {
  if ('skip' in ready) return;
  const h = await createHarness();
  try {
    const params = { model: 'mlp_1x512', epochs: 3, batch_size: 16, preprocessing: { crop: 6, standardize: true }, backend: 'webgpu' };
    const a = await h.run(trainPlugin, { params, seed: 5, inputs: { data: dataset } });
    const m = await a.outputs['metrics']!.readJson<{ history: unknown[]; final: { test: { acc: number; loss: number } }; backend: { name: string } }>();
    assert.equal(m.backend.name, 'webgpu');
    // The run record names the adapter the weights were trained on.
    const prov = a.provenance['backend'] as { name: string; adapter?: { vendor: string; device: string; driver: string } };
    assert.equal(prov.name, 'webgpu');
    assert.ok((prov.adapter?.device ?? '') !== '' && (prov.adapter?.driver ?? '') !== '', `adapter recorded: ${JSON.stringify(prov.adapter)}`);
    assert.equal(m.history.length, 3);
    const weights = await a.outputs['model']!.readTensors();
    assert.deepEqual(Object.keys(weights.tensors).sort(), ['fc1/bias', 'fc1/kernel', 'logits/bias', 'logits/kernel']);
    await weights.close();
    // The weights written from the GPU evaluate to the same test metrics on the cpu backend.
    const e = await h.run(evaluatePlugin, { params: { backend: 'cpu' }, inputs: { model: a.outputs['model']!, data: dataset } });
    const em = await e.outputs['metrics']!.readJson<{ test: { acc: number; loss: number } }>();
    assert.equal(em.test.acc, m.final.test.acc);
    assert.ok(Math.abs(em.test.loss - m.final.test.loss) < 1e-4, `test loss ${em.test.loss} (cpu) vs ${m.final.test.loss} (webgpu)`);
    const g = await h.run(evaluatePlugin, { params: { backend: 'webgpu' }, inputs: { model: a.outputs['model']!, data: dataset } });
    const gm = await g.outputs['metrics']!.readJson<{ test: { acc: number } }>();
    assert.equal(gm.test.acc, m.final.test.acc);
  } finally {
    await h.close();
  }
});
