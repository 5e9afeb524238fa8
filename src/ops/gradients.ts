// Gradients of Mean and Sum that stay on the device. tfjs-core's versions multiply by `ones(x.shape)`,
// a JavaScript array of the full input size that a GPU backend must upload every step: with batch norm
// (two Means per layer via tf.moments) that was ~1 s per step of small Inception on an H200, at batch 128.
// These broadcast dy instead (a Tile kernel on the device). Gradient registration is global (all
// backends), which is harmless: the result is the same tensor. The one place this project registers
// gradients: tfjs keeps one gradient per kernel name for every backend, so they are backend-neutral
// by construction; a backend that wants them calls registerDeviceGradients from its register.ts
// (webgpu does; the CPU backends keep tfjs's formulas, whose uploads cost them nothing).
import type * as tfType from '@tensorflow/tfjs';
import { kernelAvailable } from './backend_hooks.js';

type Tf = typeof tfType;

/** RethinkSpatialMeanGrad: dy [B, C] (or [B, 1, 1, C]) spread over `shape` [B, H, W, C], divided by H·W. */
export const SPATIAL_MEAN_GRAD = 'RethinkSpatialMeanGrad';

/** Whether a Mean over `axis` of a tensor of `shape` is a global average pool (NHWC over [1, 2]). */
export function isSpatialMean(tf: Tf, axis: unknown, shape: readonly number[]): boolean {
  if (shape.length !== 4) return false;
  const axes = tf.util.parseAxisParam(axis as number | number[], shape as number[]);
  return axes.length === 2 && axes.includes(1) && axes.includes(2);
}

/**
 * Mean's gradient through RethinkSpatialMeanGrad where it applies (a backend that registered it and
 * can run it, x NHWC float32 reduced over [1, 2]); null elsewhere, for the general formula.
 */
function spatialMeanGrad(tf: Tf, dy: tfType.Tensor, x: tfType.Tensor, axis: number | number[]): tfType.Tensor | null {
  if (!isSpatialMean(tf, axis, x.shape) || x.dtype !== 'float32' || !kernelAvailable(tf, SPATIAL_MEAN_GRAD)) return null;
  return tf.engine().runKernel(SPATIAL_MEAN_GRAD, { dy }, { shape: [...x.shape] } as unknown as tfType.NamedAttrMap) as tfType.Tensor;
}

function expandedDy(tf: Tf, dy: tfType.Tensor, x: tfType.Tensor, axis: number | number[]): tfType.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.slice();
  for (const a of axes) shape[a] = 1;
  return tf.reshape(dy, shape);
}

function reduceSize(tf: Tf, x: tfType.Tensor, axis: number | number[]): number {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  return axes.reduce((n, a) => n * (x.shape[a] as number), 1);
}

// Below this many elements tfjs's own formula is kept: uploading a small array costs less than an
// extra dispatch, which is what limits small steps on a fast GPU (see scripts/gpu/RESULTS.md).
const DEVICE_BROADCAST_MIN_SIZE = 1 << 16;

/** dy (reduced shape) spread back over x's shape. */
function spread(tf: Tf, dy: tfType.Tensor, x: tfType.Tensor): tfType.Tensor {
  return x.size < DEVICE_BROADCAST_MIN_SIZE ? tf.mul(dy, tf.ones(x.shape, 'float32')) : tf.broadcastTo(dy, x.shape);
}

export function registerDeviceGradients(tf: Tf): void {
  tf.registerGradient({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0] as tfType.Tensor;
      const axis = (attrs as { axis: number | number[] }).axis;
      return {
        // A global average pool on webgpu: one recorded dispatch (backends/webgpu/kernels/spatial_mean.ts).
        x: () => spatialMeanGrad(tf, dy as tfType.Tensor, x, axis) ?? spread(tf, tf.div(expandedDy(tf, dy as tfType.Tensor, x, axis), reduceSize(tf, x, axis)), x),
      };
    },
  });
  tf.registerGradient({
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0] as tfType.Tensor;
      const axis = (attrs as { axis: number | number[] }).axis;
      return { x: () => spread(tf, tf.cast(expandedDy(tf, dy as tfType.Tensor, x, axis), 'float32'), x) };
    },
  });
}
