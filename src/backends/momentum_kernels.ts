// RethinkMomentumUpdate as kernel configs, one per kind of backend: cpu (typed arrays in the backend's
// data map), wasm-like (tfjs-backend-wasm and the 'native' backend built on its heap) and webgpu (one
// WGSL program). Any other backend has no kernel; MomentumSgd then composes the update from tfjs ops.
// tfjs is passed in (no import here): this module loads with src/train/sgd.ts, before tfjs is needed.
import type * as tfType from '@tensorflow/tfjs';
import { MOMENTUM_UPDATE, momentumUpdate, type MomentumAttrs } from '../ops/momentum_math.js';
import { MOMENTUM_UPDATE_GROUP, webgpuMomentumGroupKernel, webgpuMomentumKernel } from './webgpu/kernels/momentum.js';
import { instantiateMomentumSimd, momentumUpdateSimd, plainWasmMemory, type MomentumSimd, type WasmMemory } from './native/momentum_simd.js';

type Tf = typeof tfType;
type Info = tfType.TensorInfo;
type KernelFunc = tfType.KernelFunc;

interface CpuLike {
  readonly data: { get(id: unknown): { values: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): Info;
}

interface WasmLike {
  readonly wasm: {
    readonly HEAPU8: Uint8Array;
    readonly wasmMemory?: { readonly buffer: ArrayBufferLike };
    /** The emscripten module's exports; `memory` is the heap's WebAssembly.Memory. */
    readonly asm?: { readonly memory?: unknown };
  };
  readonly dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): Info;
}

function operands(args: Parameters<KernelFunc>[0]): { w: Info; v: Info; g: Info; attrs: MomentumAttrs } {
  const { w, v, g } = args.inputs as { w?: Info; v?: Info; g?: Info };
  if (w === undefined || v === undefined || g === undefined) throw new Error(`${MOMENTUM_UPDATE}: needs inputs w, v, g`);
  for (const t of [v, g]) {
    if (t.dtype !== 'float32' || t.shape.join() !== w.shape.join()) throw new Error(`${MOMENTUM_UPDATE}: w, v, g must be float32 of one shape`);
  }
  return { w, v, g, attrs: args.attrs as unknown as MomentumAttrs };
}

const cpuKernel: KernelFunc = (args) => {
  const { w, v, g, attrs } = operands(args);
  const b = args.backend as unknown as CpuLike;
  const vals = (t: Info): Float32Array => b.data.get(t.dataId)!.values as Float32Array;
  const n = vals(w).length;
  const wOut = new Float32Array(n);
  const vOut = new Float32Array(n);
  momentumUpdate(vals(w), vals(v), vals(g), attrs, wOut, vOut);
  return [b.makeTensorInfo([...w.shape], 'float32', wOut), b.makeTensorInfo([...w.shape], 'float32', vOut)];
};

const wasmKernel: KernelFunc = (args) => {
  const { w, v, g, attrs } = operands(args);
  const b = args.backend as unknown as WasmLike;
  const wOut = b.makeOutput([...w.shape], 'float32');
  const vOut = b.makeOutput([...w.shape], 'float32');
  // Views only after both allocations: growing the heap detaches earlier ones. The threaded build's
  // shared memory is current through wasmMemory; HEAPU8 otherwise.
  const heap = b.wasm.wasmMemory?.buffer ?? b.wasm.HEAPU8.buffer;
  const n = w.shape.reduce((a, d) => a * d, 1);
  const view = (t: Info): Float32Array => new Float32Array(heap, b.dataIdMap.get(t.dataId)!.memoryOffset, n);
  momentumUpdate(view(w), view(v), view(g), attrs, view(wOut), view(vOut));
  return [wOut, vOut];
};

/** The SIMD update bound to each heap (one per backend instance), or null where it cannot load. */
const simdByMemory = new WeakMap<WasmMemory, MomentumSimd | null>();

function simdFor(memory: WasmMemory): MomentumSimd | null {
  if (!simdByMemory.has(memory)) simdByMemory.set(memory, instantiateMomentumSimd(memory));
  return simdByMemory.get(memory) ?? null;
}

/**
 * 'native': the same update as wasmKernel, in wasm SIMD on the heap itself (bitwise equal, ~4× faster);
 * wasmKernel where the heap's Memory is not reachable or shared.
 */
const nativeKernel: KernelFunc = (args) => {
  const b = args.backend as unknown as WasmLike;
  const memory = plainWasmMemory(b.wasm.asm?.memory);
  const simd = memory === null ? null : simdFor(memory);
  if (memory === null || simd === null) return wasmKernel(args);
  const { w, v, g, attrs } = operands(args);
  const wOut = b.makeOutput([...w.shape], 'float32');
  const vOut = b.makeOutput([...w.shape], 'float32');
  const at = (t: Info): number => b.dataIdMap.get(t.dataId)!.memoryOffset;
  const n = w.shape.reduce((a, d) => a * d, 1);
  momentumUpdateSimd(simd, memory, { w: at(w), v: at(v), g: at(g), wOut: at(wOut), vOut: at(vOut) }, n, attrs);
  return [wOut, vOut];
};

/** The kernel for a backend name, when we have one for its kind. */
function kernelFor(tf: Tf, name: string): KernelFunc | undefined {
  if (name === 'cpu') return cpuKernel;
  if (name === 'wasm') return wasmKernel;
  if (name === 'native') return nativeKernel;
  if (name === 'webgpu') return webgpuMomentumKernel(tf);
  return undefined;
}

/**
 * Registers the kernel under `backendName` if it is a kind we support (idempotent; a kernel someone
 * else registered under the name stays). Returns whether the backend now has the kernel.
 */
export function ensureMomentumKernel(tf: Tf, backendName: string): boolean {
  if (backendName === 'webgpu' && tf.getKernel(MOMENTUM_UPDATE_GROUP, backendName) === undefined) {
    tf.registerKernel({ kernelName: MOMENTUM_UPDATE_GROUP, backendName, kernelFunc: webgpuMomentumGroupKernel(tf) });
  }
  if (tf.getKernel(MOMENTUM_UPDATE, backendName) !== undefined) return true;
  const kernelFunc = kernelFor(tf, backendName);
  if (kernelFunc === undefined) return false;
  tf.registerKernel({ kernelName: MOMENTUM_UPDATE, backendName, kernelFunc });
  return true;
}

/** Registers the kernel for every backend name tfjs knows now (cpu, wasm, native, webgpu when present). */
export function registerMomentumKernels(tf: Tf): readonly string[] {
  return Object.keys(tf.engine().registryFactory).filter((name) => ensureMomentumKernel(tf, name));
}
