// Inference-mode evaluation over a whole image set in batches: mean loss, accuracy (top-1, and top-5
// where there are more than five classes, as ImageNet reports it), per-class accuracy.
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
  /**
   * Top-5 accuracy (TF's in_top_k: the true class's logit is beaten by fewer than 5 others, so ties at
   * the boundary count as in); absent with 5 classes or fewer, where it would always be 1.
   */
  readonly top5?: number;
  /** Accuracy per true class; null for a class with no examples. */
  readonly perClassAcc: readonly (number | null)[];
  readonly perClassCount: readonly number[];
}

export async function evaluate(tf: Tf, model: tfTypes.LayersModel, set: ImageSet, opts: EvalOptions): Promise<EvalResult> {
  const n = set.shape[0];
  const counts = new Array<number>(opts.numClasses).fill(0);
  const hits = new Array<number>(opts.numClasses).fill(0);
  let lossSum = 0;
  const topK = opts.numClasses > TOP_K ? TOP_K : undefined;
  let inTopK = 0;
  const breather = new Breather();
  for (let start = 0; start < n; start += opts.batchSize) {
    await breather.breathe();
    opts.signal?.throwIfAborted();
    const b = Math.min(opts.batchSize, n - start);
    const indices = new Uint32Array(b);
    for (let i = 0; i < b; i++) indices[i] = start + i;
    const batch = makeBatch(set, indices, opts.preprocessing, null, null);
    const labels = set.labels.subarray(start, start + b);
    const [lossT, predT, rankT] = tf.tidy(() => {
      const x = tf.tensor4d(batch.data, [...batch.shape]);
      const logits = model.apply(x, { training: false }) as tfTypes.Tensor2D;
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), opts.numClasses);
      const loss = tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, undefined, tf.Reduction.SUM);
      // The true class's rank: how many classes score strictly higher than it.
      const rank = topK === undefined ? undefined : tf.sum(tf.cast(tf.greater(logits, tf.sum(tf.mul(logits, oneHot), 1, true)), 'int32'), 1);
      return [loss, tf.argMax(logits, 1), rank] as const;
    });
    const [loss, pred, ranks] = await Promise.all([lossT.data(), predT.data(), rankT?.data()]);
    tf.dispose([lossT, predT, ...(rankT === undefined ? [] : [rankT])]);
    lossSum += loss[0]!;
    if (ranks !== undefined) for (let i = 0; i < b; i++) if (ranks[i]! < topK!) inTopK++;
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
    ...(topK === undefined ? {} : { top5: n === 0 ? 0 : inTopK / n }),
    perClassAcc: counts.map((c, k) => (c === 0 ? null : hits[k]! / c)),
    perClassCount: counts,
  };
}

/** ImageNet's second accuracy: the true class among the five highest-scoring. */
const TOP_K = 5;
