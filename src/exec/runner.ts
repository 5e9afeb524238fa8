// Where a stage runs. In-process today; a job-queue worker pool later implements the same interface
// over the same store.
import type { CacheKey } from '../util/brand.js';
import type { JsonValue, ProgressUpdate } from '../plugin/types.js';
import type { OutputRef, RunRecord, Store } from '../store/types.js';
import type { StageInstance } from '../plan/plan.js';
import type { KeyRecord } from '../plan/key.js';
import type { ResolvedInputs } from './context.js';
import { untilAborted } from '../util/abort.js';

export interface StageJob {
  readonly instance: StageInstance;
  readonly key: CacheKey;
  /** What `key` hashes: a runner in another process hands it on, so that the key is checked there. */
  readonly keyRecord: KeyRecord;
  readonly inputs: ResolvedInputs;
  readonly cores: number;
  /** The tfjs backend the run asked for, handed to the stage as `ctx.backend` wherever it runs. */
  readonly backend?: string;
}

export interface StageResult {
  readonly outputs: Readonly<Record<string, OutputRef>>;
  readonly provenance: Readonly<Record<string, JsonValue>>;
  /**
   * The run record the stage's own process already wrote to the shared remote (a job on another
   * machine): the executor adopts it instead of writing another.
   */
  readonly record?: RunRecord;
}

export interface RunHooks {
  /**
   * Aborts when the stage must stop (the run is interrupted, its timeout passed, it stalled). A
   * runner then settles promptly, with the signal's reason, whether or not the stage noticed, and
   * publishes nothing.
   */
  readonly signal: AbortSignal;
  onProgress(update: ProgressUpdate): void;
  onLog(message: string): void;
  /** Where the stage runs, when not in this process (`n2 (slurm 1234)`); shown on its line. */
  onPlacement?(where: string): void;
}

export interface Runner {
  /** Runs one stage; resolves once its outputs are published, rejects with the stage's error. */
  run(job: StageJob, hooks: RunHooks): Promise<StageResult>;
}

/** How long a stopped stage has to settle by itself before it is left behind (as `subprocess` waits before SIGKILL). */
export const STOP_GRACE_MS = 2000;

export class InProcessRunner implements Runner {
  constructor(
    private readonly store: Store,
    private readonly stopGraceMs = STOP_GRACE_MS,
  ) {}

  async run(job: StageJob, hooks: RunHooks): Promise<StageResult> {
    // Imported with the first stage that runs: a no-op rerun never opens a session.
    const { StageSession } = await import('./context.js');
    const session = new StageSession(this.store, job.instance.plugin, job.instance, job.key);
    let published = false;
    try {
      const ctx = await session.context(job.inputs, { ...hooks, cores: job.cores, backend: job.backend });
      // Once stopped, a plugin has a short grace to settle (and clean up) by itself; one that ignores
      // its signal is then left behind: its session closes below, so whatever it writes later fails
      // and nothing of it is published. (Promise.resolve: a JavaScript plugin's `run` may return
      // nothing at all.)
      await untilAborted(Promise.resolve(job.instance.plugin.run(ctx as never)), hooks.signal, this.stopGraceMs);
      hooks.signal.throwIfAborted();
      const outputs = await session.publish();
      published = true;
      await this.store.dropCheckpoints(job.key);
      return { outputs, provenance: session.provenance };
    } finally {
      session.close();
      await session.cleanup(published);
    }
  }
}
