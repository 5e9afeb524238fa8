// RethinkMomentumUpdate on tfjs's WebGPU backend: ONE dispatch per variable writing both w' and v',
// instead of the composed update's four to six (each with its own scalar upload). tfjs programs have
// exactly one output buffer, so this dispatch is recorded by hand into tfjs's own compute pass, the
// way WebGPUBackend.recordAndSubmit does (tfjs-backend-webgpu 4.22 internals, checked at call time).
// While tf.profile times kernels, and if those internals are missing, it falls back to two tfjs
// programs: v' from (w, v, g), then w' from (w, v'). Scalars travel as uniforms, so one compiled
// pipeline serves every learning rate.
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

/** What the one-dispatch path uses of WebGPUBackend (internals of tfjs-backend-webgpu 4.22). */
interface RecordingBackend {
  readonly device: GPUDevice;
  readonly commandQueueOwnedIds: { add(id: object): unknown };
  readonly activeTimers: unknown;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  makeTensorInfo(shape: number[], dtype: 'float32'): Info;
  uploadToGPU(dataId: object): void;
  tensorToBinding(t: Info): GPUBindingResource;
  makeUniforms(u: { type: string; data: number[] }[]): GPUBindingResource;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

function canRecord(b: Partial<RecordingBackend>): b is RecordingBackend {
  return (
    b.device !== undefined &&
    typeof b.commandQueueOwnedIds?.add === 'function' &&
    typeof b.dispatchCountInPass === 'number' &&
    [b.makeTensorInfo, b.uploadToGPU, b.tensorToBinding, b.makeUniforms, b.ensureCommandEncoderReady, b.endComputePassEncoder, b.submitQueue].every(
      (f) => typeof f === 'function',
    )
  );
}

const MAX_GROUPS_X = 65535;

// Separate lets keep one float32 rounding per composed op (no contraction across statements is
// relied on; the tests compare against the composed ops within 1e-6, bitwise on llvmpipe).
const ONE_PASS_WGSL = `
struct U { lr : f32, mu : f32, decay : f32, n : i32 }
@group(0) @binding(0) var<storage, read_write> wOut : array<f32>;
@group(0) @binding(1) var<storage, read_write> vOut : array<f32>;
@group(0) @binding(2) var<storage, read> w : array<f32>;
@group(0) @binding(3) var<storage, read> v : array<f32>;
@group(0) @binding(4) var<storage, read> g : array<f32>;
@group(0) @binding(5) var<uniform> u : U;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let i = i32(gid.y * ${MAX_GROUPS_X * WORKGROUP}u + gid.x);
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
`;

const pipelines = new WeakMap<GPUDevice, GPUComputePipeline>();

function pipelineFor(device: GPUDevice): GPUComputePipeline {
  let p = pipelines.get(device);
  if (p === undefined) {
    p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: ONE_PASS_WGSL }), entryPoint: 'main' } });
    pipelines.set(device, p);
  }
  return p;
}

function recordOnePass(b: RecordingBackend, w: Info, v: Info, g: Info, a: MomentumAttrs, submitBatch: number): Info[] {
  const n = w.shape.reduce((p, d) => p * d, 1);
  const wOut = b.makeTensorInfo([...w.shape], 'float32');
  const vOut = b.makeTensorInfo([...w.shape], 'float32');
  const all = [wOut, vOut, w, v, g];
  for (const t of all) b.uploadToGPU(t.dataId); // allocates the outputs' buffers
  const pipeline = pipelineFor(b.device);
  const uniforms = b.makeUniforms([
    { type: 'float32', data: [a.lr] },
    { type: 'float32', data: [a.momentum] },
    { type: 'float32', data: [a.decay] },
    { type: 'int32', data: [n] },
  ]);
  const bindGroup = b.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [...all.map((t, i) => ({ binding: i, resource: b.tensorToBinding(t) })), { binding: all.length, resource: uniforms }],
  });
  for (const t of all) b.commandQueueOwnedIds.add(t.dataId);
  b.ensureCommandEncoderReady();
  b.computePassEncoder ??= b.commandEncoder!.beginComputePass({});
  const groups = Math.ceil(n / WORKGROUP);
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(Math.min(groups, MAX_GROUPS_X), Math.ceil(groups / MAX_GROUPS_X), 1);
  b.dispatchCountInPass++;
  if (submitBatch <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  return [wOut, vOut];
}

/** Whether the next update may use the hand-recorded single dispatch (tests turn it off to compare). */
export const webgpuMomentumOptions = { onePass: true };

export const webgpuMomentumKernel = (tf: typeof tfType): tfType.KernelFunc => (args) => {
  const { w, v, g } = args.inputs as { w: Info; v: Info; g: Info };
  const a = args.attrs as unknown as MomentumAttrs;
  const backend = args.backend as unknown as WebGpuBackendLike;
  const rec = backend as unknown as Partial<RecordingBackend>;
  const n = w.shape.reduce((p, d) => p * d, 1);
  if (webgpuMomentumOptions.onePass && n > 0 && rec.activeTimers == null && canRecord(rec)) {
    const submitBatch = Number(tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'));
    return recordOnePass(rec, w, v, g, a, submitBatch);
  }
  const uniforms = [{ type: 'float32', data: [a.lr] }, { type: 'float32', data: [a.momentum] }, { type: 'float32', data: [a.decay] }];
  const decayed = a.decay !== 0;
  const vNext = backend.runWebGPUProgram(new MomentumProgram(w.shape, true, decayed), decayed ? [w, v, g] : [v, g], 'float32', uniforms);
  const wNext = backend.runWebGPUProgram(new MomentumProgram(w.shape, false, false), [w, vNext], 'float32', uniforms);
  return [wNext, vNext];
};
