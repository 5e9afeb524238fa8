// The momentum-SGD update of one variable, element by element, in float32 exactly as the composed
// tfjs ops compute it (each op rounds its result to float32; scalars are float32 tensors):
//   s = decay = 0 ? g : g + w·decay;   v' = v·μ + s;   w' = w − v'·lr
// JavaScript doubles give the float32 result of each single op exactly after Math.fround (a double
// holds the exact sum or product of two float32 values, rounded once), so this is bitwise the cpu
// backend's Mul/Add/Sub chain. Each backend's kernel for it lives in its room (cpu/momentum.ts,
// wasm/kernels/momentum.ts, native/momentum_kernel.ts, webgpu/kernels/momentum.ts).
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

export interface MomentumAttrs {
  readonly lr: number;
  readonly momentum: number;
  /** L2 coefficient λ (0: no decay term, as the composed update skips it). */
  readonly decay: number;
}

export const MOMENTUM_UPDATE = 'RethinkMomentumUpdate';

/** The kernel's inputs w, v, g (float32, one shape) and attributes, checked. */
export function momentumOperands(args: Parameters<KernelFunc>[0]): { w: TensorInfo; v: TensorInfo; g: TensorInfo; attrs: MomentumAttrs } {
  const { w, v, g } = args.inputs as { w?: TensorInfo; v?: TensorInfo; g?: TensorInfo };
  if (w === undefined || v === undefined || g === undefined) throw new Error(`${MOMENTUM_UPDATE}: needs inputs w, v, g`);
  for (const t of [v, g]) {
    if (t.dtype !== 'float32' || t.shape.join() !== w.shape.join()) throw new Error(`${MOMENTUM_UPDATE}: w, v, g must be float32 of one shape`);
  }
  return { w, v, g, attrs: args.attrs as unknown as MomentumAttrs };
}

/** Writes w' and v' (may alias nothing of the inputs). */
export function momentumUpdate(
  w: Float32Array,
  v: Float32Array,
  g: Float32Array,
  a: MomentumAttrs,
  wOut: Float32Array,
  vOut: Float32Array,
): void {
  const f = Math.fround;
  const lr = f(a.lr);
  const mu = f(a.momentum);
  const decay = f(a.decay);
  const n = w.length;
  if (a.decay === 0) {
    for (let i = 0; i < n; i++) {
      const vn = f(f(v[i]! * mu) + g[i]!);
      vOut[i] = vn;
      wOut[i] = w[i]! - f(vn * lr);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const wi = w[i]!;
      const vn = f(f(v[i]! * mu) + f(g[i]! + f(wi * decay)));
      vOut[i] = vn;
      wOut[i] = wi - f(vn * lr);
    }
  }
}
