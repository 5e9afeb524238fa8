// Dense and conv layers' relu(x·W + b) as ONE forward kernel during training. tfjs-core's
// tf.fused.matMul / tf.fused.conv2d refuse to fuse a non-linear activation while a gradient tape
// records (shouldFuse), so under tf.variableGrads a layer costs three kernels (matmul/conv, add,
// relu). Here the forward calls _FusedMatMul / FusedConv2D directly inside tf.customGrad, with the
// gradient written out (the same formulas tfjs's own Relu, Add and MatMul/Conv2D gradients use):
//   dz = dy·step(y);  dx = dz·Wᵀ (or Conv2DBackpropInput);  dW = xᵀ·dz (or Conv2DBackpropFilter);  db = Σ dz
// Every backend has these kernels; on WebGPU a layer's whole backward pass is one to three dispatches
// of RethinkDenseGrad / RethinkConvGrad instead (a linear dense layer, such as the logits, likewise).
import type * as tfType from '@tensorflow/tfjs';
import { kernelAvailable } from './backend_hooks.js';

type Tf = typeof tfType;
type T = tfType.Tensor;

/** A ReLU layer's gradient in one pass: dz = dy where y > 0, else 0 (wasm and native: heap SIMD). */
export const RELU_GRAD = 'RethinkReluGrad';
/** A dense layer's whole backward pass (ReLU mask, dW, db, dx) in one or two dispatches (webgpu). */
export const DENSE_GRAD = 'RethinkDenseGrad';
/** A conv layer's whole backward pass (ReLU mask, dW, db, dx) in a few dispatches (webgpu). */
export const CONV_GRAD = 'RethinkConvGrad';

export interface FusedOptions {
  /**
   * False when x is a constant (the model's input): tfjs skips gradients nobody needs, but a
   * custom gradient computes all it returns, and dx of the first layer costs as much as its forward.
   */
  readonly inputGrad: boolean;
}

export interface ConvGeometry {
  readonly strides: readonly [number, number];
  readonly pad: 'same' | 'valid';
}

/**
 * dy masked where the relu output is zero (tfjs's Relu gradient: dy·step(x), and x > 0 ⇔ y > 0); one
 * kernel on the wasm-heap backends (backends/wasm/kernels/relu_grad.ts).
 */
function reluGrad(tf: Tf, dy: T, y: T): T {
  if (kernelAvailable(tf, RELU_GRAD)) return tf.engine().runKernel(RELU_GRAD, { dy, y }) as T;
  return tf.mul(dy, tf.step(y));
}

/**
 * x·kernel + bias for x [B, K], kernel [K, N], bias [N], then ReLU when `relu`. Forward: one _FusedMatMul. Backward: on WebGPU one or two
 * RethinkDenseGrad dispatches (ReLU mask, dW, db and dx together: src/backends/webgpu/kernels/dense_grad.ts),
 * elsewhere tfjs's formulas.
 */
export function denseBias(tf: Tf, x: T, kernel: T, bias: T, relu: boolean, o: FusedOptions): T {
  const activation = relu ? 'relu' : 'linear';
  const f = tf.customGrad((...args: (T | tfType.GradSaveFunc)[]) => {
    const save = args.pop() as tfType.GradSaveFunc;
    const [a, b, c] = (o.inputGrad ? args : [x, ...args]) as [T, T, T];
    const y = tf.engine().runKernel('_FusedMatMul', { a, b, bias: c }, { transposeA: false, transposeB: false, activation }) as T;
    save(relu ? [a, b, y] : [a, b]);
    return {
      value: y,
      gradFunc: (dy: T, saved: T[]) => {
        const [sa, sb, sy] = saved as [T, T, T | undefined];
        if (kernelAvailable(tf, DENSE_GRAD)) {
          const inputs = relu ? { x: sa, W: sb, dy, y: sy! } : { x: sa, W: sb, dy };
          return tf.engine().runKernel(DENSE_GRAD, inputs, { relu, inputGrad: o.inputGrad }) as T[];
        }
        const dz = relu ? reluGrad(tf, dy, sy!) : dy;
        const dw = [tf.matMul(sa, dz, true, false), tf.sum(dz, 0)];
        return o.inputGrad ? [tf.matMul(dz, sb, false, true), ...dw] : dw;
      },
    };
  });
  return o.inputGrad ? f(x, kernel, bias) : f(kernel, bias);
}

