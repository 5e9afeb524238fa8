// The momentum update on tfjs's WebGPU backend: ONE dispatch writing both w' and v' of a variable
// (RethinkMomentumUpdate), or of several variables (RethinkMomentumUpdateGroup, as many as the device's
// storage-buffer limit binds), instead of the composed update's four to six per variable (each with its
// own scalar upload). tfjs programs have exactly one output buffer, so these dispatches are recorded by
// hand into tfjs's own command stream (../webgpu/record.ts). If tfjs's internals are missing, the
// single-variable kernel falls back to two tfjs programs: v' from (w, v, g), then w' from (w, v').
// Scalars travel as uniforms, so one compiled pipeline serves every learning rate.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type * as tfType from '@tensorflow/tfjs';
import type { MomentumAttrs } from '../../../ops/momentum_math.js';
import { RecordedKernel, recordDispatch, recorderFor, submitBatchSize, writableInPlace, type RecordArgs, type RecordingBackend } from '../record.js';
import { Memo } from '../../../util/memo.js';

type Info = tfType.TensorInfo;

interface WebGpuBackendLike {
  runWebGPUProgram(program: WebGPUProgram, inputs: Info[], dtype: 'float32', uniforms?: { type: string; data: number[] }[]): Info;
}

const WORKGROUP = 256;

class MomentumProgram implements WebGPUProgram {
  readonly outputShape: number[];
  readonly variableNames: string[];
  shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  readonly size = true;
  readonly uniforms = 'lr : f32, mu : f32, decay : f32,';
  private readonly body: string;

  /** `velocity`: v' = v·μ + (g [+ w·λ]); else w' = w − v'·lr (v' bound as `v`). */
  constructor(shape: readonly number[], velocity: boolean, decayed: boolean) {
    this.outputShape = [...shape];
    // Only bound buffers the shader reads: Dawn drops unused bindings from the layout.
    this.variableNames = velocity ? (decayed ? ['w', 'v', 'g'] : ['v', 'g']) : ['w', 'v'];
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    const n = this.outputShape.reduce((a, d) => a * d, 1);
    this.dispatch = [Math.ceil(n / WORKGROUP), 1, 1];
    this.shaderKey = `rethinkmomentum_${velocity ? 'v' : 'w'}${decayed ? 'd' : ''}`;
    // One rounding per line, like the composed ops (WGSL may still contract a*b+c into an FMA).
    const step = decayed ? 'g[index] + w[index] * uniforms.decay' : 'g[index]';
    this.body = velocity
      ? `let s = ${step};\n      let m = v[index] * uniforms.mu;\n      result[index] = m + s;`
      : `let d = v[index] * uniforms.lr;\n      result[index] = w[index] - d;`;
  }

  getUserCode(): string {
    return `
  fn main(index : i32) {
    if (index < uniforms.size) {
      ${this.body}
    }
  }
`;
  }
}

const MAX_GROUPS_X = 65535;

// Separate lets keep one float32 rounding per composed op (no contraction across statements is
// relied on; the tests compare against the composed ops within 1e-6, bitwise on llvmpipe).
// `inPlace`: w' and v' are written over w and v, else into wOut and vOut.
function updateBody(k: number, inPlace: boolean): string {
  const [wOut, vOut] = inPlace ? [`w${k}`, `v${k}`] : [`wOut${k}`, `vOut${k}`];
  return `if (i < u.n${k}) {
    let wi = w${k}[i];
    var s = g${k}[i];
    if (u.d${k} != 0.0) {
      let d = wi * u.d${k};
      s = s + d;
    }
    let m = v${k}[i] * u.mu;
    let vn = m + s;
    ${vOut}[i] = vn;
    let step = vn * u.lr;
    ${wOut}[i] = wi - step;
  }`;
}

/**
 * The update of `count` variables in one dispatch. Out of place: outputs wOut0, vOut0, …; inputs w0,
 * v0, g0, …. In place: w0, v0, w1, v1, … read and written (`updates`); inputs g0, g1, ….
 */
