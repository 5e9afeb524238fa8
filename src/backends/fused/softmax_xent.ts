// Mean softmax cross-entropy over a batch with fewer kernels than tf.losses.softmaxCrossEntropy,
// whose gradient function also differentiates the (constant) labels and whose weighted-loss wrapper
// adds its own reductions: on a GPU each kernel call costs ~60–100 µs of JavaScript.
//   loss = −Σ onehot·(z − lse(z)) / B;   ∂loss/∂z = (softmax(z) − onehot)·dy/B
// Same value and gradient as tfjs's up to float32 summation order (tested within 1e-6).
import type * as tfType from '@tensorflow/tfjs';

type Tf = typeof tfType;

/** `oneHot` and `logits` are [B, K] float32; returns the scalar mean loss, differentiable in `logits`. */
export function softmaxCrossEntropyMean(tf: Tf, oneHot: tfType.Tensor, logits: tfType.Tensor): tfType.Scalar {
  const batch = logits.shape[0] ?? 1;
  const f = tf.customGrad((...args: (tfType.Tensor | tfType.GradSaveFunc)[]) => {
    const [z, save] = args as [tfType.Tensor, tfType.GradSaveFunc];
    const logp = tf.sub(z, tf.logSumExp(z, 1, true));
    save([logp]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(oneHot, logp))), batch) as tfType.Scalar,
      gradFunc: (dy: tfType.Tensor, saved: tfType.Tensor[]) => tf.mul(tf.sub(tf.exp(saved[0]!), oneHot), tf.div(dy, batch)),
    };
  });
  return f(logits) as tfType.Scalar;
}
