// The one place that decides which kernels we add to or replace in tfjs-backend-wasm, as plain
// kernel configs (like tfjs's own register_all_kernels), registrable under any backend name whose
// backend object is a BackendWasm or wraps one's heap (the native backend reuses them): the training
// kernels that replace stock ones, and the fused ops' kernels (src/ops/) that tfjs has no name for.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './kernels/conv2dBackpropFilter.js';
import { conv2dBackpropInputConfig } from './kernels/conv2dBackpropInput.js';
import { lrnConfig, lrnGradConfig } from './kernels/lrn.js';
import { batchMatMulConfig, fusedMatMulConfig } from './kernels/matmul.js';
import { maxPoolGradConfig } from './kernels/maxPoolGrad.js';
import { meanConfig, sumConfig } from './kernels/reduce.js';
import { tileConfig } from './kernels/tile.js';
import { HEAP_BATCH_NORM_KERNELS } from './kernels/batch_norm_heap.js';
import { wasmMomentumKernel } from './kernels/momentum.js';
import { reluGradKernel } from './kernels/relu_grad.js';
import { RELU_GRAD } from '../../ops/bias_relu.js';
import { MOMENTUM_UPDATE } from '../../ops/momentum_math.js';

/** A training kernel: built for a backend name, given the stock wasm kernel it replaces (if any). */
type Factory = (backendName: string, original: KernelFunc) => KernelConfig;

const factories: Readonly<Record<string, Factory>> = {
  BatchMatMul: batchMatMulConfig,
  _FusedMatMul: fusedMatMulConfig,
  Conv2DBackpropFilter: conv2dBackpropFilterConfig,
  Conv2DBackpropInput: conv2dBackpropInputConfig,
  MaxPoolGrad: maxPoolGradConfig,
  LRN: lrnConfig,
  LRNGrad: lrnGradConfig,
  Sum: sumConfig,
  Mean: meanConfig,
  Tile: tileConfig,
};

/** The kernels we register, for tests and the profile script. */
export const trainingKernelNames: readonly string[] = Object.keys(factories);

/** Kernels of the fused ops (src/ops/), which have no stock counterpart. */
const fusedOpKernels: Readonly<Record<string, KernelFunc>> = {
  ...HEAP_BATCH_NORM_KERNELS,
  [RELU_GRAD]: reluGradKernel,
  [MOMENTUM_UPDATE]: wasmMomentumKernel,
};

export const fusedOpKernelNames: readonly string[] = Object.keys(fusedOpKernels);

/** tfjs-backend-wasm's own configs, captured before we replace any of them. */
let stock: ReadonlyMap<string, KernelConfig> | undefined;
const registered = new Set<string>();

function stockWasmKernels(): ReadonlyMap<string, KernelConfig> {
  stock ??= new Map(tf.getKernelsForBackend('wasm').map((k) => [k.kernelName, k]));
  return stock;
}

function missingKernel(name: string): KernelFunc {
  return () => {
    throw new Error(`kernel '${name}' has no stock wasm implementation to fall back to`);
  };
}

/**
 * Registers our training kernels and the fused ops' kernels under `backendName` (default 'wasm'). For another name, first
 * copies every stock wasm kernel not yet registered there, so the result is a complete wasm
 * backend; register your own overrides after this call (unregister ours first). Idempotent.
 *
 * Call it before the backend initialises (tf.setBackend), so the stock setupFuncs, which bind the
 * wasm exports, run for it. tfjs-backend-wasm keeps those bindings in module globals: two backends
 * on two different wasm module instances cannot both be initialised in one process.
 */
export function registerWasmTrainingKernels(backendName = 'wasm'): void {
  if (registered.has(backendName)) return;
  const stockKernels = stockWasmKernels();
  if (backendName !== 'wasm') {
    const present = new Set(tf.getKernelsForBackend(backendName).map((k) => k.kernelName));
    for (const k of stockKernels.values()) {
      if (!present.has(k.kernelName)) tf.registerKernel({ ...k, backendName });
    }
  }
  for (const [name, factory] of Object.entries(factories)) {
    const original = stockKernels.get(name);
    const config = factory(backendName, original?.kernelFunc ?? missingKernel(name));
    if (tf.getKernelsForBackend(backendName).some((k) => k.kernelName === name)) tf.unregisterKernel(name, backendName);
    // Keep the stock setupFunc: it binds the wasm export that our fallbacks call.
    const setup = original?.setupFunc === undefined ? {} : { setupFunc: original.setupFunc };
    const dispose = original?.disposeFunc === undefined ? {} : { disposeFunc: original.disposeFunc };
    tf.registerKernel({ ...config, ...setup, ...dispose });
  }
  for (const [kernelName, kernelFunc] of Object.entries(fusedOpKernels)) {
    if (tf.getKernel(kernelName, backendName) === undefined) tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
  registered.add(backendName);
}

/** The stock wasm kernel we replaced (for benchmarks), if tfjs-backend-wasm has one. */
export function stockWasmKernel(name: string): KernelFunc | undefined {
  return stockWasmKernels().get(name)?.kernelFunc;
}
