// Filter gradients as chunked Gemms with a large reduction, over one operand as it is (NHWC rows, a
// zero-copy view of the heap) and the other expanded window-fold into a cache-sized scratch:
//  * expanded dy (stride 1): dW[kh, kw, ci, co] = Σ_{n, ih, iw} x[n, ih, iw, ci] · dy[n, ih + t − kh, iw + l − kw, co],
//    so with DYs[(n, ih, iw), kh, j, co] = dy[n, ih + t − kh, iw + l − (fw − 1) + j, co] (zero outside dy),
//    dW[kh, fw − 1 − j, ci, co] = (DYsᵀ · x)[kh, j, co, ci]. Pays when Co < Ci (Inception's 3×3 layers).
//  * expanded x (any stride; im2col): X[(n, oh, ow), kh, kw, ci] = x[n, oh·sh − t + kh, ow·sw − l + kw, ci],
//    dW = Xᵀ · dy, already in tfjs's filter layout. Pays when Ci ≤ Co, for an RGB layer, and for
//    strided layers, whose im2col has a quarter of the rows.
// Either way, for fixed (row, kh) the fw blocks are consecutive pixels of one input row, so the
// expansion is one contiguous copy per (row, kh): a strided wasm memory.copy loop on the heap for the
// rows whose windows lie inside the source, copyWithin at the borders. Every product is a real one
// (the per-tap formulation multiplies padding rows too). Which operand to expand: conv_kernels.ts.
// The batch runs in chunks of images whose expansion fits in CHUNK_BYTES, each Gemm adding onto the
// last (ORT's Gemm C input), in image order, so the result is the same on every run.
// Where the expansion's pixel grid is its source's (stride 1, 'same' windows: all of small
// Inception's 3×3/1 layers), the expansion is written transposed, one row per (window row, column,
// channel) over the chunk's pixels, and the Gemm is y = E·plain (NN). MLAS then reads E as it is,
// where for Eᵀ·plain (TN) it first transposes E block by block: the Gemm alone is 1.2–1.5× faster
// (scripts/profile/gemm-layouts.ts). Each such row is the source channel's plane shifted by one
// offset, so the source chunk is transposed once (ORT's Transpose, [pixels, ch] → [ch, pixels]), each
// window tap's rows are one strided wasm copy of whole planes, and the pixels whose window reads
// outside their image (a border row or column per image) are zeroed afterwards. In the kernel, one
// thread, interleaved (scripts/profile/filter-grad-layouts.ts): small Inception's RGB and 3×3/1
// layers 366 → 312 ms, small AlexNet's two 64 → 54 ms. Strided layers keep pixel rows: split into
// stride phases by ORT's 6-D Transpose they were slower (3×3/2 80→80 @28 68 ms against 34).

import type { TensorInfo } from '@tensorflow/tfjs';
import type { ConvGeometry } from './conv_graph.js';
import type { NativeContext } from './native_context.js';
import { runSpec } from './native_context.js';
import type { GemmAccSpec, TransposeSpec } from './matmul_graph.js';
import type { RunArg, WasmBackendLike } from './wasm_heap.js';
import { Scratch } from './scratch.js';
import { heapBuffer, heapByteOffset } from './wasm_heap.js';
import { heapMemoryOf } from '../wasm/assemble.js';
import { copiesFor, zerosFor, type Copies, type Zeros } from './strided_copy.js';

/** DYs bytes per chunk: measured best near 8 MB (2 cores; 2–32 images of Inception's 28×28 layer). */
const CHUNK_BYTES = 8 << 20;

export type Expanded = 'dy' | 'x';

/** Rows of the expansion: pixels ([pixels, taps·ch], the Gemm transposes it) or taps ([taps·ch, pixels]). */
type Layout = 'pixel-rows' | 'tap-rows';

export function expandedApplies(which: Expanded, g: ConvGeometry): boolean {
  const unitSteps = g.dh === 1 && g.dw === 1 && (which === 'x' || (g.sh === 1 && g.sw === 1));
  return unitSteps && g.fh * g.fw > 1;
}

/** Rows of the expanded operand per image: input pixels for dy, output pixels for x. */
function rowsPerImage(which: Expanded, g: ConvGeometry): number {
  const e = windowsOf(which, g);
  return e.p * e.q;
}
/** Columns of the expanded operand. */
const expandedColumns = (which: Expanded, g: ConvGeometry): number => g.fh * g.fw * windowsOf(which, g).ch;

