// Runs a Plan: each instance once (memoised promise), when its inputs are ready, bounded by the
// cores its plugin declares (or, for jobs on other machines, by how many may be in flight); cache hits
// by key; results published atomically, run record last.
import { performance } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import type { CacheKey, ObjectHash, StageId } from '../util/brand.js';
import { unreachable } from '../util/brand.js';
import type { Plan, StageInstance } from '../plan/plan.js';
import { cacheKey, type InputKey, type KeyRecord } from '../plan/key.js';
import { recordObjects, type OutputRef, type RunRecord, type Store } from '../store/types.js';
import type { InputArtifact, ResolvedInputs } from './context.js';
import type { JsonValue } from '../plugin/types.js';
import type { Runner } from './runner.js';
import type { Observer, StageReport } from './events.js';
import { CoreSemaphore } from '../util/semaphore.js';
import { environment, gitState } from './environment.js';
import { withUpstream } from '../plan/select.js';
import { upstreamIds } from '../plan/graph.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { AttemptsFailed, withAttempts } from './attempts.js';
import { showDuration } from '../util/duration.js';
import { describeError, isUserError } from './errors.js';
import { describeHolder, type LeaseHolder } from '../store/leases.js';
import type { ObjectCheck } from '../store/object-check.js';
import { StallWatch } from './stall.js';

/** What runs the stages: this machine's runner, and a distributed executor's, if one was chosen. */
export interface Runners {
  /** Runs every stage on this machine (in this process, or in child processes) unless `remote` takes it. */
  readonly local: Runner;
  /**
   * Runs each stage as a job on another machine (`--executor slurm|queue`), except those placed
   * `local` (`executor: local` on a cheap fan-in stage), which stay on `local`.
   */
  readonly remote?: Runner & { readonly name: string };
}

export interface ExecOptions {
  /** Cores in use at most; with a remote runner, how many of its jobs may be in flight at once. */
  readonly jobs: number;
  readonly keepGoing?: boolean;
  readonly dryRun?: boolean;
  /** Instances to run; their upstream instances are included automatically. Default: all. */
  readonly only?: ReadonlySet<StageId>;
  readonly signal?: AbortSignal;
  /** Attempts after a failure, for stages that do not set `retries` themselves (default 0). */
  readonly retries?: number;
  /** The wait before the second attempt; it doubles with each one after (default 1 s, at most 60 s). */
  readonly retryDelayMs?: number;
  /** The tfjs backend for stages that leave theirs open (`--backend`, else RETHINK_BACKEND); absent: auto. */
  readonly backend?: string;
  /**
   * Instances to compute even when their key has a result: it is replaced in the local cache (a
   * remote's copy stays). Their report says whether the outputs came out the same.
   */
  readonly force?: ReadonlySet<StageId>;
}

export interface RunSummary {
  readonly stages: readonly StageReport[];
  readonly seconds: number;
  readonly ok: boolean;
}

type StageBase = Pick<StageReport, 'id' | 'stage' | 'plugin' | 'outputs'>;

type Settled =
  | { readonly ok: true; readonly outputs: Readonly<Record<string, OutputRef>> }
  | { readonly ok: false; readonly why: 'failed' | 'skipped' | 'would-run' };

/** Why a lookup missed or hit; `status` uses this without running anything. */
export interface Lookup {
  readonly key: CacheKey;
  readonly keyRecord: KeyRecord;
  readonly record: RunRecord | undefined;
}

export async function lookup(store: Store, inst: StageInstance, inputs: Readonly<Record<string, InputKey>>): Promise<Lookup> {
  const fingerprint = inst.plugin.fingerprint ? await inst.plugin.fingerprint(inst.params as never) : undefined;
  const keyRecord: KeyRecord = { ...inst.keyBase, ...(fingerprint === undefined ? {} : { fingerprint }), inputs };
  const key = cacheKey(keyRecord);
  const record = await store.readRun(key);
  if (!record) return { key, keyRecord, record };
  const present = await Promise.all(recordObjects(record).map((o) => store.hasObject(o.hash, o.size)));
  return { key, keyRecord, record: present.every(Boolean) ? record : undefined };
}

