// Training-mode batch norm (channel-last, offset β only, optionally followed by a ReLU) as WGSL programs
// for tfjs's WebGPU backend: per-channel statistics in one dispatch, both moving averages in one,
// normalisation (+ ReLU) in one, and for the gradient the two channel sums with dβ in one and dx in one.
// tfjs-core composes the same from ~20 element-wise and reduction kernels (plus 3 for a separate ReLU
// layer), each a ~60–100 µs JavaScript dispatch on a fast GPU (scripts/gpu/RESULTS.md).
// Statistics travel as one [2, C] tensor: row 0 the mean, row 1 the (biased) variance; the gradient
// sums likewise: row 0 Σg, row 1 Σg·x̂, where g is dy (masked by y > 0 after a ReLU). One workgroup per
// channel reduces over the M = size/C positions, or, past SPLIT_POSITIONS, coalesced partial sums over
// chunks of rows and a second dispatch that adds them; the sums are shifted by the channel's first
// element, so one pass gives a variance without the cancellation of Σx² − M·μ².
// The kernels with two outputs (moving averages; gradient sums with dβ) need a hand-recorded dispatch
// (../webgpu/record.ts); without one they run as two tfjs programs.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type * as tfType from '@tensorflow/tfjs';
import { f32Literal, workgroupArrays, workgroupTreeSum } from '../wgsl.js';
import { OwnProgram, RecordedKernel, type ProgramShape, recordDispatch, recordProgram, recorderFor, runRecordable, submitBatchSize, wrapGroups, writableInPlace } from '../record.js';
import { Memo } from '../../../util/memo.js';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_STATS, BN_MOVING, BN_STATS, type BnAttrs, type BnMovingAttrs } from '../../../ops/batch_norm_math.js';

type Info = tfType.TensorInfo;

type Factory = (tf: typeof tfType) => tfType.KernelFunc;

const THREADS = 256;


/** The gradient reaching the batch norm's output at flat index i: dy, or dy·[y > 0] through a ReLU. */
const gradAt = (relu: boolean, i: string): string => (relu ? `select(0.0, dy[${i}], y[${i}] > 0.0)` : `dy[${i}]`);

interface SumsOptions {
  readonly grad: boolean;
  readonly epsilon: number;
  readonly relu: boolean;
  /** Also write row 0 (Σg = dβ) to a second output `dbeta` (recorded dispatches only). */
  readonly betaOut: boolean;
}

/** The per-position terms a channel sum adds (a1, a2) and what they need first (the shift k, or the
 * mean and 1/σ for the gradient sums). */
function sumTerms(o: SumsOptions, C: number): { prologue: string; term: string } {
  return o.grad
    ? {
        prologue: `let mean = stats[c];\n    let r = inverseSqrt(stats[${C} + c] + ${f32Literal(o.epsilon)});`,
        term: `let g = ${gradAt(o.relu, 'i')};\n      let xh = (x[i] - mean) * r;\n      a1 = a1 + g;\n      a2 = a2 + g * xh;`,
      }
    : { prologue: 'let k = x[c];', term: 'let d = x[i] - k;\n      a1 = a1 + d;\n      a2 = a2 + d * d;' };
}

/** Writes channel c's [2, C] row pair from its sums s1, s2 over M positions (stats: shifted by k). */
function finishSums(o: SumsOptions, C: number, M: number, s1: string, s2: string): string {
  return o.grad
    ? `result[c] = ${s1};\n      result[${C} + c] = ${s2};${o.betaOut ? `\n      dbeta[c] = ${s1};` : ''}`
    : `let dm = ${s1} / ${f32Literal(M)};\n      result[c] = k + dm;\n      result[${C} + c] = max(${s2} / ${f32Literal(M)} - dm * dm, 0.0);`;
}

/** What the channel-sum programs share: C channels, M = size / C positions each, and the sums' options. */
abstract class ChannelSumsBase extends OwnProgram implements WebGPUProgram {
  protected readonly channels: number;
  protected readonly positions: number;
  protected readonly o: SumsOptions;

