// Loads tfjs-backend-wasm's threaded SIMD build in Node, which tfjs itself refuses to do
// (WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false under Node, tfjs issue #3830, and forcing it
// hands emscripten a blob: worker URL that Node rejects). See research/tfjs-backends.md §3.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

/** The emscripten module of the threaded build, as far as we touch it. */
interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: readonly string[]): (...args: unknown[]) => unknown;
  tfjs?: Record<string, unknown>;
  PThread?: { readonly unusedWorkers: readonly WorkerLike[]; readonly runningWorkers: readonly WorkerLike[] };
}
interface WorkerLike {
  unref?(): void;
  terminate?(): unknown;
}
type ThreadedFactory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

/**
 * Writes emscripten's pthread worker script to a file Node can start (Node refuses blob: URLs).
 * The script ships as a JS template string, so real newlines must be re-escaped, as tfjs does.
 */
function workerScriptPath(): string {
  const contents = (require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  }).wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(contents).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'rethink-wasm');
  // .cjs: the script uses require(); the temp dir has no package.json deciding the module type.
  const file = path.join(dir, `threaded-simd-worker-${hash}.cjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, contents);
    renameSync(tmp, file);
  }
  return file;
}

/**
 * backend.cc caps the XNNPACK pool at emscripten_num_logical_cores()/2, which is 1 on a 2-vCPU box.
 * Emscripten asks `require('os').cpus()`, so report `factor`× the CPUs while `f` runs.
 */
async function withInflatedCpuCount<T>(factor: number, f: () => Promise<T>): Promise<T> {
  const original = os.cpus;
  os.cpus = (): os.CpuInfo[] => {
    const cpus = original();
    return Array.from({ length: cpus.length * factor }, (_, i) => cpus[i % cpus.length]!);
  };
  try {
    // The static constructors run after the asynchronous instantiation, so keep it until then.
    return await f();
  } finally {
    os.cpus = original;
  }
}

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
type Listener = (...args: unknown[]) => void;

function snapshotListeners(): ReadonlyMap<ProcessEvent, readonly Listener[]> {
  const events: readonly ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];
  return new Map(events.map((e): [ProcessEvent, Listener[]] => [e, process.listeners(e as 'uncaughtException') as Listener[]]));
}

/** Emscripten re-throws from process-wide handlers it installs; they outlive it and surprise callers. */
function removeAddedListeners(before: ReadonlyMap<ProcessEvent, readonly Listener[]>): void {
  for (const [event, old] of before) {
    // The casts pick one overload; both events take the same removeListener call.
    for (const l of process.listeners(event as 'uncaughtException') as Listener[]) {
      if (!old.includes(l)) process.removeListener(event as 'uncaughtException', l);
    }
  }
}

/**
 * The pthread workers (8 pre-spawned, plus the XNNPACK pool's running ones) keep Node's event loop
 * alive, so a process that used threads would never end on its own. The main thread only talks to
 * them synchronously (through shared memory) while a kernel runs, so nothing is lost by letting the
 * loop ignore them: unref them all once the pool is up.
 */
export function unrefWorkers(module: ThreadedModule): number {
  const p = module.PThread;
  if (p === undefined) return 0;
  const all = [...p.unusedWorkers, ...p.runningWorkers];
  for (const w of all) w.unref?.();
  return all.length;
}

/** Instantiates the threaded build's emscripten module (its 8 pooled workers start with it). */
async function loadThreadedModule(): Promise<ThreadedModule> {
  const factoryPath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const factory = require(factoryPath) as ThreadedFactory;
  const workerPath = workerScriptPath();
  const wasmPath = path.join(path.dirname(factoryPath), 'tfjs-backend-wasm-threaded-simd.wasm');
  const listeners = snapshotListeners();
  const config = {
    // The worker re-evaluates the factory from this file, since Node cannot import a Blob.
    mainScriptUrlOrBlob: factoryPath,
    locateFile: (p: string, prefix: string): string =>
      p.endsWith('.worker.js') ? workerPath : p.endsWith('.wasm') ? wasmPath : prefix + p,
  };
  try {
    return await withInflatedCpuCount(2, () => factory(config));
  } finally {
    removeAddedListeners(listeners);
  }
}

function rejectAfter(ms: number): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(() => reject(new Error(`the threaded wasm build did not start within ${ms} ms`)), ms).unref();
  });
}

/**
 * Creates a BackendWasm on the threaded SIMD build with `threads` XNNPACK threads, or rejects
 * (load failure, or no start within `timeoutMs`) so the caller can fall back to one thread. A
 * module that loads too late is left idle with its workers unref'd, so it cannot hold the process.
 */
export async function createThreadedWasmBackend(threads: number, timeoutMs = 30_000): Promise<BackendWasm> {
  const wasmModule = await import('@tensorflow/tfjs-backend-wasm');
  const loading = loadThreadedModule();
  let module: ThreadedModule;
  try {
    module = await Promise.race([loading, rejectAfter(timeoutMs)]);
  } catch (e) {
    loading.then(unrefWorkers, () => undefined);
    throw e;
  }
  // The same bridge tfjs builds in its own init() (dist/backend_wasm.js).
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  wasmModule.setThreadsCount(threads);
  const backend = new wasmModule.BackendWasm(module as never);
  unrefWorkers(module);
  return backend;
}
