// The s3:// path against a loopback S3 double (GetObject is a plain GET /bucket/key, path-style).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createHarness } from '../../../src/testing/harness.js';
import { cifar10 } from '../../../stages/datasets/cifar10.js';
import { DataError } from '../../../src/data/errors.js';
import { serve, smallCifarArchive } from '../../data/fixtures.js';

test('cifar10 reads s3://bucket/key from an S3-compatible endpoint', async () => {
  const archive = smallCifarArchive(2);
  const server = await serve({ 'datasets/cifar/c.tar.gz': { body: archive } });
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: server.url('').replace(/\/$/, ''),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  const harness = await createHarness();
  try {
    const md5 = createHash('md5').update(archive).digest('hex');
    const r = await harness.run(cifar10, { params: { url: 's3://datasets/cifar/c.tar.gz', md5 } });
    const ds = await r.outputs['dataset']!.readTensors();
    assert.deepEqual(ds.tensors['x_train']!.shape, [10, 32, 32, 3]);
    await ds.close();
    assert.ok(server.requests.includes('datasets/cifar/c.tar.gz'), server.requests.join());
    await assert.rejects(
      harness.run(cifar10, { params: { url: 's3://datasets/missing.tar.gz', md5 } }),
      (e: unknown) => e instanceof DataError && e.reason === 'download_failed' && e.message.includes('GET s3://datasets/missing.tar.gz failed: HTTP 404'),
    );
  } finally {
    process.env = saved;
    await harness.close();
    await server.close();
  }
});