  /** `shape(M)`: the program's shape for M positions per channel. */
  constructor(size: number, channels: number, o: SumsOptions, shape: (positions: number) => ProgramShape) {
    const positions = size / channels;
    super(shape(positions));
    this.channels = channels;
    this.positions = positions;
    this.o = o;
  }
}

/** One workgroup per channel summing two per-position terms into a [2, C] output. */
class ChannelSumsProgram extends ChannelSumsBase {
  /** grad = false: inputs (x) → (mean, variance); grad = true: inputs (x, stats, dy[, y]) → (Σg, Σg·x̂). */
  constructor(size: number, channels: number, o: SumsOptions) {
    super(size, channels, o, (positions) => ({
      shaderKey: `rethinkbn_${sumsKey(o)}_${positions}_${channels}`,
      variableNames: sumInputs(o),
      outputShape: [2, channels],
      dispatch: [channels, 1, 1],
      workgroupSize: [THREADS, 1, 1],
      extraOutputs: betaOutput(o, channels),
    }));
  }

  protected code(recorded: boolean): string {
    const C = this.channels;
    const M = this.positions;
    const { prologue, term } = sumTerms(this.o, C);
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
      ${finishSums(this.o, C, M, 's1[0]', 's2[0]')}
    }
  }
`;
  }
}

const sumInputs = (o: SumsOptions): string[] => (o.grad ? (o.relu ? ['x', 'stats', 'dy', 'y'] : ['x', 'stats', 'dy']) : ['x']);
const betaOutput = (o: SumsOptions, channels: number): { name: string; shape: number[] }[] => (o.betaOut ? [{ name: 'dbeta', shape: [channels] }] : []);
const sumsKey = (o: SumsOptions): string => (o.grad ? `gsum_${o.epsilon}_${o.relu}_${o.betaOut}` : 'stats');

// Past this many positions per channel, one workgroup per channel is slow: its threads read with a
// stride of C floats (a memory transaction each) and there are only C workgroups. Then the sums run
// in two passes: workgroups of 32 adjacent channels × 8 row lanes (each warp reads 32 consecutive
// floats) over chunks of rows, then one thread per channel adding its chunks' partial sums in order.
export const SPLIT_POSITIONS = 32768;
const LANES_C = 32;
const LANES_R = THREADS / LANES_C;
const TARGET_WORKGROUPS = 512;

/** How many row chunks (P) of how many rows (R) the first pass uses for M positions of C channels. */
function sumChunks(M: number, C: number): { chunks: number; rows: number } {
  const blocks = Math.ceil(C / LANES_C);
  const want = Math.ceil(TARGET_WORKGROUPS / blocks);
  const rows = Math.max(256, Math.ceil(Math.ceil(M / want) / LANES_R) * LANES_R);
  return { chunks: Math.ceil(M / rows), rows };
}

/** First pass: partial sums [P][2][C] of each channel over each chunk of rows. */
class ChannelPartialsProgram extends ChannelSumsBase {
  private readonly rows: number;

  constructor(size: number, channels: number, o: SumsOptions) {
    super(size, channels, o, (positions) => {
      const { chunks } = sumChunks(positions, channels);
      return {
        shaderKey: `rethinkbn_part_${sumsKey({ ...o, betaOut: false })}_${positions}_${channels}`,
        variableNames: sumInputs(o),
        outputShape: [chunks, 2, channels],
        dispatch: [Math.ceil(channels / LANES_C), chunks, 1],
        workgroupSize: [THREADS, 1, 1],
      };
    });
    this.rows = sumChunks(this.positions, channels).rows;
  }

  protected code(recorded: boolean): string {
    const C = this.channels;
    const M = this.positions;
    const { prologue, term } = sumTerms(this.o, C);
    // Channel lanes fastest, so a warp reads consecutive channels of one row; then the 8 row lanes'
    // sums of each channel are added by halving down to the first 32 slots.
    return `
  ${workgroupArrays(['s1', 's2'], THREADS)}
  fn main(index : i32) {
    ${recorded ? '' : '_ = uniforms.NAN;'}
    let t = i32(localIndex);
    let lane = t % ${LANES_C};
    let c = i32(workgroupId.x) * ${LANES_C} + lane;
    let p = i32(workgroupId.y);
    var a1 = 0.0;
    var a2 = 0.0;
    if (c < ${C}) {
      ${prologue}
      let end = min(${M}, (p + 1) * ${this.rows});
      for (var m = p * ${this.rows} + t / ${LANES_C}; m < end; m = m + ${LANES_R}) {
        let i = m * ${C} + c;
        ${term}
      }
    }
    s1[t] = a1;
    s2[t] = a2;
    workgroupBarrier();
    for (var h = ${THREADS / 2}; h >= ${LANES_C}; h = h / 2) {
      if (t < h) {
        s1[t] = s1[t] + s1[t + h];
        s2[t] = s2[t] + s2[t + h];
      }
      workgroupBarrier();
    }
    if (t < ${LANES_C} && c < ${C}) {
      result[(p * 2) * ${C} + c] = s1[t];
      result[(p * 2 + 1) * ${C} + c] = s2[t];
    }
  }
