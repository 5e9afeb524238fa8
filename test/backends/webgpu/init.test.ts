// tryInitWebGpu: a software adapter only when asked for, and what it records about the adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probeGpu } from '../../../src/backends/webgpu/navigator_gpu.js';
import { tryInitWebGpu } from '../../../src/backends/webgpu/init.js';

const probe = await probeGpu();
const skip = probe.ok ? false : `no WebGPU adapter (${probe.reason}); on Debian run scripts/ci/install-mesa.sh`;

test('a software adapter is refused unless allowed', { skip: skip || (probe.ok && !probe.adapter.isSoftware ? 'hardware adapter here' : false) }, async () => {
  assert.equal(await tryInitWebGpu({ allowSoftware: false }), null);
});

test('the backend starts and records the adapter', { skip }, async () => {
  if (!probe.ok) return;
  const info = await tryInitWebGpu({ allowSoftware: true });
  assert.ok(info !== null);
  assert.equal(info.name, 'webgpu');
  assert.equal(info.tfBackend, 'webgpu');
  assert.equal(info.adapter?.['isSoftware'], String(probe.adapter.isSoftware));
  assert.equal(info.adapter?.['vendor'], probe.adapter.vendor);
  assert.match(info.versions['@tensorflow/tfjs'] ?? '', /^\d+\.\d+\.\d+$/);
  const tf = await import('@tensorflow/tfjs');
  assert.equal(tf.getBackend(), 'webgpu');
});
