// `--executor queue`: each stage a BullMQ job on Redis, run by `rethink worker` processes on any
// machine (src/worker/). The job's id is the stage's key, so a restarted coordinator, or a second one
// on an overlapping sweep, finds the job there and watches it rather than adding another. Outcomes
// come from QueueEvents, and from a periodic look at each job's state, because events are not
// replayed across a reconnect; a Redis that stays out of reach past `lostAfterMs` loses the jobs
// (their stages' state stays on the remote: a rerun resumes).
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { EngineJob, EngineOutcome, JobEngine, QueueEngineOptions } from '../engine.js';
import type { JobSpec } from '../job-spec.js';
import type { ProgressUpdate } from '../../plugin/types.js';
import { probeRedis, redisTarget, type RedisTarget } from './redis.js';
import {
  CANCEL_CHANNEL,
  cancelledKeyOf,
  CANCELLED_TTL_MS,
  CPU_QUEUE,
  failureOf,
  GPU_QUEUE,
  KEEP_FINISHED_S,
  queueFor,
  STALLED_REASON,
  type QueueJobData,
  type QueueName,
  type QueueProgress,
} from './queue-protocol.js';

export interface QueueEngineTiming {
  /** How often every watched job's state is read (events can be missed). */
  readonly checkMs: number;
  /** How long Redis may go unanswered before the jobs are lost. */
  readonly lostAfterMs: number;
}

export const QUEUE_ENGINE_TIMING: QueueEngineTiming = { checkMs: 2_000, lostAfterMs: 30_000 };

/** Connects (a user error naming the URL when Redis cannot be reached) and starts listening for job events. */
export async function createQueueEngine(options: QueueEngineOptions & { readonly timing?: Partial<QueueEngineTiming> }): Promise<JobEngine> {
  const target = redisTarget(options.url, '--queue');
  await probeRedis(target);
  const engine = new QueueEngine(target, options.remoteUrl, { ...QUEUE_ENGINE_TIMING, ...options.timing }, options.warn);
  await engine.ready();
  return engine;
}

const PENDING = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

class QueueEngine implements JobEngine {
  readonly name = 'queue';
  private readonly queues: ReadonlyMap<QueueName, Queue>;
  private readonly events: readonly QueueEvents[];
  private readonly control: Redis;
  private readonly watched = new Map<string, QueueJob>();
  /** This coordinator's mark on the jobs it adds. */
  private readonly token = randomUUID();
  private readonly timer: NodeJS.Timeout;
  private lastContact = Date.now();
  private checking = false;
  private lastError = '';

  constructor(
    private readonly target: RedisTarget,
    private readonly remoteUrl: string,
    private readonly timing: QueueEngineTiming,
    private readonly warn: (line: string) => void,
  ) {
    const connection = target.options;
    const noted = (e: Error) => void (this.lastError = e.message);
    this.queues = new Map(([GPU_QUEUE, CPU_QUEUE] as const).map((name) => [name, new Queue<QueueJobData>(name, { connection }).on('error', noted)] as const));
    this.events = [GPU_QUEUE, CPU_QUEUE].map((name) => {
      const events = new QueueEvents(name, { connection });
      events.on('error', noted);
      events.on('completed', ({ jobId }) => this.watched.get(jobId)?.settle({ state: 'completed' }));
      events.on('failed', ({ jobId, failedReason }) => this.watched.get(jobId)?.settle(outcomeOfFailure(failedReason)));
      events.on('removed', ({ jobId }) => this.watched.get(jobId)?.settle({ state: 'lost', reason: 'it was removed from the queue' }));
      events.on('progress', ({ jobId, data }) => this.watched.get(jobId)?.progress(data));
      return events;
    });
    this.control = new Redis(connection).on('error', noted);
    this.timer = setInterval(() => void this.check(), timing.checkMs);
    this.timer.unref();
  }

