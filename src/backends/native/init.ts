// Entry point for backend selection: sets up the 'native' backend (ONNX Runtime kernels on a wasm
// backend) when onnxruntime-node and its binding load and pass a smoke test; otherwise reports why
// as a value and leaves the pure-wasm configuration untouched. Imports nothing heavy at load time.

import { availableParallelism } from 'node:os';
import type { OrtLoadFailure, OrtModuleLoader } from './ort_runtime.js';
import { ENV } from '../../util/env.js';

/** Structurally identical to the BackendInfo of src/backends/select.ts. */
export interface BackendInfo {
  readonly name: 'native';
  readonly tfBackend: string;
  readonly threads: number;
  readonly versions: Record<string, string>;
  readonly adapter?: Record<string, string>;
}

export interface NativeInitOptions {
  /** Replaces how onnxruntime-node is loaded (tests simulate a missing or changed package). */
  readonly loader?: OrtModuleLoader;
  /** ORT intra-op threads; default: $RETHINK_NATIVE_THREADS, else all cores. */
  readonly threads?: number;
  /**
   * Keep ORT's per-session memory arenas: default $RETHINK_NATIVE_ARENA, else off, because
   * every cached session would hold its own peak intermediates (4.6 GB RSS for small Inception).
   */
  readonly arena?: boolean;
  /** Make 'native' the active tfjs backend (default true). */
  readonly activate?: boolean;
}

export type NativeInitResult =
  | { readonly ok: true; readonly info: BackendInfo }
  | ({ readonly ok: false } & (OrtLoadFailure | { readonly reason: 'backend-init'; readonly detail: string }));

export async function initNative(options: NativeInitOptions = {}): Promise<NativeInitResult> {
  const threads = options.threads ?? ENV.nativeThreads.read() ?? availableParallelism();
  try {
    const { loadOrtRuntime } = await import('./ort_runtime.js');
    const { smokeTestRuntime } = await import('./smoke_test.js');
    const arena = options.arena ?? ENV.nativeArena.read();
    const loaded = await loadOrtRuntime(threads, arena, options.loader, smokeTestRuntime);
    if (!loaded.ok) return loaded;
    // Before any kernel runs: keeps the memory ORT's runs free on glibc's heap (malloc_threshold.ts).
    const { raiseMallocThreshold } = await import('./malloc_threshold.js');
    raiseMallocThreshold(loaded.runtime);
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const { registerNativeBackend, NATIVE_BACKEND } = await import('./register.js');
    const reg = await registerNativeBackend(loaded.runtime);
    if (options.activate ?? true) {
      const ok = await tf.setBackend(NATIVE_BACKEND);
      if (!ok || tf.getBackend() !== NATIVE_BACKEND) {
        return { ok: false, reason: 'backend-init', detail: `tf.setBackend('${NATIVE_BACKEND}') failed` };
      }
      // Its tensors live on tfjs-backend-wasm's heap: a failed malloc throws, as on 'wasm', instead of aliasing.
      const { guardWasmHeap } = await import('../wasm/heapGuard.js');
      guardWasmHeap(tf.backend() as unknown as Parameters<typeof guardWasmHeap>[0]);
    }
    return {
      ok: true,
      info: {
        name: 'native',
        tfBackend: NATIVE_BACKEND,
        threads,
        versions: {
          'onnxruntime-node': loaded.runtime.version,
          '@tensorflow/tfjs': tf.version.tfjs,
          '@tensorflow/tfjs-backend-wasm': wasm.version_wasm,
        },
        adapter: {
          ortIntraOpThreads: String(threads),
          ortArena: String(arena),
          ortOutputs: loaded.runtime.outputsInPlace ? 'in-place' : 'copied',
          nchwcBlock: String(reg.ctx.nchwcBlock ?? 'off'),
          wasmThreads: '1',
          heap: reg.heap(),
        },
      },
    };
  } catch (e) {
    return { ok: false, reason: 'backend-init', detail: e instanceof Error ? e.message : String(e) };
  }
}

/** The 'native' backend's info, or null (never throws) when it cannot run here. */
export async function tryInitNative(options: NativeInitOptions = {}): Promise<BackendInfo | null> {
  const r = await initNative(options);
  return r.ok ? r.info : null;
}
