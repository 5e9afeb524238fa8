// The 'wasm' backend's session: its kernels (register.ts) do the work; the momentum update is the
// fused kernel on the heap; a step that fills the heap is told as such (heapGuard.ts).
import type * as tfType from '@tensorflow/tfjs';
import { kernelMomentum } from '../../ops/momentum.js';
import type { BackendSession, SessionInfo } from '../session.js';
import { wasmHeapOutOfMemory } from './heapGuard.js';

export function wasmSession(tf: typeof tfType, info: SessionInfo): BackendSession {
  return { info, momentum: kernelMomentum(tf), outOfMemory: wasmHeapOutOfMemory(tf) };
}
