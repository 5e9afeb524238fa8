import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createHarness } from '../../../src/testing/harness.js';
import { idx } from '../../../stages/datasets/idx.js';
import { DataError } from '../../../src/data/errors.js';
import { decodeIdx, IDX_MAX_BYTES, parseIdx } from '../../../src/data/idx.js';
import { Rng } from '../../../src/util/random.js';
import { gzipBomb, idxBytes, serve } from '../../data/fixtures.js';
import { filesUnder } from '../../data/store-files.js';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

function makeSplit(n: number, seed: number): { images: Uint8Array; labels: Uint8Array } {
  const rng = Rng.derive(seed, 'idx-fixture');
  return {
    images: Uint8Array.from({ length: n * 28 * 28 }, () => rng.int(256)),
    labels: Uint8Array.from({ length: n }, () => rng.int(10)),
  };
}

test('parseIdx reads the header and rejects truncated or padded files', () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const parsed = parseIdx(idxBytes([2, 3, 4], data), 'x');
  assert.deepEqual(parsed.dims, [2, 3, 4]);
  assert.deepEqual(Array.from(parsed.data), Array.from(data));
  assert.throws(() => parseIdx(idxBytes([2, 3, 4], data).subarray(0, 30), 'x'), (e: unknown) => e instanceof DataError && e.reason === 'truncated');
  assert.throws(() => parseIdx(Buffer.concat([idxBytes([2, 3, 4], data), Buffer.from([1])]), 'x'), /after the 2×3×4 data/);
  assert.throws(() => parseIdx(Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'x'), /0xd is not supported/);
  assert.throws(() => parseIdx(Buffer.from([1, 2, 3, 4]), 'x'), /bad magic/);
});

test('decodeIdx accepts gzip by its magic number and reports a cut gzip stream as truncated', async () => {
  const raw = idxBytes([5], Uint8Array.from([1, 2, 3, 4, 5]));
  assert.deepEqual(Array.from((await decodeIdx(gzipSync(raw), 'g')).data), [1, 2, 3, 4, 5]);
  const big = idxBytes([4096], Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251));
  const gz = gzipSync(big);
  await assert.rejects(decodeIdx(gz.subarray(0, gz.length - 12), 'g'), (e: unknown) => e instanceof DataError && e.reason === 'truncated');
});

test('idx downloads four files (gz and raw), verifies md5s and builds the dataset', async () => {
  const train = makeSplit(12, 1);
  const testSplit = makeSplit(5, 2);
  const files = {
    'train-images-idx3-ubyte.gz': gzipSync(idxBytes([12, 28, 28], train.images)),
    'train-labels-idx1-ubyte.gz': gzipSync(idxBytes([12], train.labels)),
    // A raw (not gzipped) file under a .gz name is recognized by content.
    't10k-images-idx3-ubyte.gz': idxBytes([5, 28, 28], testSplit.images),
    't10k-labels-idx1-ubyte.gz': gzipSync(idxBytes([5], testSplit.labels)),
  };
  const server = await serve(Object.fromEntries(Object.entries(files).map(([k, body]) => [`m/${k}`, { body }])));
  const harness = await createHarness();
  try {
    const md5s = {
      train_images: { md5: md5(files['train-images-idx3-ubyte.gz']) },
      train_labels: { md5: md5(files['train-labels-idx1-ubyte.gz']) },
      test_images: { md5: md5(files['t10k-images-idx3-ubyte.gz']) },
      test_labels: { md5: md5(files['t10k-labels-idx1-ubyte.gz']) },
    };
    const r = await harness.run(idx, { params: { preset: 'fashion-mnist', base_url: server.url('m/'), files: md5s } });
    const ds = await r.outputs['dataset']!.readTensors();
    assert.deepEqual(ds.tensors['x_train'], { dtype: 'uint8', shape: [12, 28, 28, 1] });
    assert.deepEqual(ds.tensors['x_test'], { dtype: 'uint8', shape: [5, 28, 28, 1] });
    assert.deepEqual(Array.from((await ds.read('x_train')).data), Array.from(train.images));
    assert.deepEqual(Array.from((await ds.read('y_test')).data), Array.from(testSplit.labels));
    assert.equal(JSON.parse(ds.metadata['classes']!)[9], 'Ankle boot');
    await ds.close();

    const bad = { ...md5s, test_labels: { md5: 'f'.repeat(32) } };
    const before = await filesUnder(harness.store.location);
    await assert.rejects(
      harness.run(idx, { params: { preset: 'fashion-mnist', base_url: server.url('m/'), files: bad } }),
      (e: unknown) =>
        e instanceof DataError && e.reason === 'checksum_mismatch' && e.message.includes(server.url('m/t10k-labels-idx1-ubyte.gz')),
    );
    assert.deepEqual(await filesUnder(harness.store.location), before, 'a failed run adds nothing');

    await assert.rejects(
      harness.run(idx, { params: { preset: 'mnist', base_url: server.url('missing/'), files: md5s } }),
      /HTTP 404/,
    );
  } finally {
    await harness.close();
    await server.close();
  }
});

test('gzip bombs, declared or not, are refused without inflating them (memory stays far below the bomb)', async () => {
  const GiB = 2 ** 30;
  const nothing = new Uint8Array(0);
  // 2 MB of gzip each, inflating to 2 GiB: one whose header declares it, one whose header declares MNIST's 47 MB.
  const declared = gzipBomb(idxBytes([2, 1024, 1024, 1024], nothing), 2048);
  const undeclared = gzipBomb(idxBytes([60000, 28, 28], nothing), 2048);
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const refused = (pattern: RegExp) => (e: unknown) => e instanceof DataError && e.userError && pattern.test(e.message);
  await assert.rejects(decodeIdx(declared, 'https://x/a.gz'), refused(/^https:\/\/x\/a\.gz: IDX header declares 2×1024×1024×1024 bytes of data, more than the 1,073,741,824-byte limit/));
  await assert.rejects(decodeIdx(undeclared, 'b.gz'), refused(/^b\.gz: gzip data inflates past the 47,040,016 bytes its IDX header declares/));
  // Under the limit, but more than 2 KB of gzip could ever inflate to.
  await assert.rejects(decodeIdx(gzipBomb(idxBytes([1000, 1000, 1000], nothing), 2), 'c.gz'), refused(/declares 1000×1000×1000 .* more than [\d,]+ bytes of gzip can hold/));
  assert.throws(() => parseIdx(idxBytes([IDX_MAX_BYTES + 1], nothing), 'raw'), refused(/limit for one IDX file/));
  const grown = process.resourceUsage().maxRSS * 1024 - peakBefore;
  assert.ok(grown < GiB / 4, `peak memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB decoding 2 GiB bombs`);

  // Through the stage: the error names the URL.
  const ok = gzipSync(idxBytes([1], new Uint8Array(1)));
  const names = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];
  const server = await serve(Object.fromEntries(names.map((n, i) => [`m/${n}`, { body: i === 0 ? undeclared : ok }])));
  const harness = await createHarness();
  try {
    const noMd5 = { md5: null };
    const files = { train_images: noMd5, train_labels: noMd5, test_images: noMd5, test_labels: noMd5 };
    await assert.rejects(harness.run(idx, { params: { base_url: server.url('m/'), files } }), refused(new RegExp(`^${server.url('m/train-images-idx3-ubyte.gz')}: gzip data inflates past`)));
  } finally {
    await harness.close();
    await server.close();
  }
});
