import { tempDir } from '../../support/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHarness, type HarnessResult } from '../../../src/testing/harness.js';
import { cifar10 } from '../../../stages/datasets/cifar10.js';
import { DataError } from '../../../src/data/errors.js';
import { CIFAR_FIXTURE_SEEDS, cifarRecords, serve, smallCifarArchive } from '../../data/fixtures.js';
import { filesUnder } from '../../data/store-files.js';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const PER_BATCH = 7;

/** Runs cifar10 against a served archive; `inspect` sees the outputs while the store still exists. */
async function runServed(
  body: Uint8Array,
  params: { md5?: string | null; truncateTo?: number } = {},
  inspect: (r: HarnessResult) => Promise<void> = async () => undefined,
) {
  const server = await serve({ 'cifar.tar.gz': params.truncateTo === undefined ? { body } : { body, truncateTo: params.truncateTo } });
  const harness = await createHarness();
  try {
    const result = await harness
      .run(cifar10, { params: { url: server.url('cifar.tar.gz'), md5: params.md5 === undefined ? md5(body) : params.md5 } })
      .then((r) => ({ ok: true as const, r }), (e: unknown) => ({ ok: false as const, e }));
    if (result.ok) await inspect(result.r);
    return { result, files: await filesUnder(harness.store.location) };
  } finally {
    await harness.close();
    await server.close();
  }
}

async function expectFailure(body: Uint8Array, reason: DataError['reason'], pattern: RegExp, params: { md5?: string | null; truncateTo?: number } = {}) {
  const { result, files } = await runServed(body, params);
  assert.equal(result.ok, false, 'the stage should fail');
  const e = (result as { e: unknown }).e;
  assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
  assert.equal(e.userError, true);
  assert.equal(e.reason, reason, e.message);
  assert.match(e.message, pattern);
  assert.deepEqual(files, [], 'nothing is cached or left behind');
}

