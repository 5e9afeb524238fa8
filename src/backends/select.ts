// Chooses and starts the tfjs backend for this process: an explicit request (CLI --backend, or
// RETHINK_BACKEND) or the fastest that loads, and returns its session (session.ts): what training asks
// of it beyond the plain tfjs API. Each backend builds its session in its own room. Heavy packages are
// imported only here, lazily, so importing this module is cheap.
import { createRequire } from 'node:module';
import os from 'node:os';
import { readdirSync } from 'node:fs';
import { ENV, type EnvSource } from '../util/env.js';
import type * as tfType from '@tensorflow/tfjs';
import type { BackendSession, SessionInfo } from './session.js';

export const backendNames = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'webgpu', 'native', 'wasm', 'cpu'] as const;
export type BackendRequest = (typeof backendNames)[number];
export type BackendName = Exclude<BackendRequest, 'auto'>;

export interface BackendInfo extends SessionInfo {
  /** The backend as a user names it (`--backend`). */
  readonly name: BackendName;
  /** What tfjs calls it (tf.getBackend()). */
  readonly tfBackend: string;
  readonly threads: number;
  /** Library versions for run records: tfjs, the backend's package, node, ... */
  readonly versions: Readonly<Record<string, string>>;
  readonly adapter?: Readonly<Record<string, string>>;
}

/** `auto` tries these in order and takes the first that starts. */
const autoOrder: readonly BackendName[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'native', 'wasm', 'cpu'];

const descriptions: Readonly<Record<BackendName, { readonly what: string; readonly install: string }>> = {
  'tfjs-node-gpu': {
    what: 'TensorFlow C library with CUDA (Linux x64, NVIDIA GPU)',
    install: 'npm install @tensorflow/tfjs-node-gpu@4.22.0 (downloads libtensorflow at install time, needs internet, CUDA 11.2 and cuDNN 8)',
  },
  webgpu: {
    what: 'tfjs WebGPU backend on Dawn (npm `webgpu`); auto takes it only with a hardware adapter',
    install: 'the optional dependencies @tensorflow/tfjs-backend-webgpu and webgpu, plus a Vulkan, Metal or D3D12 driver',
  },
  'tfjs-node': {
    what: 'TensorFlow C library on the CPU',
    install: 'npm install @tensorflow/tfjs-node@4.22.0 (downloads libtensorflow at install time, needs internet)',
  },
  native: {
    what: "ONNX Runtime's CPU kernels (onnxruntime-node) for the heavy ops, wasm for the rest",
    install: 'the optional dependency onnxruntime-node 1.30.0 (ONNXRUNTIME_NODE_INSTALL=skip npm install: its install script downloads CUDA libraries, and npm drops the package when that fails)',
  },
  wasm: {
    what: 'tfjs-backend-wasm (XNNPACK, SIMD, threads where they start) with our training kernels',
    install: 'the dependency @tensorflow/tfjs-backend-wasm 4.22.0 (npm install)',
  },
  cpu: { what: 'pure JavaScript; always available, about 100× slower for conv nets', install: 'nothing' },
};

/** An explicitly requested backend that cannot start, with what to install. */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    const known = (backendNames as readonly string[]).includes(backend);
    super(
      known
        ? `backend '${backend}' is unavailable: ${reason}. It needs ${descriptions[backend as BackendName].install}.`
        : `unknown backend '${backend}': ${reason}. Valid: ${backendNames.join(', ')}.`,
    );
  }
}

/** One line per backend, for --help. */
export function describeBackends(): string {
  const width = Math.max(...backendNames.map((n) => n.length));
  const auto = `${'auto'.padEnd(width)}  the first that starts of: ${autoOrder.join(', ')} (default; env RETHINK_BACKEND)`;
  return [auto, ...autoOrder.map((n) => `${n.padEnd(width)}  ${descriptions[n].what}`)].join('\n');
}

/** Why a backend did not start (an expected failure, a value). */
interface Unavailable {
  readonly unavailable: string;
}
type Attempt = BackendSession | Unavailable;

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

async function tfjs(): Promise<typeof tfType> {
  return import('@tensorflow/tfjs');
}

async function baseVersions(): Promise<Record<string, string>> {
  const tf = await tfjs();
  return { '@tensorflow/tfjs': tf.version.tfjs, node: process.versions.node };
}

/**
 * Loads a backend module whose optional dependencies may be missing: a failure to load means "not
 * available", with the reason. The specifiers stay literal, so a bundler (esbuild, the GPU bundle of
 * scripts/gpu/pack.sh) follows them.
 */
async function optionalModule<T>(load: () => Promise<T>): Promise<T | Unavailable> {
  try {
    return await load();
  } catch (e) {
    return { unavailable: message(e) };
  }
}

async function startTfjsNode(name: 'tfjs-node' | 'tfjs-node-gpu'): Promise<Attempt> {
  const pkg = `@tensorflow/${name}`;
  try {
    await import(pkg);
  } catch (e) {
    return { unavailable: `${pkg} is not installed or does not load (${message(e)})` };
  }
  const tf = await tfjs();
  if (!(await tf.setBackend('tensorflow'))) return { unavailable: `${pkg} loaded but its 'tensorflow' backend did not start` };
  const info: BackendInfo = { name, tfBackend: tf.getBackend(), threads: os.availableParallelism(), versions: { ...(await baseVersions()), [pkg]: packageVersion(pkg) } };
  const { tfjsNodeSession } = await import('./tfjs-node/session.js');
  return tfjsNodeSession(tf, info);
}

