// Training-mode batch norm (channel-last, offset β only) as four WGSL programs for tfjs's WebGPU backend:
// per-channel statistics in one dispatch, normalisation in one, and for the gradient the two channel
// sums in one and dx in one. tfjs-core composes the same from ~20 element-wise and reduction kernels,
// each a ~60–100 µs JavaScript dispatch on a fast GPU (scripts/gpu/RESULTS.md).
// Statistics travel as one [2, C] tensor: row 0 the mean, row 1 the (biased) variance; the gradient
// sums likewise: row 0 Σdy, row 1 Σdy·x̂. One workgroup per channel reduces over the M = size/C
// positions; the sums are shifted by the channel's first element, so one pass gives a variance without
// the cancellation of Σx² − M·μ².
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type * as tfType from '@tensorflow/tfjs';
import { runRecordable, submitBatchSize } from '../webgpu/record.js';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_STATS, BN_MOVING, BN_STATS, type BnAttrs, type BnMovingAttrs } from './batch_norm_math.js';

type Info = tfType.TensorInfo;

type Factory = (tf: typeof tfType) => tfType.KernelFunc;

const THREADS = 256;
const MAX_GROUPS_X = 32768;

/** A WGSL f32 literal (toString round-trips doubles; WGSL rounds it to f32 as tfjs rounds scalars). */
const lit = (v: number): string => (Number.isInteger(v) ? `${v}.0` : `${v}`);

/** One workgroup per channel summing two per-position terms into a [2, C] output. */
class ChannelSumsProgram implements WebGPUProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  private readonly channels: number;
  private readonly positions: number;
  private readonly grad: boolean;
  private readonly epsilon: number;

  /** grad = false: inputs (x) → (mean, variance); grad = true: inputs (x, stats, dy) → (Σdy, Σdy·x̂). */
  constructor(size: number, channels: number, grad: boolean, epsilon: number) {
    this.channels = channels;
    this.positions = size / channels;
    this.grad = grad;
    this.epsilon = epsilon;
    this.variableNames = grad ? ['x', 'stats', 'dy'] : ['x'];
    this.outputShape = [2, channels];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [channels, 1, 1];
    this.shaderKey = `rethinkbn_${grad ? 'gsum' : 'stats'}_${this.positions}_${channels}_${grad ? epsilon : ''}`;
  }

  getUserCode(): string {
    return this.code(false);
  }

  recordedCode(): string {
    return this.code(true);
  }

  private code(recorded: boolean): string {
    const C = this.channels;
    const M = this.positions;
    const prologue = this.grad
      ? `let mean = stats[c];\n    let r = inverseSqrt(stats[${C} + c] + ${lit(this.epsilon)});`
      : `let k = x[c];`;
    const term = this.grad
      ? `let g = dy[i];\n      let xh = (x[i] - mean) * r;\n      a1 = a1 + g;\n      a2 = a2 + g * xh;`
      : `let d = x[i] - k;\n      a1 = a1 + d;\n      a2 = a2 + d * d;`;
    const epilogue = this.grad
      ? `result[c] = s1[0];\n      result[${C} + c] = s2[0];`
      : `let dm = s1[0] / ${lit(M)};\n      result[c] = k + dm;\n      result[${C} + c] = max(s2[0] / ${lit(M)} - dm * dm, 0.0);`;
    return `
  var<workgroup> s1 : array<f32, ${THREADS}>;
  var<workgroup> s2 : array<f32, ${THREADS}>;
  fn main(index : i32) {
    ${recorded ? '' : '_ = uniforms.NAN;'}
    let t = i32(localIndex);
    let c = i32(workgroupId.x);
    ${prologue}
    var a1 = 0.0;
    var a2 = 0.0;
    for (var m = t; m < ${M}; m = m + ${THREADS}) {
      let i = m * ${C} + c;
      ${term}
    }
    s1[t] = a1;
    s2[t] = a2;
    workgroupBarrier();
    for (var h = ${THREADS / 2}; h > 0; h = h / 2) {
      if (t < h) {
        s1[t] = s1[t] + s1[t + h];
        s2[t] = s2[t] + s2[t + h];
      }
      workgroupBarrier();
    }
    if (t == 0) {
      ${epilogue}
    }
  }
`;
  }
}

