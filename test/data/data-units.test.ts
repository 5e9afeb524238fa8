import { tempDir } from '../support/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unsafeReason } from '../../src/data/tar.js';
import { MomentAccumulator, clippedMoments, fitClippedNormal } from '../../src/data/gaussian.js';
import { stratifiedSplit, stratifiedSubset } from '../../src/data/stratify.js';
import { corruptLabels } from '../../src/data/corrupt-labels.js';
import { download } from '../../src/data/fetch.js';
import { DataError } from '../../src/data/errors.js';
import { parseCifarMeta, recordToHwc } from '../../src/data/cifar.js';
import { Rng } from '../../src/util/random.js';

test('unsafeReason accepts plain relative files and folders only', () => {
  assert.equal(unsafeReason('cifar-10-batches-bin/data_batch_1.bin', 'File'), undefined);
  assert.equal(unsafeReason('a/b/', 'Directory'), undefined);
  assert.equal(unsafeReason('a/..b/c', 'File'), undefined, "'..b' is a name, not a parent reference");
  assert.match(unsafeReason('a/../../b', 'File')!, /'\.\.'/);
  assert.match(unsafeReason('..\\b', 'File')!, /'\.\.'/);
  assert.match(unsafeReason('/etc/passwd', 'File')!, /absolute/);
  assert.match(unsafeReason('C:\\x', 'File')!, /absolute/);
  assert.match(unsafeReason('a', 'SymbolicLink')!, /symbolic/);
  assert.match(unsafeReason('a', 'CharacterDevice')!, /not allowed/);
});

test('recordToHwc moves channel-major bytes to HWC', () => {
  const record = new Uint8Array(1 + 3072);
  for (let k = 0; k < 3072; k++) record[1 + k] = k % 251;
  const out = new Uint8Array(3072);
  recordToHwc(record, 1, out, 0);
  for (const p of [0, 1, 33, 1023]) for (let c = 0; c < 3; c++) assert.equal(out[p * 3 + c], (c * 1024 + p) % 251);
  assert.deepEqual(parseCifarMeta('a\r\nb\n\n c \n'), ['a', 'b', 'c']);
});

test('MomentAccumulator is exact across blocks for any channel count', () => {
  for (const c of [1, 3, 4]) {
    const rng = Rng.derive(c);
    const x = Uint8Array.from({ length: c * 100_003 }, (_, k) => (k % c) * 40 + rng.int(30));
    const acc = new MomentAccumulator(c);
    acc.add(x.subarray(0, c * 50_000));
    acc.add(x.subarray(c * 50_000));
    const { mean } = acc.moments();
    mean.forEach((m, ch) => assert.ok(Math.abs(m - (ch * 40 + 14.5)) < 0.2, `c=${c} ch=${ch} mean ${m}`));
  }
});

test('the clipped-normal fit reproduces the target moments of a clipped variable', () => {
  for (const [m, s] of [[73, 90], [125, 63], [240, 30], [10, 5]] as const) {
    const { mu, sigma } = fitClippedNormal({ mean: [m], std: [s] });
    const [mean, variance] = clippedMoments(mu[0]!, sigma[0]!, 0, 255);
    assert.ok(Math.abs(mean - m) < 1e-3, `mean ${mean} for ${m}`);
    assert.ok(Math.abs(Math.sqrt(variance + 1 / 12) - s) < 1e-3, `std for ${s}`);
  }
});

test('stratified subset and split keep class proportions and are seeded', () => {
  const y = Int32Array.from({ length: 700 }, (_, i) => i % 7);
  const classes = ['0', '1', '2', '3', '4', '5', '6'];
  const a = stratifiedSubset(y, classes, { per_class: 10 }, Rng.derive(1));
  assert.equal(a.length, 70);
  assert.deepEqual(Array.from(a), Array.from(a).sort((p, q) => p - q));
  assert.deepEqual(a, stratifiedSubset(y, classes, { per_class: 10 }, Rng.derive(1)));
  assert.notDeepEqual(a, stratifiedSubset(y, classes, { per_class: 10 }, Rng.derive(2)));
  const { train, test: held } = stratifiedSplit(y, classes, 1 / 7, Rng.derive(1));
  assert.equal(held.length, 7 * 14);
  assert.equal(new Set([...train, ...held]).size, 700, 'a partition');
});

test('corruptLabels: p = 1 with exclude_true changes every label; bad p is refused', () => {
  const y = Int32Array.from({ length: 1000 }, (_, i) => i % 10);
  const r = corruptLabels(y, 10, 1, Rng.derive(0), true);
  assert.equal(r.changed, 1000);
  assert.ok(r.labels.every((l) => l >= 0 && l < 10));
  assert.throws(() => corruptLabels(y, 10, 1.5, Rng.derive(0)), /p must be in/);
});

test('download: unknown schemes and missing files are user errors; nothing is left behind', async () => {
  const dir = await tempDir('fetch-');
  try {
    await assert.rejects(download('ftp://x/y', dir, { md5: null }), (e: unknown) => e instanceof DataError && e.reason === 'bad_params');
    await assert.rejects(download(join(dir, 'nope.bin'), dir, { md5: null }), (e: unknown) => e instanceof DataError && e.reason === 'missing_file');
    await writeFile(join(dir, 'src.bin'), 'hello');
    await assert.rejects(download(join(dir, 'src.bin'), dir, { md5: '0'.repeat(32), name: 'out.bin' }), /checksum mismatch/);
    assert.deepEqual(await readdir(dir), ['src.bin'], 'no .part file, no output');
    const ok = await download(join(dir, 'src.bin'), dir, { md5: '5d41402abc4b2a76b9719d911017c592', name: 'out.bin' });
    assert.equal(ok.bytes, 5);
    assert.deepEqual((await readdir(dir)).sort(), ['out.bin', 'src.bin']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
