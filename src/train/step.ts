// One training step: forward in training mode, softmax cross-entropy, gradients by tf.variableGrads,
// momentum-SGD update. Everything but the returned [loss, correct] pair is freed inside. What the
// backend does after a step (session.endStep) is the caller's: the loop calls it.
import type * as tfTypes from '@tensorflow/tfjs';
import { softmaxCrossEntropyTrain } from '../ops/softmax_xent.js';
import type { Tf } from '../models/types.js';
import type { StepOptimizer } from './sgd.js';

export interface StepInput {
  /** [B, H, W, C] float32, already preprocessed. */
  readonly images: Float32Array;
  readonly shape: readonly [number, number, number, number];
  readonly labels: Int32Array;
  readonly numClasses: number;
}

/** Runs one step and returns a 2-element tensor [mean loss, number correct] for the caller to read and dispose. */
export function trainStep(tf: Tf, model: tfTypes.LayersModel, sgd: StepOptimizer, input: StepInput, lr: number): tfTypes.Tensor1D {
  return tf.tidy(() => {
    const x = tf.tensor4d(input.images, [...input.shape] as [number, number, number, number]);
    const labels = tf.tensor1d(input.labels, 'int32');
    return trainStepOn(tf, model, sgd, x, labels, input.numClasses, lr);
  });
}

/**
 * The step on tensors already on the backend: images [B, H, W, C] float32, labels [B] int32 (the GPU
 * benchmark keeps one batch on the device). Returns [mean loss, number correct].
 */
export function trainStepOn(
  tf: Tf,
  model: tfTypes.LayersModel,
  sgd: StepOptimizer,
  x: tfTypes.Tensor,
  labels: tfTypes.Tensor,
  numClasses: number,
  lr: number,
): tfTypes.Tensor1D {
  let correct: tfTypes.Tensor | undefined;
  let stats: tfTypes.Tensor1D | undefined;
  try {
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.apply(x, { training: true }) as tfTypes.Tensor2D;
        // tf.losses.softmaxCrossEntropy's value and gradient, and the accuracy count, in fewer kernel
        // calls; `correct` and `stats` are kept past variableGrads' own scope, handled below.
        const out = softmaxCrossEntropyTrain(tf, logits, labels, numClasses);
        correct = out.correct;
        stats = out.stats;
        return out.loss;
      }, [...sgd.variables]);
      sgd.apply(grads, lr);
      if (stats !== undefined) {
        const out = stats;
        stats = undefined; // returned, so not disposed below
        return out;
      }
      return tf.stack([value, correct!]) as tfTypes.Tensor1D;
    });
  } finally {
    correct?.dispose();
    stats?.dispose();
  }
}