/** Images per chunk for this geometry. */
export function imagesPerChunk(which: Expanded, g: ConvGeometry): number {
  const bytesPerImage = 4 * rowsPerImage(which, g) * expandedColumns(which, g);
  return Math.max(1, Math.min(g.n, Math.floor(CHUNK_BYTES / bytesPerImage)));
}

/**
 * Where the expanded rows read: row (n, p, q) and window row k take the `fw` source pixels from
 * (n, rowStep·p + rowBase + kSign·k, colStep·q + colBase) onwards, of a [srcH, srcW, ch] source;
 * pixels outside it read as zero.
 */
interface Windows {
  readonly p: number;
  readonly q: number;
  readonly srcH: number;
  readonly srcW: number;
  readonly ch: number;
  readonly rowStep: number;
  readonly rowBase: number;
  readonly kSign: 1 | -1;
  readonly colStep: number;
  readonly colBase: number;
}

function windowsOf(which: Expanded, g: ConvGeometry): Windows {
  const [t, l] = g.pads;
  return which === 'x'
    ? { p: g.oh, q: g.ow, srcH: g.h, srcW: g.w, ch: g.ci, rowStep: g.sh, rowBase: -t, kSign: 1, colStep: g.sw, colBase: -l }
    : { p: g.h, q: g.w, srcH: g.oh, srcW: g.ow, ch: g.co, rowStep: 1, rowBase: t, kSign: -1, colStep: 1, colBase: l - g.fw + 1 };
}

/** 'tap-rows' where every expanded pixel reads its source at one fixed offset per tap (same grid, stride 1). */
function layoutOf(e: Windows): Layout {
  return e.rowStep === 1 && e.colStep === 1 && e.p === e.srcH && e.q === e.srcW ? 'tap-rows' : 'pixel-rows';
}

/** How far (in elements of one channel plane) a tap's source pixel lies from its expanded pixel, at most. */
function maxShift(g: ConvGeometry, e: Windows): number {
  let most = 0;
  for (let k = 0; k < g.fh; k++) {
    for (let j = 0; j < g.fw; j++) most = Math.max(most, Math.abs((e.rowBase + e.kSign * k) * e.q + e.colBase + j));
  }
  return most;
}

/**
 * The 'tap-rows' expansion of a chunk of `images` images: row (k, j, c) at element `to` + ((k·fw + j)·ch
 * + c)·plane is channel c's plane of the transposed source (at `from`, planes of `plane` = images·p·q
 * elements) read `a·q + b` elements on, a = rowBase + kSign·k, b = colBase + j. Reads past a plane's
 * end land in the next plane (or the caller's margin around them all) only for pixels whose window
 * leaves the image; those are zeroed: the rows p with p + a outside [0, p) and columns q with q + b
 * outside [0, q) of each image.
 */
function expandTapRows(heap: Float32Array, copies: Copies | null, zeros: Zeros | null, from: number, to: number, g: ConvGeometry, e: Windows, images: number): void {
  const plane = images * e.p * e.q;
  // A picture: one channel of one image, p·q elements.
  const pictures = e.ch * images;
  for (let k = 0; k < g.fh; k++) {
    const a = e.rowBase + e.kSign * k;
    // Rows [rowLo, rowHi) of each image read inside it.
    const rowLo = Math.min(e.p, Math.max(0, -a));
    const rowHi = Math.max(rowLo, Math.min(e.p, e.p - a));
    for (let j = 0; j < g.fw; j++) {
      const b = e.colBase + j;
      const colLo = Math.min(e.q, Math.max(0, -b));
      const colHi = Math.max(colLo, Math.min(e.q, e.q - b));
      const src = from + a * e.q + b;
      const dst = to + (k * g.fw + j) * e.ch * plane;
      if (copies !== null) {
        copies(4 * src, 4 * dst, e.ch, 4 * plane, 4 * plane, 4 * plane);
      } else {
        for (let c = 0; c < e.ch; c++) heap.copyWithin(dst + c * plane, src + c * plane, src + (c + 1) * plane);
      }
      const area = e.p * e.q;
      // Border rows of every picture (one per channel and image), then border columns of every row.
      const strips: ReadonlyArray<readonly [number, number, number, number]> = [
        [dst, pictures, rowLo * e.q, area],
        [dst + rowHi * e.q, pictures, (e.p - rowHi) * e.q, area],
        [dst, pictures * e.p, colLo, e.q],
        [dst + colHi, pictures * e.p, e.q - colHi, e.q],
      ];
      for (const [at, count, words, stride] of strips) {
        if (words === 0) continue;
        if (zeros !== null) {
          zeros(4 * at, count, words, 4 * stride);
        } else {
          for (let i = 0; i < count; i++) heap.fill(0, at + i * stride, at + i * stride + words);
        }
      }
    }
  }
}