/** relu(conv2d(x, filter) + bias), NHWC, dilation 1. */
export function conv2dBiasRelu(tf: Tf, x: T, filter: T, bias: T, g: ConvGeometry, o: FusedOptions): T {
  const conv = { strides: [...g.strides], pad: g.pad, dataFormat: 'NHWC', dilations: [1, 1] } as const;
  const f = tf.customGrad((...args: (T | tfType.GradSaveFunc)[]) => {
    const save = args.pop() as tfType.GradSaveFunc;
    const [xx, w, b] = (o.inputGrad ? args : [x, ...args]) as [T, T, T];
    const y = tf.engine().runKernel('FusedConv2D', { x: xx, filter: w, bias: b }, { ...conv, activation: 'relu' } as unknown as tfType.NamedAttrMap) as T;
    save([xx, w, y]);
    return {
      value: y,
      gradFunc: (dy: T, saved: T[]) => {
        const [sx, sw, sy] = saved as [T, T, T];
        const e = tf.engine();
        if (kernelAvailable(tf, CONV_GRAD)) {
          const attrs = { strides: [...g.strides], pad: g.pad, relu: true, inputGrad: o.inputGrad };
          return e.runKernel(CONV_GRAD, { x: sx, W: sw, dy, y: sy }, attrs as unknown as tfType.NamedAttrMap) as T[];
        }
        const dz = reluGrad(tf, dy, sy);
        const dw = e.runKernel('Conv2DBackpropFilter', { x: sx, dy: dz }, { ...conv, filterShape: sw.shape } as unknown as tfType.NamedAttrMap) as T;
        const rest = [dw, tf.sum(dz, [0, 1, 2])];
        if (!o.inputGrad) return rest;
        const dx = e.runKernel('Conv2DBackpropInput', { dy: dz, filter: sw }, { ...conv, inputShape: sx.shape } as unknown as tfType.NamedAttrMap) as T;
        return [dx, ...rest];
      },
    };
  });
  return o.inputGrad ? f(x, filter, bias) : f(filter, bias);
}

/**
 * conv2d(x, filter) with no bias and no activation (a conv feeding a batch norm), NHWC, dilation 1.
 * tfjs's own op computes the input gradient whenever the layer has a gradient at all, so the first
 * conv of a batch-norm model would compute the image's gradient, which nobody reads; here
 * `inputGrad: false` skips it.
 */
export function conv2dLinear(tf: Tf, x: T, filter: T, g: ConvGeometry, o: FusedOptions): T {
  const conv = { strides: [...g.strides], pad: g.pad, dataFormat: 'NHWC', dilations: [1, 1] } as const;
  const f = tf.customGrad((...args: (T | tfType.GradSaveFunc)[]) => {
    const save = args.pop() as tfType.GradSaveFunc;
    const [xx, w] = (o.inputGrad ? args : [x, ...args]) as [T, T];
    save([xx, w]);
    return {
      value: tf.engine().runKernel('Conv2D', { x: xx, filter: w }, conv as unknown as tfType.NamedAttrMap) as T,
      gradFunc: (dy: T, saved: T[]) => {
        const [sx, sw] = saved as [T, T];
        const e = tf.engine();
        const dw = e.runKernel('Conv2DBackpropFilter', { x: sx, dy }, { ...conv, filterShape: sw.shape } as unknown as tfType.NamedAttrMap) as T;
        if (!o.inputGrad) return [dw];
        const dx = e.runKernel('Conv2DBackpropInput', { dy, filter: sw }, { ...conv, inputShape: sx.shape } as unknown as tfType.NamedAttrMap) as T;
        return [dx, dw];
      },
    };
  });
  return o.inputGrad ? f(x, filter) : f(filter);
}
