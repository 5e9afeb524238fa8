// One training step: forward in training mode, softmax cross-entropy, gradients by tf.variableGrads,
// momentum-SGD update. Everything but the returned [loss, correct] pair is freed inside.
import type * as tfTypes from '@tensorflow/tfjs';
import { softmaxCrossEntropyMean } from '../backends/fused/softmax_xent.js';
import type { Tf } from '../models/types.js';
import type { MomentumSgd } from './sgd.js';

export interface StepInput {
  /** [B, H, W, C] float32, already preprocessed. */
  readonly images: Float32Array;
  readonly shape: readonly [number, number, number, number];
  readonly labels: Int32Array;
  readonly numClasses: number;
}

/** Runs one step and returns a 2-element tensor [mean loss, number correct] for the caller to read and dispose. */
export function trainStep(tf: Tf, model: tfTypes.LayersModel, sgd: MomentumSgd, input: StepInput, lr: number): tfTypes.Tensor1D {
  let correct: tfTypes.Tensor | undefined;
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d(input.images, [...input.shape] as [number, number, number, number]);
      const labels = tf.tensor1d(input.labels, 'int32');
      const oneHot = tf.oneHot(labels, input.numClasses);
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.apply(x, { training: true }) as tfTypes.Tensor2D;
        // Kept past variableGrads' own scope; disposed in `finally`.
        correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')));
        // tf.losses.softmaxCrossEntropy's value and gradient in fewer kernel calls.
        return softmaxCrossEntropyMean(tf, oneHot, logits);
      }, [...sgd.variables]);
      sgd.apply(grads, lr);
      return tf.stack([value, correct!]) as tfTypes.Tensor1D;
    });
  } finally {
    correct?.dispose();
  }
}
