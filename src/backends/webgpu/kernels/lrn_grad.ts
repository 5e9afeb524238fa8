// LRN and LRNGrad for 'webgpu'. The forward pass is tfjs's arithmetic (the window's squares summed from
// the lowest channel up, then (bias + α·Σ)^(−β) as tfjs computes it), as one recorded dispatch with
// its constants baked in rather than a tfjs program.
// LRNGrad runs in O(window) per element instead of tfjs's O(channels²): with
// N_d = bias + α·Σ_{|j−d|≤r} x_j² and y_d = x_d·N_d^(−β),
//   dx_k = dy_k·N_k^(−β) − 2αβ·x_k·Σ_{|d−k|≤r} dy_d·y_d / N_d.
// One workgroup holds whole channel vectors of a few pixels in shared memory, so each N_d and each
// dy_d·y_d/N_d is computed once.
import type * as tfType from '@tensorflow/tfjs';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { MAX_GROUPS_X, OwnProgram, runRecordable, submitBatchSize, wrapGroups, type ProgramShape } from '../record.js';
import { f32Literal } from '../wgsl.js';
import type { KernelFn } from './conv_kernels.js';
import type { TensorInfoLike } from './gemm_program.js';

const THREADS = 256;

/** tfjs's LRN attributes: window radius, bias, α and β. */
export interface LrnAttrs {
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;
}

/** The shader-key part naming every LRN constant (printed exactly: toString round-trips doubles). */
const attrsKey = (a: LrnAttrs): string => `${a.depthRadius}_${a.bias}_${a.alpha}_${a.beta}`;

/** What both LRN programs keep: the channel count (the last axis) and tfjs's attributes. */
abstract class LrnProgramBase extends OwnProgram implements WebGPUProgram {
  protected readonly channels: number;
  protected readonly a: LrnAttrs;

  constructor(shape: readonly number[], a: LrnAttrs, program: ProgramShape) {
    super(program);
    this.channels = shape[shape.length - 1] as number;
    this.a = a;
  }
}

export class LrnGradProgram extends LrnProgramBase {
  private readonly pixels: number;
  private readonly perGroup: number;

  constructor(shape: readonly number[], a: LrnAttrs) {
    const channels = shape[shape.length - 1] as number;
    const pixels = shape.slice(0, -1).reduce((x, y) => x * y, 1);
    const perGroup = Math.floor(THREADS / channels);
    super(shape, a, {
      // WGSL rounds the f32 constants as tfjs does.
      shaderKey: `rethink_lrngrad_${pixels}_${channels}_${attrsKey(a)}`,
      variableNames: ['x', 'y', 'dy'],
      outputShape: shape,
      dispatch: wrapGroups(Math.ceil(pixels / perGroup)),
      workgroupSize: [THREADS, 1, 1],
    });
    this.pixels = pixels;
    this.perGroup = perGroup;
  }

