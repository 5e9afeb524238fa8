// Replaces tfjs-backend-webgpu's slow training kernels with ours. Which ones is configurable so the
// benchmark can measure each against the stock kernel (RETHINK_WEBGPU_KERNELS=Conv2D,… or 'none').
import type * as tfType from '@tensorflow/tfjs';
import { conv2D, conv2DBackpropFilter, conv2DBackpropInput, fusedConv2D, type KernelFn } from './conv_kernels.js';
import { lrnGrad } from './lrn_grad.js';

type Factory = (tf: typeof tfType, fallback: KernelFn) => KernelFn;

const FAST_KERNELS: Readonly<Record<string, Factory>> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  LRNGrad: (_tf, fallback) => lrnGrad(fallback),
};

export const FAST_KERNEL_NAMES: readonly string[] = Object.keys(FAST_KERNELS);

/** Names selected by RETHINK_WEBGPU_KERNELS (comma list, 'all' or 'none'); all by default. */
export function selectedKernelNames(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const v = env['RETHINK_WEBGPU_KERNELS']?.trim();
  if (v === undefined || v === '' || v === 'all') return FAST_KERNEL_NAMES;
  if (v === 'none') return [];
  const names = v.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(n in FAST_KERNELS));
  if (unknown.length > 0) throw new Error(`RETHINK_WEBGPU_KERNELS: unknown kernel(s) ${unknown.join(', ')}; known: ${FAST_KERNEL_NAMES.join(', ')}`);
  return names;
}

/** Registers ours over the stock kernels (the stock one stays reachable as the fallback). Idempotent. */
export function registerFastWebGpuKernels(tf: typeof tfType, names: readonly string[] = selectedKernelNames()): readonly string[] {
  const done: string[] = [];
  for (const name of names) {
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

/** Puts tfjs's own kernels back (tests compare against them). */
export function restoreStockWebGpuKernels(tf: typeof tfType): void {
  for (const name of FAST_KERNEL_NAMES) {
    const cur = tf.getKernel(name, 'webgpu');
    const stock = (cur?.kernelFunc as { stock?: tfType.KernelFunc } | undefined)?.stock;
    if (cur === undefined || stock === undefined) continue;
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ ...cur, kernelFunc: stock });
  }
}
