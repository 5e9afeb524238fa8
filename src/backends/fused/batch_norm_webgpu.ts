// Training-mode batch norm (channel-last, offset β only, optionally followed by a ReLU) as WGSL programs
// for tfjs's WebGPU backend: per-channel statistics in one dispatch, both moving averages in one,
// normalisation (+ ReLU) in one, and for the gradient the two channel sums with dβ in one and dx in one.
// tfjs-core composes the same from ~20 element-wise and reduction kernels (plus 3 for a separate ReLU
// layer), each a ~60–100 µs JavaScript dispatch on a fast GPU (scripts/gpu/RESULTS.md).
// Statistics travel as one [2, C] tensor: row 0 the mean, row 1 the (biased) variance; the gradient
// sums likewise: row 0 Σg, row 1 Σg·x̂, where g is dy (masked by y > 0 after a ReLU). One workgroup per
// channel reduces over the M = size/C positions; the sums are shifted by the channel's first element, so
// one pass gives a variance without the cancellation of Σx² − M·μ².
// The kernels with two outputs (moving averages; gradient sums with dβ) need a hand-recorded dispatch
// (../webgpu/record.ts); without one they run as two tfjs programs.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type * as tfType from '@tensorflow/tfjs';
import { f32Literal, workgroupArrays, workgroupTreeSum } from '../webgpu/wgsl.js';
import { OwnProgram, recordProgram, recorderFor, runRecordable, submitBatchSize } from '../webgpu/record.js';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_STATS, BN_MOVING, BN_STATS, type BnAttrs, type BnMovingAttrs } from './batch_norm_math.js';

type Info = tfType.TensorInfo;

type Factory = (tf: typeof tfType) => tfType.KernelFunc;

const THREADS = 256;
const MAX_GROUPS_X = 32768;


/** The gradient reaching the batch norm's output at flat index i: dy, or dy·[y > 0] through a ReLU. */
const gradAt = (relu: boolean, i: string): string => (relu ? `select(0.0, dy[${i}], y[${i}] > 0.0)` : `dy[${i}]`);

interface SumsOptions {
  readonly grad: boolean;
  readonly epsilon: number;
  readonly relu: boolean;
  /** Also write row 0 (Σg = dβ) to a second output `dbeta` (recorded dispatches only). */
  readonly betaOut: boolean;
}

/** One workgroup per channel summing two per-position terms into a [2, C] output. */
class ChannelSumsProgram extends OwnProgram implements WebGPUProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly extraOutputs: { name: string; shape: number[] }[];
  private readonly channels: number;
  private readonly positions: number;
  private readonly o: SumsOptions;

  /** grad = false: inputs (x) → (mean, variance); grad = true: inputs (x, stats, dy[, y]) → (Σg, Σg·x̂). */
  constructor(size: number, channels: number, o: SumsOptions) {
    super();
    this.channels = channels;
    this.positions = size / channels;
    this.o = o;
    this.variableNames = o.grad ? (o.relu ? ['x', 'stats', 'dy', 'y'] : ['x', 'stats', 'dy']) : ['x'];
    this.outputShape = [2, channels];
    this.extraOutputs = o.betaOut ? [{ name: 'dbeta', shape: [channels] }] : [];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [channels, 1, 1];
    const grad = o.grad ? `gsum_${o.epsilon}_${o.relu}_${o.betaOut}` : 'stats';
    this.shaderKey = `rethinkbn_${grad}_${this.positions}_${channels}`;
  }

  protected code(recorded: boolean): string {
    const C = this.channels;
    const M = this.positions;
    const { grad, relu, epsilon, betaOut } = this.o;
    const prologue = grad ? `let mean = stats[c];\n    let r = inverseSqrt(stats[${C} + c] + ${f32Literal(epsilon)});` : `let k = x[c];`;
    const term = grad
      ? `let g = ${gradAt(relu, 'i')};\n      let xh = (x[i] - mean) * r;\n      a1 = a1 + g;\n      a2 = a2 + g * xh;`
      : `let d = x[i] - k;\n      a1 = a1 + d;\n      a2 = a2 + d * d;`;
    const epilogue = grad
      ? `result[c] = s1[0];\n      result[${C} + c] = s2[0];${betaOut ? '\n      dbeta[c] = s1[0];' : ''}`
      : `let dm = s1[0] / ${f32Literal(M)};\n      result[c] = k + dm;\n      result[${C} + c] = max(s2[0] / ${f32Literal(M)} - dm * dm, 0.0);`;
    return `
  ${workgroupArrays(['s1', 's2'], THREADS)}
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
    ${workgroupTreeSum(['s1', 's2'], ['a1', 'a2'], THREADS)}
    if (t == 0) {
      ${epilogue}
    }
  }
`;
  }
}

/**
 * An element-wise program over `shape` whose body computes `result[index]` (and, recorded, any extra
 * outputs) with `c` the channel.
 */
class ElementwiseProgram extends OwnProgram implements WebGPUProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [THREADS, 1, 1];
  readonly size = true;
  readonly extraOutputs: { name: string; shape: number[] }[];
  private readonly channels: number;
  private readonly body: string;

  constructor(key: string, shape: readonly number[], variableNames: string[], body: string, extraOutputs: string[] = []) {
    super();
    this.outputShape = [...shape];
    this.variableNames = variableNames;
    this.channels = shape[shape.length - 1] ?? 1;
    this.body = body;
    this.extraOutputs = extraOutputs.map((name) => ({ name, shape: [...shape] }));
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    const n = this.outputShape.reduce((a, d) => a * d, 1);
    const groups = Math.ceil(n / THREADS);
    this.dispatch = [Math.min(groups, MAX_GROUPS_X), Math.ceil(groups / MAX_GROUPS_X), 1];
    this.shaderKey = `rethinkbn_${key}_${this.channels}`;
  }

  protected code(recorded: boolean): string {
    const size = recorded ? String(this.outputShape.reduce((a, d) => a * d, 1)) : 'uniforms.size';
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
  const program = new ChannelSumsProgram(sizeOf(x), channelsOf(x), { grad: false, epsilon: 0, relu: false, betaOut: false });
  return runRecordable(args.backend, program, [x], submitBatchSize(tf));
};

