// Training-mode batch norm with offset β (channel-last) through the fused kernels where a backend has
// them (webgpu: 4 dispatches for forward and backward plus 2 for the moving statistics, against ~20
// composed ones); other backends keep the composed ops in src/models/beta-batch-norm.ts.
// tfjs is passed in (no import here): the layer module loads before tfjs is needed.
import type * as tfType from '@tensorflow/tfjs';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_STATS, BN_KERNEL_NAMES, BN_MOVING, BN_STATS } from './batch_norm_math.js';
import { WEBGPU_BATCH_NORM_KERNELS } from './batch_norm_webgpu.js';

type Tf = typeof tfType;
type Tensor = tfType.Tensor;

/**
 * Whether the fused path may be used: tests turn it off to compare with the composed ops, and
 * RETHINK_FUSED_BN=off does so for the benchmarks' before/after.
 */
export const fusedBatchNormOptions = { enabled: process.env['RETHINK_FUSED_BN'] !== 'off' };

/** Registers the kernels under `backendName` when we have them for it; returns whether it has them. */
export function ensureBatchNormKernels(tf: Tf, backendName: string): boolean {
  if (!fusedBatchNormOptions.enabled || backendName !== 'webgpu') return false;
  for (const kernelName of BN_KERNEL_NAMES) {
    if (tf.getKernel(kernelName, backendName) !== undefined) continue;
    tf.registerKernel({ kernelName, backendName, kernelFunc: WEBGPU_BATCH_NORM_KERNELS[kernelName]!(tf) });
  }
  return true;
}

export interface MovingStats {
  readonly mean: tfType.LayerVariable;
  readonly variance: tfType.LayerVariable;
}

/**
 * y = x̂ + β with the batch statistics, as one differentiable op in x and β; updates `moving` as the
 * composed layer does (moving·momentum + batch·(1 − momentum)). Call only after ensureBatchNormKernels.
 */
export function fusedBetaBatchNorm(tf: Tf, x: Tensor, beta: Tensor, moving: MovingStats, momentum: number, epsilon: number): Tensor {
  const run = (name: string, inputs: Record<string, Tensor>, attrs: Record<string, number>): Tensor =>
    tf.engine().runKernel(name, inputs as unknown as tfType.NamedTensorMap, attrs as unknown as tfType.NamedAttrMap) as Tensor;
  const op = tf.customGrad((...args: (Tensor | tfType.GradSaveFunc)[]) => {
    const [xs, b, save] = args as [Tensor, Tensor, tfType.GradSaveFunc];
    const stats = run(BN_STATS, { x: xs }, {});
    // The op's forward runs off the gradient tape, so updating the moving statistics here is free.
    moving.mean.write(run(BN_MOVING, { moving: moving.mean.read(), stats }, { momentum, row: 0 }));
    moving.variance.write(run(BN_MOVING, { moving: moving.variance.read(), stats }, { momentum, row: 1 }));
    save([xs, stats]);
    return {
      value: run(BN_APPLY, { x: xs, stats, beta: b }, { epsilon }),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, st] = saved as [Tensor, Tensor];
        const sums = run(BN_GRAD_STATS, { x: sx, stats: st, dy }, { epsilon });
        const dx = run(BN_GRAD_INPUT, { x: sx, stats: st, dy, sums }, { epsilon });
        const c = sums.shape[1]!;
        return [dx, tf.reshape(tf.slice(sums, [0, 0], [1, c]), [c])];
      },
    };
  }) as (x: Tensor, beta: Tensor) => Tensor;
  return op(x, beta);
}
