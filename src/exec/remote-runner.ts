// The runner of the distributed executors (`slurm`, `queue`; `process` on one machine): each stage
// becomes a job that a JobEngine starts elsewhere, running `rethink exec --key` against the shared
// remote. The coordinator puts the inputs and the job spec on the remote, submits, and watches; the
// job uploads the outputs and then the run record, whose presence on the remote is the stage's
// success, whatever the engine says. The engine says where the job runs, and when it failed or was
// lost (a lost job is tried again within the stage's retries; the remote's checkpoint lets it resume).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Plan } from '../plan/plan.js';
import type { ProgressUpdate } from '../plugin/types.js';
import { outputObjects, type RunRecord } from '../store/types.js';
import type { TieredStore } from '../store/tiered.js';
import { jobProgressPathOf, jobSpecPathOf } from '../store/remote.js';
import { anySignal } from '../util/abort.js';
import type { EngineJob, EngineOutcome, JobEngine } from './engine.js';
import { buildJobSpec } from './job-spec.js';
import { publishPluginCode } from './plugin-code.js';
import { signSpec } from './spec-signing.js';
import type { InputArtifact } from './context.js';
import type { RunHooks, Runner, StageJob, StageResult } from './runner.js';

export interface RemoteRunnerOptions {
  readonly engine: JobEngine;
  /** The coordinator's store; its remote is the one every job reads and writes. */
  readonly store: TieredStore;
  readonly plan: Plan;
  /** The first wait between looks for the run record, doubling up to `maxPollMs` (default 100 ms → 2 s). */
  readonly firstPollMs?: number;
  readonly maxPollMs?: number;
  /** How often the job's progress file on the remote is read, until the engine reports progress itself (default 1 s). */
  readonly progressPollMs?: number;
  /** How long Ctrl-C waits for the engine to take a job's cancellation (default 10 s). */
  readonly cancelGraceMs?: number;
}

export class RemoteRunner implements Runner {
  /** The engine's (`slurm`, `queue`, `process`), shown where the run starts. */
  readonly name: string;

  constructor(private readonly options: RemoteRunnerOptions) {
    this.name = options.engine.name;
  }

  async run(job: StageJob, hooks: RunHooks): Promise<StageResult> {
    const { store, engine, plan } = this.options;
    hooks.signal.throwIfAborted();
    // An input computed on this machine may still be uploading in the background: the job reads it
    // from the remote, so it must be there first.
    await Promise.all(inputArtifacts(job).flatMap((a) => outputObjects(a).map((o) => store.pushObject({ hash: o.hash, size: o.size, kind: a.kind }))));
    const spec = buildJobSpec(job, plan);
    // A plugin loaded from a path ships its code closure, which a worker fetches by the hash its key holds.
    if (spec.plugin.code !== undefined) await publishPluginCode(store.remote, spec.plugin.baseDir, spec.plugin.uses);
    // Signed by a coordinator with a signing key: a worker that trusts it runs its path plugins without --allow-plugin-code.
    const signer = store.signer;
    const specPath = jobSpecPathOf(job.key);
    await store.remote.putText(specPath, `${JSON.stringify(signer ? signSpec(spec, signer) : spec, null, 1)}\n`);
    hooks.signal.throwIfAborted();
    const submitted = await engine.submit(spec, specPath, hooks.signal);
    return new JobWatch(this.options, job, submitted, hooks).result();
  }
}

/** One submitted job, watched until its run record is on the remote or the engine gives up on it. */
class JobWatch {
  /** `slurm 1234`: how the engine knows the job. */
  private readonly label: string;
  private engineProgress = false;
  /** Whether the engine said where the job runs: if not (it finished first), the record says. */
  private placed = false;
  /** Set once the stage settled: what the engine says later is not news for its line. */
  private settled = false;

  constructor(
    private readonly options: RemoteRunnerOptions,
    private readonly job: StageJob,
    private readonly submitted: EngineJob,
    private readonly hooks: RunHooks,
  ) {
    this.label = `${options.engine.name} ${shortId(submitted.id)}`;
  }

  async result(): Promise<StageResult> {
    const { submitted, hooks } = this;
    submitted.onPlacement((where) => {
      if (this.settled) return;
      this.placed = true;
      hooks.onPlacement?.(`${where} (${this.label})`);
    });
    submitted.onProgress((update) => {
      this.engineProgress = true;
      if (!this.settled) hooks.onProgress(update);
    });
    const stop = new AbortController();
    const progress = this.pollProgress(stop.signal);
    try {
      return await this.awaitRecord();
    } catch (e) {
      if (!hooks.signal.aborted) throw e;
      await this.cancel();
      throw hooks.signal.reason;
    } finally {
      this.settled = true;
      stop.abort();
      await progress;
    }
  }

