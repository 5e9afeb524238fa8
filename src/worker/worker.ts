// `rethink worker`'s process: it holds only BullMQ workers and their jobs' locks; the stages run in
// warm children (slot.ts), one job per slot. It takes jobs by hand (BullMQ's manual fetching) so
// that one slot count is shared by both queues and a GPU worker takes GPU jobs first; it renews each
// job's lock itself while the job's child computes. A job ends as its child's result says; a child
// that dies without one fails it (the coordinator's `retries` decide on another attempt), while a
// worker that dies leaves its jobs' locks to expire and BullMQ's stalled check requeues them for
// another worker (`maxStalledCount` times). Stopping (SIGTERM) asks each child to stop its job
// (a training checkpoints to the remote) and hands the job back to the queue, not failed.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { RedisTarget } from '../exec/engines/redis.js';
import type { JobError } from '../exec/job-messages.js';
import {
  CANCEL_CHANNEL,
  cancelledKeyOf,
  failedReasonOf,
  queuesServedBy,
  type QueueFailure,
  type QueueJobData,
  type QueueProgress,
  type QueueReturn,
} from '../exec/engines/queue-protocol.js';
import type { ChildCommand, ChildOutcome } from './child.js';
import { Slot } from './slot.js';
import { LatestOnly } from './latest-only.js';

export interface WorkerOptions {
  readonly queue: RedisTarget;
  /** The remote this worker's children publish to; a job for another remote is refused. */
  readonly remoteUrl: string;
  /** Where jobs run, in stage lines and provenance (`--name`, default host:pid). */
  readonly name: string;
  /** `gpu`: also serve the GPU queue, first. */
  readonly tags: readonly string[];
  readonly concurrency: number;
  readonly timing: WorkerTiming;
  readonly child: ChildCommand;
  readonly log: (line: string) => void;
}

export interface WorkerTiming {
  /** A job's lock: how long a dead worker holds its job (renewed every half of it while alive). */
  readonly lockMs: number;
  /** How often the stalled check looks for jobs whose lock expired. */
  readonly stalledMs: number;
  /** How many times a job may lose its worker before it fails as lost. */
  readonly maxStalledCount: number;
  /** How long a child has to stop a job it was asked to (cancel, SIGTERM) before SIGKILL. */
  readonly graceMs: number;
}

export const WORKER_TIMING: WorkerTiming = { lockMs: 30_000, stalledMs: 10_000, maxStalledCount: 5, graceMs: 10_000 };

export const defaultWorkerName = () => `${hostname()}:${process.pid}`;

/** A job this worker runs, and what happened to it meanwhile. */
interface Running {
  readonly slot: Slot;
  cancelled: boolean;
  handBack: boolean;
  lockLost: boolean;
  /** Past its spec's timeout (and the grace) without a result: a stage that blocks its child's event loop never sees its own timer. */
  timedOut: boolean;
}

export class QueueWorker {
  private readonly workers: readonly Worker<QueueJobData, QueueReturn>[];
  private readonly slots: readonly Slot[];
  private readonly free: Slot[] = [];
  private wake: (() => void) | undefined;
  private readonly running = new Map<string, Running>();
  private readonly jobs = new Set<Promise<void>>();
  private closing = false;
  private stopping: Promise<void> | undefined;
  private loop: Promise<void> = Promise.resolve();
  private fetchFailing = false;

  private constructor(
    private readonly options: WorkerOptions,
    private readonly control: Redis,
    private readonly subscriber: Redis,
  ) {
    const { timing, queue, name, tags, concurrency, log } = options;
    const served = queuesServedBy(tags);
    this.workers = served.map((queueName) => {
      const worker = new Worker<QueueJobData, QueueReturn>(queueName, null, {
        connection: queue.options,
        name,
        autorun: false,
        lockDuration: timing.lockMs,
        stalledInterval: timing.stalledMs,
        maxStalledCount: timing.maxStalledCount,
        // Serving two queues, the blocking wait is on the last: a job on the first waits at most this long.
        ...(served.length > 1 ? { drainDelay: 1 } : {}),
      });
      worker.on('error', (e) => log(`${queueName}: ${e.message}`));
      return worker;
    });
    this.slots = Array.from({ length: concurrency }, (_, i) => new Slot(i, options.child, timing.graceMs, log));
  }