/**
 * Writes the expansion of images [n0, n1) at element offset `to` of `heap`, reading the source at
 * element `from`: X (im2col) for 'x', DYs for 'dy'. Each (row, window row) is one contiguous copy;
 * the rows whose windows lie inside the source go as one strided wasm copy per (image, p, k)
 * (one JS copyWithin each cost ≈30 ns: 300 000 of them for a 28×28 layer), the border ones in JS.
 */
function expand(which: Expanded, heap: Float32Array, copies: Copies | null, from: number, to: number, g: ConvGeometry, n0: number, n1: number): void {
  const e = windowsOf(which, g);
  const block = g.fw * e.ch;
  const rowBlock = g.fh * block;
  // Columns q whose window lies inside the source row: [inLo, inHi).
  const inLo = Math.min(e.q, Math.max(0, Math.ceil(-e.colBase / e.colStep)));
  const inHi = Math.max(inLo, Math.min(e.q, Math.floor((e.srcW - g.fw - e.colBase) / e.colStep) + 1));
  const one = (srcRow: number, dst: number, q: number): void => {
    const lo = q * e.colStep + e.colBase;
    const a = Math.max(0, lo);
    const b = Math.min(e.srcW - 1, lo + g.fw - 1);
    if (b < a) {
      heap.fill(0, dst, dst + block);
      return;
    }
    if (a > lo) heap.fill(0, dst, dst + (a - lo) * e.ch);
    if (b < lo + g.fw - 1) heap.fill(0, dst + (b - lo + 1) * e.ch, dst + block);
    const src = srcRow + a * e.ch;
    heap.copyWithin(dst + (a - lo) * e.ch, src, src + (b - a + 1) * e.ch);
  };
  for (let n = n0; n < n1; n++) {
    for (let p = 0; p < e.p; p++) {
      const base = to + ((n - n0) * e.p + p) * e.q * rowBlock;
      for (let k = 0; k < g.fh; k++) {
        const row = p * e.rowStep + e.rowBase + e.kSign * k;
        const dstK = base + k * block;
        if (row < 0 || row >= e.srcH) {
          for (let q = 0; q < e.q; q++) heap.fill(0, dstK + q * rowBlock, dstK + q * rowBlock + block);
          continue;
        }
        const srcRow = from + (n * e.srcH + row) * e.srcW * e.ch;
        for (let q = 0; q < inLo; q++) one(srcRow, dstK + q * rowBlock, q);
        if (copies !== null && inHi > inLo) {
          const src = srcRow + (inLo * e.colStep + e.colBase) * e.ch;
          copies(4 * src, 4 * (dstK + inLo * rowBlock), inHi - inLo, 4 * block, 4 * e.colStep * e.ch, 4 * rowBlock);
        } else {
          for (let q = inLo; q < inHi; q++) one(srcRow, dstK + q * rowBlock, q);
        }
        for (let q = inHi; q < e.q; q++) one(srcRow, dstK + q * rowBlock, q);
      }
    }
  }
}

/** The running sum, ping-ponged: a Gemm must not write the array it reads as C. */
const sums = new Scratch();

