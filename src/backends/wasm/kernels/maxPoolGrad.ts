// MaxPoolGrad straight on the wasm heap: in wasm SIMD (maxPoolGradSimd.ts) where the forward output is
// given and the channels come in fours, else as a JS loop, channel innermost (contiguous in NHWC)
// that re-finds each window's argmax (first maximum in row-major order wins, as on the cpu backend)
// and adds dy there. Both give the same dx, bitwise. The stock wasm kernel takes ≈4× longer than
// the JS loop on 128×28×28×64.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { heapMemoryOf } from '../assemble.js';
import { composedKernel, input, type KernelArgs } from '../ops.js';
import { maxPoolGradOnHeap, maxPoolGradSimd, simdPoolFits, type PoolGeometry } from './maxPoolGradSimd.js';

interface PoolAttrs {
  readonly filterSize: number | [number, number];
  readonly strides: number | [number, number];
  readonly pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function maxPoolGradConfig(backendName: string): KernelConfig {
  return composedKernel('MaxPoolGrad', backendName, (ops, args: KernelArgs) => {
    const x = input(args, 'input');
    const dyInfo = input(args, 'dy');
    const a = args.attrs as unknown as PoolAttrs;
    const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
    const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
    const out = ops.output(x.shape);
    const y = args.inputs['output'];
    const g: PoolGeometry = { n, h, w, c, oh, ow, kh: fh, kw: fw, sh, sw, top: info.padInfo.top, left: info.padInfo.left };
    if (y !== undefined && y.dtype === 'float32' && tf.util.arraysEqual(y.shape, dyInfo.shape) && maxPoolGradSimdOn(ops.backend, g, { x, y, dy: dyInfo, dx: out })) return out;
    const dx = ops.f32(out);
    const xs = ops.f32(x);
    const dy = ops.f32(dyInfo);
    dx.fill(0);
    const best = new Float32Array(c);
    const at = new Int32Array(c);
    for (let b = 0; b < n; b++) {
      for (let yr = 0; yr < oh; yr++) {
        const r0 = yr * sh - info.padInfo.top;
        const rMin = Math.max(0, r0);
        const rMax = Math.min(h, r0 + fh);
        for (let yc = 0; yc < ow; yc++) {
          const c0 = yc * sw - info.padInfo.left;
          const cMin = Math.max(0, c0);
          const cMax = Math.min(w, c0 + fw);
          best.fill(-Infinity);
          at.fill(-1);
          for (let r = rMin; r < rMax; r++) {
            for (let q = cMin; q < cMax; q++) {
              const base = ((b * h + r) * w + q) * c;
              for (let d = 0; d < c; d++) {
                const v = xs[base + d]!;
                if (v > best[d]!) {
                  best[d] = v;
                  at[d] = base + d;
                }
              }
            }
          }
          const dyBase = ((b * oh + yr) * ow + yc) * c;
          for (let d = 0; d < c; d++) {
            const i = at[d]!;
            if (i >= 0) dx[i] = dx[i]! + dy[dyBase + d]!;
          }
        }
      }
    }
    return out;
  });
}

/** The members of a wasm-heap backend (tfjs-backend-wasm, or 'native' on its heap) the SIMD path needs. */
export interface HeapBackend {
  readonly wasm: unknown;
  readonly dataIdMap: { get(dataId: object): { readonly memoryOffset: number | null } | undefined };
}

/** Runs the SIMD kernel when the heap and the geometry allow it; false otherwise (nothing written). */
export function maxPoolGradSimdOn(backend: HeapBackend, g: PoolGeometry, t: Readonly<Record<'x' | 'y' | 'dy' | 'dx', TensorInfo>>): boolean {
  if (!simdPoolFits(g)) return false;
  const heap = heapMemoryOf(backend);
  const windows = heap === null ? null : maxPoolGradSimd(heap);
  const at = (info: TensorInfo): number | null => backend.dataIdMap.get(info.dataId)?.memoryOffset ?? null;
  const [x, y, dy, dx] = [at(t.x), at(t.y), at(t.dy), at(t.dx)];
  if (heap === null || windows === null || x === null || y === null || dy === null || dx === null) return false;
  maxPoolGradOnHeap(windows, heap, g, { x, y, dy, dx });
  return true;
}