  async ready(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.waitUntilReady()));
    await Promise.all(this.events.map((e) => e.waitUntilReady()));
  }

  async submit(spec: JobSpec, specPath: string, signal: AbortSignal): Promise<EngineJob> {
    signal.throwIfAborted();
    const id = spec.key;
    const found = await this.find(id);
    let queue = this.queues.get(queueFor(spec.resources))!;
    let attached = false;
    let done: EngineOutcome | undefined;
    if (found !== undefined) {
      queue = found.queue;
      const state = await found.job.getState();
      if (state === 'completed') done = { state: 'completed' };
      else if (state === 'failed') attached = !(await this.retry(found.job));
      else attached = PENDING.has(state);
    }
    if (found === undefined || (!attached && done === undefined && !(await this.exists(queue, id)))) {
      await this.control.del(cancelledKeyOf(id));
      const data: QueueJobData = { spec, specPath, remoteUrl: this.remoteUrl, submittedBy: this.token };
      await queue.add(spec.stage.id, data, { jobId: id, attempts: 1, removeOnComplete: { age: KEEP_FINISHED_S }, removeOnFail: { age: KEEP_FINISHED_S } });
      // An add with an id that exists is a no-op: the job's mark says whether this coordinator's add made it.
      const stored = (await queue.getJob(id)) as Job<QueueJobData> | undefined;
      attached = stored !== undefined && stored.data.submittedBy !== this.token;
    }
    const job = this.watch(id, queue, attached);
    if (done !== undefined) job.settle(done);
    else void this.checkOne(job);
    return job;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const job of this.watched.values()) job.settle({ state: 'lost', reason: 'the coordinator stopped watching it' });
    // Disconnected, not quit: nothing is left to flush, and a quit waits forever for a Redis that is gone.
    await Promise.allSettled([...this.events.map((e) => e.close()), ...[...this.queues.values()].map((q) => q.disconnect())]);
    this.control.disconnect();
  }

  /** Cancels a job: removed while it waits; told to its worker (channel and key) once it runs. */
  async cancel(job: QueueJob): Promise<void> {
    if (job.settled) return;
    const id = job.id;
    await this.control.set(cancelledKeyOf(id), this.token, 'PX', CANCELLED_TTL_MS);
    await this.control.publish(CANCEL_CHANNEL, id);
    // Settled first: the `removed` event that follows is this cancel's, not news.
    job.settle({ state: 'lost', reason: 'cancelled' });
    const stored = await job.queue.getJob(id);
    if (stored !== undefined && (await stored.getState()) !== 'active') {
      // It may turn active in between: then the key and the message reach its worker.
      await stored.remove().catch(() => undefined);
    }
  }

  private async find(id: string): Promise<{ queue: Queue; job: Job<QueueJobData> } | undefined> {
    for (const queue of this.queues.values()) {
      const job = (await queue.getJob(id)) as Job<QueueJobData> | undefined;
      if (job !== undefined) return { queue, job };
    }
    return undefined;
  }

  private async exists(queue: Queue, id: string): Promise<boolean> {
    return (await queue.getJob(id)) !== undefined;
  }

  /** Moves a failed job back to waiting (this coordinator's next attempt); false if another coordinator did first. */
  private async retry(job: Job<QueueJobData>): Promise<boolean> {
    await this.control.del(cancelledKeyOf(job.id!));
    try {
      await job.retry('failed');
      return true;
    } catch {
      return false;
    }
  }

  private watch(id: string, queue: Queue, attached: boolean): QueueJob {
    const existing = this.watched.get(id);
    if (existing !== undefined && !existing.settled) return existing;
    const job = new QueueJob(id, queue, attached, this, () => this.watched.delete(id));
    this.watched.set(id, job);
    return job;
  }

  /** Reads every watched job's state; loses them all once Redis has not answered for `lostAfterMs`. */
  private async check(): Promise<void> {
    if (this.checking) {
      this.loseAllIfSilent();
      return;
    }
    this.checking = true;
    try {
      await Promise.all([...this.watched.values()].map((job) => this.checkOne(job, true)));
      this.lastContact = Date.now();
    } catch (e) {
      this.lastError = (e as Error).message;
      this.loseAllIfSilent();
    } finally {
      this.checking = false;
    }
  }

  private loseAllIfSilent(): void {
    if (Date.now() - this.lastContact < this.timing.lostAfterMs || this.watched.size === 0) return;
    const reason = `lost the connection to the queue's Redis at ${this.target.shown} for ${Math.round(this.timing.lostAfterMs / 1000)} s${this.lastError === '' ? '' : ` (${this.lastError})`}; the job may still run: a rerun finds its result or its job`;
    this.warn(reason);
    for (const job of this.watched.values()) job.settle({ state: 'lost', reason });
  }

  private async checkOne(job: QueueJob, rethrow = false): Promise<void> {
    try {
      // The state first, then the job: a job read before it finished would carry no failedReason.
      const state = await job.queue.getJobState(job.id);
      const stored = state === 'unknown' ? undefined : ((await job.queue.getJob(job.id)) as Job<QueueJobData> | undefined);
      if (stored === undefined) return job.settle({ state: 'lost', reason: 'it vanished from the queue (removed by someone, or Redis lost its data)' });
      // The job's last progress first: its events may still be on their way when a check sees it finished.
      job.progress(stored.progress);
      if (state === 'completed') job.settle({ state: 'completed' });
      else if (state === 'failed') job.settle(outcomeOfFailure(stored.failedReason ?? 'failed'));
    } catch (e) {
      if (rethrow) throw e;
    }
  }
}

function outcomeOfFailure(failedReason: string): EngineOutcome {
  if (STALLED_REASON.test(failedReason)) return { state: 'lost', reason: `its workers kept dying or stalling: ${failedReason}` };
  const failure = failureOf(failedReason);
  return failure.kind === 'failed' ? { state: 'failed', reason: failure.message } : { state: 'failed', reason: failure.message, userError: true };
}

function isQueueProgress(data: unknown): data is QueueProgress {
  return typeof data === 'object' && data !== null && typeof (data as { where?: unknown }).where === 'string';
}

class QueueJob implements EngineJob {
  readonly outcome: Promise<EngineOutcome>;
  settled = false;
  private resolve!: (o: EngineOutcome) => void;
  private where: string | undefined;
  private readonly placements: ((where: string) => void)[] = [];
  private readonly updates: ((update: ProgressUpdate) => void)[] = [];

  constructor(
    readonly id: string,
    readonly queue: Queue,
    readonly attached: boolean,
    private readonly engine: QueueEngine,
    private readonly forget: () => void,
  ) {
    this.outcome = new Promise((resolve) => (this.resolve = resolve));
  }

  onPlacement(listener: (where: string) => void): void {
    this.placements.push(listener);
    if (this.where !== undefined) listener(this.where);
  }

  onProgress(listener: (update: ProgressUpdate) => void): void {
    this.updates.push(listener);
  }

  cancel(): Promise<void> {
    return this.engine.cancel(this);
  }

  progress(data: unknown): void {
    if (this.settled || !isQueueProgress(data)) return;
    if (data.where !== this.where) {
      this.where = data.where;
      for (const l of this.placements) l(data.where);
    }
    if (data.update !== undefined) for (const l of this.updates) l(data.update);
  }

  settle(outcome: EngineOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.forget();
    this.resolve(outcome);
  }
}
