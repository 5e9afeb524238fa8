// The 'cpu' backend's session: tfjs's pure-JavaScript kernels with our fused momentum update.
import type * as tfType from '@tensorflow/tfjs';
import { kernelMomentum } from '../../ops/momentum.js';
import type { BackendSession, SessionInfo } from '../session.js';

export function cpuSession(tf: typeof tfType, info: SessionInfo): BackendSession {
  return { info, momentum: kernelMomentum(tf) };
}
