import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createHarness } from '../../../src/testing/harness.js';
import { idx } from '../../../stages/datasets/idx.js';
import { DataError } from '../../../src/data/errors.js';
import { decodeIdx, parseIdx } from '../../../src/data/idx.js';
import { Rng } from '../../../src/util/random.js';
import { idxBytes, serve } from '../../data/fixtures.js';
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