const applyKernel: Factory = (tf) => (args) => {
  const { x, stats, beta } = args.inputs as { x: Info; stats: Info; beta: Info };
  const { epsilon, relu } = args.attrs as unknown as BnAttrs;
  const C = channelsOf(x);
  // One rounding per line, as the composed ops round each result.
  const body = `let r = inverseSqrt(stats[${C} + c] + ${f32Literal(epsilon)});
      let xh = (x[index] - stats[c]) * r;
      let z = xh + beta[c];
      result[index] = ${relu === true ? 'max(z, 0.0)' : 'z'};`;
  const program = new ElementwiseProgram(`apply_${epsilon}_${relu === true}`, x.shape, ['x', 'stats', 'beta'], body);
  return runRecordable(args.backend, program, [x, stats, beta], submitBatchSize(tf));
};

/** Both moving statistics, moving·momentum + batch·(1 − momentum): one recorded dispatch, else two. */
const movingKernel: Factory = (tf) => (args) => {
  const { mean, variance, stats } = args.inputs as { mean: Info; variance: Info; stats: Info };
  const { momentum } = args.attrs as unknown as BnMovingAttrs;
  const C = channelsOf(mean);
  const update = (out: string, moving: string, row: number): string => `let kept${row} = ${moving}[index] * ${f32Literal(momentum)};
      let fresh${row} = stats[${row * C} + index] * ${f32Literal(1 - momentum)};
      ${out}[index] = kept${row} + fresh${row};`;
  const rec = recorderFor(args.backend);
  if (rec !== null) {
    const body = `${update('result', 'mean', 0)}\n      ${update('result2', 'variance', 1)}`;
    const program = new ElementwiseProgram(`moving2_${momentum}`, mean.shape, ['mean', 'variance', 'stats'], body, ['result2']);
    return recordProgram(rec, program, [mean, variance, stats], submitBatchSize(tf));
  }
  return [0, 1].map((row) => {
    const program = new ElementwiseProgram(`moving_${row}_${momentum}`, mean.shape, ['moving', 'stats'], update('result', 'moving', row));
    return runRecordable(args.backend, program, [row === 0 ? mean : variance, stats], submitBatchSize(tf));
  });
};

/** (Σg, Σg·x̂) as [2, C] and dβ = Σg as [C]: one recorded dispatch, else the sums and a row copy. */
const gradStatsKernel: Factory = (tf) => (args) => {
  const { x, stats, dy, y } = args.inputs as { x: Info; stats: Info; dy: Info; y?: Info };
  const { epsilon, relu } = args.attrs as unknown as BnAttrs;
  const masked = relu === true;
  if (masked && y === undefined) throw new Error(`${BN_GRAD_STATS}: relu needs the output y`);
  const inputs = masked ? [x, stats, dy, y!] : [x, stats, dy];
  const C = channelsOf(x);
  const rec = recorderFor(args.backend);
  const o = { grad: true, epsilon, relu: masked };
  if (rec !== null) return recordProgram(rec, new ChannelSumsProgram(sizeOf(x), C, { ...o, betaOut: true }), inputs, submitBatchSize(tf));
  const sums = runRecordable(args.backend, new ChannelSumsProgram(sizeOf(x), C, { ...o, betaOut: false }), inputs, submitBatchSize(tf));
  const row0 = new ElementwiseProgram('row0', [C], ['sums'], 'result[index] = sums[index];');
  return [sums, runRecordable(args.backend, row0, [sums], submitBatchSize(tf))];
};

const gradInputKernel: Factory = (tf) => (args) => {
  const { x, stats, dy, y, sums } = args.inputs as { x: Info; stats: Info; dy: Info; y?: Info; sums: Info };
  const { epsilon, relu } = args.attrs as unknown as BnAttrs;
  const masked = relu === true;
  if (masked && y === undefined) throw new Error(`${BN_GRAD_INPUT}: relu needs the output y`);
  const C = channelsOf(x);
  const M = sizeOf(x) / C;
  const body = `let r = inverseSqrt(stats[${C} + c] + ${f32Literal(epsilon)});
      let xh = (x[index] - stats[c]) * r;
      let a = ${gradAt(masked, 'index')} - sums[c] / ${f32Literal(M)};
      let b = xh * (sums[${C} + c] / ${f32Literal(M)});
      result[index] = (a - b) * r;`;
  const names = masked ? ['x', 'stats', 'dy', 'y', 'sums'] : ['x', 'stats', 'dy', 'sums'];
  const program = new ElementwiseProgram(`dx_${M}_${epsilon}_${masked}`, x.shape, names, body);
  return runRecordable(args.backend, program, masked ? [x, stats, dy, y!, sums] : [x, stats, dy, sums], submitBatchSize(tf));
};

/** The kernels by name, for registration under 'webgpu'. */
export const WEBGPU_BATCH_NORM_KERNELS: Readonly<Record<string, Factory>> = {
  [BN_STATS]: statsKernel,
  [BN_APPLY]: applyKernel,
  [BN_MOVING]: movingKernel,
  [BN_GRAD_STATS]: gradStatsKernel,
  [BN_GRAD_INPUT]: gradInputKernel,
};