  /** Starts the slots' children (a child that cannot start is an error: the setup is wrong), then takes jobs. */
  static async start(options: WorkerOptions): Promise<QueueWorker> {
    const control = new Redis(options.queue.options);
    const subscriber = new Redis(options.queue.options);
    for (const c of [control, subscriber]) c.on('error', () => undefined);
    const worker = new QueueWorker(options, control, subscriber);
    try {
      await Promise.all(worker.slots.map((s) => s.ready()));
      subscriber.on('message', (_channel: string, id: string) => worker.cancel(id));
      await subscriber.subscribe(CANCEL_CHANNEL);
      await Promise.all(worker.workers.map((w) => w.waitUntilReady()));
      await Promise.all(worker.workers.map((w) => w.startStalledCheckTimer()));
    } catch (e) {
      await worker.stop();
      throw e;
    }
    worker.free.push(...worker.slots);
    worker.loop = worker.takeJobs();
    options.log(`worker ${options.name}: serving ${queuesServedBy(options.tags).join(', ')} with ${options.concurrency} slot${options.concurrency === 1 ? '' : 's'}`);
    return worker;
  }

  /** Stops taking jobs, hands the running ones back, closes its connections and children. */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    this.wake?.();
    for (const run of this.running.values()) {
      run.handBack = true;
      run.slot.drain();
    }
    await Promise.all(this.jobs);
    // Forced: its jobs are done with, and it must not wait out a blocking fetch (up to drainDelay).
    await Promise.allSettled(this.workers.map((w) => w.close(true)));
    await this.loop;
    await Promise.all(this.slots.map((s) => s.stop()));
    this.control.disconnect();
    this.subscriber.disconnect();
  }

  private cancel(id: string): void {
    const run = this.running.get(id);
    if (run === undefined) return;
    this.options.log(`${id.slice(0, 12)}: cancelled by its coordinator; stopping it`);
    run.cancelled = true;
    run.slot.cancel();
  }

  private async takeJobs(): Promise<void> {
    while (!this.closing) {
      const slot = await this.freeSlot();
      if (slot === undefined) return;
      try {
        await slot.warm();
      } catch {
        return;
      }
      const found = await this.next();
      if (found === undefined) {
        this.free.push(slot);
        continue;
      }
      if (this.closing) {
        await found.job.moveToWait(found.token).catch(() => undefined);
        return;
      }
      const done = this.process(slot, found.job, found.token).finally(() => {
        this.jobs.delete(done);
        this.free.push(slot);
        this.wake?.();
      });
      this.jobs.add(done);
    }
  }

  private async freeSlot(): Promise<Slot | undefined> {
    while (!this.closing) {
      const slot = this.free.shift();
      if (slot !== undefined) return slot;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
    return undefined;
  }

  /** The next job, from the queues in the order they are served; undefined after a wait with none. */
  private async next(): Promise<{ job: Job<QueueJobData, QueueReturn>; token: string } | undefined> {
    const token = randomUUID();
    try {
      for (const [i, worker] of this.workers.entries()) {
        const last = i === this.workers.length - 1;
        const job = (await worker.getNextJob(token, { block: last })) as Job<QueueJobData, QueueReturn> | undefined;
        if (job !== undefined) {
          this.fetchFailing = false;
          return { job, token };
        }
      }
      this.fetchFailing = false;
    } catch (e) {
      if (this.closing) return undefined;
      if (!this.fetchFailing) this.options.log(`cannot take jobs from ${this.options.queue.shown}: ${(e as Error).message}; trying again`);
      this.fetchFailing = true;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    return undefined;
  }

  private async process(slot: Slot, job: Job<QueueJobData, QueueReturn>, token: string): Promise<void> {
    const { name: where, timing, log } = this.options;
    const id = job.id!;
    const label = `${job.name} (${id.slice(0, 12)})`;
    const run: Running = { slot, cancelled: false, handBack: false, lockLost: false, timedOut: false };
    // The child enforces the stage's timeout itself; this catches a stage that blocks the child's
    // event loop, whose timer then never fires (the coordinator, if still there, cancels it too).
    const timeoutMs = job.data.spec.timeoutMs;
    const deadline =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            run.timedOut = true;
            log(`${label}: still running ${(timeoutMs + timing.graceMs) / 1000} s after it started, past its ${timeoutMs / 1000} s timeout; stopping it`);
            slot.cancel();
          }, timeoutMs + timing.graceMs);
    this.running.set(id, run);
    const renew = setInterval(() => {
      job.extendLock(token, timing.lockMs).then(
        (held) => {
          if (held || run.lockLost) return;
          // Its lock expired (Redis was out of reach): the stalled check gave the job to another worker.
          run.lockLost = true;
          log(`${label}: lost its lock; another worker runs it now, stopping this attempt`);
          slot.cancel();
        },
        (e: Error) => log(`${label}: cannot renew its lock: ${e.message}`),
      );
    }, timing.lockMs / 2);
    const attempt = job.attemptsStarted;
    const progress = new LatestOnly<QueueProgress>((p) => job.updateProgress(p as unknown as object));
    try {
      progress.send({ where, attempt });
      log(`${label}: running, attempt ${attempt}`);
      const outcome = await this.outcomeOf(job, slot, attempt, (p) => progress.send(p));
      await progress.flushed();
      if (run.lockLost) return;
      if (run.cancelled || outcome.kind === 'cancelled') return void (await job.moveToFailed(new UnrecoverableError('cancelled by its coordinator'), token));
      if (outcome.kind === 'result' && outcome.result.ok) {
        await job.moveToCompleted({ where }, token, false);
        log(`${label}: done`);
        return;
      }
      if (run.handBack) {
        await job.moveToWait(token);
        log(`${label}: handed back to the queue (this worker is stopping)`);
        return;
      }
      const failure: QueueFailure =
        run.timedOut && outcome.kind === 'died' ? { kind: 'failed', message: `timed out after ${timeoutMs! / 1000} s on ${where}: the stage ignored its stop, and its process was killed` } : failureOf(outcome, where);
      const error = failure.kind === 'failed' ? new Error(failedReasonOf(failure)) : new UnrecoverableError(failedReasonOf(failure));
      await job.moveToFailed(error, token);
      log(`${label}: failed: ${failure.message.split('\n')[0]}`);
    } catch (e) {
      log(`${label}: cannot record its outcome in the queue: ${(e as Error).message}`);
    } finally {
      clearInterval(renew);
      clearTimeout(deadline);
      this.running.delete(id);
    }
  }

  /** Runs the job in the slot's child, unless it was cancelled before it started or belongs to another remote. */
  private async outcomeOf(job: Job<QueueJobData, QueueReturn>, slot: Slot, attempt: number, progress: (p: QueueProgress) => void): Promise<JobOutcome> {
    const { name: where, remoteUrl, log } = this.options;
    const data = job.data;
    if ((await this.control.exists(cancelledKeyOf(job.id!))) === 1) return { kind: 'cancelled' };
    if (data.remoteUrl !== remoteUrl) return { kind: 'refused', message: `worker ${where} publishes to the remote ${remoteUrl}, but this job's coordinator reads ${data.remoteUrl}: start workers with the coordinator's --remote` };
    const ranOn = { host: hostname(), worker: where, engine: 'queue' as const, jobId: job.id!, attempt };
    return slot.run(
      { type: 'job', spec: data.spec, ranOn },
      {
        onProgress: (update) => progress({ where, attempt, update }),
        onLog: (line) => log(`${job.name}: ${line}`),
      },
    );
  }
}

/** What became of a job this worker took: its child's outcome, or it was refused or cancelled before it ran. */
type JobOutcome = ChildOutcome | { readonly kind: 'refused'; readonly message: string } | { readonly kind: 'cancelled' };

/** A stage's error as `rethink exec --serve` reports it: a refused spec says so. */
type ServeError = JobError & { readonly refused?: true };

/** Why a job failed, as the queue records it: the stage's error, a user error, a refusal, or its process's death. */
function failureOf(outcome: Exclude<JobOutcome, { kind: 'cancelled' }>, where: string): QueueFailure {
  if (outcome.kind === 'refused') return { kind: 'refused', message: outcome.message };
  if (outcome.kind === 'died') return { kind: 'failed', message: `the stage's process on ${where} ${outcome.how} before reporting a result` };
  if (outcome.result.ok) throw new Error('a successful result is not a failure');
  const error: ServeError = outcome.result.error;
  if (error.refused === true) return { kind: 'refused', message: error.message };
  if (error.userError === true) return { kind: 'userError', message: error.message };
  return { kind: 'failed', message: error.name === 'Error' || error.name === '' ? error.message : `${error.name}: ${error.message}` };
}
