// Seeded initializers: each layer's weights come from its own stream `Rng.derive(seed, 'init', model, layer)`,
// so adding or renaming one layer never changes another layer's initial weights.
import { Rng } from '../util/random.js';
import type { Tf } from './types.js';

export type Initializer = ReturnType<Tf['initializers']['zeros']>;

export interface Inits {
  glorotUniform(layer: string): Initializer;
  truncatedNormal(layer: string, stddev: number): Initializer;
  constant(value: number): Initializer;
  zeros(): Initializer;
}

export function seededInits(tf: Tf, seed: number, model: string): Inits {
  const layerSeed = (layer: string): number => Rng.derive(seed, 'init', model, layer).seed31();
  return {
    glorotUniform: (layer) => tf.initializers.glorotUniform({ seed: layerSeed(layer) }),
    truncatedNormal: (layer, stddev) => tf.initializers.truncatedNormal({ mean: 0, stddev, seed: layerSeed(layer) }),
    constant: (value) => tf.initializers.constant({ value }),
    zeros: () => tf.initializers.zeros(),
  };
}

/** Seed for a layer's dropout masks, separate from every initializer stream. */
export function dropoutSeed(seed: number, model: string, layer: string): number {
  return Rng.derive(seed, 'dropout', model, layer).seed31();
}
