// What the training loop calls on webgpu: before a run, forget products an earlier run left registered
// and take the tiles saved by earlier processes on this GPU; after its first step, time the GEMM tiles
// of every product that step used (kernels/gemm_tuning.ts) and save them.
//   RETHINK_WEBGPU_TUNE: auto (default: hardware adapters only), on, off;
//   RETHINK_WEBGPU_TUNE_BUDGET_S: seconds a tuning may take (default 20);
//   RETHINK_WEBGPU_TUNE_TILES: the candidate tiles by key (default all of GEMM_TILES);
//   RETHINK_WEBGPU_TUNE_CACHE: the file tuned tiles persist in, or 'off' (default: one file per
//     adapter under $XDG_CACHE_HOME/rethink, else ~/.cache/rethink).
// A saved tile is only ever a speed choice: any tile gives bitwise the same results.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type * as tfType from '@tensorflow/tfjs';
import { startedWebGpu } from './init.js';
import { gemmTuner, tuneBudgetFromEnv, tuneGemms, tuneModeFromEnv, tuneTilesFromEnv, type TuneReport } from './kernels/gemm_tuning.js';
import type { GemmTile } from './kernels/gemm_shader.js';
import { recorderFor } from './record.js';
import { ENV, type EnvSource } from '../../util/env.js';
import { userCacheDir } from '../../util/cache-home.js';

/** Bumped when the GEMM shaders change enough that saved timings no longer say which tile is fastest. */
const TUNING_FORMAT = 1;

/** The file tuned tiles persist in for this adapter, or null when persisting is off. */
export function tuneCacheFile(env: EnvSource = process.env): string | null {
  const v = ENV.webgpuTuneCache.read(env);
  if (v === 'off') return null;
  if (v !== undefined && v !== '') return v;
  const adapter = startedWebGpu()?.adapter;
  if (adapter === undefined) return null;
  const id = createHash('sha256').update(JSON.stringify([TUNING_FORMAT, adapter])).digest('hex').slice(0, 16);
  return join(userCacheDir(env), `webgpu-tiles-${id}.json`);
}

interface SavedTuning {
  readonly format: number;
  readonly adapter: unknown;
  readonly tiles: Record<string, unknown>;
}

async function readSaved(file: string): Promise<Record<string, unknown>> {
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as Partial<SavedTuning>;
    return s.format === TUNING_FORMAT && typeof s.tiles === 'object' && s.tiles !== null ? s.tiles : {};
  } catch {
    return {}; // none yet, or unreadable: tune again
  }
}

let restoredFrom: string | null = null;

/** Before a training run on webgpu: drop leftover registrations; take saved tiles (once per file). */
export async function prepareWebGpuRun(): Promise<void> {
  gemmTuner.dropPending();
  const file = tuneCacheFile();
  if (file === null || file === restoredFrom) return;
  restoredFrom = file;
  gemmTuner.restore(await readSaved(file));
}

/** Merges this process's tuned tiles into the file; written whole and renamed, so never half-written. */
async function save(file: string): Promise<void> {
  const tiles = { ...(await readSaved(file)), ...gemmTuner.saved() };
  const body: SavedTuning = { format: TUNING_FORMAT, adapter: startedWebGpu()?.adapter ?? null, tiles };
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(body, null, 1)}\n`);
  await rename(tmp, file);
}

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
  const report = await tuneGemms(rec.device, tiles, tuneBudgetFromEnv());
  const file = tuneCacheFile();
  // A cache that cannot be written costs the next run a tuning, not this run its result.
  if (file !== null && report.tuned > 0) await save(file).catch(() => undefined);
  return report;
}
