// `rethink doctor`: what loads here and what to fix, as text and as a versioned --json document; the
// exit code says whether a run would work at full speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project } from '../support/tmp-project.js';
import type { DoctorReport } from '../../src/cli/doctor/report.js';

test('doctor --json: format 1, every backend with whether it loads, the default native, the cache measured; exit 0', async () => {
  const p = await project({});
  await mkdir(join(p.dir, 'cache', 'objects'), { recursive: true });
  await writeFile(join(p.dir, 'cache', 'objects', 'x'), '12345');
  const r = await p.cli('doctor', '--json');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout) as DoctorReport;
  assert.equal(doc.format, 1);
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.backend, { request: 'auto', default: 'native' });
  assert.deepEqual(
    doc.backends.map((b) => b.name),
    ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'native', 'wasm', 'cpu'],
  );
  const native = doc.backends.find((b) => b.name === 'native')!;
  assert.equal(native.loads, true);
  assert.match(native.versions!['onnxruntime-node']!, /^\d+\.\d+\.\d+/);
  assert.ok(native.threads! >= 1);
  const tfjsNode = doc.backends.find((b) => b.name === 'tfjs-node')!;
  assert.equal(tfjsNode.loads, false);
  assert.match(tfjsNode.reason!, /@tensorflow\/tfjs-node is not installed .* It needs npm install @tensorflow\/tfjs-node@/);
  assert.deepEqual({ ...doc.cache, dir: undefined }, { dir: undefined, source: 'RETHINK_CACHE_DIR', exists: true, writable: true, files: 1, bytes: 5 });
  assert.equal(doc.remote, null);
  assert.deepEqual(doc.executor, { name: 'local', source: 'default' });
  assert.deepEqual(doc.fixes, []);
  assert.equal(doc.node.version, process.versions.node);
});

test('doctor: a RETHINK_BACKEND that does not start and a queue executor with nothing to reach are what to fix; exit 1', async () => {
  const p = await project({}, { RETHINK_BACKEND: 'tfjs-node', RETHINK_EXECUTOR: 'queue' });
  const r = await p.cli('doctor');
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^backends RETHINK_BACKEND=tfjs-node takes none$/m);
  assert.match(r.stdout, /^ {2}native +loads: onnxruntime-node /m);
  assert.match(r.stdout, /^what to fix:\n {2}error: RETHINK_BACKEND=tfjs-node starts no backend: .*\n {4}fix: install what it needs \(above\), or unset RETHINK_BACKEND/m);
  assert.match(r.stdout, /error: RETHINK_EXECUTOR=queue runs jobs on other machines, and no shared remote is set\n {4}fix: set RETHINK_REMOTE/);
  assert.match(r.stdout, /error: RETHINK_EXECUTOR=queue and no queue is set\n {4}fix: set RETHINK_QUEUE=redis:/);
});
