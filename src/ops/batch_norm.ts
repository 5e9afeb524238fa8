// Training-mode batch norm with offset β (channel-last), optionally followed by a ReLU, through the fused
// kernels where a backend has them (webgpu: 5 dispatches for forward, backward and the moving statistics,
// against ~20 composed ones plus 3 for a separate ReLU; wasm and native: wasm SIMD loops on the heap,
// backends/wasm/kernels/batch_norm_heap.ts); cpu keeps the composed ops in src/models/beta-batch-norm.ts.
// Each backend registers its kernels in its register.ts; this module only asks whether they are there.
// tfjs is passed in (no import here): the layer module loads before tfjs is needed.
import type * as tfType from '@tensorflow/tfjs';
import { activeOpHooks, kernelAvailable } from './backend_hooks.js';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_STATS, BN_KERNEL_NAMES, BN_MOVING, BN_STATS } from './batch_norm_math.js';
import { ENV } from '../util/env.js';

type Tf = typeof tfType;
type Tensor = tfType.Tensor;

/**
 * Whether the fused path may be used: tests turn it off to compare with the composed ops, and
 * RETHINK_FUSED_BN=off does so for the benchmarks' before/after.
 */
export const fusedBatchNormOptions = { enabled: ENV.fusedBn.read() };

/** Whether the active backend registered every fused batch-norm kernel (and the fused path is on). */
export function fusedBatchNormAvailable(tf: Tf): boolean {
  return fusedBatchNormOptions.enabled && BN_KERNEL_NAMES.every((name) => kernelAvailable(tf, name));
}

export interface MovingStats {
  readonly mean: tfType.LayerVariable;
  readonly variance: tfType.LayerVariable;
}

/**
 * y = x̂ + β with the batch statistics (then ReLU when `relu`), as one differentiable op in x and β;
 * updates `moving` as the composed layer does (moving·momentum + batch·(1 − momentum)). Call only
 * after fusedBatchNormAvailable. Five dispatches per layer on webgpu: statistics, both moving averages,
 * apply; gradient sums with dβ, dx.
 */
export function fusedBetaBatchNorm(tf: Tf, x: Tensor, beta: Tensor, moving: MovingStats, momentum: number, epsilon: number, relu = false): Tensor {
  const run = (name: string, inputs: Record<string, Tensor>, attrs: Record<string, number | boolean>): Tensor[] => {
    const out = tf.engine().runKernel(name, inputs as unknown as tfType.NamedTensorMap, attrs as unknown as tfType.NamedAttrMap) as Tensor | Tensor[];
    return Array.isArray(out) ? out : [out];
  };
  const op = tf.customGrad((...args: (Tensor | tfType.GradSaveFunc)[]) => {
    const [xs, b, save] = args as [Tensor, Tensor, tfType.GradSaveFunc];
    const [stats] = run(BN_STATS, { x: xs }, {}) as [Tensor];
    // The op's forward runs off the gradient tape, so updating the moving statistics here is free.
    // In the variables' own buffers where it can (webgpu), else as new tensors assigned to them.
    if (activeOpHooks(tf).movingStatsInPlace?.(tf, moving.mean.read(), moving.variance.read(), stats, momentum) !== true) {
      const [mean, variance] = run(BN_MOVING, { mean: moving.mean.read(), variance: moving.variance.read(), stats }, { momentum }) as [Tensor, Tensor];
      moving.mean.write(mean);
      moving.variance.write(variance);
    }
    const [y] = run(BN_APPLY, { x: xs, stats, beta: b }, { epsilon, relu }) as [Tensor];
    save([xs, stats, y, b]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, st, sy, sb] = saved as [Tensor, Tensor, Tensor, Tensor];
        const masked = relu ? { x: sx, stats: st, dy, y: sy } : { x: sx, stats: st, dy };
        const [sums, dBeta] = run(BN_GRAD_STATS, { x: sx, stats: st, dy, y: sy, beta: sb }, { epsilon, relu }) as [Tensor, Tensor];
        const [dx] = run(BN_GRAD_INPUT, { ...masked, sums }, { epsilon, relu }) as [Tensor];
        return [dx, dBeta];
      },
    };
  }) as (x: Tensor, beta: Tensor) => Tensor;
  return op(x, beta);
}
