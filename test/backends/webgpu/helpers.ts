// Shared by the WebGPU kernel tests: start the backend once (software adapter allowed), seeded inputs,
// and a cpu reference run of the same kernel.
import type * as tfType from '@tensorflow/tfjs';
import { probeGpu } from '../../../src/backends/webgpu/navigator_gpu.js';
import { tryInitWebGpu } from '../../../src/backends/webgpu/init.js';
import { Rng } from '../../../src/util/random.js';
import type { BackendSession } from '../../../src/backends/session.js';

export type Tf = typeof tfType;

/** The tfjs module with 'webgpu' ready, or the reason the tests must skip. */
export async function webgpuOrSkipReason(): Promise<{ readonly tf: Tf } | { readonly skip: string }> {
  const probe = await probeGpu();
  if (!probe.ok) return { skip: `no WebGPU adapter (${probe.reason}: ${probe.detail}); on Debian run scripts/ci/install-mesa.sh` };
  const info = await tryInitWebGpu({ allowSoftware: true });
  if (info === null) return { skip: 'the tfjs webgpu backend did not start' };
  const tf = await import('@tensorflow/tfjs');
  return { tf };
}

export function randomArray(seed: number, label: string, size: number): Float32Array {
  const rng = Rng.derive(seed, 'webgpu-test', label);
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.normal();
  return a;
}

export { relL2 } from '../../support/numerics.js';

/** The session training would get on `backend` (cpu: with its fused momentum kernel registered). */
export async function sessionOf(tf: Tf, backend: 'cpu' | 'webgpu'): Promise<BackendSession> {
  const info = { name: backend, tfBackend: backend, threads: 1, versions: {} };
  if (backend === 'webgpu') return (await import('../../../src/backends/webgpu/session.js')).webgpuSession(tf, info);
  (await import('../../../src/backends/cpu/register.js')).registerCpuKernels(tf);
  return (await import('../../../src/backends/cpu/session.js')).cpuSession(tf, info);
}

export interface KernelInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** Runs one kernel by name on `backend` with fresh tensors; returns the output's values and shape. */
export async function runKernelOn(
  tf: Tf,
  backend: 'cpu' | 'webgpu',
  kernel: string,
  inputs: readonly KernelInput[],
  attrs: Record<string, unknown>,
): Promise<{ readonly values: Float32Array; readonly shape: readonly number[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const ts: Record<string, tfType.Tensor> = {};
  for (const i of inputs) ts[i.name] = tf.tensor(i.values, [...i.shape], 'float32');
  const out = tf.engine().runKernel(kernel, ts as unknown as tfType.NamedTensorMap, attrs as tfType.NamedAttrMap) as tfType.Tensor;
  const values = (await out.data()) as Float32Array;
  const shape = out.shape;
  out.dispose();
  for (const t of Object.values(ts)) t.dispose();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`${kernel} on ${backend} leaked ${after - before} tensor(s)`);
  return { values, shape };
}

/** Records the arguments of every call of `method` on the prototype of `instance` (so on every object
 * of its class) until stop(). */
function recordCalls(instance: object, method: string): { stop(): unknown[][] } {
  const proto = Object.getPrototypeOf(instance) as Record<string, (...a: unknown[]) => unknown>;
  const orig = proto[method]!;
  const calls: unknown[][] = [];
  proto[method] = function (this: unknown, ...a: unknown[]) {
    calls.push(a);
    return orig.apply(this, a);
  };
  return {
    stop() {
      proto[method] = orig;
      return calls;
    },
  };
}

function countCalls(instance: object, method: string): { stop(): number } {
  const r = recordCalls(instance, method);
  return { stop: () => r.stop().length };
}

const deviceOf = (tf: Tf): GPUDevice => (tf.backend() as unknown as { device: GPUDevice }).device;

/** Counts GPU dispatches of every kind (tfjs programs and recorded kernels) on the active webgpu backend. */
export function countDispatches(tf: Tf): { stop(): number } {
  const pass = deviceOf(tf).createCommandEncoder().beginComputePass();
  pass.end();
  return countCalls(pass, 'dispatchWorkgroups');
}

/** The workgroup grid of every GPU dispatch on the active webgpu backend until stop(), as [x, y, z]. */
export function recordDispatchGrids(tf: Tf): { stop(): [number, number, number][] } {
  const pass = deviceOf(tf).createCommandEncoder().beginComputePass();
  pass.end();
  const r = recordCalls(pass, 'dispatchWorkgroups');
  return { stop: () => r.stop().map(([x, y, z]) => [x as number, (y as number | undefined) ?? 1, (z as number | undefined) ?? 1]) };
}

/**
 * The label of every compute pipeline set on the active webgpu backend until stop(): a recorded
 * kernel's key (src/backends/webgpu/record.ts labels its pipelines), '' for tfjs's programs.
 */
export function recordPipelineLabels(tf: Tf): { stop(): string[] } {
  const pass = deviceOf(tf).createCommandEncoder().beginComputePass();
  pass.end();
  const r = recordCalls(pass, 'setPipeline');
  return { stop: () => r.stop().map(([p]) => (p as { label?: string }).label ?? '') };
}

/** Counts device.createBindGroup calls on the active webgpu backend. */
export function countBindGroups(tf: Tf): { stop(): number } {
  return countCalls(deviceOf(tf), 'createBindGroup');
}

/** Counts device.createBuffer calls (tfjs's pool misses and upload staging buffers). */
export function countBuffers(tf: Tf): { stop(): number } {
  return countCalls(deviceOf(tf), 'createBuffer');
}