export function inputKeys(plan: Plan, inst: StageInstance, upstream: (id: StageId) => Readonly<Record<string, OutputRef>>): Record<string, InputKey> {
  const keys: Record<string, InputKey> = {};
  for (const b of inst.inputs) {
    if (!b.many) {
      const s = b.sources[0];
      keys[b.name] = s ? (upstream(s.id)[s.output]?.hash ?? null) : null;
      continue;
    }
    keys[b.name] = b.sources.flatMap((s) => {
      const hash = upstream(s.id)[s.output]?.hash;
      const up = plan.instances.get(s.id)!;
      // In sorted key order: canonicalJson then writes the entry natively (no sort).
      return hash ? [{ hash, matrix: up.matrix, stage: up.stage }] : [];
    });
  }
  return keys;
}

export async function execute(plan: Plan, store: Store, runners: Runners, options: ExecOptions, observe: Observer): Promise<RunSummary> {
  const t0 = performance.now();
  const selected = options.only ? withUpstream(plan, options.only) : new Set(plan.order);
  const ids = plan.order.filter((id) => selected.has(id));
  // Under a remote runner `--jobs` counts jobs in flight, each taking one slot whatever its cores (its
  // machine provides those); the stages kept on this machine count this machine's cores.
  const remote = runners.remote;
  const slots = new CoreSemaphore(Math.max(1, options.jobs));
  const cores = remote ? new CoreSemaphore(availableParallelism()) : slots;
  /** Where each stage that runs elsewhere was last placed, for its report. */
  const placed = new Map<StageId, string>();
  const memo = new Map<StageId, Promise<Settled>>();
  const reports = new Map<StageId, StageReport>();
  const inflight = new Map<CacheKey, { readonly id: StageId; readonly settled: Promise<Settled> }>();
  const done = new Map<StageId, Readonly<Record<string, OutputRef>>>();
  let stopping = false;
  const signal = options.signal ?? new AbortController().signal;
  // Asked when the first stage has run: a run that computes nothing never spawns git.
  let git: Promise<{ git?: JsonValue }> | undefined;
  observe({ type: 'run-start', pipeline: plan.display, total: ids.length, jobs: slots.capacity, ...(remote ? { executor: remote.name } : {}) });

  const finish = (report: StageReport): void => {
    reports.set(report.id, report);
    observe({ type: 'stage-end', report });
  };

  const settle = (id: StageId): Promise<Settled> => {
    let p = memo.get(id);
    if (!p) {
      p = settleOnce(plan.instances.get(id)!);
      memo.set(id, p);
    }
    return p;
  };

  // Input objects checked this run, one check per object however many stages read it; dropped when
  // a bad one's producer is settled again, so the copy it publishes is checked afresh.
  const checks = new Map<ObjectHash, Promise<ObjectCheck>>();
  /** Objects already warned about: the copy a recomputation is still writing is not news. */
  const reported = new Set<ObjectHash>();

  /**
   * Before a stage that missed reads its inputs: each input object is checked against its name
   * (memoised, so an object checked before costs a stat). A bad one (corrupt, a symlink, gone) has
   * been moved out of the store; the instance that produced it is settled again, which misses and
   * recomputes it. Returns whether any was, so that the caller settles this instance again.
   */
  const repairInputs = async (inst: StageInstance, seen: ReadonlyMap<StageId, Promise<Settled>>): Promise<boolean> => {
    const sources = inst.inputs.flatMap((b) => b.sources.flatMap((s) => {
      const ref = done.get(s.id)?.[s.output];
      return ref ? [{ id: s.id, ref }] : [];
    }));
    const found = await Promise.all(sources.map(async ({ id, ref }) => {
      let check = checks.get(ref.hash);
      if (!check) {
        // A check that cannot even run (an unreachable remote) lets the stage's own read report it.
        check = store.verifyObject(ref.hash, ref.size).catch((): ObjectCheck => ({ ok: true }));
        checks.set(ref.hash, check);
      }
      return { id, hash: ref.hash, check: await check };
    }));
    let repaired = false;
    for (const { id, hash, check } of found) {
      if (check.ok) continue;
      repaired = true;
      const stale = seen.get(id);
      if (memo.get(id) !== stale) continue; // another stage reading it found it first
      checks.delete(hash);
      if (!reported.has(hash)) observe({ type: 'warning', message: badObjectLine(hash, check, id) });
      reported.add(hash);
      memo.set(id, settleOnce(plan.instances.get(id)!));
    }
    return repaired;
  };

  const settleOnce = async (inst: StageInstance, repairs = 0): Promise<Settled> => {
    const base: StageBase = { id: inst.id, stage: inst.stage, plugin: inst.plugin.name, outputs: {} };
    const ups = upstreamIds(inst);
    const pending = ups.map(settle);
    const seen = new Map(ups.map((u, i) => [u, pending[i]!] as const));
    const upstream = await Promise.all(pending);
    const b = upstream.findIndex((s) => !s.ok);
    if (b >= 0) {
      const why = (upstream[b] as { why: string }).why;
      const status = why === 'would-run' ? 'would-run' : 'skipped';
      finish({ ...base, key: null, status, seconds: 0, reason: status === 'would-run' ? `upstream ${ups[b]} will run` : `upstream ${ups[b]} ${why}` });
      return { ok: false, why: status };
    }
    const inputs = inputKeys(plan, inst, (u) => done.get(u)!);
    const hit = await lookup(store, inst, inputs);
    if (hit.record && !options.force?.has(inst.id)) {
      done.set(inst.id, hit.record.outputs);
      const remote = store.originOf?.(hit.key) === 'remote';
      finish({ ...base, key: hit.key, status: 'cached', seconds: 0, outputs: hashes(hit.record.outputs), ...(remote ? { remote: true as const } : {}) });
      return { ok: true, outputs: hit.record.outputs };
    }
    if (options.dryRun) {
      finish({ ...base, key: hit.key, status: 'would-run', seconds: 0, ...(hit.record ? { reason: 'forced' } : {}) });
      return { ok: false, why: 'would-run' };
    }
    if (await repairInputs(inst, seen)) {
      if (repairs < MAX_REPAIRS) return settleOnce(inst, repairs + 1);
      const reason = `its inputs were still bad after their stages computed them ${MAX_REPAIRS} times (see the warnings above)`;
      finish({ ...base, key: hit.key, status: 'failed', seconds: 0, reason });
      if (!options.keepGoing) stopping = true;
      return { ok: false, why: 'failed' };
    }
    // Two instances of this run with one key (a sweep axis their stage ignores after all): one
    // computes, the other takes its result. If the first fails, the second tries too.
    const twin = inflight.get(hit.key);
    if (twin && (await twin.settled).ok) {
      const now = await lookup(store, inst, inputs);
      if (now.record) return cachedMeanwhile(inst, base, now.key, now.record, `same key as ${twin.id}, computed in this run`);
    }
    const settled = compute(inst, base, hit, inputs);
    inflight.set(hit.key, { id: inst.id, settled });
    return settled;
  };

  const compute = async (inst: StageInstance, base: StageBase, hit: Lookup, inputs: Readonly<Record<string, InputKey>>): Promise<Settled> => {
    // A forced stage looks past the result it was forced to replace, not past one computed since.
    const fresh = (record: RunRecord | undefined): record is RunRecord => record !== undefined && record.startedAt !== hit.record?.startedAt;
    const elsewhere = remote !== undefined && inst.placement !== 'local';
    const pool = elsewhere ? slots : cores;
    const declared = inst.resources?.cores ?? inst.plugin.cores ?? 1;
    const want = elsewhere ? 1 : declared === 'all' ? cores.capacity : Math.min(declared, cores.capacity);
    // What the stage is told it has: on another machine, what it declared (`all`: as many as this one has).
    const given = elsewhere ? (declared === 'all' ? availableParallelism() : declared) : want;
    const runner = elsewhere ? remote : runners.local;
    // Cores first, then the key's lease, so that a process holds leases only on what it is running
    // and a second process working through the same sweep takes the stages nobody runs yet. A busy
    // key gives its cores back while it waits for the other process's result.
    for (;;) {
      let release = await pool.acquire(want);
      let busy: LeaseHolder | undefined;
      try {
        if (stopping || signal.aborted) {
          finish({ ...base, key: hit.key, status: 'skipped', seconds: 0, reason: signal.aborted ? 'the run was interrupted' : 'an earlier stage failed' });
          return { ok: false, why: 'skipped' };
        }
        const claim = await store.leases?.claim(hit.key, { pipeline: plan.display, stage: inst.id });
        if (claim?.busy) {
          busy = claim.busy;
        } else {
          try {
            // Another process may have finished the key while this one waited for cores.
            const now = claim ? await lookup(store, inst, inputs) : hit;
            if (fresh(now.record)) return cachedMeanwhile(inst, base, now.key, now.record, 'computed meanwhile by another process');
            // Between attempts the stage waits without its cores, as it waits for a lease.
            const pause = async (ms: number): Promise<boolean> => {
              release();
              const slept = await sleep(ms, true, { signal }).catch(() => false);
              release = await pool.acquire(want);
              return slept;
            };
            return await runStage(inst, hit, base, { runner, cores: given }, pause);
          } finally {
            await claim?.held.release();
          }
        }
      } finally {
        release();
      }
      const holder = describeHolder(busy);
      observe({ type: 'stage-waiting', id: inst.id, holder });
      try {
        await store.leases!.released(hit.key, busy, signal);
      } catch {
        finish({ ...base, key: hit.key, status: 'skipped', seconds: 0, reason: 'the run was interrupted' });
        return { ok: false, why: 'skipped' };
      }
      const after = await lookup(store, inst, inputs);
      if (fresh(after.record)) return cachedMeanwhile(inst, base, after.key, after.record, `computed meanwhile by ${holder}`);
      // The other process failed or was stopped: this one tries.
    }
  };

  const placedOf = (id: StageId): { where?: string } => {
    const where = placed.get(id);
    return where === undefined ? {} : { where };
  };

  const cachedMeanwhile = (inst: StageInstance, base: StageBase, key: CacheKey, record: RunRecord, reason: string): Settled => {
    const outputs = record.outputs;
    done.set(inst.id, outputs);
    finish({ ...base, key, status: 'cached', seconds: 0, outputs: hashes(outputs), reason });
    return { ok: true, outputs };
  };

  const runStage = async (inst: StageInstance, hit: Lookup, base: StageBase, on: { runner: Runner; cores: number }, pause: (ms: number) => Promise<boolean>): Promise<Settled> => {
    observe({ type: 'stage-start', id: inst.id, plugin: inst.plugin.name, key: hit.key, cores: on.cores });
    const started = new Date();
    const t = performance.now();
    const policy = { attempts: 1 + (inst.retries ?? options.retries ?? 0), delayMs: options.retryDelayMs ?? 1000, ...(inst.timeoutMs === undefined ? {} : { timeoutMs: inst.timeoutMs }) };
    try {
      const { value: result, attempts } = await withAttempts(
        (attemptSignal) =>
          on.runner.run(
            { instance: inst, key: hit.key, keyRecord: hit.keyRecord, inputs: resolveInputs(plan, inst, (u) => done.get(u)!), cores: on.cores, ...(options.backend === undefined ? {} : { backend: options.backend }) },
            {
              signal: attemptSignal,
              onProgress: (update) => observe({ type: 'stage-progress', id: inst.id, update }),
              onLog: (message) => observe({ type: 'stage-log', id: inst.id, message }),
              onPlacement: (where) => {
                placed.set(inst.id, where);
                observe({ type: 'stage-placed', id: inst.id, where });
              },
            },
          ),
        policy,
        {
          signal,
          stopping: () => stopping,
          // A warning, not a log line: it reaches the user without --verbose, and fails nothing (yet).
          retrying: (n, e, delayMs) =>
            observe({ type: 'warning', message: `${inst.id}: attempt ${n} of ${policy.attempts} failed: ${describeError(e)}; trying again in ${showDuration(delayMs)}` }),
          pause,
          stalled: () => stalls.signal(),
        },
      );
      const seconds = (performance.now() - t) / 1000;
      const tries = attempts > 1 ? { attempts } : {};
      const where = placedOf(inst.id);
      // A job elsewhere wrote its record to the shared remote itself (after its outputs): taken as it is.
      if (result.record) await (store.adoptRun ? store.adoptRun(result.record) : store.writeRun(result.record));
      else await store.writeRun({
        format: 1,
        key: hit.key,
        keyRecord: hit.keyRecord,
        stage: { id: inst.id, name: inst.stage, pipeline: plan.pipeline },
        outputs: result.outputs,
        startedAt: started.toISOString(),
        seconds,
        provenance: { ...environment(), ...(await (git ??= gitOf(plan.pipeline))), ...result.provenance, ...tries },
      });
      done.set(inst.id, result.outputs);
      const replaced = hit.record ? { reason: forcedOutcome(hit.record.outputs, result.outputs) } : {};
      finish({ ...base, key: hit.key, status: 'ran', seconds, outputs: hashes(result.outputs), ...tries, ...replaced, ...where });
      return { ok: true, outputs: result.outputs };
    } catch (failure) {
      if (!options.keepGoing) stopping = true;
      const [e, attempts] = failure instanceof AttemptsFailed ? [failure.error, failure.attempts] : [failure, 1];
      const userError = isUserError(e);
      const seconds = (performance.now() - t) / 1000;
      finish({ ...base, key: hit.key, status: 'failed', seconds, reason: describeError(e), ...(userError ? { userError } : {}), ...(attempts > 1 ? { attempts } : {}), ...placedOf(inst.id) });
      return { ok: false, why: 'failed' };
    }
  };

  // A plugin that leaves its promise pending with nothing to wait on would otherwise end the process
  // here, mid-run, with status 0 and no report: its attempt fails instead.
  const stalls = new StallWatch('its run()');
  try {
    await Promise.all(ids.map(settle));
  } finally {
    stalls.close();
  }
  const stages = ids.flatMap((id) => reports.get(id) ?? []);
  const refs = Object.fromEntries(stages.filter((s) => s.key && (s.status === 'ran' || s.status === 'cached')).map((s) => [s.id, s.key!]));
  if (!options.dryRun && Object.keys(refs).length > 0) await store.updateRefs(plan.pipeline, refs);
  const seconds = (performance.now() - t0) / 1000;
  observe({ type: 'run-end', stages, seconds });
  const dryRun = options.dryRun === true;
  return { stages, seconds, ok: stages.length === ids.length && stages.every((s) => okStatus(s.status, dryRun)) };
}

