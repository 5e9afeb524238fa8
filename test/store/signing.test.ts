import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../support/temp.js';
import { distrust, keyIdOf, loadTrust, signRecord } from '../../src/store/signing.js';
import type { RunRecord } from '../../src/store/types.js';
import type { CacheKey, ObjectHash, StageId } from '../../src/util/brand.js';
import { ENV } from '../../src/util/env.js';

const record: RunRecord = {
  format: 1,
  key: 'ab'.repeat(32) as CacheKey,
  keyRecord: { plugin: 't', version: '1', params: { lr: 0.1 }, inputs: {} } as unknown as RunRecord['keyRecord'],
  stage: { id: 's' as StageId, name: 's', pipeline: 'p.yaml' },
  outputs: { model: { hash: 'cd'.repeat(32) as ObjectHash, kind: 'tensors', size: 10 } },
  startedAt: '2026-11-27T00:00:00.000Z',
  seconds: 1.5,
  provenance: { node: 'v20' },
};

test('a record signed by a trusted key is trusted, byte for byte; anything else says why not', () => {
  const ci = generateKeyPairSync('ed25519');
  const dev = generateKeyPairSync('ed25519');
  const signed = signRecord(record, { id: keyIdOf(ci.privateKey), key: ci.privateKey });
  assert.equal(signed.signature?.key, keyIdOf(ci.publicKey), 'a key pair has one id');
  const trusted = new Map([[keyIdOf(ci.publicKey), ci.publicKey]]);
  assert.equal(distrust(signed, trusted), undefined);
  // As another machine reads it: the JSON text, key order changed.
  const reread = JSON.parse(JSON.stringify({ signature: signed.signature, ...record })) as RunRecord;
  assert.equal(distrust(reread, trusted), undefined, 'the signature covers the canonical JSON, not one spelling of it');

  assert.equal(distrust(record, trusted), 'unsigned');
  const tampered = { ...signed, outputs: { model: { ...signed.outputs['model']!, hash: 'ef'.repeat(32) as ObjectHash } } };
  assert.match(distrust(tampered, trusted)!, /^its signature by key [0-9a-f]{16} does not match its content$/);
  const bySomeoneElse = signRecord(record, { id: keyIdOf(dev.privateKey), key: dev.privateKey });
  assert.equal(distrust(bySomeoneElse, trusted), `signed by key ${keyIdOf(dev.publicKey)}, which is not trusted`);
  const forgedId = { ...bySomeoneElse, signature: { ...bySomeoneElse.signature!, key: keyIdOf(ci.publicKey) } };
  assert.match(distrust(forgedId, trusted)!, /does not match its content/, 'claiming a trusted key id does not help');
  assert.equal(distrust({ ...signed, signature: { alg: 'rsa' } } as unknown as RunRecord, trusted), 'its signature is malformed');
});

test('keys come from PEM files named by environment variables; unusable ones are user errors naming the variable', async () => {
  const dir = await tempDir('rethink-keys-');
  const ci = generateKeyPairSync('ed25519');
  await writeFile(join(dir, 'ci.pem'), ci.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'ci.pub.pem'), ci.publicKey.export({ type: 'spki', format: 'pem' }));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  await writeFile(join(dir, 'rsa.pem'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'junk.pem'), 'not a key');

  assert.deepEqual(await loadTrust({}, dir), {});
  const t = await loadTrust({ [ENV.remoteSigningKey.name]: 'ci.pem', [ENV.remoteTrustedKeys.name]: ` ci.pub.pem, ${join(dir, 'ci.pem')} ` }, dir);
  assert.equal(t.signer?.id, keyIdOf(ci.publicKey));
  assert.deepEqual([...t.trusted!.keys()], [keyIdOf(ci.publicKey)], 'a private key file names its public half');

  const fails = async (env: Record<string, string>, message: RegExp) =>
    assert.rejects(loadTrust(env, dir), (e: Error & { exitCode?: number }) => e.exitCode === 2 && message.test(e.message));
  await fails({ [ENV.remoteSigningKey.name]: 'missing.pem' }, /RETHINK_REMOTE_SIGNING_KEY: cannot read "missing\.pem" \(ENOENT\)/);
  await fails({ [ENV.remoteTrustedKeys.name]: 'junk.pem' }, /RETHINK_REMOTE_TRUSTED_KEYS: "junk\.pem" is not a PEM key/);
  await fails({ [ENV.remoteSigningKey.name]: 'rsa.pem' }, /RETHINK_REMOTE_SIGNING_KEY: "rsa\.pem" holds a rsa key, not an Ed25519 one/);
  await fails({ [ENV.remoteSigningKey.name]: 'ci.pub.pem' }, /"ci\.pub\.pem" is not a PEM private key/);
});
