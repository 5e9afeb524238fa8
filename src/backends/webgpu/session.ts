// The 'webgpu' backend's session: a run starts from a clean slate of registered GEMM products, every
// step ends on a queue submission, the first step's GEMMs get their tiles timed, and the momentum
// update is written in place (momentum_update.ts).
import type * as tfType from '@tensorflow/tfjs';
import type { BackendSession, SessionInfo } from '../session.js';
import { webgpuMomentum } from './momentum_update.js';
import { submitEncoded } from './record.js';
import { prepareWebGpuRun, tuneRegisteredGemms } from './tune.js';

export function webgpuSession(tf: typeof tfType, info: SessionInfo): BackendSession {
  return {
    info,
    // Products an earlier run (or its evaluation) registered are not this run's: its first step
    // registers what it uses. Tiles tuned by earlier processes on this GPU are taken as they are.
    prepareRun: () => prepareWebGpuRun(),
    // Every step ends on a queue submission, so its buffers return to tfjs's pool at the same point
    // each step and the next step binds the same ones (whose bind groups are cached).
    endStep: () => submitEncoded(tf.backend()),
    // The first step has shown which GEMMs this run uses: time their tiles now (the results are
    // bitwise the same with any tile; see kernels/gemm_tuning.ts).
    tuneAfterFirstStep: async () => {
      const r = await tuneRegisteredGemms(tf);
      return r === null ? null : { gemms: r.sites, tuned: r.tuned, changed: r.changed, seconds: r.seconds };
    },
    momentum: webgpuMomentum(tf),
  };
}