/** How often a stage's inputs are recomputed because they were bad, before the stage gives up. */
const MAX_REPAIRS = 2;

/** The warning for an input object that was bad: what was wrong, where it went, what happens now. */
function badObjectLine(hash: ObjectHash, check: Extract<ObjectCheck, { ok: false }>, producer: StageId): string {
  if (check.remote !== undefined) {
    return `remote object ${hash} was corrupt (${check.reason}); recomputing ${producer}${check.reupload ? `, whose upload replaces it on ${check.remote}` : ' (read-only: the remote keeps its bad copy)'}`;
  }
  if (check.missing) return `cache object ${hash} is missing; recomputing ${producer}`;
  return `cache object ${hash} was corrupt (${check.reason})${check.quarantined === undefined ? '' : `; moved to ${check.quarantined}`}, recomputing ${producer}`;
}

/** `{ git: { commit, dirty } }` for a run record, when the pipeline's folder is in a git repository. */
async function gitOf(pipeline: string): Promise<{ git?: JsonValue }> {
  const git = await gitState(dirname(pipeline));
  return git === undefined ? {} : { git };
}

/** What a forced rerun did to the result it replaced. */
function forcedOutcome(before: Readonly<Record<string, OutputRef>>, after: Readonly<Record<string, OutputRef>>): string {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = names.filter((n) => before[n]?.hash !== after[n]?.hash);
  return changed.length === 0 ? 'forced; the same outputs as the result it replaced' : `forced; replaced a result whose ${changed.join(', ')} differed`;
}

/** Whether a run whose stages all ended so succeeded: each one's result is there (or, in a dry run, could be). */
function okStatus(s: StageReport['status'], dryRun: boolean): boolean {
  switch (s) {
    case 'ran':
    case 'cached':
      return true;
    case 'would-run':
      return dryRun;
    case 'failed':
    case 'skipped':
      return false;
    default:
      return unreachable(s);
  }
}

function hashes(outputs: Readonly<Record<string, OutputRef>>): Record<string, ObjectHash> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.hash]));
}

export function resolveInputs(plan: Plan, inst: StageInstance, upstream: (id: StageId) => Readonly<Record<string, OutputRef>>): ResolvedInputs {
  const out: Record<string, InputArtifact | InputArtifact[]> = {};
  for (const b of inst.inputs) {
    const arts = b.sources.flatMap((s): InputArtifact[] => {
      const ref = upstream(s.id)[s.output];
      if (!ref) return []; // an optional output the upstream did not write
      const up = plan.instances.get(s.id)!;
      return [{ ...ref, from: { id: s.id, stage: up.stage, matrix: up.matrix, output: s.output } }];
    });
    if (b.many) out[b.name] = arts;
    else if (arts[0]) out[b.name] = arts[0];
  }
  return out;
}
