// Starts tfjs's WebGPU backend on Dawn (npm `webgpu`), with this project's faster training kernels.
// Called by the backend selection; every failure returns null so selection can fall through.
import { createRequire } from 'node:module';
import { probeGpu } from './navigator_gpu.js';

export interface BackendInfo {
  readonly name: 'webgpu';
  readonly tfBackend: string;
  readonly threads: number;
  readonly versions: Readonly<Record<string, string>>;
  readonly adapter?: Readonly<Record<string, string>>;
}

export interface WebGpuInitOptions {
  /** Accept a software adapter (Mesa llvmpipe): correct but ~3 GFLOP/s, so only for tests or when asked. */
  readonly allowSoftware: boolean;
  /** Keep tfjs's own kernels (the benchmark baseline) instead of registering ours. */
  readonly stockKernels?: boolean;
}

function packageVersion(name: string): string {
  try {
    const req = createRequire(import.meta.url);
    return (req(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

let started: BackendInfo | null = null;

/** The description tryInitWebGpu returned last, or null before the backend started. */
export function startedWebGpu(): BackendInfo | null {
  return started;
}

/** Returns the active WebGPU backend's description, or null when no (acceptable) adapter exists. */
export async function tryInitWebGpu(opts: WebGpuInitOptions): Promise<BackendInfo | null> {
  try {
    const probe = await probeGpu();
    if (!probe.ok) return null;
    if (probe.adapter.isSoftware && !opts.allowSoftware) return null;
    const tf = await import('@tensorflow/tfjs');
    // Evaluated only now that navigator.gpu exists: the module registers 'webgpu' only if it sees it.
    await import('@tensorflow/tfjs-backend-webgpu');
    const { registerWebGpu } = await import('./register.js');
    registerWebGpu(tf, opts.stockKernels === undefined ? {} : { stockKernels: opts.stockKernels });
    if (!(await tf.setBackend('webgpu'))) return null;
    await tf.ready();
    const a = probe.adapter;
    started = {
      name: 'webgpu',
      tfBackend: tf.getBackend(),
      threads: 1,
      versions: {
        '@tensorflow/tfjs': tf.version.tfjs,
        '@tensorflow/tfjs-backend-webgpu': packageVersion('@tensorflow/tfjs-backend-webgpu'),
        webgpu: packageVersion('webgpu'),
        kernels: opts.stockKernels === true ? 'stock' : 'rethink',
      },
      adapter: {
        vendor: a.vendor,
        architecture: a.architecture,
        device: a.device,
        driver: a.description,
        isSoftware: String(a.isSoftware),
      },
    };
    return started;
  } catch {
    return null;
  }
}
