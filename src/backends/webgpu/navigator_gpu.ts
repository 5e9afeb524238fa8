// Creates WebGPU in Node from the `webgpu` npm package (Dawn) and exposes it as navigator.gpu, which
// @tensorflow/tfjs-backend-webgpu looks for when its module is evaluated: call this before importing it.

/** The subset of GPUAdapterInfo we record; Dawn fills these from the driver. */
export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isSoftware: boolean;
}

/** Minimal structural view of the WebGPU objects we touch, so this file needs no DOM typings. */
interface GpuLike {
  requestAdapter(options?: object): Promise<AdapterLike | null>;
}
interface AdapterLike {
  readonly info?: Record<string, unknown>;
  readonly isFallbackAdapter?: boolean;
}

export type GpuProbe =
  | { readonly ok: true; readonly adapter: AdapterInfo }
  | { readonly ok: false; readonly reason: 'no-package' | 'no-adapter'; readonly detail: string };

let installed: GpuLike | undefined;

/** Dawn's instance, created once per process: creating a second one leaks a Vulkan instance. */
async function gpuInstance(): Promise<GpuLike> {
  if (installed !== undefined) return installed;
  const webgpu = (await import('webgpu')) as unknown as {
    create(flags: string[]): GpuLike;
    globals: Record<string, unknown>;
  };
  // tfjs-backend-webgpu uses GPUBufferUsage and friends as globals, as in a browser.
  for (const [k, v] of Object.entries(webgpu.globals)) {
    if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  }
  const gpu = withAdapterStorageLimit(webgpu.create([]));
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  }
  Object.defineProperty(g.navigator as object, 'gpu', { value: gpu, configurable: true, writable: true });
  installed = gpu;
  return gpu;
}

interface LimitedAdapter {
  readonly limits?: { readonly maxStorageBuffersPerShaderStage?: number };
  requestDevice?(descriptor?: { requiredLimits?: Record<string, number> }): Promise<unknown>;
}

/**
 * Devices from this instance get the adapter's own maxStorageBuffersPerShaderStage instead of
 * WebGPU's default of 8 (tfjs asks for other limits, not this one): the grouped momentum update binds
 * five buffers per variable (src/backends/webgpu/kernels/momentum.ts). Wrapping is best effort.
 */
function withAdapterStorageLimit(gpu: GpuLike): GpuLike {
  const request = gpu.requestAdapter.bind(gpu);
  const requestAdapter = async (options?: object): Promise<AdapterLike | null> => {
    const adapter = (await request(options)) as (AdapterLike & LimitedAdapter) | null;
    const limit = adapter?.limits?.maxStorageBuffersPerShaderStage;
    const requestDevice = adapter?.requestDevice?.bind(adapter);
    if (adapter === null || limit === undefined || requestDevice === undefined) return adapter;
    // Should a driver refuse the limit it reported, the device is still created with tfjs's request.
    const raised = async (d: { requiredLimits?: Record<string, number> } = {}): Promise<unknown> =>
      requestDevice({ ...d, requiredLimits: { ...d.requiredLimits, maxStorageBuffersPerShaderStage: limit } }).catch(() => requestDevice(d));
    defineQuietly(adapter, 'requestDevice', raised);
    return adapter;
  };
  defineQuietly(gpu, 'requestAdapter', requestAdapter);
  return gpu;
}

/** Own-property override; an object that refuses keeps its method (the default limit then applies). */
function defineQuietly(target: object, key: string, value: unknown): void {
  try {
    Object.defineProperty(target, key, { configurable: true, writable: true, value });
  } catch {
    // Not extensible: nothing to do.
  }
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|software|warp/i;

/** Installs navigator.gpu and describes the adapter Dawn picks; a failure is a value, never thrown. */
export async function probeGpu(): Promise<GpuProbe> {
  let gpu: GpuLike;
  try {
    gpu = await gpuInstance();
  } catch (e) {
    return { ok: false, reason: 'no-package', detail: e instanceof Error ? e.message : String(e) };
  }
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (adapter === null) return { ok: false, reason: 'no-adapter', detail: 'requestAdapter() returned null (no Vulkan/Metal/D3D12 driver?)' };
  const info = adapter.info ?? {};
  const str = (k: string): string => (typeof info[k] === 'string' ? (info[k] as string) : '');
  const fallback = info['isFallbackAdapter'] === true || adapter.isFallbackAdapter === true;
  const isSoftware = fallback || str('architecture') === 'software' || SOFTWARE_NAMES.test(`${str('device')} ${str('description')}`);
  return {
    ok: true,
    adapter: {
      vendor: str('vendor'),
      architecture: str('architecture'),
      device: str('device'),
      description: str('description'),
      isSoftware,
    },
  };
}
