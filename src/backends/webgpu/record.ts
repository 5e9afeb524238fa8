// Hand-recorded dispatches into tfjs-backend-webgpu's own command stream, for kernels tfjs's program
// model cannot express or makes slow:
// - a tfjs program has exactly one output buffer; a training kernel often has several (a layer's weight
//   and bias gradients, a loss with its gradient and accuracy, a weight and its velocity);
// - runWebGPUProgram spends its ~60–100 µs per call mostly in JavaScript: a shader key string built from
//   every input's shape, a uniform buffer of NaN/Inf/shapes/strides written per call, a fresh bind group.
//   Our kernels bake their shapes into the WGSL, so they need no uniforms at all, and build the key once.
// Recording follows WebGPUBackend.recordAndSubmit (tfjs-backend-webgpu 4.22): outputs get buffers via
// uploadToGPU, every buffer is marked as owned by the queued commands, the dispatch goes into tfjs's open
// compute pass (or its own timestamped pass while tf.profile runs), and the queue is submitted every
// WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches as tfjs does. The internals are checked before use;
// `recorderFor` returns null without them, and callers keep a composed fallback.
import type * as tfType from '@tensorflow/tfjs';
import { Memo } from '../../util/memo.js';
import { ENV } from '../../util/env.js';

type Info = tfType.TensorInfo;

/** What recording uses of WebGPUBackend (internals of tfjs-backend-webgpu 4.22). */
export interface RecordingBackend {
  readonly device: GPUDevice;
  /** The backend's own record of each tensor: `dtype` is how its data is stored, which can differ
   * from the tensor's (tfjs casts int32 to float32 by relabelling the int32 data). */
  readonly tensorMap: { get(dataId: object): { readonly dtype: tfType.DataType; values?: unknown; readonly resource?: unknown; refCount?: number } | undefined };
  readonly commandQueueOwnedIds: { add(id: object): unknown };
  readonly activeTimers: { push(t: { name: string; query: Promise<number> }): unknown } | null | undefined;
  readonly supportTimestampQuery: boolean;
  querySet: GPUQuerySet | null;
  readonly querySetCount: number;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  makeTensorInfo(shape: number[], dtype: tfType.DataType): Info;
  uploadToGPU(dataId: object): void;
  tensorToBinding(t: Info): GPUBindingResource;
  makeUniforms(u: { type: string; data: number[] }[]): GPUBindingResource;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  getQueryTime(): Promise<number>;
  disposeData(dataId: object): boolean;
}

const METHODS = [
  'makeTensorInfo',
  'uploadToGPU',
  'tensorToBinding',
  'makeUniforms',
  'ensureCommandEncoderReady',
  'endComputePassEncoder',
  'submitQueue',
  'getQueryTime',
  'disposeData',
] as const;

/**
 * Whether recording is allowed: RETHINK_WEBGPU_RECORD=off sends every kernel through tfjs's own
 * runWebGPUProgram and the composed ops instead (the benchmark's before/after; tests flip it).
 */
export const recordOptions = { enabled: ENV.webgpuRecord.read() };

// Called several times per kernel, so the structural check runs once per backend object.
const checked = new WeakMap<object, boolean>();

function hasInternals(backend: object): boolean {
  let ok = checked.get(backend);
  if (ok === undefined) {
    const b = backend as Partial<Record<string, unknown>> & Partial<RecordingBackend>;
    ok =
      b.device !== undefined &&
      typeof b.commandQueueOwnedIds?.add === 'function' &&
      typeof b.tensorMap?.get === 'function' &&
      typeof b.dispatchCountInPass === 'number' &&
      METHODS.every((m) => typeof b[m] === 'function');
    checked.set(backend, ok);
  }
  return ok;
}

/** The backend as a recorder, or null when recording is off or the backend lacks its internals. */
export function recorderFor(backend: unknown): RecordingBackend | null {
  if (!recordOptions.enabled || typeof backend !== 'object' || backend === null) return null;
  return hasInternals(backend) ? (backend as RecordingBackend) : null;
}

/** Workgroups per grid row of a 1-D dispatch: more wrap into y (WebGPU allows 65535 per dimension). */
export const MAX_GROUPS_X = 32768;

/** The grid for `groups` workgroups of a 1-D kernel, wrapped into rows of MAX_GROUPS_X. */
export function wrapGroups(groups: number): [number, number, number] {
  return [Math.min(groups, MAX_GROUPS_X), Math.ceil(groups / MAX_GROUPS_X), 1];
}

