// Dense and conv layers' relu(x·W + b) as ONE forward kernel during training. tfjs-core's
// tf.fused.matMul / tf.fused.conv2d refuse to fuse a non-linear activation while a gradient tape
// records (shouldFuse), so under tf.variableGrads a layer costs three kernels (matmul/conv, add,
// relu). Here the forward calls _FusedMatMul / FusedConv2D directly inside tf.customGrad, with the
// gradient written out (the same formulas tfjs's own Relu, Add and MatMul/Conv2D gradients use):
//   dz = dy·step(y);  dx = dz·Wᵀ (or Conv2DBackpropInput);  dW = xᵀ·dz (or Conv2DBackpropFilter);  db = Σ dz
// Backend-independent: every backend has these kernels.
import type * as tfType from '@tensorflow/tfjs';

type Tf = typeof tfType;
type T = tfType.Tensor;

export interface ConvGeometry {
  readonly strides: readonly [number, number];
  readonly pad: 'same' | 'valid';
}

/** dy masked where the relu output is zero (tfjs's Relu gradient: dy·step(x), and x > 0 ⇔ y > 0). */
function reluGrad(tf: Tf, dy: T, y: T): T {
  return tf.mul(dy, tf.step(y));
}

/** relu(x·kernel + bias) for x [B, K], kernel [K, N], bias [N]. */
export function denseBiasRelu(tf: Tf, x: T, kernel: T, bias: T): T {
  const f = tf.customGrad((...args: (T | tfType.GradSaveFunc)[]) => {
    const [a, b, c, save] = args as [T, T, T, tfType.GradSaveFunc];
    const y = tf.engine().runKernel('_FusedMatMul', { a, b, bias: c }, { transposeA: false, transposeB: false, activation: 'relu' }) as T;
    save([a, b, y]);
    return {
      value: y,
      gradFunc: (dy: T, saved: T[]) => {
        const [sa, sb, sy] = saved as [T, T, T];
        const dz = reluGrad(tf, dy, sy);
        return [tf.matMul(dz, sb, false, true), tf.matMul(sa, dz, true, false), tf.sum(dz, 0)];
      },
    };
  });
  return f(x, kernel, bias);
}

/** relu(conv2d(x, filter) + bias), NHWC, dilation 1. */
export function conv2dBiasRelu(tf: Tf, x: T, filter: T, bias: T, g: ConvGeometry): T {
  const conv = { strides: [...g.strides], pad: g.pad, dataFormat: 'NHWC', dilations: [1, 1] } as const;
  const f = tf.customGrad((...args: (T | tfType.GradSaveFunc)[]) => {
    const [xx, w, b, save] = args as [T, T, T, tfType.GradSaveFunc];
    const y = tf.engine().runKernel('FusedConv2D', { x: xx, filter: w, bias: b }, { ...conv, activation: 'relu' } as unknown as tfType.NamedAttrMap) as T;
    save([xx, w, y]);
    return {
      value: y,
      gradFunc: (dy: T, saved: T[]) => {
        const [sx, sw, sy] = saved as [T, T, T];
        const dz = reluGrad(tf, dy, sy);
        const e = tf.engine();
        const dx = e.runKernel('Conv2DBackpropInput', { dy: dz, filter: sw }, { ...conv, inputShape: sx.shape } as unknown as tfType.NamedAttrMap) as T;
        const dw = e.runKernel('Conv2DBackpropFilter', { x: sx, dy: dz }, { ...conv, filterShape: sw.shape } as unknown as tfType.NamedAttrMap) as T;
        return [dx, dw, tf.sum(dz, [0, 1, 2])];
      },
    };
  });
  return f(x, filter, bias);
}
