// `cifar10`: the official CIFAR-10 binary archive → one dataset artifact (SPEC §7.1).
// The archive is downloaded into scratch with its md5 checked before a single record is parsed,
// then streamed through gunzip + tar in-process; records decode straight into their final NHWC
// buffers, so the stage holds one copy of the images (≈184 MB) and nothing is extracted to disk.
import { createReadStream } from 'node:fs';
import { definePlugin } from '../../src/plugin/types.js';
import { download } from '../../src/data/fetch.js';
import { readTarFiles, type TarFileSink } from '../../src/data/tar.js';
import { DataError } from '../../src/data/errors.js';
import { classCounts, writeDatasetParts } from '../../src/data/dataset.js';
import {
  CIFAR10_CLASSES,
  CIFAR_META_FILE,
  CIFAR_SIDE,
  CIFAR_TEST_FILE,
  CIFAR_TRAIN_FILES,
  CifarBatchSink,
  parseCifarMeta,
} from '../../src/data/cifar.js';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';

export interface Cifar10Params {
  readonly url: string;
  readonly md5: string | null;
}

export const cifar10 = definePlugin<Cifar10Params>({
  name: 'cifar10',
  version: '1',
  description: 'CIFAR-10 from the official binary archive (https, s3:// or a local file), md5-verified, as uint8 NHWC',
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      url: { type: 'string', minLength: 1, default: CIFAR10_URL, description: 'https://, http://, s3://bucket/key, file:// or a path' },
      md5: {
        type: ['string', 'null'],
        pattern: '^[0-9a-fA-F]{32}$',
        default: CIFAR10_MD5,
        description: 'expected md5 of the archive; null skips the check (not recommended)',
      },
    },
  },
  inputs: {},
  outputs: {
    dataset: { kind: 'tensors', description: 'x_train [50000,32,32,3] uint8, y_train, x_test, y_test' },
    metrics: { kind: 'json', description: 'counts per split and class, archive checksums' },
  },
  seeded: false,
  async run(ctx) {
    const { url, md5 } = ctx.params;
    ctx.progress({ message: `downloading ${url}` });
    const archive = await download(url, await ctx.tempDir(), { md5, name: 'cifar-10-binary.tar.gz', signal: ctx.signal });
    if (md5 === null) ctx.log(`md5 check skipped; the archive's md5 is ${archive.md5}`);
    ctx.progress({ message: 'extracting' });
    const batches = new Map<string, CifarBatchSink>();
    let metaText: string | undefined;
    const wanted = new Set([...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE]);
    await readTarFiles(
      createReadStream(archive.path),
      (path, size): TarFileSink | undefined => {
        const name = path.split('/').pop() ?? '';
        if (name === CIFAR_META_FILE) return textSink((t) => (metaText = t));
        if (!wanted.has(name)) return undefined;
        if (batches.has(name)) throw new DataError('bad_format', `archive ${url} contains ${name} twice`);
        const sink = new CifarBatchSink(name, size, CIFAR10_CLASSES.length);
        batches.set(name, sink);
        return sink;
      },
      url,
      ctx.signal,
    );
    const missing = [...wanted].filter((n) => !batches.get(n)?.complete);
    if (missing.length > 0) {
      throw new DataError('missing_file', `archive ${url} lacks ${missing.join(', ')} (truncated, or not the CIFAR-10 binary version?)`);
    }
    const classes = metaText === undefined ? [...CIFAR10_CLASSES] : parseCifarMeta(metaText);
    if (classes.length !== CIFAR10_CLASSES.length) {
      throw new DataError('bad_format', `${CIFAR_META_FILE} lists ${classes.length} classes, expected ${CIFAR10_CLASSES.length}`);
    }
    const train = CIFAR_TRAIN_FILES.map((n) => batches.get(n)!);
    const test = batches.get(CIFAR_TEST_FILE)!;
    ctx.progress({ message: 'writing' });
    await writeDatasetParts(
      ctx,
      { height: CIFAR_SIDE, width: CIFAR_SIDE, channels: 3 },
      classes,
      { train: { x: train.map((b) => b.x), y: train.map((b) => b.y) }, test: { x: [test.x], y: [test.y] } },
      { source: url, archive_md5: archive.md5, archive_sha256: archive.sha256, dataset: 'cifar10' },
    );
    const trainLabels = Int32Array.from(train.flatMap((b) => Array.from(b.y)));
    await ctx.writeJson('metrics', {
      source: url,
      archive: { bytes: archive.bytes, md5: archive.md5, sha256: archive.sha256, md5_verified: md5 !== null },
      shape: [CIFAR_SIDE, CIFAR_SIDE, 3],
      classes,
      train: { count: trainLabels.length, per_class: classCounts(trainLabels, classes.length) },
      test: { count: test.y.length, per_class: classCounts(test.y, classes.length) },
    });
  },
});

/** Collects a small text file (the class list). */
function textSink(done: (text: string) => void): TarFileSink {
  const chunks: Buffer[] = [];
  return {
    data: (chunk) => void chunks.push(Buffer.from(chunk)),
    end: () => done(Buffer.concat(chunks).toString('utf8')),
  };
}
