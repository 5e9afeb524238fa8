// The reusable training loop: seeded shuffling per epoch, per-batch preprocessing and augmentation,
// a custom momentum-SGD step, per-epoch (and optionally per-step) loss/accuracy, early stop on a
// train-accuracy target, progress and cancellation. Same seed + backend → identical weights.
// The loop talks to the backend only through its session (src/backends/session.ts): what to do before
// a run, after each step and after the first, the momentum update, and a whole compiled step where the
// backend has one for this model.
import { Breather } from '../util/event-loop.js';
import { Rng } from '../util/random.js';
import { batchShape, makeBatch } from './batch.js';
import { sgdSlots } from './decay.js';
import { evaluate } from './evaluate.js';
import { learningRate } from './schedule.js';
import { MomentumSgd } from './sgd.js';
import { asSource, identityIndices, readAhead, type Images } from './source.js';
import { trainStep } from './step.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { BackendSession, CompiledTrainStep, TrainChunk } from '../backends/session.js';
import type { Tf } from '../models/types.js';
import { stepStreams } from '../models/step-stream.js';
import type { EpochRecord, KernelTuning, StepRecord, StopReason, TrainHooks, TrainOptions, TrainResult } from './types.js';

export interface TrainData {
  /** In memory, or streamed batch by batch from a dataset artifact (source.ts). */
  readonly train: Images;
  readonly test?: Images;
  readonly numClasses: number;
}

/** A step whose [loss, correct] has not been read yet. */
interface Pending {
  readonly out: tfTypes.Tensor1D;
  /** Its read, started as soon as the step was enqueued. */
  readonly values: Promise<ArrayLike<number>>;
  readonly size: number;
  readonly lr: number;
  /** 1-based step within the epoch, and across the run. */
  readonly step: number;
  readonly globalStep: number;
}