export interface BindingDecl {
  readonly name: string;
  /** WGSL element type of the storage array. */
  readonly type: 'f32' | 'i32';
}

/**
 * A compute shader with its own bindings: outputs (read_write storage) first, then tensors it updates
 * in place (read_write), then inputs (read-only storage), then an optional uniform struct `u` of type
 * `U` that `code` declares. `code` is written in
 * tfjs's user-code style: it defines `fn main(index : i32)` and may read `localId`, `workgroupId`,
 * `localIndex` and `globalId` (copied from the builtins as tfjs's prelude does).
 */
export class RecordedKernel {
  readonly key: string;
  readonly outputs: readonly BindingDecl[];
  readonly updates: readonly BindingDecl[];
  readonly inputs: readonly BindingDecl[];
  readonly uniforms: boolean;
  private readonly wgsl: string;
  private readonly compiled = new WeakMap<GPUDevice, CompiledKernel>();

  constructor(o: {
    key: string;
    outputs: readonly BindingDecl[];
    updates?: readonly BindingDecl[];
    inputs: readonly BindingDecl[];
    workgroupSize: readonly [number, number, number];
    code: string;
    uniforms?: boolean;
  }) {
    this.key = o.key;
    this.outputs = o.outputs;
    this.updates = o.updates ?? [];
    this.inputs = o.inputs;
    this.uniforms = o.uniforms === true;
    const writable = [...this.outputs, ...this.updates];
    const decls = [
      ...writable.map((d, i) => `@group(0) @binding(${i}) var<storage, read_write> ${d.name} : array<${d.type}>;`),
      ...o.inputs.map((d, i) => `@group(0) @binding(${writable.length + i}) var<storage, read> ${d.name} : array<${d.type}>;`),
    ];
    if (this.uniforms) decls.push(`@group(0) @binding(${writable.length + o.inputs.length}) var<uniform> u : U;`);
    const [x, y, z] = o.workgroupSize;
    this.wgsl = `${decls.join('\n')}
var<private> localId : vec3<u32>;
var<private> workgroupId : vec3<u32>;
var<private> globalId : vec3<u32>;
var<private> localIndex : u32;
${o.code}
@compute @workgroup_size(${x}, ${y}, ${z})
fn _start(@builtin(local_invocation_id) lid : vec3<u32>, @builtin(workgroup_id) wid : vec3<u32>,
          @builtin(global_invocation_id) gid : vec3<u32>, @builtin(local_invocation_index) lidx : u32,
          @builtin(num_workgroups) groups : vec3<u32>) {
  localId = lid;
  workgroupId = wid;
  globalId = gid;
  localIndex = lidx;
  // The flat invocation index over a 1-, 2- or 3-D dispatch, as tfjs's prelude passes it.
  main(i32(((wid.z * groups.y + wid.y) * groups.x + wid.x) * ${x * y * z}u + lidx));
}
`;
  }

  /** The pipeline, its bind group layout and bind group cache on `device` (compiled on first use). */
  on(device: GPUDevice): CompiledKernel {
    return this.compiled.get(device) ?? this.keep(device, device.createComputePipeline(this.pipelineDescriptor(device)));
  }

  /** As `on`, compiling without blocking (the GEMM tuner compiles its candidates side by side). */
  async onAsync(device: GPUDevice): Promise<CompiledKernel> {
    const c = this.compiled.get(device);
    if (c !== undefined) return c;
    const pipeline = await device.createComputePipelineAsync(this.pipelineDescriptor(device));
    return this.compiled.get(device) ?? this.keep(device, pipeline);
  }

  private pipelineDescriptor(device: GPUDevice): GPUComputePipelineDescriptor {
    // Labelled with the key: Dawn names it in validation errors, and tests see which kernel ran.
    return { label: this.key, layout: 'auto', compute: { module: device.createShaderModule({ label: this.key, code: this.wgsl }), entryPoint: '_start' } };
  }

  private keep(device: GPUDevice, pipeline: GPUComputePipeline): CompiledKernel {
    const c: CompiledKernel = { pipeline, layout: pipeline.getBindGroupLayout(0), bindGroups: [] };
    this.compiled.set(device, c);
    return c;
  }
}

/** Threads per workgroup of a flatKernel (its grid: wrapGroups(⌈elements / FLAT_THREADS⌉)). */
export const FLAT_THREADS = 256;

const flatKernels = new Memo<string, RecordedKernel>();

/**
 * A one-output kernel over a flat index (`result` and f32 `inputs`, 256 threads a workgroup, an
 * optional uniform struct U), made once per key: the key must name every constant `code` bakes in.
 */
