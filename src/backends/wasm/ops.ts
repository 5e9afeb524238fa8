// The toolbox our composed wasm kernels share: call another kernel of the same backend directly
// (no engine, no tape), read and write tensors in place on the wasm heap, free intermediates.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** What a kernel needs from its backend: a BackendWasm, or a backend that wraps one's heap. */
export type WasmLike = Pick<BackendWasm, 'wasm' | 'dataIdMap' | 'makeOutput' | 'disposeData'>;

/** Arguments of a kernel call, as tfjs hands them to a kernelFunc. */
export interface KernelArgs {
  readonly inputs: NamedTensorInfoMap;
  readonly backend: {};
  readonly attrs?: NamedAttrMap;
}

/**
 * Kernel calls inside one composed kernel. Other kernels are looked up under `backendName` at call
 * time, so a backend that overrides Conv2D (the native one) also speeds up what we compose from it.
 */
export class Ops {
  constructor(
    readonly backendName: string,
    readonly backend: WasmLike,
  ) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    return this.call(tf.getKernel(kernelName, this.backendName).kernelFunc, inputs, attrs);
  }

  call(f: KernelFunc, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const out = f({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) throw new Error('composed wasm kernels expect single-output kernels');
    return out;
  }

  transpose(x: TensorInfo, perm: readonly number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm: [...perm] });
  }

  reshape(x: TensorInfo, shape: readonly number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape: [...shape] });
  }

  slice(x: TensorInfo, begin: readonly number[], size: readonly number[]): TensorInfo {
    return this.run('Slice', { x }, { begin: [...begin], size: [...size] });
  }

  /** Frees intermediates (reshapes share data; disposeData counts references). */
  dispose(...infos: readonly TensorInfo[]): void {
    for (const t of infos) this.backend.disposeData(t.dataId);
  }

  /**
   * A float32 view of `t` on the heap. Create it after every allocation: makeOutput may grow the
   * heap, which detaches earlier views.
   */
  f32(t: TensorInfo): Float32Array {
    const { memoryOffset } = this.backend.dataIdMap.get(t.dataId)!;
    return new Float32Array(heapBuffer(this.backend), memoryOffset, tf.util.sizeFromShape(t.shape));
  }

  output(shape: readonly number[]): TensorInfo {
    return this.backend.makeOutput([...shape], 'float32');
  }
}

/**
 * The current heap. The threaded build exports its (shared, growable) memory, whose buffer is
 * always current; HEAPU8 is only refreshed when the main thread itself grows the heap.
 */
export function heapBuffer(backend: WasmLike): ArrayBufferLike {
  const memory = (backend.wasm as { wasmMemory?: { readonly buffer: ArrayBufferLike } }).wasmMemory;
  return memory?.buffer ?? backend.wasm.HEAPU8.buffer;
}

const ours = new WeakSet<KernelFunc>();

/** Whether a registered kernel function is one of ours (for tests and diagnostics). */
export function isComposedKernel(f: KernelFunc): boolean {
  return ours.has(f);
}

/** Builds a kernel config whose body gets an Ops bound to the call's backend. */
export function composedKernel(
  kernelName: string,
  backendName: string,
  body: (ops: Ops, args: KernelArgs) => TensorInfo,
): KernelConfig {
  const kernelFunc: KernelFunc = (args) => body(new Ops(backendName, args.backend as WasmLike), args);
  ours.add(kernelFunc);
  return { kernelName, backendName, kernelFunc };
}

/** An input the kernel cannot run without. */
export function input(args: KernelArgs, name: string): TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`missing input '${name}'`);
  return t;
}
