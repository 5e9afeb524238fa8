// Dataset stages over a sharded dataset (read range by range across shards, written shard by shard)
// give what they give over the same data in one file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHarness, type HarnessOutput } from '../../src/testing/harness.js';
import { subset } from '../../stages/datasets/subset.js';
import { corrupt } from '../../stages/corrupt/corrupt.js';
import type { Plugin } from '../../src/plugin/types.js';
import { imageFolder } from '../../stages/datasets/image-folder.js';
import { trainPlugin } from '../../stages/train/plugin.js';
import { tempDir } from '../support/temp.js';
import { toyImages } from '../train/helpers.js';
import { emitDataset, withShardBytes } from '../support/shards.js';

const emit = emitDataset(toyImages(60, 4, 4, 3, 1), toyImages(20, 4, 4, 3, 2), ['left', 'right']);
const SHARD = 600; // 48-byte images: a dozen shards

async function contents(out: HarnessOutput): Promise<Record<string, unknown>> {
  const f = await out.readTensors();
  try {
    const tensors: Record<string, unknown> = {};
    for (const name of Object.keys(f.tensors)) tensors[name] = await f.read(name);
    return { tensors, metadata: f.metadata };
  } finally {
    await f.close();
  }
}

const cases: [string, Plugin<never>, Record<string, unknown>][] = [
  ['subset', subset as Plugin<never>, { train: { per_class: 20 }, test: { fraction: 0.5 } }],
  ['corrupt random_labels', corrupt as Plugin<never>, { kind: 'random_labels' }],
  ['corrupt shuffled_pixels', corrupt as Plugin<never>, { kind: 'shuffled_pixels' }],
  ['corrupt gaussian (two passes: moments, then images)', corrupt as Plugin<never>, { kind: 'gaussian' }],
];

for (const [name, plugin, params] of cases) {
  test(`${name} over a sharded dataset writes shards holding what it writes from one file`, async (t) => {
    const h = await createHarness();
    t.after(() => h.close());
    const one = (await h.run(emit, {})).outputs['dataset']!;
    const inOne = await h.run(plugin, { params, seed: 5, inputs: { dataset: one } });
    const sharded = await withShardBytes(SHARD, async () => {
      const input = (await h.run(emit, {})).outputs['dataset']!;
      assert.ok((input.parts?.length ?? 0) > 3);
      return h.run(plugin, { params, seed: 5, inputs: { dataset: input } });
    });
    const out = sharded.outputs['dataset']!;
    assert.ok((out.parts?.length ?? 0) > 1, 'the output is sharded too');
    assert.equal(inOne.outputs['dataset']!.parts, undefined);
    assert.deepEqual(await contents(out), await contents(inOne.outputs['dataset']!));
  });
}

test('image-folder writes shards as it decodes, and training from them gives the bytes training from one file gives', async (t) => {
  const root = await tempDir('imgfolder-shards-');
  const h = await createHarness();
  t.after(async () => {
    await h.close();
    await rm(root, { recursive: true, force: true });
  });
  const { default: sharp } = await import('sharp');
  for (const [split, count] of [['train', 12], ['val', 4]] as const) {
    for (let i = 0; i < count; i++) {
      const cls = i % 2 === 0 ? 'n01' : 'n02';
      await mkdir(join(root, split, cls), { recursive: true });
      const background = { r: cls === 'n01' ? 200 : 30, g: (i * 37) % 256, b: 90 };
      await writeFile(join(root, split, cls, `${i}.jpg`), await sharp({ create: { width: 12, height: 10, channels: 3, background } }).jpeg().toBuffer());
    }
  }
  const params = { root, size: [8, 8] };
  const one = (await h.run(imageFolder, { params })).outputs['dataset']!;
  const sharded = (await withShardBytes(600, () => h.run(imageFolder, { params }))).outputs['dataset']!; // 192-byte images
  assert.equal(one.parts, undefined);
  assert.ok((sharded.parts?.length ?? 0) >= 3, `${sharded.parts?.length} shards`);
  assert.deepEqual(await contents(sharded), await contents(one));
  const train = { model: 'mlp_1x512', epochs: 2, batch_size: 5, preprocessing: { crop: 6, standardize: true }, backend: 'cpu' };
  const [a, b] = [await h.run(trainPlugin, { params: train, seed: 3, inputs: { data: one } }), await h.run(trainPlugin, { params: train, seed: 3, inputs: { data: sharded } })];
  assert.equal(b.outputs['model']!.hash, a.outputs['model']!.hash);
  assert.equal(b.outputs['metrics']!.hash, a.outputs['metrics']!.hash);
});
