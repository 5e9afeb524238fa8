// Fast transposed and batched matmuls. The stock wasm kernels send any transpose, and any batch
// above 1, through a naive C++ loop (≈1 GF/s); only the untransposed 2-D case reaches XNNPACK's
// fully-connected path (≈20 GF/s per thread). So transpose explicitly, fold batches into rows where
// the right operand is shared, and call the stock kernel on what XNNPACK handles.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { composedKernel, input, type KernelArgs, type Ops } from '../ops.js';

/** Swaps the last two axes. */
function transposeLast2(ops: Ops, x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  const perm = [...Array(r - 2).keys(), r - 1, r - 2];
  return ops.transpose(x, perm);
}

interface Prepared {
  readonly a: TensorInfo;
  readonly b: TensorInfo;
  /** The shape the caller expects back. */
  readonly outShape: readonly number[];
  readonly temps: readonly TensorInfo[];
}

/**
 * Makes both operands untransposed and, when `b` is shared by every batch of `a`, folds `a`'s
 * batch into its rows so the whole product is one [rows, K] × [K, N] call.
 */
function prepare(ops: Ops, a0: TensorInfo, b0: TensorInfo, transposeA: boolean, transposeB: boolean): Prepared {
  const temps: TensorInfo[] = [];
  const a1 = transposeA ? transposeLast2(ops, a0) : a0;
  const b1 = transposeB ? transposeLast2(ops, b0) : b0;
  if (transposeA) temps.push(a1);
  if (transposeB) temps.push(b1);
  const ra = a1.shape.length;
  const rb = b1.shape.length;
  const [m, k] = [a1.shape[ra - 2]!, a1.shape[ra - 1]!];
  const n = b1.shape[rb - 1]!;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a1.shape.slice(0, -2), b1.shape.slice(0, -2));
  const outShape = [...outer, m, n];
  const batchA = tf.util.sizeFromShape(a1.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b1.shape.slice(0, -2));
  if (batchB !== 1) return { a: a1, b: b1, outShape, temps };
  const a = ops.reshape(a1, [1, batchA * m, k]);
  const b = ops.reshape(b1, [1, k, n]);
  temps.push(a, b);
  return { a, b, outShape, temps };
}

function finish(ops: Ops, out: TensorInfo, p: Prepared): TensorInfo {
  const result = ops.reshape(out, p.outShape);
  ops.dispose(out, ...p.temps);
  return result;
}

export function batchMatMulConfig(backendName: string, original: KernelFunc): KernelConfig {
  return composedKernel('BatchMatMul', backendName, (ops, args: KernelArgs) => {
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const p = prepare(ops, input(args, 'a'), input(args, 'b'), transposeA, transposeB);
    const out = ops.call(original, { a: p.a, b: p.b }, { transposeA: false, transposeB: false });
    return finish(ops, out, p);
  });
}

/** _FusedMatMul (matMul + bias + activation); the stock kernel takes rank-3 operands and a rank-1 bias. */
export function fusedMatMulConfig(backendName: string, original: KernelFunc): KernelConfig {
  return composedKernel('_FusedMatMul', backendName, (ops, args: KernelArgs) => {
    const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
    const { bias, preluActivationWeights } = args.inputs;
    // PReLU weights may have the output's full shape, which a fold would break.
    if (preluActivationWeights !== undefined && preluActivationWeights.shape.length > 1) {
      return ops.call(original, args.inputs, args.attrs);
    }
    const p = prepare(ops, input(args, 'a'), input(args, 'b'), attrs.transposeA, attrs.transposeB);
    const inputs = { a: p.a, b: p.b, bias, preluActivationWeights };
    const out = ops.call(original, inputs, { ...args.attrs, transposeA: false, transposeB: false });
    return finish(ops, out, p);
  });
}
