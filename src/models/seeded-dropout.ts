// Dropout whose mask is fresh every training step yet replays exactly from the stage seed:
// tf.layers.dropout({seed}) reuses one mask forever, and without a seed it draws from Math.random.
// Each training call draws the next mask seed from the layer's own stream; how many it has drawn is
// part of a training checkpoint (train/checkpoint.ts), so a resumed run draws the masks an
// uninterrupted one would have.
import { Rng } from '../util/random.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';

export interface SeededDropoutArgs {
  readonly rate: number;
  readonly seed: number;
  readonly name?: string;
}

/** A random stream a layer draws from at every training step: where it stands goes into a checkpoint. */
export interface StepStream {
  /** The layer's name, unique in its model. */
  readonly name: string;
  /** Draws so far (one per training call). */
  readonly draws: number;
  /** Puts the stream where it stands after `draws` draws from the start. */
  skipTo(draws: number): void;
}

const CLASS_NAME = 'RethinkSeededDropout';

/** The mask streams of a model's seeded dropout layers, in layer order. */
export function stepStreams(model: tfTypes.LayersModel): StepStream[] {
  return model.layers.filter((l) => l.getClassName() === CLASS_NAME) as unknown as StepStream[];
}

export function defineSeededDropout(tf: Tf) {
  class SeededDropout extends tf.layers.Layer implements StepStream {
    static readonly className = CLASS_NAME;
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
