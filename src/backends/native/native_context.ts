// What every native kernel shares: the session cache and optional per-kernel timing.

import type { KernelSpec } from './kernel_spec.js';
import { flopsOf } from './kernel_spec.js';
import type { SessionCache } from './session_cache.js';
import type { RunArg, WasmBackendLike } from './wasm_heap.js';
import { runOnHeap } from './wasm_heap.js';

export interface KernelTiming {
  calls: number;
  ms: number;
  flops: number;
}

export interface NativeContext {
  readonly cache: SessionCache;
  /** When set, every native call adds its wall time and FLOPs under its tfjs kernel name. */
  stats: Map<string, KernelTiming> | null;
  /** Kernel names that go to the fallback (wasm) kernel instead, e.g. to compare both in one process. */
  readonly disabled: Set<string>;
  /** Forces one filter-gradient formulation (profiling); 'auto' picks by geometry. */
  filterGrad: FilterGradChoice;
  /**
   * MaxPoolGrad: 'simd' (wasm SIMD on the heap where the forward output is given and channels come in
   * fours, ORT's graph otherwise), or 'indices' (always ORT's MaxPool-with-indices graph; profiling).
   */
  maxPoolGrad: 'simd' | 'indices';
  /**
   * LRN and LRNGrad: 'simd' (wasm SIMD on the heap where the channels come in fours and β is 0.75 or
   * 0.5, ORT's graph otherwise), or 'graph' (ORT's graph wherever it fits; profiling, tests).
   */
  lrn: 'simd' | 'graph';
  /**
   * The layout of an expanded filter-gradient operand: 'auto' (rows of taps where each tap reads its
   * source at one offset, see filter_grad_expanded.ts), or always 'pixel-rows' (profiling, tests).
   */
  expansionLayout: 'auto' | 'pixel-rows';
  /** NCHWc block size of MLAS's blocked conv kernels on this CPU (null: unusable or switched off). */
  nchwcBlock: number | null;
}

export type FilterGradChoice = 'auto' | 'expanded-dy' | 'expanded-x' | 'taps' | 'tap-gemm' | 'transposed-conv';

export function runSpec(
  ctx: NativeContext,
  kernelName: string,
  backend: WasmBackendLike,
  spec: KernelSpec,
  inputs: Readonly<Record<string, RunArg>>,
  outputs: Readonly<Record<string, RunArg>>,
): void {
  const session = ctx.cache.get(spec);
  timed(ctx, kernelName, flopsOf(spec), () => runOnHeap(backend, session, inputs, outputs));
}

/** Runs `f`, adding its wall time and `flops` under `kernelName` when ctx.stats is set. */
export function timed<T>(ctx: NativeContext, kernelName: string, flops: number, f: () => T): T {
  if (ctx.stats === null) return f();
  const t0 = performance.now();
  const result = f();
  const t = ctx.stats.get(kernelName) ?? { calls: 0, ms: 0, flops: 0 };
  t.calls += 1;
  t.ms += performance.now() - t0;
  t.flops += flops;
  ctx.stats.set(kernelName, t);
  return result;
}