  protected code(recorded: boolean): string {
    const C = this.channels;
    const f = f32Literal;
    const powNeg = (v: string): string =>
      this.a.beta === 0.75 ? `(inverseSqrt(${v}) * sqrt(inverseSqrt(${v})))` : this.a.beta === 0.5 ? `inverseSqrt(${v})` : `exp(log(${v}) * ${f(-this.a.beta)})`;
    return `
  var<workgroup> xs : array<f32, ${THREADS}>;
  var<workgroup> ts : array<f32, ${THREADS}>;
  fn main(index : i32) {
    ${recorded ? '' : '_ = uniforms.NAN;'}
    let t = i32(localIndex);
    let slot = t / ${C};
    let ch = t % ${C};
    let p = (i32(workgroupId.y) * ${MAX_GROUPS_X} + i32(workgroupId.x)) * ${this.perGroup} + slot;
    let live = slot < ${this.perGroup} && p < ${this.pixels};
    let i = p * ${C} + ch;
    var xv = 0.0;
    var dyv = 0.0;
    var yv = 0.0;
    if (live) { xv = x[i]; dyv = dy[i]; yv = y[i]; }
    xs[t] = xv;
    workgroupBarrier();
    let base = slot * ${C};
    var ss = 0.0;
    for (var j = max(0, ch - ${this.a.depthRadius}); j <= min(${C - 1}, ch + ${this.a.depthRadius}); j = j + 1) {
      let v = xs[base + j];
      ss = ss + v * v;
    }
    let nrm = ${f(this.a.bias)} + ${f(this.a.alpha)} * ss;
    ts[t] = dyv * yv / nrm;
    workgroupBarrier();
    var acc = 0.0;
    for (var j = max(0, ch - ${this.a.depthRadius}); j <= min(${C - 1}, ch + ${this.a.depthRadius}); j = j + 1) {
      acc = acc + ts[base + j];
    }
    if (live) {
      result[i] = dyv * ${powNeg('nrm')} - ${f(2 * this.a.alpha * this.a.beta)} * xv * acc;
    }
  }
`;
  }
}

/** y = x·(bias + α·Σ_{|j−d|≤r} x_j²)^(−β) over the channels d of each pixel: one thread an element. */
export class LrnProgram extends LrnProgramBase {
  private readonly total: number;

  constructor(shape: readonly number[], a: LrnAttrs) {
    const total = shape.reduce((x, y) => x * y, 1);
    super(shape, a, {
      shaderKey: `rethink_lrn_${total}_${shape[shape.length - 1]}_${attrsKey(a)}`,
      variableNames: ['x'],
      outputShape: shape,
      dispatch: wrapGroups(Math.ceil(total / THREADS)),
      workgroupSize: [THREADS, 1, 1],
    });
    this.total = total;
  }

  protected code(recorded: boolean): string {
    const f = f32Literal;
    // tfjs's powOperatorSnippet, with β known here.
    const pow = this.a.beta === 0.5 ? 'inverseSqrt(basis)' : this.a.beta === 1 ? '1.0 / basis' : `exp(log(basis) * ${f(-this.a.beta)})`;
    return `
  fn main(index : i32) {
    ${recorded ? '' : '_ = uniforms.NAN;'}
    if (index >= ${this.total}) { return; }
    let d = index % ${this.channels};
    let base = index - d;
    var sum = 0.0;
    for (var j = max(0, d - ${this.a.depthRadius}); j <= min(${this.channels - 1}, d + ${this.a.depthRadius}); j = j + 1) {
      let z = x[base + j];
      sum = sum + z * z;
    }
    let basis = ${f(this.a.bias)} + ${f(this.a.alpha)} * sum;
    result[index] = x[index] * ${pow};
  }
`;
  }
}

export function lrn(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return (args) => {
    const x = args.inputs['x'] as TensorInfoLike;
    if (x.shape.length !== 4 || x.dtype !== 'float32' || x.shape.reduce((a, b) => a * b, 1) === 0) return fallback(args);
    const program = new LrnProgram(x.shape, args.attrs as unknown as LrnAttrs);
    return runRecordable(args.backend, program, [x] as tfType.TensorInfo[], submitBatchSize(tf)) as TensorInfoLike;
  };
}

export function lrnGrad(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return (args) => {
    const x = args.inputs['x'] as TensorInfoLike;
    const y = args.inputs['y'] as TensorInfoLike;
    const dy = args.inputs['dy'] as TensorInfoLike;
    const c = x.shape[x.shape.length - 1] ?? 0;
    if (x.shape.length !== 4 || c < 1 || c > THREADS || x.dtype !== 'float32') return fallback(args);
    const program = new LrnGradProgram(x.shape, args.attrs as unknown as LrnAttrs);
    return runRecordable(args.backend, program, [x, y, dy] as tfType.TensorInfo[], submitBatchSize(tf)) as TensorInfoLike;
  };
}
