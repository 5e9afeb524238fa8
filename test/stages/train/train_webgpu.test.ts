// The train and evaluate stages on the WebGPU backend (llvmpipe in CI): a whole stage, not only its
// kernels, must run there. tfjs's WebGPU backend cannot read tensors synchronously in Node (dataSync
// needs OffscreenCanvas), so every read on the way to the artifacts has to be asynchronous.
import { tempDir } from '../../support/temp.js';
import { test } from 'node:test';
import { copyFile, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
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

test('RETHINK_WEBGPU_TUNE=on tunes the GEMM tiles after the first step, and training is bitwise unchanged', { skip }, async () => {
  if ('skip' in ready) return;
  const { gemmTuner } = await import('../../../src/backends/webgpu/kernels/gemm_tuning.js');
  const h = await createHarness();
  const saved = process.env['RETHINK_WEBGPU_TUNE'];
  // One candidate besides each default: every tile's shaders take seconds to compile on llvmpipe.
  process.env['RETHINK_WEBGPU_TUNE_TILES'] = '32x32x16_4x4';
  const dir = await tempDir('rethink-tune-');
  process.env['RETHINK_WEBGPU_TUNE_CACHE'] = join(dir, 'tiles.json');
  try {
    gemmTuner.reset();
    // kernel_tuning comes from the run record's provenance, the rest from the metrics output.
    type Metrics = { history: { loss: number; acc: number }[]; final: unknown; kernel_tuning?: { gemms: number; tuned: number; changed: number; seconds: number } };
    const trainWith = async (tune: string, seed: number): Promise<Metrics> => {
      process.env['RETHINK_WEBGPU_TUNE'] = tune;
      const params = { model: 'mlp_1x512', epochs: 2, batch_size: 16, preprocessing: { crop: 6, standardize: true }, backend: 'webgpu' };
      const a = await h.run(trainPlugin, { params, seed, inputs: { data: dataset } });
      const tuning = a.provenance['kernel_tuning'] as Metrics['kernel_tuning'] | undefined;
      // The stage's log says why the first epoch took long.
      const said = a.logs.filter((l) => l.startsWith('webgpu: timed the tiles of'));
      assert.deepEqual(said, tuning === undefined ? [] : [`webgpu: timed the tiles of ${tuning.tuned} of ${tuning.gemms} GEMMs in ${tuning.seconds.toFixed(1)} s (${tuning.changed} moved off their default; saved for later runs on this GPU)`]);
      return { ...(await a.outputs['metrics']!.readJson<Metrics>()), ...(tuning === undefined ? {} : { kernel_tuning: tuning }) };
    };
    const off = await trainWith('off', 10);
    assert.equal(off.kernel_tuning, undefined, 'no tuning when it is off');
    // Training's products, then the evaluation's forward ones at its own batch size.
    assert.equal(gemmTuner.pendingCount, 7, 'the run registered its GEMMs');
    // The tuned run times only what its own first step used, not the earlier run's leftovers.
    const on = await trainWith('on', 10);
    assert.ok(on.kernel_tuning !== undefined, 'the run record says that tuning ran');
    // What the first step used: mlp_1x512's two forward products, and its backward ones (the logits
    // layer's dW+db and dx, the hidden layer's dW+db).
    assert.equal(on.kernel_tuning.gemms, 5);
    assert.ok(on.kernel_tuning.tuned >= 1 && on.kernel_tuning.tuned <= 5);
    assert.ok(on.kernel_tuning.seconds > 0);
    // Tiles change how the work is shared out, never the order of any sum.
    assert.deepEqual(on.history.map((e) => [e.loss, e.acc]), off.history.map((e) => [e.loss, e.acc]));
    assert.deepEqual(on.final, off.final);
    // The timed tiles were saved for later processes on this adapter, written whole.
    const file = JSON.parse(await readFile(join(dir, 'tiles.json'), 'utf8')) as { format: number; tiles: Record<string, string> };
    const restored = Object.keys(file.tiles).length;
    assert.equal(restored, on.kernel_tuning.tuned);
    assert.deepEqual(await readdir(dir), ['tiles.json']);
    // A later process (a fresh tuner, reading its own copy) takes them and times only the others.
    await copyFile(join(dir, 'tiles.json'), join(dir, 'later.json'));
    process.env['RETHINK_WEBGPU_TUNE_CACHE'] = join(dir, 'later.json');
    gemmTuner.reset();
    const later = await trainWith('on', 10);
    assert.equal(later.kernel_tuning?.gemms ?? 0, 5 - restored);
    assert.deepEqual(later.history.map((e) => [e.loss, e.acc]), on.history.map((e) => [e.loss, e.acc]));
  } finally {
    delete process.env['RETHINK_WEBGPU_TUNE_TILES'];
    delete process.env['RETHINK_WEBGPU_TUNE_CACHE'];
    await rm(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env['RETHINK_WEBGPU_TUNE'];
    else process.env['RETHINK_WEBGPU_TUNE'] = saved;
    gemmTuner.reset();
    await h.close();
  }
});
