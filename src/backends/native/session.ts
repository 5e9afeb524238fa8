// The 'native' backend's session: ONNX Runtime kernels per op (register.ts), the momentum update in
// wasm SIMD on the heap, and an MLP's training step compiled into one graph (train_graph/).
import type * as tfType from '@tensorflow/tfjs';
import { kernelMomentum } from '../../ops/momentum.js';
import type { BackendSession, SessionInfo } from '../session.js';
import { compileNativeTrainStep } from './train_graph/compile.js';
import { wasmHeapOutOfMemory } from '../wasm/heapGuard.js';

export function nativeSession(tf: typeof tfType, info: SessionInfo): BackendSession {
  return {
    info,
    momentum: kernelMomentum(tf),
    // An MLP's whole step as one ONNX Runtime graph (train_graph/); other models run op by op.
    compileTrainStep: (spec) => compileNativeTrainStep(spec),
    // Its tensors live on tfjs-backend-wasm's heap, with the wasm backend's 4 GiB limit.
    outOfMemory: wasmHeapOutOfMemory(tf),
  };
}
