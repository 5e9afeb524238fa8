// The two layers tf.layers lacks for the paper's models: TF-style local response normalization
// (AlexNet) and a dropout whose mask is fresh every step yet reproducible from the stage seed
// (tf.layers.dropout({seed}) reuses one mask forever; without a seed it uses Math.random).
import { Rng } from '../util/random.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';

export interface LrnArgs {
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;
  readonly name?: string;
}

export interface SeededDropoutArgs {
  readonly rate: number;
  readonly seed: number;
  readonly name?: string;
}

export interface CustomLayers {
  lrn(args: LrnArgs): tfTypes.layers.Layer;
  seededDropout(args: SeededDropoutArgs): tfTypes.layers.Layer;
}

let cached: { readonly tf: Tf; readonly layers: CustomLayers } | undefined;

/** Defines (once per tfjs instance) and registers the custom layer classes for serialization. */
export function customLayers(tf: Tf): CustomLayers {
  if (cached?.tf === tf) return cached.layers;

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

  tf.serialization.registerClass(LocalResponseNormalization);
  tf.serialization.registerClass(SeededDropout);
  const layers: CustomLayers = {
    lrn: (args) => new LocalResponseNormalization(args),
    seededDropout: (args) => new SeededDropout(args),
  };
  cached = { tf, layers };
  return layers;
}
