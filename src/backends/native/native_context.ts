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
   * MaxPoolGrad's graph: 'indices' (MaxPool with indices + ScatterElements, the faster today), or
   * 'mask' (element-wise, no transposes; slower because of ORT's copies, see pool_mask_graph.ts).
   */
  maxPoolGrad: 'indices' | 'mask';
  /** NCHWc block size of MLAS's blocked conv kernels on this CPU (null: unusable or switched off). */
  nchwcBlock: number | null;
}

export type FilterGradChoice = 'auto' | 'taps' | 'tap-gemm' | 'transposed-conv' | 'im2col-chunks';

export function runSpec(
  ctx: NativeContext,
  kernelName: string,
  backend: WasmBackendLike,
  spec: KernelSpec,
  inputs: Readonly<Record<string, RunArg>>,
  outputs: Readonly<Record<string, RunArg>>,
): void {
  const session = ctx.cache.get(spec);
  if (ctx.stats === null) {
    runOnHeap(backend, session, inputs, outputs);
    return;
  }
  const t0 = performance.now();
  runOnHeap(backend, session, inputs, outputs);
  const t = ctx.stats.get(kernelName) ?? { calls: 0, ms: 0, flops: 0 };
  t.calls += 1;
  t.ms += performance.now() - t0;
  t.flops += flopsOf(spec);
  ctx.stats.set(kernelName, t);
}
