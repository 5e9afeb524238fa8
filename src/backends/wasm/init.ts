// Starts the 'wasm' tfjs backend with our training kernels, on the threaded SIMD build when more
// than one thread is wanted and it starts, else on tfjs's own single-threaded SIMD build.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { guardWasmHeap } from './heapGuard.js';
import type { WasmLike } from './ops.js';
import { registerWasmTrainingKernels } from './register.js';
import { createThreadedWasmBackend } from './threaded.js';
import { ENV, type EnvSource } from '../../util/env.js';

export interface WasmInitOptions {
  /** XNNPACK threads; default RETHINK_WASM_THREADS, else the CPU count (at most 4). 1 = stock build. */
  readonly threads?: number;
  /** Give up on the threaded build after this long (its workers start asynchronously). */
  readonly threadStartTimeoutMs?: number;
}

export interface WasmInfo {
  readonly threads: number;
  /** Why the threaded build was not used although more than one thread was asked for. */
  readonly threadFallback?: string;
}

export function defaultWasmThreads(env: EnvSource = process.env): number {
  return ENV.wasmThreads.read(env) ?? Math.max(1, Math.min(4, os.availableParallelism()));
}

let started: Promise<WasmInfo> | undefined;

async function start(options: WasmInitOptions): Promise<WasmInfo> {
  registerWasmTrainingKernels('wasm');
  const threads = options.threads ?? defaultWasmThreads();
  let threadFallback: string | undefined;
  if (threads > 1) {
    const stockFactory = tf.findBackendFactory('wasm');
    tf.removeBackend('wasm');
    tf.registerBackend(
      'wasm',
      async () => {
        try {
          return await createThreadedWasmBackend(threads, options.threadStartTimeoutMs);
        } catch (e) {
          threadFallback = e instanceof Error ? e.message : String(e);
          return stockFactory();
        }
      },
      2,
    );
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
  guardWasmHeap(tf.backend() as unknown as WasmLike);
  return threadFallback === undefined ? { threads: wasm.getThreadsCount() } : { threads: wasm.getThreadsCount(), threadFallback };
}

/**
 * Makes 'wasm' the active tfjs backend. Idempotent: later calls return the first call's result
 * (the backend, and its thread count, can be chosen once per process).
 */
export function initWasm(options: WasmInitOptions = {}): Promise<WasmInfo> {
  started ??= start(options);
  return started;
}
