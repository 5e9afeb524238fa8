// LRN and LRNGrad (across channels, as TF and the cpu backend define them) in O(C) per pixel with
// sliding window sums in float64, instead of the stock wasm kernels' O(C·window) loops.
//   norm[c] = bias + α·Σ_{|k−c|≤r} x[k]²,  y[c] = x[c]·norm[c]^−β
//   dx[k]   = dy[k]·norm[k]^−β − 2αβ·x[k]·Σ_{|c−k|≤r} dy[c]·y[c]/norm[c]
import type { KernelConfig } from '@tensorflow/tfjs';
import { composedKernel, input, type KernelArgs } from '../ops.js';

interface LrnAttrs {
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;
}

/** Fills `sums[c]` with Σ_{|k−c|≤r, 0≤k<C} v[base+k] for one pixel. */
function windowSums(v: ArrayLike<number>, base: number, channels: number, r: number, sums: Float64Array): void {
  let s = 0;
  for (let k = 0; k < Math.min(r, channels); k++) s += v[base + k]!;
  for (let c = 0; c < channels; c++) {
    if (c + r < channels) s += v[base + c + r]!;
    if (c - r - 1 >= 0) s -= v[base + c - r - 1]!;
    sums[c] = s;
  }
}

/** norm^−β; the common β = 0.75 via square roots, which V8 does much faster than pow. */
function powNegBeta(beta: number): (x: number) => number {
  if (beta === 0.75) return (x) => 1 / Math.sqrt(x * Math.sqrt(x));
  if (beta === 0.5) return (x) => 1 / Math.sqrt(x);
  return (x) => Math.pow(x, -beta);
}

export function lrnConfig(backendName: string): KernelConfig {
  return composedKernel('LRN', backendName, (ops, args: KernelArgs) => {
    const xInfo = input(args, 'x');
    const { depthRadius: r, bias, alpha, beta } = args.attrs as unknown as LrnAttrs;
    const channels = xInfo.shape[3]!;
    const out = ops.output(xInfo.shape);
    const y = ops.f32(out);
    const x = ops.f32(xInfo);
    const p = powNegBeta(beta);
    const sq = new Float64Array(channels);
    const sums = new Float64Array(channels);
    for (let base = 0; base < x.length; base += channels) {
      for (let c = 0; c < channels; c++) sq[c] = x[base + c]! * x[base + c]!;
      windowSums(sq, 0, channels, r, sums);
      for (let c = 0; c < channels; c++) y[base + c] = x[base + c]! * p(bias + alpha * sums[c]!);
    }
    return out;
  });
}

export function lrnGradConfig(backendName: string): KernelConfig {
  return composedKernel('LRNGrad', backendName, (ops, args: KernelArgs) => {
    const [xInfo, yInfo, dyInfo] = [input(args, 'x'), input(args, 'y'), input(args, 'dy')];
    const { depthRadius: r, bias, alpha, beta } = args.attrs as unknown as LrnAttrs;
    const channels = xInfo.shape[3]!;
    const out = ops.output(xInfo.shape);
    const dx = ops.f32(out);
    const [x, y, dy] = [ops.f32(xInfo), ops.f32(yInfo), ops.f32(dyInfo)];
    const p = powNegBeta(beta);
    const tmp = new Float64Array(channels);
    const norm = new Float64Array(channels);
    const sums = new Float64Array(channels);
    const k2ab = -2 * alpha * beta;
    for (let base = 0; base < x.length; base += channels) {
      for (let c = 0; c < channels; c++) tmp[c] = x[base + c]! * x[base + c]!;
      windowSums(tmp, 0, channels, r, norm);
      for (let c = 0; c < channels; c++) {
        const nc = bias + alpha * norm[c]!;
        norm[c] = nc;
        tmp[c] = (dy[base + c]! * y[base + c]!) / nc;
      }
      windowSums(tmp, 0, channels, r, sums);
      for (let c = 0; c < channels; c++) {
        dx[base + c] = dy[base + c]! * p(norm[c]!) + k2ab * x[base + c]! * sums[c]!;
      }
    }
    return out;
  });
}
