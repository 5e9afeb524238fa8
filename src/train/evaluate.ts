// Inference-mode evaluation over a whole image set in batches: mean loss, accuracy, per-class accuracy.
import { Breather } from '../util/event-loop.js';
import { makeBatch } from './batch.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from '../models/types.js';
import type { ImageSet, Preprocessing } from './types.js';

export interface EvalOptions {
  readonly preprocessing: Preprocessing;
  readonly batchSize: number;
  readonly numClasses: number;
  readonly signal?: AbortSignal;
}

export interface EvalResult {
  readonly n: number;
  readonly loss: number;
  readonly acc: number;
  /** Accuracy per true class; null for a class with no examples. */
  readonly perClassAcc: readonly (number | null)[];
  readonly perClassCount: readonly number[];
}

export async function evaluate(tf: Tf, model: tfTypes.LayersModel, set: ImageSet, opts: EvalOptions): Promise<EvalResult> {
  const n = set.shape[0];
  const counts = new Array<number>(opts.numClasses).fill(0);
  const hits = new Array<number>(opts.numClasses).fill(0);
  let lossSum = 0;
  const breather = new Breather();
  for (let start = 0; start < n; start += opts.batchSize) {
    await breather.breathe();
    opts.signal?.throwIfAborted();
    const b = Math.min(opts.batchSize, n - start);
    const indices = new Uint32Array(b);
    for (let i = 0; i < b; i++) indices[i] = start + i;
    const batch = makeBatch(set, indices, opts.preprocessing, null, null);
    const labels = set.labels.subarray(start, start + b);
    const [lossT, predT] = tf.tidy(() => {
      const x = tf.tensor4d(batch.data, [...batch.shape]);
      const logits = model.apply(x, { training: false }) as tfTypes.Tensor2D;
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), opts.numClasses);
      const loss = tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, undefined, tf.Reduction.SUM);
      return [loss, tf.argMax(logits, 1)] as const;
    });
    const [loss, pred] = await Promise.all([lossT.data(), predT.data()]);
    lossT.dispose();
    predT.dispose();
    lossSum += loss[0]!;
    for (let i = 0; i < b; i++) {
      const y = labels[i]!;
      counts[y]!++;
      if (pred[i] === y) hits[y]!++;
    }
  }
  const correct = hits.reduce((a, h) => a + h, 0);
  return {
    n,
    loss: n === 0 ? 0 : lossSum / n,
    acc: n === 0 ? 0 : correct / n,
    perClassAcc: counts.map((c, k) => (c === 0 ? null : hits[k]! / c)),
    perClassCount: counts,
  };
}