function groupKernel(count: number, inPlace: boolean): RecordedKernel {
  const ks = Array.from({ length: count }, (_, k) => k);
  const f32 = (name: string) => ({ name, type: 'f32' as const });
  const io = inPlace
    ? { outputs: [], updates: ks.flatMap((k) => [f32(`w${k}`), f32(`v${k}`)]), inputs: ks.map((k) => f32(`g${k}`)) }
    : { outputs: ks.flatMap((k) => [f32(`wOut${k}`), f32(`vOut${k}`)]), inputs: ks.flatMap((k) => [f32(`w${k}`), f32(`v${k}`), f32(`g${k}`)]) };
  return new RecordedKernel({
    key: `rethinkmomentum_${inPlace ? 'inplace' : 'group'}${count}`,
    ...io,
    uniforms: true,
    workgroupSize: [WORKGROUP, 1, 1],
    code: `
struct U { lr : f32, mu : f32, ${ks.map((k) => `d${k} : f32, n${k} : i32`).join(', ')} }
fn main(index : i32) {
  let i = i32(globalId.y * ${MAX_GROUPS_X * WORKGROUP}u + globalId.x);
  ${ks.map((k) => updateBody(k, inPlace)).join('\n  ')}
}
`,
  });
}

const groupKernels = new Memo<string, RecordedKernel>();

/** Each variable updated in place binds three storage buffers (w and v read and written, g read). */
const BUFFERS_IN_PLACE = 3;

/** One variable's operands and its L2 coefficient. */
export interface MomentumOperands {
  readonly w: Info;
  readonly v: Info;
  readonly g: Info;
  readonly decay: number;
}

/** The uniforms and grid of one grouped update. */
function groupArgs(vars: readonly MomentumOperands[], lr: number, momentum: number): Pick<RecordArgs, 'uniforms' | 'groups'> {
  const sizes = vars.map((x) => x.w.shape.reduce((p, d) => p * d, 1));
  const groups = Math.ceil(Math.max(...sizes) / WORKGROUP);
  return {
    uniforms: [
      { type: 'float32', data: [lr] },
      { type: 'float32', data: [momentum] },
      ...vars.flatMap((x, k) => [
        { type: 'float32' as const, data: [x.decay] },
        { type: 'int32' as const, data: [sizes[k]!] },
      ]),
    ],
    groups: [Math.min(groups, MAX_GROUPS_X), Math.ceil(groups / MAX_GROUPS_X), 1],
  };
}

/** Records the update of every variable in `vars` as one dispatch; returns [w0', v0', w1', v1', …]. */
function recordGroup(b: RecordingBackend, vars: readonly MomentumOperands[], lr: number, momentum: number, submitBatch: number): Info[] {
  const kernel = groupKernels.get(`${vars.length}`, () => groupKernel(vars.length, false));
  const outputs = vars.flatMap((x) => [
    { shape: x.w.shape, dtype: 'float32' as const },
    { shape: x.w.shape, dtype: 'float32' as const },
  ]);
  return recordDispatch(b, kernel, { inputs: vars.flatMap((x) => [x.w, x.v, x.g]), outputs, ...groupArgs(vars, lr, momentum) }, submitBatch);
}

function recordOnePass(b: RecordingBackend, w: Info, v: Info, g: Info, a: MomentumAttrs, submitBatch: number): Info[] {
  return recordGroup(b, [{ w, v, g, decay: a.decay }], a.lr, a.momentum, submitBatch);
}

/** RethinkMomentumUpdateGroup: several variables' updates in one dispatch (webgpu only). */
export const MOMENTUM_UPDATE_GROUP = 'RethinkMomentumUpdateGroup';

export interface MomentumGroupAttrs {
  readonly lr: number;
  readonly momentum: number;
  /** L2 coefficient per variable, in input order. */
  readonly decays: readonly number[];
}

/** Each variable binds five storage buffers (w, v, g in; w', v' out). */
const BUFFERS_PER_VARIABLE = 5;
const MAX_GROUP = 8;

/**
 * How many variables one RethinkMomentumUpdateGroup dispatch may update on the active backend: the
 * device's storage-buffer limit over five (WebGPU's default limit of 8 gives 1, i.e. no grouping;
 * src/backends/webgpu/navigator_gpu.ts asks Dawn for the adapter's own limit, 16 on llvmpipe).
 */
export function momentumGroupSize(tf: typeof tfType): number {
  const o = webgpuMomentumOptions;
  if (!o.onePass || !o.group || tf.getKernel(MOMENTUM_UPDATE_GROUP, tf.getBackend()) === undefined) return 1;
  const rec = recorderFor(tf.backend());
  return rec === null ? 1 : variablesPerDispatch(rec, BUFFERS_PER_VARIABLE);
}

/** How many variables one in-place update dispatch covers on the active backend (see momentumInPlace). */
export function momentumInPlaceGroupSize(tf: typeof tfType): number {
  const rec = recorderFor(tf.backend());
  return rec === null || !webgpuMomentumOptions.group ? 1 : variablesPerDispatch(rec, BUFFERS_IN_PLACE);
}

