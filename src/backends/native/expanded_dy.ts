// Stride-1 filter gradient as GEMMs with a large reduction and no im2col of x:
//   dW[kh, kw, ci, co] = Σ_{n, ih, iw} x[n, ih, iw, ci] · dy[n, ih + t − kh, iw + l − kw, co]
// so with DYs[(n, ih, iw), kh, j, co] = dy[n, ih + t − kh, iw + l − (fw − 1) + j, co] (zero outside dy),
// dW[kh, fw − 1 − j] = (xᵀ · DYs)[ci, kh, j, co]: one Gemm whose A is x itself (NHWC rows, no copy) and
// whose B expands dy fw·fh-fold. For fixed (row, kh) the fw blocks j = 0…fw−1 are consecutive pixels
// of one dy row, so the expansion is one contiguous copy per (pixel, kh), done with copyWithin on
// the wasm heap. Expanding dy rather than x pays when Co ≤ Ci (Inception's 3×3 layers), and keeps
// every product a real one (the per-tap formulation multiplies padding rows too).
// The batch runs in chunks of images whose DYs fits in CHUNK_BYTES (cache-sized), each Gemm adding
// onto the last (ORT's Gemm C input), in image order, so the result is the same on every run.

import type { TensorInfo } from '@tensorflow/tfjs';
import type { ConvGeometry } from './conv_graph.js';
import type { NativeContext } from './native_context.js';
import { runSpec } from './native_context.js';
import type { GemmAccSpec } from './matmul_graph.js';
import type { RunArg, WasmBackendLike } from './wasm_heap.js';
import { heapBuffer } from './wasm_heap.js';

/** DYs bytes per chunk: measured best near 8 MB (2 cores; 2–32 images of Inception's 28×28 layer). */
const CHUNK_BYTES = 8 << 20;

export function expandedDyApplies(g: ConvGeometry): boolean {
  return g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1 && g.fh * g.fw > 1;
}

/** Images per chunk for this geometry. */
export function imagesPerChunk(g: ConvGeometry): number {
  const bytesPerImage = 4 * g.h * g.w * g.fh * g.fw * g.co;
  return Math.max(1, Math.min(g.n, Math.floor(CHUNK_BYTES / bytesPerImage)));
}

/** Writes DYs for images [n0, n1) at element offset `to` of `heap`; dy starts at element `from`. */
export function expandDy(heap: Float32Array, from: number, to: number, g: ConvGeometry, n0: number, n1: number): void {
  const [t, l] = g.pads;
  const block = g.fw * g.co;
  let dst = to;
  for (let n = n0; n < n1; n++) {
    for (let ih = 0; ih < g.h; ih++) {
      for (let iw = 0; iw < g.w; iw++) {
        const owLo = iw + l - g.fw + 1;
        const a = Math.max(0, owLo);
        const b = Math.min(g.ow - 1, owLo + g.fw - 1);
        for (let kh = 0; kh < g.fh; kh++, dst += block) {
          const oh = ih + t - kh;
          if (oh < 0 || oh >= g.oh || b < a) {
            heap.fill(0, dst, dst + block);
            continue;
          }
          if (a > owLo) heap.fill(0, dst, dst + (a - owLo) * g.co);
          if (b < owLo + g.fw - 1) heap.fill(0, dst + (b - owLo + 1) * g.co, dst + block);
          const src = from + ((n * g.oh + oh) * g.ow + a) * g.co;
          heap.copyWithin(dst + (a - owLo) * g.co, src, src + (b - a + 1) * g.co);
        }
      }
    }
  }
}

/** Two plain buffers for the running sum (a Gemm must not write the array it reads as C). */
const sums: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];
function sum(i: 0 | 1, n: number): Float32Array {
  if (sums[i].length < n) sums[i] = new Float32Array(n);
  return sums[i].subarray(0, n);
}

export function filterGradByExpandedDy(
  ctx: NativeContext,
  kernelName: string,
  backend: WasmBackendLike,
  g: ConvGeometry,
  x: TensorInfo,
  dy: TensorInfo,
  out: TensorInfo,
): void {
  const cols = g.fh * g.fw * g.co;
  const perImage = g.h * g.w;
  const imgs = imagesPerChunk(g);
  const dys = backend.makeOutput([imgs * perImage, cols], 'float32');
  try {
    const offset = (t: TensorInfo): number => backend.dataIdMap.get(t.dataId)!.memoryOffset! / 4;
    let acc: Float32Array | null = null;
    for (let n0 = 0, i = 0; n0 < g.n; n0 += imgs, i ^= 1) {
      const n1 = Math.min(g.n, n0 + imgs);
      const rows = (n1 - n0) * perImage;
      // A fresh view each chunk: nothing here grows the heap, but a view must not outlive a growth.
      expandDy(new Float32Array(heapBuffer(backend)), offset(dy), offset(dys), g, n0, n1);
      const spec: GemmAccSpec = { kind: 'gemm-tn-acc', m: g.ci, k: rows, n: cols, acc: acc !== null };
      const next = sum(i as 0 | 1, g.ci * cols);
      const inputs: Record<string, RunArg> = {
        a: { info: x, dims: [rows, g.ci], offset: n0 * perImage * g.ci },
        b: { info: dys, dims: [rows, cols] },
        ...(acc === null ? {} : { c: { data: acc, dims: [g.ci, cols] } }),
      };
      runSpec(ctx, kernelName, backend, spec, inputs, { y: { data: next, dims: [g.ci, cols] } });
      acc = next;
    }
    // [ci, kh, j, co] → tfjs's filter layout [kh, kw = fw − 1 − j, ci, co].
    const dw = new Float32Array(heapBuffer(backend), backend.dataIdMap.get(out.dataId)!.memoryOffset!, cols * g.ci);
    for (let ci = 0; ci < g.ci; ci++) {
      for (let kh = 0; kh < g.fh; kh++) {
        for (let j = 0; j < g.fw; j++) {
          const from = ((ci * g.fh + kh) * g.fw + j) * g.co;
          dw.set(acc!.subarray(from, from + g.co), ((kh * g.fw + g.fw - 1 - j) * g.ci + ci) * g.co);
        }
      }
    }
  } finally {
    backend.disposeData(dys.dataId);
  }
}