/** An element-wise program over `shape` whose body computes `result[index]` with `c` the channel. */
class ElementwiseProgram implements WebGPUProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly size = true;
  private readonly channels: number;
  private readonly body: string;

  constructor(key: string, shape: readonly number[], variableNames: string[], body: string) {
    this.outputShape = [...shape];
    this.variableNames = variableNames;
    this.channels = shape[shape.length - 1] ?? 1;
    this.body = body;
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    const n = this.outputShape.reduce((a, d) => a * d, 1);
    const groups = Math.ceil(n / THREADS);
    this.dispatch = [Math.min(groups, MAX_GROUPS_X), Math.ceil(groups / MAX_GROUPS_X), 1];
    this.shaderKey = `rethinkbn_${key}_${this.channels}`;
  }

  getUserCode(): string {
    return this.code('uniforms.size');
  }

  recordedCode(): string {
    return this.code(String(this.outputShape.reduce((a, d) => a * d, 1)));
  }

  private code(size: string): string {
    return `
  fn main(index : i32) {
    if (index < ${size}) {
      let c = index % ${this.channels};
      ${this.body}
    }
  }
`;
  }
}

function channelsOf(x: Info): number {
  const c = x.shape[x.shape.length - 1];
  if (c === undefined || c < 1 || x.dtype !== 'float32') throw new Error('RethinkBatchNorm: needs float32 input with a channel axis');
  return c;
}

const sizeOf = (x: Info): number => x.shape.reduce((a, d) => a * d, 1);

const statsKernel: Factory = (tf) => (args) => {
  const { x } = args.inputs as { x: Info };
  return runRecordable(args.backend, new ChannelSumsProgram(sizeOf(x), channelsOf(x), false, 0), [x], submitBatchSize(tf));
};

const applyKernel: Factory = (tf) => (args) => {
  const { x, stats, beta } = args.inputs as { x: Info; stats: Info; beta: Info };
  const { epsilon } = args.attrs as unknown as BnAttrs;
  const C = channelsOf(x);
  // One rounding per line, as the composed ops round each result.
  const body = `let r = inverseSqrt(stats[${C} + c] + ${lit(epsilon)});
      let xh = (x[index] - stats[c]) * r;
      result[index] = xh + beta[c];`;
  const program = new ElementwiseProgram(`apply_${epsilon}`, x.shape, ['x', 'stats', 'beta'], body);
  return runRecordable(args.backend, program, [x, stats, beta], submitBatchSize(tf));
};

const movingKernel: Factory = (tf) => (args) => {
  const { moving, stats } = args.inputs as { moving: Info; stats: Info };
  const { momentum, row } = args.attrs as unknown as BnMovingAttrs;
  const C = channelsOf(moving);
  const body = `let kept = moving[index] * ${lit(momentum)};
      let fresh = stats[${row * C} + index] * ${lit(1 - momentum)};
      result[index] = kept + fresh;`;
  const program = new ElementwiseProgram(`moving_${row}_${momentum}`, moving.shape, ['moving', 'stats'], body);
  return runRecordable(args.backend, program, [moving, stats], submitBatchSize(tf));
};

const gradStatsKernel: Factory = (tf) => (args) => {
  const { x, stats, dy } = args.inputs as { x: Info; stats: Info; dy: Info };
  const { epsilon } = args.attrs as unknown as BnAttrs;
  const program = new ChannelSumsProgram(sizeOf(x), channelsOf(x), true, epsilon);
  return runRecordable(args.backend, program, [x, stats, dy], submitBatchSize(tf));
};

const gradInputKernel: Factory = (tf) => (args) => {
  const { x, stats, dy, sums } = args.inputs as { x: Info; stats: Info; dy: Info; sums: Info };
  const { epsilon } = args.attrs as unknown as BnAttrs;
  const C = channelsOf(x);
  const M = sizeOf(x) / C;
  const body = `let r = inverseSqrt(stats[${C} + c] + ${lit(epsilon)});
      let xh = (x[index] - stats[c]) * r;
      let a = dy[index] - sums[c] / ${lit(M)};
      let b = xh * (sums[${C} + c] / ${lit(M)});
      result[index] = (a - b) * r;`;
  const program = new ElementwiseProgram(`dx_${M}_${epsilon}`, x.shape, ['x', 'stats', 'dy', 'sums'], body);
  return runRecordable(args.backend, program, [x, stats, dy, sums], submitBatchSize(tf));
};

/** The kernels by name, for registration under 'webgpu'. */
export const WEBGPU_BATCH_NORM_KERNELS: Readonly<Record<string, Factory>> = {
  [BN_STATS]: statsKernel,
  [BN_APPLY]: applyKernel,
  [BN_MOVING]: movingKernel,
  [BN_GRAD_STATS]: gradStatsKernel,
  [BN_GRAD_INPUT]: gradInputKernel,
};
