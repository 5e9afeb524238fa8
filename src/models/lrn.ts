// TF-style local response normalization for the small AlexNet (tf.layers has no LRN layer).
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';

export interface LrnArgs {
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;
  readonly name?: string;
}

/** The layer class, typed by what callers use (its tfjs base has private members a .d.ts cannot name). */
export type LrnClass = (new (args: LrnArgs) => tfTypes.layers.Layer) & tfTypes.serialization.SerializableConstructor<tfTypes.layers.Layer>;

export function defineLrn(tf: Tf): LrnClass {
  class LocalResponseNormalization extends tf.layers.Layer {
    static readonly className = 'RethinkLRN';
    private readonly lrnArgs: LrnArgs;

    constructor(args: LrnArgs) {
      super(args.name === undefined ? {} : { name: args.name });
      this.lrnArgs = args;
    }

    override call(inputs: tfTypes.Tensor | tfTypes.Tensor[]): tfTypes.Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const { depthRadius, bias, alpha, beta } = this.lrnArgs;
      // tf.localResponseNormalization is TF's: window 2r+1, alpha times the raw sum of squares.
      return tf.localResponseNormalization(x as tfTypes.Tensor4D, depthRadius, bias, alpha, beta);
    }

    override getConfig(): tfTypes.serialization.ConfigDict {
      const { depthRadius, bias, alpha, beta } = this.lrnArgs;
      return { ...super.getConfig(), depthRadius, bias, alpha, beta };
    }
  }
  return LocalResponseNormalization;
}