test('cifar10 downloads, verifies and decodes a served archive into NHWC', async () => {
  const archive = smallCifarArchive(PER_BATCH);
  let inspected = false;
  const { result } = await runServed(archive, {}, async (r) => {
    const ds = await r.outputs['dataset']!.readTensors();
    assert.deepEqual(ds.tensors['x_train'], { dtype: 'uint8', shape: [5 * PER_BATCH, 32, 32, 3] });
    assert.deepEqual(ds.tensors['y_test'], { dtype: 'int32', shape: [PER_BATCH] });
    assert.equal(ds.metadata['archive_md5'], md5(archive));
    assert.deepEqual(JSON.parse(ds.metadata['classes']!), ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    // Train images come in batch-file order 1..5 whatever the order inside the archive.
    const xTrain = (await ds.read('x_train')).data as Uint8Array;
    const yTrain = Array.from((await ds.read('y_train')).data);
    for (let b = 1; b <= 5; b++) {
      const { bytes, labels } = cifarRecords(PER_BATCH, CIFAR_FIXTURE_SEEDS[`data_batch_${b}`]!);
      assert.deepEqual(yTrain.slice((b - 1) * PER_BATCH, b * PER_BATCH), labels);
      for (const i of [0, PER_BATCH - 1]) {
        const image = (b - 1) * PER_BATCH + i;
        // pixel (row 3, col 5): CHW index c·1024 + 3·32 + 5 → HWC index (3·32 + 5)·3 + c
        for (let c = 0; c < 3; c++) {
          assert.equal(xTrain[image * 3072 + (3 * 32 + 5) * 3 + c], bytes[i * 3073 + 1 + c * 1024 + 3 * 32 + 5]);
        }
      }
    }
    const test = cifarRecords(PER_BATCH, CIFAR_FIXTURE_SEEDS['test_batch']!);
    assert.deepEqual(Array.from((await ds.read('y_test')).data), test.labels);
    const metrics = await r.outputs['metrics']!.readJson<{ train: { count: number; per_class: number[] } }>();
    assert.equal(metrics.train.count, 5 * PER_BATCH);
    assert.equal(metrics.train.per_class.reduce((a, b) => a + b, 0), 5 * PER_BATCH);
    await ds.close();
    inspected = true;
  });
  assert.ok(result.ok, String((result as { e?: unknown }).e));
  assert.ok(inspected);
});

test('cifar10 reads a local path and a file:// URL the same way', async () => {
  const dir = await tempDir('cifar-local-');
  const harness = await createHarness();
  try {
    const archive = smallCifarArchive(2);
    const path = join(dir, 'c.tar.gz');
    await writeFile(path, archive);
    const a = await harness.run(cifar10, { params: { url: path, md5: md5(archive) } });
    const b = await harness.run(cifar10, { params: { url: `file://${path}`, md5: md5(archive) } });
    const [ta, tb] = [await a.outputs['dataset']!.readTensors(), await b.outputs['dataset']!.readTensors()];
    assert.deepEqual(await ta.read('x_train'), await tb.read('x_train'));
    assert.equal(ta.metadata['archive_sha256'], tb.metadata['archive_sha256']);
    await ta.close();
    await tb.close();
  } finally {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a wrong checksum names the URL, the expected and the actual md5, and caches nothing', async () => {
  const archive = smallCifarArchive(2);
  await expectFailure(archive, 'checksum_mismatch', new RegExp(`expected md5 0{32}, got ${md5(archive)}`), { md5: '0'.repeat(32) });
});

test('a transfer cut short is reported as truncated', async () => {
  const archive = smallCifarArchive(3);
  await expectFailure(archive, 'truncated', /truncated/, { truncateTo: 1000 });
});

test('a truncated archive with a matching checksum is reported as truncated', async () => {
  const full = smallCifarArchive(3);
  const cut = full.subarray(0, Math.floor(full.length * 0.6));
  await expectFailure(cut, 'truncated', /truncated/);
});

test('a missing batch file is named', async () => {
  const { buildTarGz } = await import('../../data/fixtures.js');
  const archive = buildTarGz([{ name: 'cifar-10-batches-bin/data_batch_1.bin', data: cifarRecords(1, 0).bytes }]);
  await expectFailure(archive, 'missing_file', /lacks data_batch_2\.bin/);
});

for (const [what, entry, pattern] of [
  ['a ../ path', { name: 'cifar-10-batches-bin/../../evil.bin', data: Buffer.from('x') }, /unsafe entry ".*evil\.bin" \(path escapes/],
  ['an absolute path', { name: '/tmp/evil.bin', data: Buffer.from('x') }, /unsafe entry "\/tmp\/evil\.bin" \(absolute path\)/],
  ['a symlink', { name: 'cifar-10-batches-bin/link', type: 'symlink', linkname: '/etc/passwd' }, /symbolic links are not allowed/],
  ['a hard link', { name: 'cifar-10-batches-bin/hard', type: 'hardlink', linkname: '../../x' }, /hard links are not allowed/],
] as const) {
  test(`an archive with ${what} is rejected and nothing is written`, async () => {
    await expectFailure(smallCifarArchive(2, [entry]), 'unsafe_entry', pattern);
  });
}

test('a batch file that is not whole records is a format error', async () => {
  const { buildTarGz } = await import('../../data/fixtures.js');
  const archive = buildTarGz([{ name: 'cifar-10-batches-bin/data_batch_1.bin', data: new Uint8Array(3073 + 5) }]);
  await expectFailure(archive, 'bad_format', /not a whole number of 3073-byte CIFAR records/);
});

test('an aborted run stops and leaves nothing behind', async () => {
  const harness = await createHarness();
  const server = await serve({ 'c.tar.gz': { body: smallCifarArchive(2) } });
  try {
    const controller = new AbortController();
    controller.abort(new Error('user pressed ctrl-c'));
    await assert.rejects(
      harness.run(cifar10, { params: { url: server.url('c.tar.gz'), md5: null }, signal: controller.signal }),
      /ctrl-c|abort/i,
    );
    assert.deepEqual(await filesUnder(harness.store.location), []);
  } finally {
    await harness.close();
    await server.close();
  }
});
