// BatchMatMul and _FusedMatMul on ONNX Runtime (MLAS sgemm), all four transpose combinations.
// Cases the graphs do not cover (non-float32, prelu/elu/… activations, exotic batch broadcasting)
// go to the kernel previously registered for the backend (fast wasm).

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { MatMulSpec } from './matmul_graph.js';
import type { NativeContext } from './native_context.js';
import { runSpec } from './native_context.js';
import type { WasmBackendLike } from './wasm_heap.js';

interface MatMulAttrs {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly activation?: string;
}

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The spec and output shape for this call, or null to delegate. */
function planMatMul(a: TensorInfo, b: TensorInfo, bias: TensorInfo | undefined, attrs: MatMulAttrs): { spec: MatMulSpec; outShape: number[] } | null {
  const act = attrs.activation ?? 'linear';
  if (act !== 'linear' && act !== 'relu') return null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || (bias !== undefined && bias.dtype !== 'float32')) return null;
  const ar = a.shape.length;
  const br = b.shape.length;
  if (ar < 2 || br < 2) return null;
  const aRows = a.shape[ar - 2] as number;
  const aCols = a.shape[ar - 1] as number;
  const bRows = b.shape[br - 2] as number;
  const bCols = b.shape[br - 1] as number;
  const [m, k] = attrs.transposeA ? [aCols, aRows] : [aRows, aCols];
  const [kb, n] = attrs.transposeB ? [bCols, bRows] : [bRows, bCols];
  if (k !== kb || m * k * n === 0) return null;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batchA = prod(aBatch);
  const batchB = prod(bBatch);
  let batch: number;
  let rows = m;
  let outBatch: number[];
  if (batchA === 1 && batchB === 1) {
    batch = 1;
    outBatch = (aBatch.length >= bBatch.length ? aBatch : bBatch).slice();
  } else if (sameShape(aBatch, bBatch)) {
    batch = batchA;
    outBatch = aBatch.slice();
  } else if (batchB === 1 && !attrs.transposeA && bBatch.length <= aBatch.length) {
    // [batch, m, k] × [k, n]: one Gemm over batch·m rows (a is contiguous in that order).
    batch = 1;
    rows = batchA * m;
    outBatch = aBatch.slice();
  } else {
    return null;
  }
  const outShape = [...outBatch, m, n];
  let biasShape: number[] | null = null;
  if (bias !== undefined) {
    // Declare the bias with its trailing dims only; leading 1s do not change a numpy broadcast.
    biasShape = bias.shape.slice();
    while (biasShape.length > 0 && biasShape[0] === 1 && biasShape.length > 1) biasShape.shift();
    const outRank = batch === 1 ? 2 : 3;
    if (biasShape.length > outRank) return null;
    if (biasShape.length === outRank && batch !== 1 && biasShape[0] !== batch) return null;
    const tail = biasShape.slice(-2);
    const ok = tail.length === 0 || (tail.at(-1) === n || tail.at(-1) === 1) && (tail.length < 2 || tail[0] === rows || tail[0] === 1);
    if (!ok) return null;
  }
  return {
    spec: { kind: 'matmul', batch, m: rows, k, n, transA: attrs.transposeA, transB: attrs.transposeB, bias: biasShape, relu: act === 'relu' },
    outShape,
  };
}

export function makeMatMulKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    if (a === undefined || b === undefined || preluActivationWeights !== undefined) return fallback(args);
    const plan = planMatMul(a, b, bias, args.attrs as unknown as MatMulAttrs);
    if (plan === null) return fallback(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const { spec, outShape } = plan;
    const out = backend.makeOutput(outShape, 'float32');
    const lead = spec.batch === 1 ? [] : [spec.batch];
    runSpec(
      ctx,
      kernelName,
      backend,
      spec,
      {
        a: { info: a, dims: [...lead, ...(spec.transA ? [spec.k, spec.m] : [spec.m, spec.k])] },
        b: { info: b, dims: [...lead, ...(spec.transB ? [spec.n, spec.k] : [spec.k, spec.n])] },
        ...(bias === undefined || spec.bias === null ? {} : { bias: { info: bias, dims: spec.bias } }),
      },
      { y: { info: out, dims: [...lead, spec.m, spec.n] } },
    );
    return out;
  };
}
