// The train stage's body, loaded only when a train stage actually runs.
import { datasetInfo } from '../../src/data/dataset.js';
import { initBackend } from '../../src/backends/select.js';
import { acceptsInput, getModel } from '../../src/models/registry.js';
import { modelTensors } from '../../src/train/artifact.js';
import { fileSource } from '../../src/train/source.js';
import { evaluate, type EvalResult } from '../../src/train/evaluate.js';
import { train } from '../../src/train/loop.js';
import { checkpointIntervalMs, FileCheckpointer } from '../../src/train/checkpoint.js';
import { checkSchedule } from '../../src/train/schedule.js';
import { TrainParamsError, initialLearningRate, trainOptionsOf, type TrainParams } from './params.js';
import { divergedMetrics, divergenceWarning, stepDivergence, type Divergence } from './divergence.js';
import type { Artifact, JsonValue, StageContext } from '../../src/plugin/types.js';
import type { InputShape } from '../../src/models/types.js';

export async function runTrain(ctx: StageContext<TrainParams>): Promise<void> {
  const p = ctx.params;
  const input = ctx.inputs['data'];
  if (input === undefined || Array.isArray(input)) throw new Error('train: input `data` must be one dataset artifact');
  const file = await (input as Artifact).readTensors();
  try {
    const info = await datasetInfo(file);
    const opts = trainOptionsOf(p, ctx.seed, info);
    const scheduleError = checkSchedule(opts.schedule);
    if (scheduleError !== undefined) throw new Error(`train: ${scheduleError}`);
    // Streamed: only the labels are read now, images batch by batch (a dataset may not fit in memory).
    const [trainSet, testSet] = [await fileSource(file, 'train'), await fileSource(file, 'test')];
    const maxLabel = Math.max(0, ...[trainSet.labels, testSet.labels].map((l) => l.reduce((m, v) => Math.max(m, v), 0)));
    const numClasses = Math.max(info.classes.length, maxLabel + 1);
    const classes = info.classes.length === numClasses ? info.classes : Array.from({ length: numClasses }, (_, i) => String(i));

    const session = await initBackend(p.backend ?? ctx.backend);
    const backend = session.info;
    ctx.provenance({ backend: backend as unknown as JsonValue }); // every run record names its backend and library versions
    const tf = await import('@tensorflow/tfjs');
    const [h, w] = opts.preprocessing.crop ?? [info.height, info.width];
    const inputShape: InputShape = [h, w, info.channels];
    const def = getModel(p.model);
    if (!acceptsInput(def, inputShape)) {
      throw new TrainParamsError(`${def.name} needs an input of at least ${def.minInput!.join('x')}, not ${h}x${w}: raise preprocessing.crop or the dataset's image size`);
    }
    ctx.log(`${def.name}: ${def.countParams(inputShape, numClasses).trainable} params, input ${inputShape.join('x')}, backend ${backend.name}`);
    const model = await def.build({ inputShape, numClasses, seed: ctx.seed, dropout: p.dropout });
    try {
      const stepsPerEpoch = Math.ceil(trainSet.shape[0] / p.batch_size);
      const total = p.max_steps ?? p.epochs * stepsPerEpoch;
      // What the live display shows: the epoch's online accuracy so far (the target's measure), the
      // images per second since the last report, and the mean epoch time (its ETA).
      const n = trainSet.shape[0];
      const running = { epoch: 0, correct: 0, seen: 0 };
      const epochSeconds: number[] = [];
      let lastReport = 0;
      let rateFrom: { readonly at: number; readonly step: number } | undefined;
      let perSecond: number | undefined;
      let diverged: Divergence | undefined; // said once, at the first step whose loss is not finite
      // Long trainings save where they stand now and then, so an interrupted attempt resumes (with
      // dropout too: where each layer's mask stream stands is part of the checkpoint).
      const interval = checkpointIntervalMs();
      const checkpoint =
        interval === null
          ? undefined
          : new FileCheckpointer(tf, await ctx.checkpointDir(), {
              intervalMs: interval,
              onNote: (m) => ctx.log(m),
              // A copy that failed costs a resume elsewhere, not this training: it goes on.
              onSaved: () => ctx.checkpointSaved().catch((e: unknown) => ctx.log(`checkpoint not copied to the remote (another machine would resume from an older one): ${e instanceof Error ? e.message : String(e)}`)),
            });
      // A step that outgrows the backend's memory (the wasm heap of wasm and native) says what to change.
      let result: Awaited<ReturnType<typeof train>>;
      try {
        result = await train(tf, session, model, { train: trainSet, test: testSet, numClasses }, opts, {
          signal: ctx.signal,
          ...(checkpoint ? { checkpoint } : {}),
          onStep: (s) => {
            if (diverged === undefined) {
              diverged = stepDivergence(s);
              if (diverged !== undefined) ctx.log(divergenceWarning(diverged));
            }
            const size = s.step < s.stepsPerEpoch ? p.batch_size : n - (s.stepsPerEpoch - 1) * p.batch_size;
            if (running.epoch !== s.epoch) Object.assign(running, { epoch: s.epoch, correct: 0, seen: 0 });
            running.correct += s.acc * size;
            running.seen += size;
            const now = performance.now();
            if (now - lastReport < 500 && s.step !== s.stepsPerEpoch) return;
            // Timed over a stretch of at least RATE_MS from the first step's end (the first step also compiles).
            if (rateFrom === undefined) rateFrom = { at: now, step: s.globalStep };
            else if (now - rateFrom.at >= RATE_MS) {
              perSecond = ((s.globalStep - rateFrom.step) * p.batch_size) / ((now - rateFrom.at) / 1000);
              rateFrom = { at: now, step: s.globalStep };
            }
            lastReport = now;
            const acc = running.correct / running.seen;
            const upTo = p.target_train_acc !== null;
            const meanSeconds = epochSeconds.length === 0 ? undefined : epochSeconds.reduce((a, b) => a + b, 0) / epochSeconds.length;
            ctx.progress({
              message: `epoch ${s.epoch}${upTo ? ` (up to ${s.epochs})` : `/${s.epochs}`} step ${s.step}/${s.stepsPerEpoch} loss ${s.loss.toFixed(4)} acc ${acc.toFixed(4)}`,
              done: s.globalStep,
              total,
              epochs: { current: s.epoch, total: s.epochs, finished: s.epoch - 1, ...(meanSeconds === undefined ? {} : { meanSeconds }), ...(upTo ? { upTo } : {}) },
              ...(perSecond === undefined ? {} : { rate: { perSecond, unit: 'img' } }),
              metrics: { loss: s.loss, acc },
            });
          },
          // The first epoch on a GPU also compiles its kernels and times its GEMM tiles: say so.
          onKernelTuning: (t) =>
            ctx.log(`webgpu: timed the tiles of ${t.tuned} of ${t.gemms} GEMMs in ${t.seconds.toFixed(1)} s (${t.changed} moved off their default; saved for later runs on this GPU)`),
          onEpoch: (e) => (epochSeconds.push(e.seconds), ctx.log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)} acc ${e.acc.toFixed(4)}${e.testAcc === undefined ? '' : ` test ${e.testAcc.toFixed(4)}`} (${e.seconds.toFixed(1)} s)`)),
        });
      } catch (e) {
        if (session.outOfMemory?.(e) !== true) throw e;
        throw new TrainParamsError(
          `train: ${def.name} at batch_size ${p.batch_size} needs more memory than the ${backend.name} backend's WebAssembly heap holds ` +
            `(4 GiB, full when a step failed to allocate): lower batch_size (e.g. ${Math.max(1, Math.floor(p.batch_size / 2))}), or train on a backend without that limit (webgpu on a GPU)`,
        );
      }
      if (checkpoint?.resumedAfter !== undefined) ctx.provenance({ resumed_after_epoch: checkpoint.resumedAfter });
      ctx.progress({ message: 'final evaluation' });
      const evalOpts = { preprocessing: opts.preprocessing, batchSize: Math.max(p.batch_size, 256), numClasses, signal: ctx.signal };
      const finalTrain = await evaluate(tf, model, trainSet, evalOpts);
      const finalTest = await evaluate(tf, model, testSet, evalOpts);
      const hyperparams = { ...p, lr: initialLearningRate(p) };
      const { tensors, metadata } = await modelTensors(
        model,
        { model: def.name, inputShape, numClasses, dropout: p.dropout, preprocessing: opts.preprocessing, classes },
        { hyperparams: JSON.stringify(hyperparams), seed: String(ctx.seed) },
      );
      await ctx.writeTensors('model', tensors, metadata);
      const written = divergedMetrics({
        model: def.name,
        params: def.countParams(inputShape, numClasses).trainable,
        input_shape: inputShape,
        num_classes: numClasses,
        hyperparams,
        seed: ctx.seed,
        history: result.history.map(({ seconds: _, ...epoch }) => epoch),
        ...(result.steps === undefined ? {} : { steps: result.steps }),
        stopped_by: result.stoppedBy,
        total_steps: result.totalSteps,
        final: {
          // top5: ImageNet's second accuracy, where there are more than five classes (Table 2).
          train: { loss: finalTrain.loss, acc: finalTrain.acc, ...top5Of(finalTrain) },
          test: { loss: finalTest.loss, acc: finalTest.acc, ...top5Of(finalTest) },
          // What the paper reports for training in its tables: the last epoch's online mini-batch accuracy.
          train_online_acc: result.history.at(-1)?.acc ?? null,
          // Early stopping's proxy (Table 2's parentheses): the best test accuracy of any evaluation,
          // during training (every eval_every epochs) or at the end.
          best_test_acc: result.history.reduce((best, e) => Math.max(best, e.testAcc ?? -Infinity), finalTest.acc),
          ...(finalTest.top5 === undefined ? {} : { best_test_top5: result.history.reduce((best, e) => Math.max(best, e.testTop5 ?? -Infinity), finalTest.top5) }),
        },
        // The backend's name only: its threads, versions and adapter are in the run record.
        backend: { name: backend.name, tfBackend: backend.tfBackend },
      }, diverged);
      if (written.divergence !== undefined && diverged === undefined) ctx.log(divergenceWarning(written.divergence));
      await ctx.writeJson('metrics', written.metrics);
      // Times and tuning are facts about this run, not results: they go to the run record, so that
      // one seed on one backend writes the same bytes every time (what `rethink verify` checks, and
      // what lets an unchanged result leave its dependents cached).
      ctx.provenance({
        train_seconds: round3(result.seconds),
        epoch_seconds: result.history.map((e) => round3(e.seconds)),
        ...(result.kernelTuning === undefined ? {} : { kernel_tuning: { ...result.kernelTuning } }),
        // The same backend computes an MLP step compiled (native) or op by op: different rounding.
        train_step: result.step,
      });
    } finally {
      model.dispose();
    }
  } finally {
    await file.close();
  }
}

/** The shortest stretch images per second are timed over. */
const RATE_MS = 250;

const top5Of = (r: EvalResult): { top5?: number } => (r.top5 === undefined ? {} : { top5: r.top5 });

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