`;
  }
}

/** Second pass: each channel's partial sums added in chunk order, finished as the one-pass kernel does. */
class ChannelFinishProgram extends ChannelSumsBase {
  private readonly chunks: number;

  constructor(size: number, channels: number, o: SumsOptions) {
    super(size, channels, o, (positions) => ({
      shaderKey: `rethinkbn_finish_${sumsKey(o)}_${positions}_${channels}`,
      // The statistics' shift k is x's first row, so they read x again.
      variableNames: o.grad ? ['partial'] : ['partial', 'x'],
      outputShape: [2, channels],
      dispatch: [Math.ceil(channels / 64), 1, 1],
      workgroupSize: [64, 1, 1],
      extraOutputs: betaOutput(o, channels),
    }));
    this.chunks = sumChunks(this.positions, channels).chunks;
  }

  protected code(recorded: boolean): string {
    const C = this.channels;
    return `
  fn main(index : i32) {
    ${recorded ? '' : '_ = uniforms.NAN;'}
    let c = i32(globalId.x);
    if (c < ${C}) {
      ${this.o.grad ? '' : 'let k = x[c];'}
      var a1 = 0.0;
      var a2 = 0.0;
      for (var p = 0; p < ${this.chunks}; p = p + 1) {
        a1 = a1 + partial[(p * 2) * ${C} + c];
        a2 = a2 + partial[(p * 2 + 1) * ${C} + c];
      }
      ${finishSums(this.o, C, this.positions, 'a1', 'a2')}
    }
  }
