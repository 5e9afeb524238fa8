// The 'native' backend's session: ONNX Runtime kernels per op (register.ts), the momentum update in
// wasm SIMD on the heap.
import type * as tfType from '@tensorflow/tfjs';
import { kernelMomentum } from '../../ops/momentum.js';
import type { BackendSession, SessionInfo } from '../session.js';

export function nativeSession(tf: typeof tfType, info: SessionInfo): BackendSession {
  return {
    info,
    momentum: kernelMomentum(tf),
    // compileTrainStep: the whole step as one ONNX Runtime graph goes here (issue 17,
    // src/backends/native/train_graph/); until then every step runs op by op through the kernels above.
  };
}
