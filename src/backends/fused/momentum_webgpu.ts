// RethinkMomentumUpdate on tfjs's WebGPU backend: two element-wise dispatches per variable, v' from
// (w, v, g) and then w' from (w, v'), instead of the composed update's four to six (each with its
// own scalar upload). tfjs programs have exactly one output buffer, hence two programs, not one.
// The scalars travel as uniforms, so one compiled pipeline serves every learning rate.
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import type * as tfType from '@tensorflow/tfjs';
import type { MomentumAttrs } from './momentum_math.js';

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

export const webgpuMomentumKernel: tfType.KernelFunc = (args) => {
  const { w, v, g } = args.inputs as { w: Info; v: Info; g: Info };
  const a = args.attrs as unknown as MomentumAttrs;
  const backend = args.backend as unknown as WebGpuBackendLike;
  const uniforms = [{ type: 'float32', data: [a.lr] }, { type: 'float32', data: [a.momentum] }, { type: 'float32', data: [a.decay] }];
  const decayed = a.decay !== 0;
  const vNext = backend.runWebGPUProgram(new MomentumProgram(w.shape, true, decayed), decayed ? [w, v, g] : [v, g], 'float32', uniforms);
  const wNext = backend.runWebGPUProgram(new MomentumProgram(w.shape, false, false), [w, vNext], 'float32', uniforms);
  return [wNext, vNext];
};