export function flatKernel(key: string, inputs: readonly string[], code: string, uniforms = false): RecordedKernel {
  return flatKernels.get(
    key,
    () =>
      new RecordedKernel({
        key,
        outputs: [{ name: 'result', type: 'f32' }],
        inputs: inputs.map((name) => ({ name, type: 'f32' as const })),
        uniforms,
        workgroupSize: [FLAT_THREADS, 1, 1],
        code,
      }),
  );
}

export interface CompiledKernel {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** Bind groups with the buffer bindings they were made for, most recently used first. */
  readonly bindGroups: CachedBindGroup[];
}

interface CachedBindGroup {
  readonly bindings: readonly GPUBufferBinding[];
  readonly group: GPUBindGroup;
}

// Creating a bind group is the largest single cost of a dispatch in JavaScript (≈17 µs through
// dawn.node on this project's CI machine, against ≈3 µs for setPipeline + setBindGroup + dispatch).
// tfjs's buffer manager hands tensors pooled buffers that it never destroys while the backend lives,
// and a training step allocates the same buffers in the same order every step (submitEncoded), so the
// same few buffer combinations recur: a small cache per kernel, searched by buffer identity, serves
// them. A linear scan of a short most-recently-used list compares object identities and allocates
// nothing; a kernel used at several sites of a step finds each site's entry near the front.
const BIND_GROUPS_PER_KERNEL = 64;
const bufferIds = new WeakMap<object, number>();
let nextBufferId = 1;

/** A stable number per buffer, in order of first sight (orders tfjs's free lists; see submitEncoded). */
function bufferId(b: object): number {
  let id = bufferIds.get(b);
  if (id === undefined) {
    id = nextBufferId++;
    bufferIds.set(b, id);
  }
  return id;
}

function sameBindings(a: readonly GPUBufferBinding[], b: readonly GPUBindingResource[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i] as GPUBufferBinding;
    if (x.buffer !== y.buffer || (x.offset ?? 0) !== (y.offset ?? 0) || (x.size ?? -1) !== (y.size ?? -1)) return false;
  }
  return true;
}

function bindGroupFor(device: GPUDevice, c: CompiledKernel, resources: readonly GPUBindingResource[]): GPUBindGroup {
  const list = c.bindGroups;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (!sameBindings(e.bindings, resources)) continue;
    if (i > 0) {
      list.splice(i, 1);
      list.unshift(e);
    }
    return e.group;
  }
  const group = device.createBindGroup({ layout: c.layout, entries: resources.map((resource, binding) => ({ binding, resource })) });
  // Only buffer bindings (all that recording binds) are cached: their identity is the key.
  if (resources.every((r) => typeof r === 'object' && r !== null && (r as Partial<GPUBufferBinding>).buffer !== undefined)) {
    list.unshift({ bindings: resources.map((r) => ({ ...(r as GPUBufferBinding) })), group });
    if (list.length > BIND_GROUPS_PER_KERNEL) list.pop();
  }
  return group;
}

export interface RecordArgs {
  readonly inputs: readonly Info[];
  /** Tensors the kernel writes in place (its `updates` bindings), e.g. a variable and its velocity. */
  readonly updates?: readonly Info[];
  /** Shapes and dtypes of the outputs to allocate, in the kernel's output order. */
  readonly outputs: readonly { readonly shape: readonly number[]; readonly dtype: 'float32' | 'int32' }[];
  readonly groups: readonly [number, number, number];
  /** Uniform fields in the order of the kernel's struct U (tfjs's alignment rules apply). */
  readonly uniforms?: readonly { type: 'float32' | 'int32'; data: number[] }[];
}

/** How `t`'s data is stored on `b`: its dtype, except where tfjs relabelled data of another type. */
export function storedDtype(b: RecordingBackend, t: Info): tfType.DataType {
  return b.tensorMap.get(t.dataId)?.dtype ?? t.dtype;
}

const BINDING_DTYPES: Readonly<Record<BindingDecl['type'], readonly tfType.DataType[]>> = { f32: ['float32'], i32: ['int32', 'bool'] };

/**
 * Whether a kernel may write `t` in place: no other tensor shares its data (tfjs's clones and a
 * variable's initial value share a buffer, counted by the backend's refCount).
 */
export function writableInPlace(b: RecordingBackend, t: Info): boolean {
  return b.tensorMap.get(t.dataId)?.refCount === 1;
}

