// `image-folder`: ImageNet-style class folders (Imagenette, Tiny ImageNet) decoded and resized with
// sharp (libvips ships as an npm package) to a configurable size, grayscale → RGB. Images stream to
// the output in listing order, a few decodes in flight, so memory stays flat for any dataset size.
// The folder's listing (relative paths and sizes) is the plugin's fingerprint, part of the cache key:
// adding, removing or resizing an image reruns the stage.
import { definePlugin } from '../../src/plugin/types.js';
import { DATASET_OUTPUT, bytesOf, classCounts, datasetMetadata, datasetSpecs } from '../../src/data/dataset.js';
import { decodeImage, listImageFolder, type Fit, type LabeledFile } from '../../src/data/image-folder.js';

export interface ImageFolderParams {
  readonly root: string;
  readonly size: readonly [number, number];
  readonly fit: Fit;
  readonly train_dir: string;
  readonly test_dir: string;
  readonly extensions: readonly string[];
}

export const imageFolder = definePlugin<ImageFolderParams>({
  name: 'image-folder',
  version: '1',
  description: 'ImageNet-style root/{train,val}/<class>/*.JPEG (or Tiny ImageNet val), resized to [h, w] RGB uint8',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['root'],
    properties: {
      root: { type: 'string', minLength: 1, description: 'dataset folder (e.g. imagenette2-160)' },
      size: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 4096 }, minItems: 2, maxItems: 2, default: [32, 32], description: '[height, width]' },
      fit: { enum: ['cover', 'contain', 'fill'], default: 'cover', description: 'cover: resize the short side, centre crop; contain: letterbox; fill: stretch' },
      train_dir: { type: 'string', default: 'train' },
      test_dir: { type: 'string', default: 'val' },
      extensions: { type: 'array', items: { type: 'string' }, minItems: 1, default: ['.jpeg', '.jpg', '.png'] },
    },
  },
  inputs: {},
  outputs: {
    dataset: { kind: 'tensors', description: 'x_train [N,h,w,3] uint8, y_train, x_test, y_test' },
    metrics: { kind: 'json' },
  },
  seeded: false,
  // The folder lives outside the store: its listing (paths and sizes) joins the key.
  async fingerprint(params) {
    return (await listImageFolder(params.root, { trainDir: params.train_dir, testDir: params.test_dir, extensions: params.extensions })).digest;
  },
  async run(ctx) {
    const { root, size, fit } = ctx.params;
    const [height, width] = size;
    const listing = await listImageFolder(root, { trainDir: ctx.params.train_dir, testDir: ctx.params.test_dir, extensions: ctx.params.extensions });
    const shape = { height, width, channels: 3 };
    const writer = await ctx.createTensorWriter(
      DATASET_OUTPUT,
      datasetSpecs(shape, listing.train.length, listing.test.length),
      datasetMetadata(listing.classes, { source: root, dataset: 'image-folder', size: `${height}x${width}`, fit, listing_sha256: listing.digest }),
    );
    const parallel = Math.max(2, 2 * ctx.cores);
    let gray = 0;
    const total = listing.train.length + listing.test.length;
    let done = 0;
    for (const [split, files] of [['train', listing.train], ['test', listing.test]] as const) {
      for (let start = 0; start < files.length; start += parallel) {
        ctx.signal.throwIfAborted();
        const window = files.slice(start, start + parallel);
        const decoded = await Promise.all(window.map((f: LabeledFile) => decodeImage(f.path, height, width, fit)));
        for (const d of decoded) {
          if (d.wasGray) gray++;
          await writer.write(`x_${split}`, d.rgb);
        }
        done += window.length;
        if (done % 1000 < parallel || done === total) ctx.progress({ message: `decoded ${done}/${total}`, done, total });
      }
      await writer.write(`y_${split}`, bytesOf(Int32Array.from(files, (f) => f.label)));
    }
    await writer.close();
    const labels = (files: readonly LabeledFile[]): Int32Array => Int32Array.from(files, (f) => f.label);
    await ctx.writeJson('metrics', {
      root,
      size: [height, width],
      fit,
      classes: listing.classes,
      listing_sha256: listing.digest,
      grayscale_converted: gray,
      train: { count: listing.train.length, per_class: classCounts(labels(listing.train), listing.classes.length) },
      test: { count: listing.test.length, per_class: classCounts(labels(listing.test), listing.classes.length) },
    });
  },
});
