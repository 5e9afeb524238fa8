// The S3 remote on a real S3-protocol server on loopback: uploads in parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../support/temp.js';
import { s3Server } from '../support/s3.js';
import { S3Remote } from '../../src/store/s3.js';

test('on S3, a file above the multipart size goes up in parts and comes back whole', async () => {
  const s3 = await s3Server(['lab']);
  try {
    const remote = new S3Remote('lab', 'team', { multipartBytes: 1 << 20 }); // parts above 1 MiB (5 MiB each)
    const dir = await tempDir('rethink-multipart-');
    const file = join(dir, 'big');
    const bytes = new Uint8Array(12 << 20).map((_, i) => (i * 2654435761) >>> 24);
    await writeFile(file, bytes);
    await remote.putFile('objects/ab/big', file, bytes.byteLength);
    const parts = s3.requests.filter((r) => /^PUT \/lab\/team\/objects\/ab\/big\?.*partNumber=\d/.test(r));
    assert.equal(parts.length, 3, `12 MiB in 5 MiB parts: ${s3.requests.join(', ')}`);
    const body = await remote.get('objects/ab/big');
    const chunks: Buffer[] = [];
    for await (const c of body!) chunks.push(c as Buffer);
    const back = Buffer.concat(chunks);
    assert.equal(back.byteLength, bytes.byteLength);
    assert.ok(back.equals(Buffer.from(bytes.buffer)), 'the same bytes');
    const listed = [];
    for await (const e of remote.list('objects')) listed.push(e);
    assert.deepEqual(listed.map((e) => [e.path, e.size]), [['objects/ab/big', 12 << 20]]);
  } finally {
    await s3.close();
  }
});
