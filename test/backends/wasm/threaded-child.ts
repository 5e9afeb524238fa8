// Run by threads.test.ts in a child process (a backend's build is fixed per process): starts wasm
// with the options in argv[2], checks a few kernels against cpu, prints one JSON line and then
// simply returns, so the parent also learns whether the process ends on its own.
import * as tf from '@tensorflow/tfjs';
import { initWasm } from '../../../src/backends/wasm/init.js';
import { kernel, worstError } from './compare.js';

const options = JSON.parse(process.argv[2] ?? '{}') as { threads: number; threadStartTimeoutMs?: number };
const info = await initWasm(options);
const conv = { strides: 2, pad: 'same', dataFormat: 'NHWC' };
const errors = [
  await worstError(kernel('BatchMatMul', { a: [64, 33], b: [64, 48] }, { transposeA: true, transposeB: false }, 'child-mm')),
  await worstError(kernel('Conv2D', { x: [4, 15, 15, 8], filter: [5, 5, 8, 16] }, { ...conv, dilations: 1 }, 'child-conv')),
  await worstError(kernel('Conv2DBackpropFilter', { x: [4, 15, 15, 8], dy: [4, 8, 8, 16] }, { ...conv, filterShape: [5, 5, 8, 16] }, 'child-dw')),
  await worstError(kernel('Conv2DBackpropInput', { dy: [4, 8, 8, 16], filter: [5, 5, 8, 16] }, { ...conv, inputShape: [4, 15, 15, 8] }, 'child-dx')),
];
await tf.setBackend('wasm');
console.log(JSON.stringify({ ...info, backend: tf.getBackend(), errors }));
