// `idx`: MNIST or Fashion-MNIST from their IDX files (SPEC §7.2), gzipped or raw, md5-verified.
import { readFile } from 'node:fs/promises';
import { definePlugin } from '../../src/plugin/types.js';
import { download } from '../../src/data/fetch.js';
import { decodeIdx, idxSplit } from '../../src/data/idx.js';
import { DataError } from '../../src/data/errors.js';
import { classCounts, writeDataset } from '../../src/data/dataset.js';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from '../../src/data/npm-datasets.js';

const FILE_KEYS = ['train_images', 'train_labels', 'test_images', 'test_labels'] as const;
type FileKey = (typeof FILE_KEYS)[number];

interface FileSpec {
  readonly name: string;
  readonly md5: string | null;
}

interface Preset {
  readonly base_url: string;
  readonly classes: readonly string[];
  readonly files: Readonly<Record<FileKey, FileSpec>>;
}

export const IDX_PRESETS: Readonly<Record<'mnist' | 'fashion-mnist', Preset>> = {
  mnist: {
    base_url: 'https://ossci-datasets.s3.amazonaws.com/mnist/',
    classes: MNIST_CLASSES,
    files: {
      train_images: { name: 'train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
      train_labels: { name: 'train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
      test_images: { name: 't10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3' },
      test_labels: { name: 't10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c' },
    },
  },
  'fashion-mnist': {
    base_url: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
    classes: FASHION_MNIST_CLASSES,
    files: {
      train_images: { name: 'train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d' },
      train_labels: { name: 'train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe' },
      test_images: { name: 't10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79' },
      test_labels: { name: 't10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310' },
    },
  },
};

export interface IdxParams {
  readonly preset: keyof typeof IDX_PRESETS;
  /** Overrides the preset's mirror; file names are appended to it. */
  readonly base_url?: string;
  /** Overrides individual files (name and/or md5; md5 null skips the check). */
  readonly files?: Partial<Record<FileKey, Partial<FileSpec>>>;
}

const fileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1 }, md5: { type: ['string', 'null'], pattern: '^[0-9a-fA-F]{32}$' } },
};

export const idx = definePlugin<IdxParams>({
  name: 'idx',
  version: '1',
  description: 'MNIST / Fashion-MNIST from IDX files (https, s3:// or local; gz or raw), md5-verified, as uint8 [N,28,28,1]',
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      preset: { enum: Object.keys(IDX_PRESETS), default: 'mnist' },
      base_url: { type: 'string', minLength: 1, description: 'mirror (https://, s3://, file:// or a folder path) ending in /' },
      files: { type: 'object', additionalProperties: false, properties: Object.fromEntries(FILE_KEYS.map((k) => [k, fileSchema])) },
    },
  },
  inputs: {},
  outputs: {
    dataset: { kind: 'tensors', description: 'x_train [N,28,28,1] uint8, y_train, x_test, y_test' },
    metrics: { kind: 'json' },
  },
  seeded: false,
  async run(ctx) {
    const preset = IDX_PRESETS[ctx.params.preset];
    const base = ctx.params.base_url ?? preset.base_url;
    const dir = await ctx.tempDir();
    const fetched: Partial<Record<FileKey, Uint8Array>> = {};
    const sources: Record<string, { url: string; md5: string; bytes: number }> = {};
    for (const key of FILE_KEYS) {
      const spec = { ...preset.files[key], ...ctx.params.files?.[key] };
      const url = joinUrl(base, spec.name);
      ctx.progress({ message: `downloading ${spec.name}` });
      const got = await download(url, dir, { md5: spec.md5, name: `${key}.idx`, signal: ctx.signal });
      fetched[key] = await readFile(got.path);
      sources[key] = { url, md5: got.md5, bytes: got.bytes };
    }
    const train = idxSplit(
      await decodeIdx(fetched.train_images!, sources['train_images']!.url),
      await decodeIdx(fetched.train_labels!, sources['train_labels']!.url),
      'train',
    );
    const test = idxSplit(
      await decodeIdx(fetched.test_images!, sources['test_images']!.url),
      await decodeIdx(fetched.test_labels!, sources['test_labels']!.url),
      'test',
    );
    if (train.height !== test.height || train.width !== test.width || train.channels !== test.channels) {
      throw new DataError('bad_format', `train images are ${train.height}×${train.width}×${train.channels}, test ${test.height}×${test.width}×${test.channels}`);
    }
    const classes = preset.classes;
    for (const [split, y] of [['train', train.y], ['test', test.y]] as const) {
      const bad = y.find((l) => l < 0 || l >= classes.length);
      if (bad !== undefined) throw new DataError('bad_format', `${split} label ${bad} is outside 0..${classes.length - 1}`);
    }
    await writeDataset(
      ctx,
      { height: train.height, width: train.width, channels: train.channels, classes, train, test },
      { source: base, dataset: ctx.params.preset, files: JSON.stringify(sources) },
    );
    await ctx.writeJson('metrics', {
      preset: ctx.params.preset,
      files: sources,
      shape: [train.height, train.width, train.channels],
      classes,
      train: { count: train.y.length, per_class: classCounts(train.y, classes.length) },
      test: { count: test.y.length, per_class: classCounts(test.y, classes.length) },
    });
  },
});

function joinUrl(base: string, name: string): string {
  return base.endsWith('/') ? `${base}${name}` : `${base}/${name}`;
}
