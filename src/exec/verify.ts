// `rethink verify`: recomputes results the cache already holds and compares them byte for byte. A
// stage key promises that the same plugin, params, seed and inputs give the same outputs on the same
// backend; this checks the promise, and where it fails says which tensors or fields moved and by how
// much. Recomputations go to a scratch store over the cache: the cache gains nothing and loses
// nothing, and a training run starts from scratch, not from a checkpoint.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CacheKey, StageId } from '../util/brand.js';
import { UserError } from '../util/user-error.js';
import type { Plan, StageInstance } from '../plan/plan.js';
import type { ProgressUpdate } from '../plugin/types.js';
import type { OutputRef, RunRecord, Store } from '../store/types.js';
import { LocalStore } from '../store/local.js';
import { OverlayStore } from '../store/overlay.js';
import { diffOutputs, type OutputDiff } from './compare.js';
import { resolveInputs } from './executor.js';
import { describeError } from './errors.js';
import { InProcessRunner } from './runner.js';
import { StallWatch } from './stall.js';
import { anySignal } from '../util/abort.js';

export interface Verification {
  readonly id: StageId;
  readonly key: CacheKey;
  readonly status: 'reproduced' | 'differs' | 'failed';
  readonly seconds: number;
  /** How long the recorded run took. */
  readonly recordedSeconds: number;
  readonly differences: readonly OutputDiff[];
  /** Why the recomputation failed. */
  readonly reason?: string;
  /** Set when the recorded run and the recomputation trained on different backends. */
  readonly backends?: { readonly recorded: string; readonly recomputed: string };
}

export interface VerifyOptions {
  /** Makes a fresh directory for the scratch store (see scratchDirs); it is removed after. */
  readonly scratchDir: () => Promise<string>;
  readonly cores: number;
  /** The backend for stages that leave theirs open (`--backend`), as in a run. */
  readonly backend?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (update: ProgressUpdate) => void;
  readonly onLog?: (message: string) => void;
}

/** Recomputes one up-to-date instance from its recorded inputs and compares it with its record. */
export async function verifyInstance(
  plan: Plan,
  store: Store,
  inst: StageInstance,
  record: RunRecord,
  upstream: (id: StageId) => Readonly<Record<string, OutputRef>>,
  options: VerifyOptions,
): Promise<Verification> {
  const scratch = new LocalStore(await options.scratchDir());
  const overlay = new OverlayStore(store, scratch);
  const base = { id: inst.id, key: record.key, recordedSeconds: record.seconds };
  const t = performance.now();
  // A plugin that never settles fails the verification rather than ending the process mid-way.
  const stalls = new StallWatch('its run()');
  const stop = anySignal([...(options.signal ? [options.signal] : []), stalls.signal()]);
  try {
    const result = await new InProcessRunner(overlay).run(
      { instance: inst, key: record.key, keyRecord: record.keyRecord, inputs: resolveInputs(plan, inst, upstream), cores: options.cores, ...(options.backend === undefined ? {} : { backend: options.backend }) },
      { signal: stop.signal, onProgress: options.onProgress ?? (() => {}), onLog: options.onLog ?? (() => {}) },
    );
    const seconds = (performance.now() - t) / 1000;
    const differences = await diffOutputs(record.outputs, result.outputs, (side, hash) => (side === 'recorded' ? store.objectPath(hash) : overlay.objectPath(hash)));
    const recorded = backendName(record.provenance);
    const recomputed = backendName(result.provenance);
    const backends = recorded !== undefined && recomputed !== undefined && recorded !== recomputed ? { backends: { recorded, recomputed } } : {};
    return { ...base, status: differences.length === 0 ? 'reproduced' : 'differs', seconds, differences, ...backends };
  } catch (e) {
    return { ...base, status: 'failed', seconds: (performance.now() - t) / 1000, differences: [], reason: describeError(e) };
  } finally {
    stop.dispose();
    stalls.close();
    await rm(scratch.location, { recursive: true, force: true });
  }
}

/**
 * Where recomputations go: a fresh directory in the cache (on the filesystem of its objects, where
 * space for them is known to be), or, once the cache refuses one (read-only, another user's, full),
 * in the OS temp directory: verify never needs to write to the cache it checks, and a scratch store
 * only renames within itself, so any filesystem serves. `onFallback` hears why, once.
 */
export function scratchDirs(
  cache: { readonly location: string; createScratch(): Promise<string> },
  options: { readonly tempRoot?: string; readonly onFallback?: (reason: string, tempRoot: string) => void } = {},
): () => Promise<string> {
  const tempRoot = options.tempRoot ?? tmpdir();
  let inCache = true;
  return async () => {
    if (inCache) {
      try {
        return await cache.createScratch();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (typeof code !== 'string') throw e;
        inCache = false;
        options.onFallback?.(`the cache ${cache.location} cannot be written (${code})`, tempRoot);
      }
    }
    try {
      return await mkdtemp(join(tempRoot, 'rethink-verify-'));
    } catch (e) {
      throw UserError.of(
        'E_NO_SCRATCH',
        `verify needs a scratch directory: the cache ${cache.location} cannot be written, and neither can ${tempRoot} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        'set TMPDIR to a writable directory',
      );
    }
  };
}

/** The backend a run trained on, and how it ran the step where the record says (`native, compiled step`). */
function backendName(provenance: Readonly<Record<string, unknown>>): string | undefined {
  const b = provenance.backend;
  const name = b !== null && typeof b === 'object' && typeof (b as { name?: unknown }).name === 'string' ? (b as { name: string }).name : undefined;
  const step = provenance['train_step'];
  return name !== undefined && typeof step === 'string' ? `${name}, ${step === 'compiled' ? 'compiled' : 'op-by-op'} step` : name;
}
