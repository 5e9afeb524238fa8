// Strided Conv2DBackpropInput without the zero-dilated dy, which wastes s² of the FLOPs: split dx
// by output phase (h mod s, w mod s). Each phase only meets the filter taps kh ≡ h+pT (mod s), so
// it is a stride-1 conv of dy itself with that sub-filter (flipped, channels swapped):
//   dx[ph + s·i] = Σ_m dy[i + c − m] · W[k0 + s·m],  k0 = (ph+pT) mod s,  c = (ph+pT−k0)/s
import type { TensorInfo } from '@tensorflow/tfjs';
import type { Ops } from '../ops.js';

interface Phase {
  /** First filter tap of this phase, and how many taps (stride s apart) it has. */
  readonly k0: number;
  readonly taps: number;
  /** Padding of dy for a stride-1 'explicit' conv whose output is this phase's rows. */
  readonly before: number;
  readonly after: number;
  /** Rows of dx in this phase: ph, ph+s, ... < size. */
  readonly rows: number;
}

function phase(ph: number, stride: number, k: number, padBefore: number, dyRows: number, size: number): Phase {
  const k0 = (ph + padBefore) % stride;
  const taps = k0 < k ? Math.ceil((k - k0) / stride) : 0;
  const c = (ph + padBefore - k0) / stride;
  const rows = Math.ceil((size - ph) / stride);
  const before = taps - 1 - c;
  const after = rows - dyRows - before + taps - 1;
  return { k0, taps, before, after, rows };
}

/** The phase's sub-filter, flipped in space and [taps_h, taps_w, Co, Ci], written into the heap. */
function subFilter(ops: Ops, filter: TensorInfo, stride: readonly [number, number], r: Phase, c: Phase): TensorInfo {
  const [, kw, ci, co] = filter.shape as [number, number, number, number];
  const out = ops.output([r.taps, c.taps, co, ci]);
  const o = ops.f32(out);
  const w = ops.f32(filter);
  for (let jh = 0; jh < r.taps; jh++) {
    const fh = r.k0 + stride[0] * (r.taps - 1 - jh);
    for (let jw = 0; jw < c.taps; jw++) {
      const fw = c.k0 + stride[1] * (c.taps - 1 - jw);
      const src = (fh * kw + fw) * ci * co;
      const dst = (jh * c.taps + jw) * co * ci;
      for (let i = 0; i < ci; i++) for (let j = 0; j < co; j++) o[dst + j * ci + i] = w[src + i * co + j]!;
    }
  }
  return out;
}

/** Copies a phase's [N, rows, cols, C] result to dx[:, ph::sh, pw::sw, :]. */
function scatter(ops: Ops, part: TensorInfo, dx: TensorInfo, ph: number, pw: number, stride: readonly [number, number]): void {
  const [n, h, w, c] = dx.shape as [number, number, number, number];
  const [, rows, cols] = part.shape as [number, number, number, number];
  const d = ops.f32(dx);
  const p = ops.f32(part);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const from = ((b * rows + i) * cols + j) * c;
        d.set(p.subarray(from, from + c), ((b * h + ph + stride[0] * i) * w + pw + stride[1] * j) * c);
      }
    }
  }
}

/** dy without the rows/columns a phase's negative padding cuts off (dy itself when none). */
function crop(ops: Ops, dy: TensorInfo, r: Phase, c: Phase): TensorInfo {
  if (r.before >= 0 && r.after >= 0 && c.before >= 0 && c.after >= 0) return dy;
  const [n, h, w, ch] = dy.shape as [number, number, number, number];
  const top = Math.max(0, -r.before);
  const left = Math.max(0, -c.before);
  const rows = h - top - Math.max(0, -r.after);
  const cols = w - left - Math.max(0, -c.after);
  return ops.slice(dy, [0, top, left, 0], [n, rows, cols, ch]);
}

export interface StridedConvInfo {
  readonly inputShape: readonly [number, number, number, number];
  readonly stride: readonly [number, number];
  readonly kernel: readonly [number, number];
  readonly padTop: number;
  readonly padLeft: number;
}

/** dx by phases, or undefined when a phase would need negative padding (then use dilation). */
export function polyphaseBackpropInput(ops: Ops, dy: TensorInfo, filter: TensorInfo, info: StridedConvInfo): TensorInfo | undefined {
  const [, h, w] = info.inputShape;
  const [sh, sw] = info.stride;
  const rowPhases = Array.from({ length: sh }, (_, ph) => phase(ph, sh, info.kernel[0], info.padTop, dy.shape[1]!, h));
  const colPhases = Array.from({ length: sw }, (_, pw) => phase(pw, sw, info.kernel[1], info.padLeft, dy.shape[2]!, w));
  // Negative padding crops dy; a phase that would crop all of it has no dy to read (rare: use dilation).
  const ok = (p: Phase, n: number): boolean => p.taps === 0 || p.rows === 0 || n + Math.min(0, p.before) + Math.min(0, p.after) > 0;
  if (!rowPhases.every((p) => ok(p, dy.shape[1]!)) || !colPhases.every((p) => ok(p, dy.shape[2]!))) return undefined;
  const dx = ops.output(info.inputShape);
  ops.f32(dx).fill(0);
  rowPhases.forEach((r, ph) => {
    colPhases.forEach((c, pw) => {
      if (r.taps === 0 || c.taps === 0 || r.rows === 0 || c.rows === 0) return;
      const f = subFilter(ops, filter, info.stride, r, c);
      const x = crop(ops, dy, r, c);
      const pad = [[0, 0], [Math.max(0, r.before), Math.max(0, r.after)], [Math.max(0, c.before), Math.max(0, c.after)], [0, 0]];
      const part = ops.run('Conv2D', { x, filter: f }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] });
      scatter(ops, part, dx, ph, pw, info.stride);
      ops.dispose(f, part);
      if (x !== dy) ops.dispose(x);
    });
  });
  return dx;
}
