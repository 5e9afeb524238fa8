// Everything this project registers for tfjs-backend-webgpu, in one place: ours over its slow training
// kernels, training kernels tfjs has no counterpart for (a dense layer's whole backward pass, the loss
// with its gradient), the fused ops' kernels (batch norm, momentum), the device-side gradients of Mean
// and Sum, and what the ops ask of webgpu beyond its kernels (src/ops/backend_hooks.ts). Which
// replacing and added kernels is configurable so the benchmark can measure each against tfjs's path
// (RETHINK_WEBGPU_KERNELS=Conv2D,… or 'none'); without the added kernels the training step composes
// tfjs's ops as before.
import type * as tfType from '@tensorflow/tfjs';
import { softmaxXentKernel } from './kernels/softmax_xent.js';
import { conv2D, conv2DBackpropFilter, conv2DBackpropInput, fusedConv2D, type KernelFn } from './kernels/conv_kernels.js';
import { convGradKernel } from './kernels/conv_grad.js';
import { denseGradKernel } from './kernels/dense_grad.js';
import { lrn, lrnGrad } from './kernels/lrn_grad.js';
import { concatLastAxis, splitVLastAxis } from './kernels/last_axis.js';
import { maxPool, maxPoolGrad } from './kernels/max_pool.js';
import { fusedMatMul } from './kernels/matmul.js';
import { binaryOp } from './kernels/elementwise.js';
import { spatialMean, spatialMeanGradKernel } from './kernels/spatial_mean.js';
import { WEBGPU_BATCH_NORM_KERNELS, movingStatsInPlace } from './kernels/batch_norm.js';
import { MOMENTUM_UPDATE_GROUP, webgpuMomentumGroupKernel, webgpuMomentumKernel } from './kernels/momentum.js';
import { recorderFor } from './record.js';
import { setOpHooks } from '../../ops/backend_hooks.js';
import { CONV_GRAD, DENSE_GRAD } from '../../ops/bias_relu.js';
import { registerDeviceGradients, SPATIAL_MEAN_GRAD } from '../../ops/gradients.js';
import { MOMENTUM_UPDATE } from '../../ops/momentum_math.js';
import { SOFTMAX_XENT } from '../../ops/softmax_xent.js';
import { ENV, type EnvSource } from '../../util/env.js';

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

/** Kernels of our own (no stock counterpart), used by src/ops when registered; they run only as recorded dispatches. */
const ADDED_KERNELS: Readonly<Record<string, (tf: typeof tfType) => tfType.KernelFunc>> = {
  [DENSE_GRAD]: denseGradKernel,
  [CONV_GRAD]: convGradKernel,
  [SOFTMAX_XENT]: softmaxXentKernel,
  [SPATIAL_MEAN_GRAD]: spatialMeanGradKernel,
};

export const FAST_KERNEL_NAMES: readonly string[] = [...Object.keys(FAST_KERNELS), ...Object.keys(ADDED_KERNELS)];

/** Names selected by RETHINK_WEBGPU_KERNELS (comma list, 'all' or 'none'); all by default. */
export function selectedKernelNames(env: EnvSource = process.env): readonly string[] {
  const v = ENV.webgpuKernels.read(env)?.trim();
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

/** The fused ops' kernels (src/ops/), registered whatever RETHINK_WEBGPU_KERNELS selects, as before. */
const FUSED_OP_KERNELS: Readonly<Record<string, (tf: typeof tfType) => tfType.KernelFunc>> = {
  ...WEBGPU_BATCH_NORM_KERNELS,
  [MOMENTUM_UPDATE]: webgpuMomentumKernel,
  [MOMENTUM_UPDATE_GROUP]: webgpuMomentumGroupKernel,
};

export interface WebGpuRegisterOptions {
  /** Keep tfjs's own kernels and gradients (the benchmark baseline); the fused ops' kernels are still added. */
  readonly stockKernels?: boolean;
}

/**
 * Registers everything above under 'webgpu' (idempotent): call before tf.setBackend('webgpu'). The
 * device gradients are global in tfjs (every backend), so they come only with our kernels.
 */
export function registerWebGpu(tf: typeof tfType, options: WebGpuRegisterOptions = {}): void {
  for (const [kernelName, make] of Object.entries(FUSED_OP_KERNELS)) {
    if (tf.getKernel(kernelName, 'webgpu') === undefined) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: make(tf) });
  }
  setOpHooks('webgpu', {
    canRun: (t, name) => !(name in ADDED_KERNELS) || recorderFor(t.backend()) !== null,
    movingStatsInPlace,
  });
  if (options.stockKernels === true) return;
  registerFastWebGpuKernels(tf);
  registerDeviceGradients(tf);
}
