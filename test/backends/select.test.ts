// Backend selection: explicit names, the environment variable, clear errors for what is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, backendNames, describeBackends, initBackend } from '../../src/backends/select.js';

test("explicit 'cpu' starts cpu and records versions", async () => {
  const { info } = await initBackend('cpu');
  assert.equal(info.name, 'cpu');
  assert.equal(info.tfBackend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(info.versions['@tensorflow/tfjs'], tf.version.tfjs);
  assert.equal(info.versions['node'], process.versions.node);
});

test('the same request twice returns the same session', async () => {
  assert.equal(await initBackend('cpu'), await initBackend('cpu'));
});

test('RETHINK_BACKEND is used when no request is given, and a request overrides it', async () => {
  assert.equal((await initBackend(undefined, { RETHINK_BACKEND: 'cpu' })).info.name, 'cpu');
  await assert.rejects(initBackend(undefined, { RETHINK_BACKEND: 'tpu' }), BackendUnavailableError);
  assert.equal((await initBackend('cpu', { RETHINK_BACKEND: 'tpu' })).info.name, 'cpu');
});

test('an explicit backend that is not installed is an error naming the package and how to install it', async () => {
  await assert.rejects(initBackend('tfjs-node'), (e: unknown) => {
    assert.ok(e instanceof BackendUnavailableError);
    assert.equal(e.backend, 'tfjs-node');
    assert.match(e.message, /@tensorflow\/tfjs-node/);
    assert.match(e.message, /npm install @tensorflow\/tfjs-node@4\.22\.0/);
    return true;
  });
  // A failed request changes nothing.
  assert.equal(tf.getBackend(), 'cpu');
});

test('an unknown name lists the valid ones', async () => {
  await assert.rejects(initBackend('tpu'), /unknown backend 'tpu'.*Valid: auto, tfjs-node-gpu/);
});

test("explicit 'wasm' starts our wasm backend, and switching back and forth keeps each session", async () => {
  const wasm = await initBackend('wasm');
  assert.equal(wasm.info.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(wasm.info.threads >= 1);
  assert.equal(wasm.info.versions['@tensorflow/tfjs-backend-wasm'], '4.22.0');
  await initBackend('cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(await initBackend('wasm'), wasm);
  assert.equal(tf.getBackend(), 'wasm');
});

test('describeBackends names every backend', () => {
  const text = describeBackends();
  for (const n of backendNames) assert.match(text, new RegExp(`^${n} `, 'm'));
});
