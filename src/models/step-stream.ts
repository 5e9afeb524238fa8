// A random stream a layer draws from at every training step (seeded dropout's masks,
// seeded-dropout.ts): where each stands is part of a training checkpoint (train/checkpoint.ts), so
// a resumed run draws what an uninterrupted one would. Apart from the layer, so that the training
// loop and the public API's types reach the contract without the layer's class.
import type * as tfTypes from '@tensorflow/tfjs';

export interface StepStream {
  /** The layer's name, unique in its model. */
  readonly name: string;
  /** Draws so far (one per training call). */
  readonly draws: number;
  /** Puts the stream where it stands after `draws` draws from the start. */
  skipTo(draws: number): void;
}

/** The class name seeded dropout layers register (and serialize) under. */
export const SEEDED_DROPOUT_CLASS = 'RethinkSeededDropout';

/** The mask streams of a model's seeded dropout layers, in layer order. */
export function stepStreams(model: tfTypes.LayersModel): StepStream[] {
  return model.layers.filter((l) => l.getClassName() === SEEDED_DROPOUT_CLASS) as unknown as StepStream[];
}
