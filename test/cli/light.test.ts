import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compiledBin } from '../support/tmp-project.js';

// Planning, status and no-op reruns must never load the heavy libraries: they cost seconds.
test('validate, status and dag of the quick-start load no tfjs, onnxruntime, sharp or S3 SDK', () => {
  const cli = join(compiledBin(), '..', 'cli.js');
  const root = join(compiledBin(), '..', '..', '..', '..');
  const script = `
    import { createRequire } from 'node:module';
    const { main } = await import(${JSON.stringify(cli)});
    const io = { stdout() {}, stderr(t) { process.stderr.write(t); }, isTTY: false, cwd: ${JSON.stringify(root)}, env: { RETHINK_CACHE_DIR: '/nonexistent-rethink-cache' } };
    for (const cmd of ['validate', 'status', 'dag']) if ((await main([cmd], io)) !== 0) process.exit(3);
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(loaded.filter((f) => /@tensorflow|onnxruntime|sharp|@aws-sdk|webgpu/.test(f))));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), []);
});
