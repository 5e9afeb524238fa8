// The layers tf.layers lacks or gets wrong for the paper's models, defined once per tfjs instance
// (their classes extend tf.layers.Layer, which exists only after the lazy tfjs import) and
// registered for serialization.
import { defineBetaBatchNorm, type BetaBatchNormArgs } from './beta-batch-norm.js';
import { defineLrn, type LrnArgs } from './lrn.js';
import { defineSeededDropout, type SeededDropoutArgs } from './seeded-dropout.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';

export type { BetaBatchNormArgs, LrnArgs, SeededDropoutArgs };

export interface CustomLayers {
  lrn(args: LrnArgs): tfTypes.layers.Layer;
  seededDropout(args: SeededDropoutArgs): tfTypes.layers.Layer;
  betaBatchNorm(args: BetaBatchNormArgs): tfTypes.layers.Layer;
}

let cached: { readonly tf: Tf; readonly layers: CustomLayers } | undefined;

export function customLayers(tf: Tf): CustomLayers {
  if (cached?.tf === tf) return cached.layers;
  const Lrn = defineLrn(tf);
  const SeededDropout = defineSeededDropout(tf);
  const BetaBatchNorm = defineBetaBatchNorm(tf);
  tf.serialization.registerClass(Lrn);
  tf.serialization.registerClass(SeededDropout);
  tf.serialization.registerClass(BetaBatchNorm);
  const layers: CustomLayers = {
    lrn: (args) => new Lrn(args),
    seededDropout: (args) => new SeededDropout(args),
    betaBatchNorm: (args) => new BetaBatchNorm(args),
  };
  cached = { tf, layers };
  return layers;
}
