// Replaces tfjs-backend-webgpu's slow training kernels with ours, and adds training kernels tfjs has no
// counterpart for (a dense layer's whole backward pass, the loss with its gradient). Which ones is
// configurable so the benchmark can measure each against tfjs's path (RETHINK_WEBGPU_KERNELS=Conv2D,…
// or 'none'); without the added kernels the training step composes tfjs's ops as before.
import type * as tfType from '@tensorflow/tfjs';
import { SOFTMAX_XENT, softmaxXentKernel } from './softmax_xent.js';
import { conv2D, conv2DBackpropFilter, conv2DBackpropInput, fusedConv2D, type KernelFn } from './conv_kernels.js';
import { CONV_GRAD, convGradKernel } from './conv_grad.js';
import { DENSE_GRAD, denseGradKernel } from './dense_grad.js';
import { lrn, lrnGrad } from './lrn_grad.js';
import { concatLastAxis, splitVLastAxis } from './last_axis.js';
import { maxPool, maxPoolGrad } from './max_pool.js';
import { fusedMatMul } from './matmul.js';
import { binaryOp } from './elementwise.js';
import { SPATIAL_MEAN_GRAD, spatialMean, spatialMeanGradKernel } from './spatial_mean.js';

type Factory = (tf: typeof tfType, fallback: KernelFn) => KernelFn;

const FAST_KERNELS: Readonly<Record<string, Factory>> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  _FusedMatMul: fusedMatMul,
  Add: binaryOp('Add'),
  Sub: binaryOp('Sub'),
  Multiply: binaryOp('Multiply'),
  LRN: lrn,
  LRNGrad: lrnGrad,
  SplitV: splitVLastAxis,
  Concat: concatLastAxis,
  MaxPool: maxPool,
  MaxPoolGrad: maxPoolGrad,
  Mean: spatialMean,
};

/** Kernels of our own (no stock counterpart), used by src/ops when registered. */
const ADDED_KERNELS: Readonly<Record<string, (tf: typeof tfType) => tfType.KernelFunc>> = {
  [DENSE_GRAD]: denseGradKernel,
  [CONV_GRAD]: convGradKernel,
  [SOFTMAX_XENT]: softmaxXentKernel,
  [SPATIAL_MEAN_GRAD]: spatialMeanGradKernel,
};

export const FAST_KERNEL_NAMES: readonly string[] = [...Object.keys(FAST_KERNELS), ...Object.keys(ADDED_KERNELS)];

/** Names selected by RETHINK_WEBGPU_KERNELS (comma list, 'all' or 'none'); all by default. */
export function selectedKernelNames(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const v = env['RETHINK_WEBGPU_KERNELS']?.trim();
  if (v === undefined || v === '' || v === 'all') return FAST_KERNEL_NAMES;
  if (v === 'none') return [];
  const names = v.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !FAST_KERNEL_NAMES.includes(n));
  if (unknown.length > 0) throw new Error(`RETHINK_WEBGPU_KERNELS: unknown kernel(s) ${unknown.join(', ')}; known: ${FAST_KERNEL_NAMES.join(', ')}`);
  return names;
}

/** Registers ours over the stock kernels (the stock one stays reachable as the fallback). Idempotent. */
export function registerFastWebGpuKernels(tf: typeof tfType, names: readonly string[] = selectedKernelNames()): readonly string[] {
  const done: string[] = [];
  for (const name of names) {
    const added = ADDED_KERNELS[name];
    if (added !== undefined) {
      if (tf.getKernel(name, 'webgpu') === undefined) tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: added(tf) });
      done.push(name);
      continue;
    }
    const factory = FAST_KERNELS[name];
    const stock = tf.getKernel(name, 'webgpu');
    if (factory === undefined || stock === undefined) continue;
    if ((stock.kernelFunc as { rethink?: boolean }).rethink === true) {
      done.push(name);
      continue;
    }
    const fallback = stock.kernelFunc as unknown as KernelFn;
    const fn = Object.assign(factory(tf, fallback), { rethink: true, stock: stock.kernelFunc });
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ ...stock, kernelFunc: fn as unknown as tfType.KernelFunc });
    done.push(name);
  }
  return done;
}

/** Puts tfjs's own kernels back and removes ours (tests compare against tfjs's path). */
export function restoreStockWebGpuKernels(tf: typeof tfType): void {
  for (const name of Object.keys(ADDED_KERNELS)) {
    if (tf.getKernel(name, 'webgpu') !== undefined) tf.unregisterKernel(name, 'webgpu');
  }
  for (const name of Object.keys(FAST_KERNELS)) {
    const cur = tf.getKernel(name, 'webgpu');
    const stock = (cur?.kernelFunc as { stock?: tfType.KernelFunc } | undefined)?.stock;
    if (cur === undefined || stock === undefined) continue;
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ ...cur, kernelFunc: stock });
  }
}
