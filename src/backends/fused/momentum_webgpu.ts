// RethinkMomentumUpdate on tfjs's WebGPU backend: ONE dispatch per variable writing both w' and v',
// instead of the composed update's four to six (each with its own scalar upload). tfjs programs have
// exactly one output buffer, so this dispatch is recorded by hand into tfjs's own command stream
// (../webgpu/record.ts). If tfjs's internals are missing it falls back to two tfjs programs: v' from
// (w, v, g), then w' from (w, v'). Scalars travel as uniforms, so one compiled pipeline serves every
// learning rate.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type * as tfType from '@tensorflow/tfjs';
import type { MomentumAttrs } from './momentum_math.js';
import { RecordedKernel, recordDispatch, recorderFor, submitBatchSize, type RecordingBackend } from '../webgpu/record.js';

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
const ONE_PASS = new RecordedKernel({
  key: 'rethinkmomentum_onepass',
  outputs: [
    { name: 'wOut', type: 'f32' },
    { name: 'vOut', type: 'f32' },
  ],
  inputs: [
    { name: 'w', type: 'f32' },
    { name: 'v', type: 'f32' },
    { name: 'g', type: 'f32' },
  ],
  uniforms: true,
  workgroupSize: [WORKGROUP, 1, 1],
  code: `
struct U { lr : f32, mu : f32, decay : f32, n : i32 }
fn main(index : i32) {
  let i = i32(globalId.y * ${MAX_GROUPS_X * WORKGROUP}u + globalId.x);
  if (i >= u.n) { return; }
  let wi = w[i];
  var s = g[i];
  if (u.decay != 0.0) {
    let d = wi * u.decay;
    s = s + d;
  }
  let m = v[i] * u.mu;
  let vn = m + s;
  vOut[i] = vn;
  let step = vn * u.lr;
  wOut[i] = wi - step;
}
`,
});

function recordOnePass(b: RecordingBackend, w: Info, v: Info, g: Info, a: MomentumAttrs, submitBatch: number): Info[] {
  const n = w.shape.reduce((p, d) => p * d, 1);
  const groups = Math.ceil(n / WORKGROUP);
  return recordDispatch(
    b,
    ONE_PASS,
    {
      inputs: [w, v, g],
      outputs: [
        { shape: w.shape, dtype: 'float32' },
        { shape: w.shape, dtype: 'float32' },
      ],
      uniforms: [
        { type: 'float32', data: [a.lr] },
        { type: 'float32', data: [a.momentum] },
        { type: 'float32', data: [a.decay] },
        { type: 'int32', data: [n] },
      ],
      groups: [Math.min(groups, MAX_GROUPS_X), Math.ceil(groups / MAX_GROUPS_X), 1],
    },
    submitBatch,
  );
}

/** Whether the next update may use the hand-recorded single dispatch (tests turn it off to compare). */
export const webgpuMomentumOptions = { onePass: true };

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
