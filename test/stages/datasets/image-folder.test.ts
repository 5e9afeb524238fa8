import { tempDir } from '../../support/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createHarness } from '../../../src/testing/harness.js';
import { imageFolder } from '../../../stages/datasets/image-folder.js';
import { DataError } from '../../../src/data/errors.js';

type Colour = { r: number; g: number; b: number };

/** Writes a solid-colour image (PNG keeps colours exact; grayscale when `gray`). */
async function solid(path: string, colour: Colour, gray = false, w = 40, h = 30): Promise<void> {
  const { default: sharp } = await import('sharp');
  await mkdir(dirname(path), { recursive: true });
  let img = sharp({ create: { width: w, height: h, channels: 3, background: colour } });
  if (gray) img = img.toColourspace('b-w');
  await writeFile(path, await img.png().toBuffer());
}

test('image-folder: class folders → resized RGB, grayscale replicated, labels by sorted class name', async (t) => {
  const root = await tempDir('imgfolder-');
  const h = await createHarness();
  t.after(async () => {
    await h.close();
    await rm(root, { recursive: true, force: true });
  });
  const red = { r: 250, g: 0, b: 0 };
  const blue = { r: 0, g: 0, b: 250 };
  await solid(join(root, 'train/n02/b1.PNG'), blue);
  await solid(join(root, 'train/n01/a2.png'), red);
  await solid(join(root, 'train/n01/nested/a1.png'), { r: 128, g: 128, b: 128 }, true, 10, 50);
  await writeFile(join(root, 'train/n01/notes.txt'), 'not an image');
  await solid(join(root, 'val/n02/v.png'), blue);

  const r = await h.run(imageFolder, { params: { root, size: [6, 8] } });
  const ds = await r.outputs['dataset']!.readTensors();
  assert.deepEqual(JSON.parse(ds.metadata['classes']!), ['n01', 'n02']);
  assert.deepEqual(ds.tensors['x_train'], { dtype: 'uint8', shape: [3, 6, 8, 3] });
  assert.deepEqual(ds.tensors['x_test'], { dtype: 'uint8', shape: [1, 6, 8, 3] });
  assert.deepEqual(Array.from((await ds.read('y_train')).data), [0, 0, 1]);
  const x = (await ds.read('x_train')).data as Uint8Array;
  const pixel = (i: number, p: number): number[] => Array.from(x.subarray(i * 144 + p * 3, i * 144 + p * 3 + 3));
  // Listing order: n01/a2.png, n01/nested/a1.png, n02/b1.PNG.
  assert.deepEqual(pixel(0, 10), [250, 0, 0]);
  const g = pixel(1, 20);
  assert.ok(g[0] === g[1] && g[1] === g[2], `grayscale becomes three equal channels, got ${g}`);
  assert.deepEqual(pixel(2, 47), [0, 0, 250]);
  const metrics = await r.outputs['metrics']!.readJson<{ grayscale_converted: number; listing_sha256: string }>();
  assert.equal(metrics.grayscale_converted, 1);
  await ds.close();

  await solid(join(root, 'val/n03/x.png'), blue);
  await assert.rejects(h.run(imageFolder, { params: { root, size: [6, 8] } }), (e: unknown) => e instanceof DataError && /n03 is a class the training folder does not have/.test(e.message));
  await rm(join(root, 'val/n03'), { recursive: true });
  await writeFile(join(root, 'train/n02/broken.png'), 'not really a png');
  await assert.rejects(h.run(imageFolder, { params: { root, size: [6, 8] } }), (e: unknown) => e instanceof DataError && /cannot decode .*broken\.png/.test(e.message));
});

test('image-folder: the Tiny ImageNet layout (train/<wnid>/images, val/images + val_annotations.txt)', async (t) => {
  const root = await tempDir('tiny-');
  const h = await createHarness();
  t.after(async () => {
    await h.close();
    await rm(root, { recursive: true, force: true });
  });
  await solid(join(root, 'train/nB/images/nB_0.JPEG'), { r: 0, g: 200, b: 0 });
  await solid(join(root, 'train/nA/images/nA_0.JPEG'), { r: 200, g: 0, b: 0 });
  await writeFile(join(root, 'train/nA/nA_boxes.txt'), '');
  await solid(join(root, 'val/images/val_0.JPEG'), { r: 0, g: 200, b: 0 });
  await solid(join(root, 'val/images/val_1.JPEG'), { r: 200, g: 0, b: 0 });
  await writeFile(join(root, 'val/val_annotations.txt'), 'val_0.JPEG\tnB\t0\t0\t10\t10\nval_1.JPEG\tnA\t1\t1\t5\t5\n');
  const r = await h.run(imageFolder, { params: { root, size: [4, 4], extensions: ['.JPEG'] } });
  const ds = await r.outputs['dataset']!.readTensors();
  assert.deepEqual(Array.from((await ds.read('y_train')).data), [0, 1]);
  assert.deepEqual(Array.from((await ds.read('y_test')).data), [1, 0]);
  await ds.close();
});
