// The fused momentum update on the 'native' backend (a wasm backend on ONNX Runtime; its own file
// because 'wasm' and 'native' cannot both initialise in one process): bitwise the composed update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initNative } from '../../src/backends/native/init.js';
import { kernelMomentum } from '../../src/ops/momentum.js';
import { checkFusedMatchesComposed } from './momentum_check.js';

const native = await initNative({ threads: 1 });
const skip = native.ok ? false : `native backend unavailable: ${native.reason}`;

test('fused momentum update is bitwise the composed one on native', { skip }, async () => {
  assert.equal(await checkFusedMatchesComposed(tf, 'native', kernelMomentum(tf), 0), 0);
  await tf.setBackend('cpu');
});
