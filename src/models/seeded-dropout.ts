// Dropout whose mask is fresh every training step yet replays exactly from the stage seed:
// tf.layers.dropout({seed}) reuses one mask forever, and without a seed it draws from Math.random.
// Each training call draws the next mask seed from the layer's own stream; how many it has drawn is
// part of a training checkpoint (train/checkpoint.ts, through step-stream.ts), so a resumed run draws
// the masks an uninterrupted one would have.
import { Rng } from '../util/random.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';
import { SEEDED_DROPOUT_CLASS, type StepStream } from './step-stream.js';

export interface SeededDropoutArgs {
  readonly rate: number;
  readonly seed: number;
  readonly name?: string;
}

export function defineSeededDropout(tf: Tf) {
  class SeededDropout extends tf.layers.Layer implements StepStream {
    static readonly className = SEEDED_DROPOUT_CLASS;
    private readonly rate: number;
    private readonly seed: number;
    private rng: Rng;
    private drawn = 0;

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
      this.drawn++;
      return tf.dropout(x, this.rate, undefined, this.rng.seed31());
    }

    get draws(): number {
      return this.drawn;
    }

    skipTo(draws: number): void {
      this.rng = Rng.derive(this.seed, 'dropout-masks');
      for (let i = 0; i < draws; i++) this.rng.seed31();
      this.drawn = draws;
    }

    override getConfig(): tfTypes.serialization.ConfigDict {
      return { ...super.getConfig(), rate: this.rate, seed: this.seed };
    }
  }
  return SeededDropout;
}