/**
 * On Linux a GPU shows up as a device node; without one, auto does not start Dawn at all: probing
 * costs a second and prints Dawn's warnings about the software adapter it would then reject.
 */
function mayHaveGpu(): boolean {
  if (process.platform !== 'linux') return true;
  try {
    return readdirSync('/dev').some((d) => d.startsWith('nvidia') || d === 'dri' || d === 'kfd');
  } catch {
    return true;
  }
}

async function startWebGpu(explicit: boolean): Promise<Attempt> {
  if (!explicit && !mayHaveGpu()) return { unavailable: 'no GPU device node (/dev/nvidia*, /dev/dri)' };
  const m = await optionalModule(() => import('./webgpu/init.js'));
  if ('unavailable' in m) return m;
  // An explicit request accepts a software adapter (slow but correct); auto wants real hardware.
  const info = await m.tryInitWebGpu({ allowSoftware: explicit });
  if (info === null) return { unavailable: explicit ? 'no WebGPU adapter was found' : 'no hardware WebGPU adapter was found' };
  const { webgpuSession } = await import('./webgpu/session.js');
  return webgpuSession(await tfjs(), info);
}

async function startNative(): Promise<Attempt> {
  const m = await optionalModule(() => import('./native/init.js'));
  if ('unavailable' in m) return m;
  const info = await m.tryInitNative();
  if (info === null) return { unavailable: 'onnxruntime-node did not load' };
  const { nativeSession } = await import('./native/session.js');
  return nativeSession(await tfjs(), info);
}

async function startWasm(): Promise<Attempt> {
  try {
    const { initWasm } = await import('./wasm/init.js');
    const info = await initWasm();
    const tf = await tfjs();
    const { wasmSession } = await import('./wasm/session.js');
    return wasmSession(tf, {
      name: 'wasm',
      tfBackend: tf.getBackend(),
      threads: info.threads,
      versions: {
        ...(await baseVersions()),
        '@tensorflow/tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm'),
        'wasm-build': info.threads > 1 ? 'threaded-simd' : 'simd',
      },
    });
  } catch (e) {
    return { unavailable: message(e) };
  }
}

async function startCpu(): Promise<Attempt> {
  const tf = await tfjs();
  const { registerCpuKernels } = await import('./cpu/register.js');
  registerCpuKernels(tf);
  if (!(await tf.setBackend('cpu'))) return { unavailable: 'the cpu backend did not start' };
  const { cpuSession } = await import('./cpu/session.js');
  return cpuSession(tf, { name: 'cpu', tfBackend: tf.getBackend(), threads: 1, versions: await baseVersions() });
}

function start(name: BackendName, explicit: boolean): Promise<Attempt> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node':
      return startTfjsNode(name);
    case 'webgpu':
      return startWebGpu(explicit);
    case 'native':
      return startNative();
    case 'wasm':
      return startWasm();
    case 'cpu':
      return startCpu();
  }
}

async function choose(request: BackendRequest): Promise<BackendSession> {
  if (request !== 'auto') {
    const attempt = await start(request, true);
    if ('unavailable' in attempt) throw new BackendUnavailableError(request, attempt.unavailable);
    return attempt;
  }
  const skipped: string[] = [];
  for (const name of autoOrder) {
    const attempt = await start(name, false);
    if (!('unavailable' in attempt)) return attempt;
    skipped.push(`${name}: ${attempt.unavailable}`);
  }
  throw new Error(`no tfjs backend started:\n  ${skipped.join('\n  ')}`);
}

function parseRequest(raw: string): BackendRequest {
  const r = raw.trim().toLowerCase();
  if (r === '' || r === 'default') return 'auto';
  if ((backendNames as readonly string[]).includes(r)) return r as BackendRequest;
  throw new BackendUnavailableError(raw, 'not a backend name');
}

const chosen = new Map<BackendRequest, Promise<BackendSession>>();

/**
 * Starts the requested backend (`request`, else env RETHINK_BACKEND, else 'auto'), makes it tfjs's
 * active one and returns its session (`info` for provenance). Idempotent: the same request returns the
 * same session. An explicit request that cannot start throws BackendUnavailableError; 'auto' always
 * ends, at worst, on 'cpu'.
 */
export async function initBackend(request?: string, env: EnvSource = process.env): Promise<BackendSession> {
  const r = parseRequest(request ?? ENV.backend.read(env) ?? 'auto');
  let pending = chosen.get(r);
  if (pending === undefined) {
    pending = choose(r);
    chosen.set(r, pending);
    // A failure is not cached: a later call may follow an install.
    pending.catch(() => chosen.delete(r));
  }
  const session = await pending;
  const { info } = session;
  // 'auto' and the name it resolved to are the same choice.
  if (!chosen.has(info.name as BackendName)) chosen.set(info.name as BackendName, pending);
  const tf = await tfjs();
  // Another request may have switched backends since; the session describes this one.
  if (tf.getBackend() !== info.tfBackend) await tf.setBackend(info.tfBackend);
  return session;
}
