// Mean softmax cross-entropy over a batch with fewer kernels than tf.losses.softmaxCrossEntropy,
// whose gradient function also differentiates the (constant) labels and whose weighted-loss wrapper
// adds its own reductions: on a GPU each kernel call costs ~60–100 µs of JavaScript.
//   loss = −Σ onehot·(z − lse(z)) / B;   ∂loss/∂z = (softmax(z) − onehot)·dy/B
// Same value and gradient as tfjs's up to float32 summation order (tested within 1e-6).
import type * as tfType from '@tensorflow/tfjs';
import { kernelAvailable } from './backend_hooks.js';

type Tf = typeof tfType;

/** Loss, its gradient and the number correct in one kernel (webgpu: backends/webgpu/kernels/softmax_xent.ts). */
export const SOFTMAX_XENT = 'RethinkSoftmaxXent';

/** `oneHot` and `logits` are [B, K] float32; returns the scalar mean loss, differentiable in `logits`. */
export function softmaxCrossEntropyMean(tf: Tf, oneHot: tfType.Tensor, logits: tfType.Tensor): tfType.Scalar {
  const batch = logits.shape[0] ?? 1;
  const f = tf.customGrad((...args: (tfType.Tensor | tfType.GradSaveFunc)[]) => {
    const [z, save] = args as [tfType.Tensor, tfType.GradSaveFunc];
    const logp = tf.sub(z, tf.logSumExp(z, 1, true));
    // oneHot is saved too: the caller may free it before the backward pass runs.
    save([logp, oneHot]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(oneHot, logp))), batch) as tfType.Scalar,
      gradFunc: (dy: tfType.Tensor, saved: tfType.Tensor[]) => tf.mul(tf.sub(tf.exp(saved[0]!), saved[1]!), tf.div(dy, batch)),
    };
  });
  return f(logits) as tfType.Scalar;
}

export interface TrainLoss {
  /** Mean loss, differentiable in the logits. */
  readonly loss: tfType.Scalar;
  /** How many rows' first maximum is the label (float32 scalar; not differentiable). */
  readonly correct: tfType.Scalar;
  /** [loss, correct] as one tensor when the kernel writes it (kept like `correct`). */
  readonly stats?: tfType.Tensor1D;
}

/**
 * The training step's loss and accuracy count from logits [B, K] and int32 labels [B]. On WebGPU one
 * dispatch computes loss, gradient and count (backends/webgpu/kernels/softmax_xent.ts) and the backward pass is a
 * single multiply by dy; elsewhere the composed form above plus argMax. Call inside tf.variableGrads;
 * `correct` and `stats` are kept past its scopes, so the caller disposes them.
 */
export function softmaxCrossEntropyTrain(tf: Tf, logits: tfType.Tensor, labels: tfType.Tensor, numClasses: number): TrainLoss {
  if (kernelAvailable(tf, SOFTMAX_XENT) && logits.dtype === 'float32' && labels.dtype === 'int32') {
    let correct: tfType.Scalar | undefined;
    let stats: tfType.Tensor1D | undefined;
    const f = tf.customGrad((...args: (tfType.Tensor | tfType.GradSaveFunc)[]) => {
      const [z, save] = args as [tfType.Tensor, tfType.GradSaveFunc];
      const [loss, hits, dz, both] = tf.engine().runKernel(SOFTMAX_XENT, { logits: z, labels }) as tfType.Tensor[];
      correct = tf.keep(hits as tfType.Scalar);
      stats = tf.keep(both as tfType.Tensor1D);
      save([dz!]);
      return { value: loss as tfType.Scalar, gradFunc: (dy: tfType.Tensor, saved: tfType.Tensor[]) => tf.mul(saved[0]!, dy) };
    });
    const loss = f(logits) as tfType.Scalar;
    return { loss, correct: correct!, stats: stats! };
  }
  const correct = tf.keep(tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tfType.Scalar));
  const oneHot = tf.oneHot(labels as tfType.Tensor1D, numClasses);
  return { loss: softmaxCrossEntropyMean(tf, oneHot, logits), correct };
}