/** Records one dispatch of `kernel` and returns its freshly allocated outputs. */
export function recordDispatch(b: RecordingBackend, kernel: RecordedKernel, a: RecordArgs, submitBatch: number): Info[] {
  const updates = a.updates ?? [];
  if (a.inputs.length !== kernel.inputs.length || a.outputs.length !== kernel.outputs.length || updates.length !== kernel.updates.length) {
    throw new Error(`${kernel.key}: expected ${kernel.inputs.length} inputs, ${kernel.updates.length} updated tensors and ${kernel.outputs.length} outputs`);
  }
  const bound: [BindingDecl, Info][] = [...kernel.updates.map((d, i) => [d, updates[i]!] as [BindingDecl, Info]), ...kernel.inputs.map((d, i) => [d, a.inputs[i]!] as [BindingDecl, Info])];
  for (const [decl, t] of bound) {
    const stored = storedDtype(b, t);
    // Reading int32 bits as f32 would give garbage, not an error: refuse instead.
    if (!BINDING_DTYPES[decl.type].includes(stored)) throw new Error(`${kernel.key}: input '${decl.name}' is stored as ${stored}, the kernel reads ${decl.type}`);
  }
  for (const t of updates) if (!writableInPlace(b, t)) throw new Error(`${kernel.key}: a tensor it would update in place shares its data with another`);
  const outs = a.outputs.map((o) => b.makeTensorInfo([...o.shape], o.dtype));
  const all = [...outs, ...updates, ...a.inputs];
  for (const t of all) b.uploadToGPU(t.dataId); // allocates the outputs' buffers
  // Written in place: a copy tfjs cached on the CPU by an earlier read would be stale.
  for (const t of updates) b.tensorMap.get(t.dataId)!.values = null;
  const compiled = kernel.on(b.device);
  const resources = all.map((t) => b.tensorToBinding(t));
  if (kernel.uniforms) resources.push(b.makeUniforms((a.uniforms ?? []).map((u) => ({ ...u }))));
  const bindGroup = bindGroupFor(b.device, compiled, resources);
  for (const t of all) b.commandQueueOwnedIds.add(t.dataId);
  b.ensureCommandEncoderReady();
  const timed = b.activeTimers != null;
  if (timed) {
    // As tfjs times its programs under tf.profile: a pass of its own with timestamps around it.
    b.endComputePassEncoder();
    let descriptor: GPUComputePassDescriptor = {};
    if (b.supportTimestampQuery) {
      b.querySet ??= b.device.createQuerySet({ type: 'timestamp', count: b.querySetCount });
      descriptor = { timestampWrites: { querySet: b.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } };
    }
    b.computePassEncoder = b.commandEncoder!.beginComputePass(descriptor);
  } else {
    b.computePassEncoder ??= b.commandEncoder!.beginComputePass({});
  }
  b.computePassEncoder.setPipeline(compiled.pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(a.groups[0], a.groups[1], a.groups[2]);
  b.dispatchCountInPass++;
  if (timed) {
    b.endComputePassEncoder();
    b.activeTimers!.push({ name: kernel.key, query: b.getQueryTime() });
  } else if (submitBatch <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  return outs;
}

/**
 * Submits what tfjs has encoded so far, if anything (a no-op off webgpu). tfjs hands a disposed
 * tensor's buffer back to its pool only at a submission, and submits every
 * WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches, so which pooled buffer a tensor gets depends on where
 * the submissions fell. A loop that submits at the end of each iteration makes every iteration allocate
 * the same buffers in the same order, and the recorded kernels' bind groups all come from the cache.
 */
export function submitEncoded(backend: unknown): void {
  const rec = recorderFor(backend);
  if (rec === null) return;
  if (rec.commandEncoder !== null) {
    rec.endComputePassEncoder();
    rec.submitQueue();
  }
  const free = (backend as { bufferManager?: { freeBuffers?: unknown } }).bufferManager?.freeBuffers;
  if (free instanceof Map) for (const list of free.values()) if (Array.isArray(list)) list.sort((a: object, b: object) => bufferId(a) - bufferId(b));
}

/** tfjs's submit batch size (WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE), read per call as tfjs does. */
export function submitBatchSize(tf: typeof tfType): number {
  return Number(tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'));
}

/**
 * One of this project's tfjs-style programs (shapes baked into the WGSL, shaderKey naming every
 * constant) that can also run as a recorded dispatch: `recordedCode()` is its user code without the
 * tfjs uniforms (uniforms.NAN, uniforms.size) that only runWebGPUProgram binds.
 */
export interface RecordableProgram {
  readonly shaderKey: string;
  readonly variableNames: readonly string[];
  readonly outputShape: readonly number[];
  readonly workgroupSize: readonly [number, number, number];
  readonly dispatch: readonly [number, number, number];
  /** Outputs after `result` that recordedCode() writes too (recorded dispatches only). */
  readonly extraOutputs?: readonly { readonly name: string; readonly shape: readonly number[] }[];
  recordedCode(): string;
}

/** What a program declares besides its code; every shape is fixed when it is made, and shaderKey (tfjs
 * caches pipelines by it alone) names every constant baked into the WGSL. */
export type ProgramShape = Omit<RecordableProgram, 'recordedCode'>;

/**
 * Base of this project's tfjs programs: each writes its WGSL once, `code(recorded)`, and gets both the
 * user code tfjs compiles (with its uniforms) and the one recorded dispatches compile (without).
 */
export abstract class OwnProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  /** tfjs rewrites shaderKey and dispatch as it runs a program. */
  shaderKey: string;
  dispatch: [number, number, number];
  readonly dispatchLayout: { x: number[] };
  readonly workgroupSize: [number, number, number];
  readonly extraOutputs: { name: string; shape: number[] }[];

  constructor(p: ProgramShape) {
    this.variableNames = [...p.variableNames];
    this.outputShape = [...p.outputShape];
    this.shaderKey = p.shaderKey;
    this.dispatch = [...p.dispatch];
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    this.workgroupSize = [...p.workgroupSize];
    this.extraOutputs = (p.extraOutputs ?? []).map((o) => ({ name: o.name, shape: [...o.shape] }));
  }

  getUserCode(): string {
    return this.code(false);
  }

  recordedCode(): string {
    return this.code(true);
  }

  /** `recorded`: no reference to tfjs's uniforms (uniforms.NAN, uniforms.size), which only tfjs binds. */
  protected abstract code(recorded: boolean): string;
}

interface ProgramRunner {
  runWebGPUProgram(program: never, inputs: readonly Info[], dtype: 'float32'): Info;
}

const programKernels = new Memo<string, { readonly kernel: RecordedKernel; readonly size: number }>();

/**
 * Runs `program` as a recorded dispatch where the backend allows (less JavaScript per call than
 * runWebGPUProgram), else through tfjs. `submitBatch`: tfjs's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE.
 * Programs with extra outputs need a recorder (see recordProgram).
 */
export function runRecordable(backend: unknown, program: RecordableProgram, inputs: readonly Info[], submitBatch: number): Info {
  const rec = recorderFor(backend);
  if (rec === null) {
    if ((program.extraOutputs?.length ?? 0) > 0) throw new Error(`${program.shaderKey}: several outputs need a recorded dispatch`);
    return (backend as ProgramRunner).runWebGPUProgram(program as never, inputs, 'float32');
  }
  return recordProgram(rec, program, inputs, submitBatch)[0]!;
}

/**
 * The recorded kernel `program` runs as (one per shaderKey): `result` and extra outputs, then inputs.
 * A recorded kernel has its sizes baked in, so a shaderKey that does not name them all would hand one
 * size's kernel to another: a second output size under the same key throws instead.
 */
export function programKernel(program: RecordableProgram): RecordedKernel {
  const size = program.outputShape.reduce((a, d) => a * d, 1);
  const made = programKernels.get(program.shaderKey, () => {
    const extra = program.extraOutputs ?? [];
    const kernel = new RecordedKernel({
      key: program.shaderKey,
      outputs: [{ name: 'result', type: 'f32' }, ...extra.map((o) => ({ name: o.name, type: 'f32' as const }))],
      inputs: program.variableNames.map((name) => ({ name, type: 'f32' as const })),
      workgroupSize: program.workgroupSize,
      code: program.recordedCode(),
    });
    return { kernel, size };
  });
  if (made.size !== size) throw new Error(`${program.shaderKey}: this key was compiled for ${made.size} outputs, not ${size}; the key must name every size`);
  return made.kernel;
}

/** Records `program`: returns `result` then its extra outputs. */
export function recordProgram(rec: RecordingBackend, program: RecordableProgram, inputs: readonly Info[], submitBatch: number): Info[] {
  const extra = program.extraOutputs ?? [];
  const kernel = programKernel(program);
  const outputs = [program.outputShape, ...extra.map((o) => o.shape)].map((shape) => ({ shape, dtype: 'float32' as const }));
  return recordDispatch(rec, kernel, { inputs, outputs, groups: program.dispatch }, submitBatch);
}