`;
  }
}

/**
 * The [2, C] channel sums of `inputs` (sumInputs order) and, with betaOut, dβ: one dispatch for up to
 * SPLIT_POSITIONS positions, else two (partials, then their sum). betaOut needs a recorder.
 */
function channelSums(tf: typeof tfType, backend: unknown, x: Info, inputs: readonly Info[], o: SumsOptions): Info[] {
  const size = sizeOf(x);
  const C = channelsOf(x);
  const rec = recorderFor(backend);
  const submit = submitBatchSize(tf);
  const run = (program: OwnProgram & WebGPUProgram & { extraOutputs?: unknown[] }, ins: readonly Info[]): Info[] =>
    rec !== null ? recordProgram(rec, program as never, ins, submit) : [runRecordable(backend, program as never, ins, submit)];
  if (size / C <= SPLIT_POSITIONS) return run(new ChannelSumsProgram(size, C, o), inputs);
  const [partial] = run(new ChannelPartialsProgram(size, C, o), inputs);
  const out = run(new ChannelFinishProgram(size, C, o), o.grad ? [partial!] : [partial!, x]);
  (backend as { disposeData(id: object): void }).disposeData(partial!.dataId);
  return out;
}

/**
 * An element-wise program over `shape` whose body computes `result[index]` (and, recorded, any extra
 * outputs) with `c` the channel.
 */
class ElementwiseProgram extends OwnProgram implements WebGPUProgram {
  /** tfjs passes the element count as uniforms.size; a recorded dispatch has it baked in. */
  readonly size = true;
  private readonly channels: number;
  private readonly body: string;

  constructor(key: string, shape: readonly number[], variableNames: string[], body: string, extraOutputs: string[] = []) {
    const n = shape.reduce((a, d) => a * d, 1);
    const channels = shape[shape.length - 1] ?? 1;
    super({
      // The count is in the key: recorded kernels are compiled once per key, with the count baked in.
      shaderKey: `rethinkbn_${key}_${n}_${channels}`,
      variableNames,
      outputShape: shape,
      dispatch: wrapGroups(Math.ceil(n / THREADS)),
      workgroupSize: [THREADS, 1, 1],
      extraOutputs: extraOutputs.map((name) => ({ name, shape })),
    });
    this.channels = channels;
    this.body = body;
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
  return channelSums(tf, args.backend, x, [x], { grad: false, epsilon: 0, relu: false, betaOut: false })[0]!;
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

/** WGSL: `out`[index] = `moving`[index]·momentum + stats row `row`·(1 − momentum), one rounding a line. */
function movingUpdate(C: number, momentum: number, out: string, moving: string, row: number): string {
  return `let kept${row} = ${moving}[index] * ${f32Literal(momentum)};
      let fresh${row} = stats[${row * C} + index] * ${f32Literal(1 - momentum)};
      ${out}[index] = kept${row} + fresh${row};`;
}

const movingInPlaceKernels = new Memo<string, RecordedKernel>();

/**
 * Both moving statistics updated in their variables' own buffers (one recorded dispatch), so that a
 * training step allocates no buffer for them and binds the same buffers every step. Returns false,
 * having done nothing, off webgpu, without a recorder, or where another tensor shares either
 * variable's data; the caller then runs BN_MOVING and assigns its outputs.
 */
export function movingStatsInPlace(tf: typeof tfType, mean: Info, variance: Info, stats: Info, momentum: number): boolean {
  if (tf.getBackend() !== 'webgpu') return false;
  const rec = recorderFor(tf.backend());
  if (rec === null || !writableInPlace(rec, mean) || !writableInPlace(rec, variance)) return false;
  const C = channelsOf(mean);
  const kernel = movingInPlaceKernels.get(`${C}_${momentum}`, () => {
    const f32 = (name: string) => ({ name, type: 'f32' as const });
    return new RecordedKernel({
      key: `rethinkbn_moving_inplace_${C}_${momentum}`,
      outputs: [],
      updates: [f32('mean'), f32('variance')],
      inputs: [f32('stats')],
      workgroupSize: [THREADS, 1, 1],
      code: `
fn main(index : i32) {
  if (index < ${C}) {
      ${movingUpdate(C, momentum, 'mean', 'mean', 0)}
      ${movingUpdate(C, momentum, 'variance', 'variance', 1)}
  }
}
`,
    });
  });
  recordDispatch(rec, kernel, { inputs: [stats], updates: [mean, variance], outputs: [], groups: wrapGroups(Math.ceil(C / THREADS)) }, submitBatchSize(tf));
  return true;
}

/** Both moving statistics, moving·momentum + batch·(1 − momentum): one recorded dispatch, else two. */
const movingKernel: Factory = (tf) => (args) => {
  const { mean, variance, stats } = args.inputs as { mean: Info; variance: Info; stats: Info };
  const { momentum } = args.attrs as unknown as BnMovingAttrs;
  const C = channelsOf(mean);
  const update = (out: string, moving: string, row: number): string => movingUpdate(C, momentum, out, moving, row);
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
  if (rec !== null) return channelSums(tf, args.backend, x, inputs, { ...o, betaOut: true });
  const [sums] = channelSums(tf, args.backend, x, inputs, { ...o, betaOut: false });
  const row0 = new ElementwiseProgram('row0', [C], ['sums'], 'result[index] = sums[index];');
  return [sums!, runRecordable(args.backend, row0, [sums!], submitBatchSize(tf))];
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
