// What the training loop calls once its first step has run on webgpu: time the GEMM tiles of every
// product that step used (kernels/gemm_tuning.ts). RETHINK_WEBGPU_TUNE: auto (default: hardware
// adapters only), on, off; RETHINK_WEBGPU_TUNE_BUDGET_S: seconds it may take (default 20);
// RETHINK_WEBGPU_TUNE_TILES: the candidate tiles by key (default all of GEMM_TILES).
import type * as tfType from '@tensorflow/tfjs';
import { startedWebGpu } from './init.js';
import { gemmTuner, tuneBudgetFromEnv, tuneGemms, tuneModeFromEnv, tuneTilesFromEnv, type TuneReport } from './kernels/gemm_tuning.js';
import type { GemmTile } from './kernels/gemm_shader.js';
import { recorderFor } from './record.js';

export async function tuneRegisteredGemms(tf: typeof tfType, mode = tuneModeFromEnv(), tiles: readonly GemmTile[] = tuneTilesFromEnv()): Promise<TuneReport | null> {
  if (mode === 'off' || tf.getBackend() !== 'webgpu' || gemmTuner.pendingCount === 0) return null;
  if (mode === 'auto' && startedWebGpu()?.adapter?.['isSoftware'] !== 'false') return null;
  const rec = recorderFor(tf.backend());
  if (rec === null) return null; // our kernels run through tfjs's programs, with their fallback tiles
  // Send tfjs's pending commands now, so the timings start on an idle GPU.
  if (rec.commandEncoder !== null) {
    rec.endComputePassEncoder();
    rec.submitQueue();
  }
  return tuneGemms(rec.device, tiles, tuneBudgetFromEnv());
}