/** The device's storage-buffer limit over the buffers one variable binds, at most MAX_GROUP. */
function variablesPerDispatch(rec: RecordingBackend, buffersEach: number): number {
  const limit = (rec.device as { limits?: { maxStorageBuffersPerShaderStage?: number } }).limits?.maxStorageBuffersPerShaderStage ?? 8;
  return Math.max(1, Math.min(MAX_GROUP, Math.floor(limit / buffersEach)));
}

/** Kernel function: inputs w0, v0, g0, w1, …; outputs [w0', v0', w1', v1', …]. */
export const webgpuMomentumGroupKernel =
  (tf: typeof tfType): tfType.KernelFunc =>
  (args) => {
    const a = args.attrs as unknown as MomentumGroupAttrs;
    const inputs = args.inputs as Record<string, Info>;
    const rec = recorderFor(args.backend);
    if (rec === null) throw new Error(`${MOMENTUM_UPDATE_GROUP}: this tfjs-backend-webgpu lacks the internals it records with`);
    const vars = a.decays.map((decay, k) => {
      const [w, v, g] = [inputs[`w${k}`], inputs[`v${k}`], inputs[`g${k}`]];
      if (w === undefined || v === undefined || g === undefined) throw new Error(`${MOMENTUM_UPDATE_GROUP}: missing w${k}, v${k} or g${k}`);
      return { w, v, g, decay };
    });
    const live = vars.filter((x) => x.w.shape.reduce((p, d) => p * d, 1) > 0);
    if (live.length !== vars.length) throw new Error(`${MOMENTUM_UPDATE_GROUP}: empty variables are not grouped`);
    return recordGroup(rec, vars, a.lr, a.momentum, submitBatchSize(tf));
  };

/**
 * Whether updates may use the hand-recorded single dispatch, group variables into one, and write
 * variables in place (tests turn them off to compare).
 */
export const webgpuMomentumOptions = { onePass: true, group: true, inPlace: true };

/**
 * The momentum update written into the variables' and velocities' own buffers, as many variables per
 * dispatch as the device binds (three buffers each), on the active webgpu backend. Returns false,
 * having recorded nothing, where it cannot: another backend, recording off, or a variable or
 * velocity whose data another tensor shares (a clone would see the update).
 *
 * Against the grouped kernel's fresh outputs: no buffers change hands, so every dispatch binds the
 * same buffers step after step and its bind group is cached (src/backends/webgpu/record.ts), and the
 * pool holds one copy of the weights instead of two. The arithmetic is the grouped kernel's.
 */
export function momentumInPlace(tf: typeof tfType, vars: readonly MomentumOperands[], lr: number, momentum: number): boolean {
  const o = webgpuMomentumOptions;
  if (!o.onePass || !o.inPlace || tf.getBackend() !== 'webgpu') return false;
  const rec = recorderFor(tf.backend());
  if (rec === null) return false;
  if (!vars.every((x) => writableInPlace(rec, x.w) && writableInPlace(rec, x.v) && x.w.shape.reduce((p, d) => p * d, 1) > 0)) return false;
  const group = momentumInPlaceGroupSize(tf);
  const submitBatch = submitBatchSize(tf);
  for (let start = 0; start < vars.length; start += group) {
    const chunk = vars.slice(start, start + group);
    const kernel = groupKernels.get(`${chunk.length}_inplace`, () => groupKernel(chunk.length, true));
    recordDispatch(rec, kernel, { inputs: chunk.map((x) => x.g), updates: chunk.flatMap((x) => [x.w, x.v]), outputs: [], ...groupArgs(chunk, lr, momentum) }, submitBatch);
  }
  return true;
}

export const webgpuMomentumKernel = (tf: typeof tfType): tfType.KernelFunc => (args) => {
  const { w, v, g } = args.inputs as { w: Info; v: Info; g: Info };
  const a = args.attrs as unknown as MomentumAttrs;
  const backend = args.backend as unknown as WebGpuBackendLike;
  const rec = recorderFor(backend);
  const n = w.shape.reduce((p, d) => p * d, 1);
  if (webgpuMomentumOptions.onePass && n > 0 && rec !== null) return recordOnePass(rec, w, v, g, a, submitBatchSize(tf));
  const uniforms = [{ type: 'float32', data: [a.lr] }, { type: 'float32', data: [a.momentum] }, { type: 'float32', data: [a.decay] }];
  const decayed = a.decay !== 0;
  const vNext = backend.runWebGPUProgram(new MomentumProgram(w.shape, true, decayed), decayed ? [w, v, g] : [v, g], 'float32', uniforms);
  const wNext = backend.runWebGPUProgram(new MomentumProgram(w.shape, false, false), [w, vNext], 'float32', uniforms);
  return [wNext, vNext];
};
