// The evaluate stage's body, loaded only when it runs.
import { initBackend } from '../../src/backends/select.js';
import { loadModel } from '../../src/train/artifact.js';
import { fileSource } from '../../src/train/source.js';
import { evaluate } from '../../src/train/evaluate.js';
import type { Artifact, JsonValue, StageContext } from '../../src/plugin/types.js';
import type { EvaluateParams } from './plugin.js';
import { divergedMetrics } from '../train/divergence.js';

function single(ctx: StageContext<EvaluateParams>, name: string): Artifact {
  const a = ctx.inputs[name];
  if (a === undefined || Array.isArray(a)) throw new Error(`evaluate: input \`${name}\` must be one artifact`);
  return a as Artifact;
}

export async function runEvaluate(ctx: StageContext<EvaluateParams>): Promise<void> {
  const backend = (await initBackend(ctx.params.backend ?? ctx.backend)).info;
  ctx.provenance({ backend: backend as unknown as JsonValue }); // every run record names its backend and library versions
  const tf = await import('@tensorflow/tfjs');
  const modelFile = await single(ctx, 'model').readTensors();
  const dataFile = await single(ctx, 'data').readTensors();
  try {
    const { model, meta } = await loadModel(tf, modelFile);
    try {
      const out: Record<string, unknown> = { model: meta.model, classes: meta.classes, backend: { name: backend.name, tfBackend: backend.tfBackend } };
      for (const split of ctx.params.splits) {
        ctx.progress({ message: `evaluating ${split}` });
        const set = await fileSource(dataFile, split); // streamed: labels now, images batch by batch
        const [, h, w, c] = set.shape;
        const [mh, mw, mc] = meta.inputShape;
        const [ch, cw] = meta.preprocessing.crop ?? [h, w];
        if (c !== mc || ch !== mh || cw !== mw) {
          throw new Error(`evaluate: ${split} images ${h}x${w}x${c} do not give the model's ${mh}x${mw}x${mc} input`);
        }
        const r = await evaluate(tf, model, set, {
          preprocessing: meta.preprocessing,
          batchSize: ctx.params.batch_size,
          numClasses: meta.numClasses,
          signal: ctx.signal,
        });
        out[split] = { n: r.n, loss: r.loss, acc: r.acc, ...(r.top5 === undefined ? {} : { top5: r.top5 }), per_class_acc: r.perClassAcc, per_class_count: r.perClassCount };
        ctx.log(`${split}: loss ${r.loss.toFixed(4)} acc ${r.acc.toFixed(4)} (${r.n} images)`);
      }
      // A diverged model's loss is NaN: recorded as null with `diverged: true`, as the train stage does.
      const { metrics, divergence } = divergedMetrics(out, undefined);
      if (divergence) ctx.log(`warning: the model gives a non-finite ${divergence.metric} (a diverged training?): the metrics record diverged: true and null for each NaN or infinite value`);
      await ctx.writeJson('metrics', metrics);
    } finally {
      model.dispose();
    }
  } finally {
    await modelFile.close();
    await dataFile.close();
  }
}
