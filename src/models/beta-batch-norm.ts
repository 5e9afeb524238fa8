// Batch norm with a learned offset and no scale (TF-Slim's center=True, scale=False), as the paper's
// Inception counts it. tf.layers.batchNormalization({scale: false}) crashes in training mode in
// tfjs-layers 4.22 (it reads the absent gamma), and autodiff through it is heavy; this layer is one op.
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';
import { fusedBatchNormAvailable, fusedBetaBatchNorm } from '../ops/batch_norm.js';

export interface BetaBatchNormArgs {
  /** Moving-average decay of the inference statistics. */
  readonly momentum: number;
  readonly epsilon: number;
  /** Apply a ReLU after the offset: one op instead of a batch norm and a ReLU layer. */
  readonly relu?: boolean;
  readonly name?: string;
}

export function defineBetaBatchNorm(tf: Tf) {
  /** Batch norm over the channel (last) axis with a learned offset beta and no scale (TF-Slim's default). */
  class BetaBatchNorm extends tf.layers.Layer {
    static readonly className = 'RethinkBetaBatchNorm';
    private readonly bnArgs: BetaBatchNormArgs;
    private beta: tfTypes.LayerVariable | undefined;
    private movingMean: tfTypes.LayerVariable | undefined;
    private movingVariance: tfTypes.LayerVariable | undefined;

    constructor(args: BetaBatchNormArgs) {
      super(args.name === undefined ? {} : { name: args.name });
      this.bnArgs = args;
    }

    override build(inputShape: tfTypes.Shape | tfTypes.Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfTypes.Shape;
      const channels = shape[shape.length - 1];
      if (typeof channels !== 'number') throw new Error(`${this.name}: channel dimension must be known`);
      this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros(), undefined, true);
      this.movingMean = this.addWeight('moving_mean', [channels], 'float32', tf.initializers.zeros(), undefined, false);
      this.movingVariance = this.addWeight('moving_variance', [channels], 'float32', tf.initializers.ones(), undefined, false);
      this.built = true;
    }

    override call(inputs: tfTypes.Tensor | tfTypes.Tensor[], kwargs: tfTypes.serialization.ConfigDict): tfTypes.Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const beta = this.beta!.read();
      const relu = this.bnArgs.relu === true;
      if (kwargs['training'] !== true) {
        const { epsilon } = this.bnArgs;
        return tf.tidy(() => {
          const y = tf.add(tf.mul(tf.sub(x, this.movingMean!.read()), tf.rsqrt(tf.add(this.movingVariance!.read(), epsilon))), beta);
          return relu ? tf.relu(y) : y;
        });
      }
      if (fusedBatchNormAvailable(tf)) {
        const moving = { mean: this.movingMean!, variance: this.movingVariance! };
        return fusedBetaBatchNorm(tf, x, beta, moving, this.bnArgs.momentum, this.bnArgs.epsilon, relu);
      }
      return this.trainingForward()(x, beta);
    }

    /**
     * Training-mode batch norm as one op with the closed-form gradient. Autodiff through tf.moments and
     * tf.batchNorm keeps about ten full-size intermediates per layer until backprop (the wasm heap's
     * 4 GiB overflowed on small Inception at batch 128) and runs slow Tile kernels; this keeps only x̂.
     *   y = x̂ + β,  x̂ = (x − μ)·r,  r = 1/√(σ² + ε)
     *   dβ = Σdy,   dx = r·(dy − Σdy/M − x̂·Σ(dy·x̂)/M)   (sums over the M = N·H·W positions)
     * With a ReLU after it, y = max(x̂ + β, 0) and dy above is the ReLU's gradient dy·step(y).
     */
    private trainingForward(): (x: tfTypes.Tensor, beta: tfTypes.Tensor) => tfTypes.Tensor {
      const { momentum, epsilon } = this.bnArgs;
      const relu = this.bnArgs.relu === true;
      return tf.customGrad((...args: (tfTypes.Tensor | tfTypes.GradSaveFunc)[]) => {
        const [x, beta, save] = args as [tfTypes.Tensor, tfTypes.Tensor, tfTypes.GradSaveFunc];
        const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
        const mean = tf.mean(x, axes);
        const centred = tf.sub(x, mean);
        const variance = tf.mean(tf.square(centred), axes);
        const r = tf.rsqrt(tf.add(variance, epsilon));
        const xhat = tf.mul(centred, r);
        // The op's forward runs off the gradient tape, so updating the moving statistics here is free.
        const mm = this.movingMean!.read();
        const mv = this.movingVariance!.read();
        this.movingMean!.write(tf.add(tf.mul(mm, momentum), tf.mul(mean, 1 - momentum)));
        this.movingVariance!.write(tf.add(tf.mul(mv, momentum), tf.mul(variance, 1 - momentum)));
        const z = tf.add(xhat, beta);
        const y = relu ? tf.relu(z) : z;
        save(relu ? [xhat, r, y] : [xhat, r]);
        return {
          value: y,
          gradFunc: (dOut: tfTypes.Tensor, saved: tfTypes.Tensor[]) => {
            const [xh, rs, sy] = saved as [tfTypes.Tensor, tfTypes.Tensor, tfTypes.Tensor | undefined];
            // tfjs's Relu gradient: dy·step(x), and x > 0 ⇔ relu(x) > 0.
            const dy = relu ? tf.mul(dOut, tf.step(sy!)) : dOut;
            const m = dy.size / dy.shape[dy.rank - 1]!;
            const sumDy = tf.sum(dy, axes);
            const sumDyXhat = tf.sum(tf.mul(dy, xh), axes);
            const dx = tf.mul(tf.sub(tf.sub(dy, tf.div(sumDy, m)), tf.mul(xh, tf.div(sumDyXhat, m))), rs);
            return [dx, sumDy];
          },
        };
      }) as (x: tfTypes.Tensor, beta: tfTypes.Tensor) => tfTypes.Tensor;
    }

    override getConfig(): tfTypes.serialization.ConfigDict {
      const config = { ...super.getConfig(), momentum: this.bnArgs.momentum, epsilon: this.bnArgs.epsilon };
      return this.bnArgs.relu === true ? { ...config, relu: true } : config;
    }
  }
  return BetaBatchNorm;
}
