// Dropout whose mask is fresh every training step yet replays exactly from the stage seed:
// tf.layers.dropout({seed}) reuses one mask forever, and without a seed it draws from Math.random.
import { Rng } from '../util/random.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';

export interface SeededDropoutArgs {
  readonly rate: number;
  readonly seed: number;
  readonly name?: string;
}

export function defineSeededDropout(tf: Tf) {
  class SeededDropout extends tf.layers.Layer {
    static readonly className = 'RethinkSeededDropout';
    private readonly rate: number;
    private readonly seed: number;
    private readonly rng: Rng;

    constructor(args: SeededDropoutArgs) {
      super(args.name === undefined ? {} : { name: args.name });
      this.rate = args.rate;
      this.seed = args.seed;
      this.rng = Rng.derive(args.seed, 'dropout-masks');
    }

    override call(inputs: tfTypes.Tensor | tfTypes.Tensor[], kwargs: tfTypes.serialization.ConfigDict): tfTypes.Tensor {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      if (kwargs['training'] !== true || this.rate <= 0) return tf.clone(x);
      // One fresh seed per training call: masks differ step to step but replay exactly.
      return tf.dropout(x, this.rate, undefined, this.rng.seed31());
    }

    override getConfig(): tfTypes.serialization.ConfigDict {
      return { ...super.getConfig(), rate: this.rate, seed: this.seed };
    }
  }
  return SeededDropout;
}