export function filterGradByExpansion(
  which: Expanded,
  ctx: NativeContext,
  kernelName: string,
  backend: WasmBackendLike,
  g: ConvGeometry,
  x: TensorInfo,
  dy: TensorInfo,
  out: TensorInfo,
): void {
  const e = windowsOf(which, g);
  const layout = ctx.expansionLayout === 'auto' ? layoutOf(e) : 'pixel-rows';
  const cols = expandedColumns(which, g);
  const perImage = rowsPerImage(which, g);
  const imgs = imagesPerChunk(which, g);
  // The operand used as it is: x's rows of Ci (expanded dy), dy's rows of Co (expanded x).
  const [plain, plainWidth] = which === 'dy' ? [x, g.ci] : [dy, g.co];
  const source = which === 'dy' ? dy : x;
  // y = expandedᵀ·plain (pixel rows) or expanded·plain (tap rows): [fh·fw·ci, co] for x, tfjs's layout
  // (the last chunk writes the output); [fh, j, co, ci] for dy, reordered at the end (pixel rows,
  // interleaved best of 12 calls: 3×3 96→32 @28 52.7 ms against 58.0 for plainᵀ·expanded; equal
  // within 1 ms on the other Inception layers).
  const [m, n] = [cols, plainWidth];
  const scratch = backend.makeOutput([imgs * perImage, cols], 'float32');
  // 'tap-rows': the chunk's source transposed to [ch, pixels], with a margin on either side for the
  // shifted reads of the first and last planes.
  const margin = layout === 'tap-rows' ? maxShift(g, e) : 0;
  const planes = layout === 'tap-rows' ? backend.makeOutput([e.ch * imgs * perImage + 2 * margin], 'float32') : null;
  const heapMemory = heapMemoryOf(backend);
  const copies = copiesFor(heapMemory);
  const zeros = zerosFor(heapMemory);
  try {
    const offset = (t: TensorInfo): number => heapByteOffset(backend, t) / 4;
    let acc: Float32Array | null = null;
    for (let n0 = 0, i = 0; n0 < g.n; n0 += imgs, i ^= 1) {
      const n1 = Math.min(g.n, n0 + imgs);
      const rows = (n1 - n0) * perImage;
      if (planes === null) {
        // A fresh view each chunk: nothing here grows the heap, but a view must not outlive a growth.
        expand(which, new Float32Array(heapBuffer(backend)), copies, offset(source), offset(scratch), g, n0, n1);
      } else {
        const transpose: TransposeSpec = { kind: 'transpose-2d', rows, cols: e.ch };
        runSpec(ctx, kernelName, backend, transpose, { x: { info: source, dims: [rows, e.ch], offset: n0 * perImage * e.ch } }, { y: { info: planes, dims: [e.ch, rows], offset: margin } });
        expandTapRows(new Float32Array(heapBuffer(backend)), copies, zeros, offset(planes) + margin, offset(scratch), g, e, n1 - n0);
      }
      const spec: GemmAccSpec = { kind: 'gemm-acc', m, k: rows, n, transA: planes === null, acc: acc !== null };
      const last = n1 === g.n;
      const y: RunArg = which === 'x' && last ? { info: out, dims: [m, n] } : { data: sums.get(i as 0 | 1, m * n), dims: [m, n] };
      const inputs: Record<string, RunArg> = {
        a: { info: scratch, dims: planes === null ? [rows, cols] : [cols, rows] },
        b: { info: plain, dims: [rows, plainWidth], offset: n0 * perImage * plainWidth },
        ...(acc === null ? {} : { c: { data: acc, dims: [m, n] } }),
      };
      runSpec(ctx, kernelName, backend, spec, inputs, { y });
      acc = 'data' in y ? y.data : null;
    }
    if (which === 'dy') reorderExpandedDy(g, acc!, new Float32Array(heapBuffer(backend), 4 * offset(out), cols * g.ci));
  } finally {
    backend.disposeData(scratch.dataId);
    if (planes !== null) backend.disposeData(planes.dataId);
  }
}

/** [kh, j, co, ci] → tfjs's filter layout [kh, kw = fw − 1 − j, ci, co]. */
function reorderExpandedDy(g: ConvGeometry, from: Float32Array, dw: Float32Array): void {
  for (let kh = 0; kh < g.fh; kh++) {
    for (let j = 0; j < g.fw; j++) {
      const src = (kh * g.fw + j) * g.co * g.ci;
      const dst = (kh * g.fw + g.fw - 1 - j) * g.ci * g.co;
      for (let co = 0; co < g.co; co++) {
        for (let ci = 0; ci < g.ci; ci++) dw[dst + ci * g.co + co] = from[src + co * g.ci + ci]!;
      }
    }
  }
}
