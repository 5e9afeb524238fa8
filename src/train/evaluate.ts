// Inference-mode evaluation over a whole image set in batches (in memory or streamed, each batch read
// while the one before is evaluated): mean loss, accuracy (top-1, and top-5 where there are more than
// five classes, as ImageNet reports it), per-class accuracy.
import { Breather } from '../util/event-loop.js';
import { makeBatch } from './batch.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from '../models/types.js';
import { asSource, identityIndices, readAhead, type Images } from './source.js';
import type { Preprocessing } from './types.js';

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

export async function evaluate(tf: Tf, model: tfTypes.LayersModel, images: Images, opts: EvalOptions): Promise<EvalResult> {
  const source = asSource(images);
  const n = source.shape[0];
  const inOrder = identityIndices(n);
  const batches = readAhead(source, inOrder, opts.batchSize);
  const counts = new Array<number>(opts.numClasses).fill(0);
  const hits = new Array<number>(opts.numClasses).fill(0);
  let lossSum = 0;
  const topK = opts.numClasses > TOP_K ? TOP_K : undefined;
  let inTopK = 0;
  const breather = new Breather();
  // A for-await lets go of the read in flight when it stops early (an abort, a failed batch).
  for await (const set of batches) {
    await breather.breathe();
    opts.signal?.throwIfAborted();
    const { labels } = set;
    const b = labels.length;
    const batch = makeBatch(set, inOrder.subarray(0, b), opts.preprocessing, null, null);
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
