// The session of tfjs-node and tfjs-node-gpu (TensorFlow's C library): its own kernels, the momentum
// update composed from tfjs ops (we register no kernel there).
import type * as tfType from '@tensorflow/tfjs';
import { composedMomentum } from '../../ops/momentum.js';
import type { BackendSession, SessionInfo } from '../session.js';

export function tfjsNodeSession(tf: typeof tfType, info: SessionInfo): BackendSession {
  return { info, momentum: composedMomentum(tf) };
}
