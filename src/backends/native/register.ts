// Registers the tfjs backend 'native': a tfjs-backend-wasm backend (single-threaded SIMD build,
// whose heap is a plain ArrayBuffer that ONNX Runtime reads and writes in place) carrying every
// stock wasm kernel, the wasm training kernels, and on top of them the compute-heavy kernels on
// ONNX Runtime's CPU kernels (MLAS, AVX2/AVX-512 FMA, its own thread pool). The one place that lists
// what 'native' adds: the table below, over what wasm/register.ts registers for any heap backend.

import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { makeConvFilterGradKernel, makeConvInputGradKernel, makeConvKernel } from './conv_kernels.js';
import { makeMatMulKernel } from './matmul_kernels.js';
import type { NativeContext } from './native_context.js';
import type { OrtRuntime } from './ort_runtime.js';
import { makeIdentityKernel } from './identity_kernel.js';
import { makeLrnGradKernel, makeLrnKernel } from './lrn_kernels.js';
import { makeSumKernel } from './reduce_sum.js';
import { probeNchwcBlock } from './nchwc.js';
import { makeMaxPoolGradKernel } from './pool_kernels.js';
import { SessionCache } from './session_cache.js';
import { makeConcatKernel, makeSplitKernel } from './split_concat.js';
import { heapIsZeroCopy, isWasmBackendLike } from './wasm_heap.js';
import { makeMomentumKernel } from './momentum_kernel.js';
import { MOMENTUM_UPDATE } from '../../ops/momentum_math.js';

export const NATIVE_BACKEND = 'native';
const PRIORITY = 3;

type Maker = (ctx: NativeContext, name: string, fallback: KernelFunc) => KernelFunc;

/**
 * The kernels that run on ONNX Runtime (and a zero-copy Identity, and the momentum update in wasm SIMD
 * on the heap); everything else stays on wasm.
 */
const nativeKernels: Readonly<Record<string, Maker>> = {
  BatchMatMul: makeMatMulKernel,
  _FusedMatMul: makeMatMulKernel,
  Conv2D: makeConvKernel,
  FusedConv2D: makeConvKernel,
  Conv2DBackpropInput: makeConvInputGradKernel,
  Conv2DBackpropFilter: makeConvFilterGradKernel,
  MaxPoolGrad: makeMaxPoolGradKernel,
  SplitV: makeSplitKernel,
  Concat: makeConcatKernel,
  LRN: makeLrnKernel,
  LRNGrad: makeLrnGradKernel,
  Sum: makeSumKernel,
  Mean: makeSumKernel,
  Identity: (_ctx, _name, fallback) => makeIdentityKernel(fallback),
  [MOMENTUM_UPDATE]: (_ctx, _name, fallback) => makeMomentumKernel(fallback),
};

export const nativeKernelNames: readonly string[] = Object.keys(nativeKernels);

export interface NativeRegistration {
  readonly ctx: NativeContext;
  /** The ONNX Runtime the kernels run on (whole-step graphs build their own sessions on it). */
  readonly runtime: OrtRuntime;
  /** 'zero-copy' when ORT works in place on the wasm heap; known once the backend initialised. */
  heap(): 'zero-copy' | 'staged' | 'unknown';
}

/** Copies the stock wasm kernels, then the wasm training kernels when that module loads. */
async function registerWasmKernels(name: string): Promise<'training' | 'stock'> {
  try {
    const wasm = await import('../wasm/register.js');
    wasm.registerWasmTrainingKernels(name);
    return 'training';
  } catch {
    // The training kernels are optional here: without them the heavy gradients still run natively.
    const present = new Set(tf.getKernelsForBackend(name).map((k) => k.kernelName));
    for (const k of tf.getKernelsForBackend('wasm')) {
      if (!present.has(k.kernelName)) tf.registerKernel({ ...k, backendName: name });
    }
    return 'stock';
  }
}

function missing(name: string): KernelFunc {
  return () => {
    throw new Error(`native: no fallback kernel for '${name}' in this case`);
  };
}

let registration: NativeRegistration | null = null;

/** The registration made in this process, if any (tests and the profiler read its stats). */
export function nativeRegistration(): NativeRegistration | null {
  return registration;
}

/**
 * Registers the 'native' backend and its kernels (idempotent). Must run before the backend first
 * initialises, so the stock setupFuncs bind the wasm exports. tfjs-backend-wasm keeps those
 * bindings in module globals, so 'wasm' and 'native' cannot both be initialised in one process.
 */
export async function registerNativeBackend(runtime: OrtRuntime): Promise<NativeRegistration> {
  if (registration !== null) return registration;
  // Captured now: the stock factory builds the single-threaded SIMD module (tfjs disables threads
  // in Node), whose heap ORT can use without copies.
  const wasmFactory = tf.findBackendFactory('wasm');
  if (wasmFactory === null || wasmFactory === undefined) throw new Error('native: tfjs-backend-wasm is not registered');
  let heap: 'zero-copy' | 'staged' | 'unknown' = 'unknown';
  tf.registerBackend(
    NATIVE_BACKEND,
    async () => {
      const backend = await wasmFactory();
      if (!isWasmBackendLike(backend)) throw new Error('native: the wasm backend does not have the expected shape');
      heap = heapIsZeroCopy(backend) ? 'zero-copy' : 'staged';
      return backend;
    },
    PRIORITY,
  );
  await registerWasmKernels(NATIVE_BACKEND);
  const ctx: NativeContext = {
    cache: new SessionCache(runtime),
    stats: null,
    disabled: new Set(),
    filterGrad: 'auto',
    maxPoolGrad: 'simd',
    lrn: 'simd',
    expansionLayout: 'auto',
    nchwcBlock: probeNchwcBlock(runtime),
  };
  const current = new Map<string, KernelConfig>(tf.getKernelsForBackend(NATIVE_BACKEND).map((k) => [k.kernelName, k]));
  for (const [name, make] of Object.entries(nativeKernels)) {
    const prev = current.get(name);
    if (prev !== undefined) tf.unregisterKernel(name, NATIVE_BACKEND);
    const fallback = prev?.kernelFunc ?? missing(name);
    const native = make(ctx, name, fallback);
    tf.registerKernel({
      kernelName: name,
      backendName: NATIVE_BACKEND,
      kernelFunc: (args) => (ctx.disabled.has(name) ? fallback(args) : native(args)),
      // The fallback's setupFunc binds the wasm export it calls.
      ...(prev?.setupFunc === undefined ? {} : { setupFunc: prev.setupFunc }),
      ...(prev?.disposeFunc === undefined ? {} : { disposeFunc: prev.disposeFunc }),
    });
  }
  registration = { ctx, runtime, heap: () => heap };
  return registration;
}