  /** Looks for the record with a growing interval, and once more as soon as the engine is done with the job. */
  private async awaitRecord(): Promise<StageResult> {
    const { firstPollMs = 100, maxPollMs = 2000 } = this.options;
    const outcome = this.submitted.outcome;
    for (let wait = firstPollMs; ; wait = Math.min(maxPollMs, wait * 2)) {
      const record = await this.record();
      if (record) return this.done(record);
      const ended = await this.until(outcome, wait);
      if (ended !== undefined) {
        // The record is the truth: a job that uploaded it and was then killed still succeeded.
        const last = await this.record();
        if (last) return this.done(last);
        throw this.failure(ended);
      }
    }
  }

  /**
   * The stage's result. A job can finish before the engine's word on where it runs arrives (a
   * BullMQ progress event after the job's completion): then the record's `ranOn` says where.
   */
  private done(record: RunRecord): StageResult {
    if (!this.placed) {
      const ranOn = record.provenance['ranOn'] as { readonly worker?: unknown; readonly host?: unknown } | undefined;
      const where = ranOn?.worker ?? ranOn?.host;
      if (typeof where === 'string') this.hooks.onPlacement?.(`${where} (${this.label})`);
    }
    return resultOf(record);
  }

  /** The outcome if the engine is done within `ms`, else undefined; rejects when the stage is stopped. */
  private async until(outcome: Promise<EngineOutcome>, ms: number): Promise<EngineOutcome | undefined> {
    // The timer ends with the race, so that a finished run does not wait out the last interval.
    const tick = new AbortController();
    const stop = anySignal([this.hooks.signal, tick.signal]);
    try {
      return await Promise.race([outcome, sleep(ms, undefined, { signal: stop.signal })]);
    } finally {
      tick.abort();
      stop.dispose();
    }
  }

  private async record(): Promise<RunRecord | undefined> {
    const { store } = this.options;
    const record = await store.readRun(this.job.key);
    // The store stops asking a remote that failed once: without it, no job can be seen to finish.
    if (record === undefined && store.error !== undefined) throw new Error(`cannot see whether ${this.label} finished: the remote failed (${store.error})`);
    return record;
  }

  private failure(outcome: EngineOutcome): Error {
    switch (outcome.state) {
      case 'failed':
        return Object.assign(new Error(outcome.reason), outcome.userError ? { userError: true } : {});
      case 'lost':
        return new Error(`${this.label} was lost: ${outcome.reason}`);
      case 'completed': {
        const { store } = this.options;
        const untrusted = store.passedOver;
        const why = untrusted ? `; records no trusted key signed were passed over (the first: ${untrusted.first})` : '';
        return new Error(`${this.label} ended without a run record on the remote ${store.remote.url}${why}`);
      }
    }
  }

  /** Ctrl-C, a timeout: the job is cancelled, waiting a bounded time for the engine to take that. */
  private async cancel(): Promise<void> {
    const { cancelGraceMs = 10_000 } = this.options;
    const taken = this.submitted.cancel().then(
      () => true,
      (e: unknown) => {
        this.hooks.onLog(`could not cancel ${this.label}: ${e instanceof Error ? e.message : String(e)}`);
        return true;
      },
    );
    const late = await Promise.race([taken, sleep(cancelGraceMs, false, { ref: false })]);
    if (!late) this.hooks.onLog(`${this.label} did not confirm its cancellation within ${cancelGraceMs / 1000}s; it may still be running`);
  }

  /**
   * Engines without a progress channel of their own (Slurm): the job writes its last update to the
   * remote (`jobs/<key>/progress.json`, `{ update, at }`); new ones are passed on. Best effort: a
   * read that fails is tried again at the next tick.
   */
  private async pollProgress(stop: AbortSignal): Promise<void> {
    const { store, progressPollMs = 1000 } = this.options;
    const path = jobProgressPathOf(this.job.key);
    let last: unknown;
    while (!stop.aborted && !this.engineProgress) {
      const text = await store.remote.getText(path).catch(() => undefined);
      const seen = text === undefined ? undefined : progressOf(text);
      if (seen && seen.at !== last && !stop.aborted && !this.engineProgress) {
        last = seen.at;
        this.hooks.onProgress(seen.update);
      }
      await sleep(progressPollMs, undefined, { signal: stop }).catch(() => undefined);
    }
  }
}

function resultOf(record: RunRecord): StageResult {
  return { outputs: record.outputs, provenance: record.provenance, record };
}

/** A job's progress file, when it parses: its update and when it was written. */
function progressOf(text: string): { readonly update: ProgressUpdate; readonly at: unknown } | undefined {
  try {
    const doc = JSON.parse(text) as { update?: unknown; at?: unknown };
    if (doc.update === null || typeof doc.update !== 'object') return undefined;
    return { update: doc.update as ProgressUpdate, at: doc.at };
  } catch {
    return undefined;
  }
}

function inputArtifacts(job: StageJob): InputArtifact[] {
  return Object.values(job.inputs).flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v as InputArtifact]));
}

/** A BullMQ job's id is its 64-digit key: its first 12 digits name it well enough on a stage line. */
function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}