export async function train(
  tf: Tf,
  session: BackendSession,
  model: tfTypes.LayersModel,
  data: TrainData,
  opts: TrainOptions,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const started = performance.now();
  const n = data.train.shape[0];
  if (n === 0) throw new RangeError('train: no training images');
  if (data.train.labels.length !== n) throw new RangeError(`train: ${data.train.labels.length} labels for ${n} images`);
  const image = batchShape(data.train.shape, opts.preprocessing); // fails fast on a crop that does not fit
  const stepsPerEpoch = Math.ceil(n / opts.batchSize);
  const source = asSource(data.train);
  const ownRows = identityIndices(Math.min(n, opts.batchSize));
  const sgd = new MomentumSgd(tf, sgdSlots(model, opts.weightDecay), opts.momentum, session.momentum);
  const history: EpochRecord[] = [];
  const steps: StepRecord[] = [];
  let globalStep = 0;
  let firstEpoch = 0;
  const tensors = { weights: model.weights, velocities: sgd.velocityVariables, streams: stepStreams(model) };
  // An earlier attempt of this run saved where it stood: every epoch's randomness derives from the seed
  // and the epoch, and the dropout layers' mask streams are put back where they stood, so going on
  // from there gives what an uninterrupted run gives.
  const resumed = await hooks.checkpoint?.restore(tensors).catch((e: unknown) => {
    sgd.dispose();
    throw e;
  });
  if (resumed) {
    history.push(...resumed.history);
    steps.push(...resumed.steps);
    globalStep = resumed.globalStep;
    firstEpoch = resumed.epochsDone;
  }
  let stoppedBy: StopReason = 'epochs';
  let kernelTuning: KernelTuning | null = null;
  await session.prepareRun?.();
  // On the CPU backends every await below settles as a microtask: without a turn now and then, an
  // abort (Ctrl-C, a timeout) and progress output would wait for the end of training.
  const breather = new Breather();
  // A compiled step owns the weights and velocities while it runs, so it is made after a restore (it
  // reads the restored ones) and writes them back before anything else reads them: evaluation, a
  // checkpoint, the caller.
  let compiled: CompiledTrainStep | undefined;
  let unsynced = false;
  const sync = (): void => {
    if (compiled === undefined || !unsynced) return;
    compiled.sync();
    unsynced = false;
  };

  try {
    compiled = session.compileTrainStep?.({
      model,
      slots: sgd.slots,
      velocities: sgd.velocityVariables,
      momentum: opts.momentum,
      imageShape: [image.height, image.width, image.channels],
      numClasses: data.numClasses,
      batchSize: opts.batchSize,
    });
    // The host buffers of the compiled step's chunks, allocated once for the largest chunk.
    const chunks = compiled === undefined ? undefined : new ChunkBuffers(compiled.maxChunkSteps, opts.batchSize, image.height * image.width * image.channels);
    for (let epoch = firstEpoch; epoch < opts.epochs && stoppedBy === 'epochs'; epoch++) {
      const epochStart = performance.now();
      const order = Rng.derive(opts.seed, 'shuffle', epoch).permutation(n);
      const augRng = Rng.derive(opts.seed, 'augment', epoch);
      const lrAtStart = learningRate(opts.schedule, globalStep, stepsPerEpoch);
      let lossSum = 0;
      let correctSum = 0;
      let seen = 0;
      let step = 0;
      // One step in flight: step i is enqueued before step i−1's [loss, correct] is awaited, so on a
      // GPU the device works on step i while JavaScript waits for i−1 and then prepares batch i+1.
      // Each step's read starts right after the step itself, ahead of step i: a GPU queue runs in
      // order, so a read issued after step i would wait for step i as well, and the device would sit
      // idle while JavaScript prepares the next batch. The numbers and their order are the same as
      // reading each step at once.
      let pending: Pending | null = null;
      // This epoch's batches in its seeded order, each read while the step before it runs.
      const batches = readAhead(source, order, opts.batchSize);
      const settle = async (p: Pending): Promise<void> => {
        // Awaiting the read yields to the event loop, so progress renders and aborts arrive.
        let values: ArrayLike<number>;
        try {
          values = await p.values;
        } finally {
          p.out.dispose();
        }
        const [loss, correct] = [values[0], values[1]];
        lossSum += loss! * p.size;
        correctSum += correct!;
        seen += p.size;
        if (opts.recordSteps === true) steps.push({ step: p.globalStep, lr: p.lr, loss: loss!, acc: correct! / p.size });
        hooks.onStep?.({ epoch: epoch + 1, epochs: opts.epochs, step: p.step, stepsPerEpoch, globalStep: p.globalStep, loss: loss!, acc: correct! / p.size, lr: p.lr });
      };
      try {
        if (compiled !== undefined && chunks !== undefined) {
          // The compiled step takes up to maxChunkSteps batches per run (it copies its state out once
          // per run, not once per step): a chunk stays within the epoch, never passes maxSteps, and holds
          // batches of one size (a short last batch runs alone). Batches, augmentation and learning
          // rates are drawn in step order, as the op-by-op path draws them, and each step is reported
          // as that path reports it. Aborts and progress are seen between chunks.
          const sizeOf = (s: number): number => Math.min(n, (s + 1) * opts.batchSize) - s * opts.batchSize;
          while (step < stepsPerEpoch) {
            if (opts.maxSteps !== undefined && globalStep >= opts.maxSteps) {
              stoppedBy = 'max_steps';
              break;
            }
            await breather.breathe();
            hooks.signal?.throwIfAborted();
            const b = sizeOf(step);
            let k = 1;
            const room = Math.min(compiled.maxChunkSteps, stepsPerEpoch - step, opts.maxSteps === undefined ? Infinity : opts.maxSteps - globalStep);
            while (k < room && sizeOf(step + k) === b) k++;
            const lrs: number[] = [];
            for (let j = 0; j < k; j++) {
              const rows = await batches.next();
              if (rows.done === true || rows.value.labels.length !== b) throw new Error(`train: the epoch's order ran out of batches at step ${step + j + 1}`);
              const into = chunks.batch(j, b);
              // Preprocessed straight into the chunk's slot (the Inception pipeline returns its own array).
              const batch = makeBatch(rows.value, ownRows.subarray(0, b), opts.preprocessing, opts.augmentation, opts.augmentation === null ? null : augRng, into.images);
              if (batch.data !== into.images) into.images.set(batch.data);
              into.labels.set(rows.value.labels);
              lrs.push(learningRate(opts.schedule, globalStep + j, stepsPerEpoch));
            }
            const chunk = chunks.chunk([b, image.height, image.width, image.channels], lrs);
            unsynced = true;
            const outcomes = compiled.run(chunk);
            session.endStep?.();
            if (globalStep === 0 && session.tuneAfterFirstStep !== undefined) {
              kernelTuning = await session.tuneAfterFirstStep();
              if (kernelTuning !== null) hooks.onKernelTuning?.(kernelTuning);
            }
            for (const [j, { loss, correct }] of outcomes.entries()) {
              step++;
              globalStep++;
              const lr = chunk.lrs[j]!;
              lossSum += loss * b;
              correctSum += correct;
              seen += b;
              if (opts.recordSteps === true) steps.push({ step: globalStep, lr, loss, acc: correct / b });
              hooks.onStep?.({ epoch: epoch + 1, epochs: opts.epochs, step, stepsPerEpoch, globalStep, loss, acc: correct / b, lr });
            }
          }
        } else {
          try {
            for (; step < stepsPerEpoch; step++) {
              if (opts.maxSteps !== undefined && globalStep >= opts.maxSteps) {
                stoppedBy = 'max_steps';
                break;
              }
              await breather.breathe();
              hooks.signal?.throwIfAborted();
              const rows = await batches.next();
              if (rows.done === true) throw new Error(`train: the epoch's order ran out of batches at step ${step + 1}`);
              const { labels } = rows.value;
              const b = labels.length;
              const batch = makeBatch(rows.value, ownRows.subarray(0, b), opts.preprocessing, opts.augmentation, opts.augmentation === null ? null : augRng);
              const lr = learningRate(opts.schedule, globalStep, stepsPerEpoch);
              const out = trainStep(tf, model, sgd, { images: batch.data, shape: batch.shape, labels, numClasses: data.numClasses }, lr);
              session.endStep?.();
              globalStep++;
              // The first step has shown what this run computes: a backend may tune its kernels for it now.
              if (globalStep === 1 && session.tuneAfterFirstStep !== undefined) {
                kernelTuning = await session.tuneAfterFirstStep();
                if (kernelTuning !== null) hooks.onKernelTuning?.(kernelTuning);
              }
              const previous: Pending | null = pending;
              pending = { out, values: out.data(), size: b, lr, step: step + 1, globalStep };
              if (previous !== null) await settle(previous);
            }
            const last: Pending | null = pending;
            pending = null;
            if (last !== null) await settle(last);
          } finally {
            // Stopped with a read in flight (an abort, a failed step): nobody awaits it any more.
            const abandoned = pending as Pending | null;
            abandoned?.values.catch(() => undefined);
            abandoned?.out.dispose();
          }
        }
      } finally {
        await batches.return(undefined);
      }
      if (seen === 0) break;
      if (stoppedBy === 'epochs' && opts.maxSteps !== undefined && globalStep >= opts.maxSteps && epoch + 1 < opts.epochs) stoppedBy = 'max_steps';
      let record: EpochRecord = {
        epoch: epoch + 1,
        steps: step,
        lr: lrAtStart,
        loss: lossSum / seen,
        acc: correctSum / seen,
        seconds: (performance.now() - epochStart) / 1000,
      };
      if (stoppedBy === 'epochs' && opts.targetTrainAcc !== undefined && record.acc >= opts.targetTrainAcc) stoppedBy = 'target_train_acc';
      const last = epoch + 1 === opts.epochs || stoppedBy !== 'epochs';
      const evalEvery = opts.evalEvery ?? 0;
      if (data.test !== undefined && evalEvery > 0 && ((epoch + 1) % evalEvery === 0 || last)) {
        sync();
        const evalOpts = { preprocessing: opts.preprocessing, batchSize: opts.batchSize, numClasses: data.numClasses };
        const t = await evaluate(tf, model, data.test, hooks.signal === undefined ? evalOpts : { ...evalOpts, signal: hooks.signal });
        record = { ...record, testLoss: t.loss, testAcc: t.acc, ...(t.top5 === undefined ? {} : { testTop5: t.top5 }) };
      }
      history.push(record);
      if (!last && stoppedBy === 'epochs' && hooks.checkpoint?.due()) {
        sync();
        await hooks.checkpoint.save(tensors, { epochsDone: epoch + 1, globalStep, history, steps });
      }
      hooks.onEpoch?.(record);
    }
    sync();
  } finally {
    compiled?.dispose();
    sgd.dispose();
  }
  return {
    history,
    ...(opts.recordSteps === true ? { steps } : {}),
    stoppedBy,
    totalSteps: globalStep,
    seconds: (performance.now() - started) / 1000,
    ...(kernelTuning === null ? {} : { kernelTuning }),
    step: compiled === undefined ? 'ops' : 'compiled',
  };
}

/** One chunk's host buffers, allocated once per run for the largest chunk and reused. */
class ChunkBuffers {
  private readonly images: Float32Array;
  private readonly labels: Int32Array;

  constructor(
    maxSteps: number,
    batchSize: number,
    private readonly features: number,
  ) {
    this.images = new Float32Array(maxSteps * batchSize * features);
    this.labels = new Int32Array(maxSteps * batchSize);
  }

  /** Where batch j of a chunk of `batch`-row batches goes. */
  batch(j: number, batch: number): { readonly images: Float32Array; readonly labels: Int32Array } {
    const per = batch * this.features;
    return { images: this.images.subarray(j * per, (j + 1) * per), labels: this.labels.subarray(j * batch, (j + 1) * batch) };
  }

  /** The chunk of lrs.length batches of `shape` written through batch(). */
  chunk(shape: readonly [number, number, number, number], lrs: readonly number[]): TrainChunk {
    const [b] = shape;
    return { images: this.images.subarray(0, lrs.length * b * this.features), shape, labels: this.labels.subarray(0, lrs.length * b), lrs };
  }
}
