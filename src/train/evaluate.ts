// Inference-mode evaluation over a whole image set in batches (in memory or streamed, each batch read
// while the one before is evaluated): mean loss, accuracy, per-class accuracy.
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
  const breather = new Breather();
  // A for-await lets go of the read in flight when it stops early (an abort, a failed batch).
  for await (const set of batches) {
    await breather.breathe();
    opts.signal?.throwIfAborted();
    const { labels } = set;
    const b = labels.length;
    const batch = makeBatch(set, inOrder.subarray(0, b), opts.preprocessing, null, null);
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
