// Multilayer perceptrons of the paper (App. A): `depth` hidden layers of 512 ReLU units on the flattened image.
import { denseParams } from './count.js';
import { customLayers } from './custom-layers.js';
import { fuseBiasReluInTraining } from './fused-training.js';
import { dropoutSeed, seededInits } from './init.js';
import { loadTf } from './tf.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { BuildOptions, ModelDef, Tf } from './types.js';

export function mlpDef(depth: number, width: number): ModelDef {
  const name = `mlp_${depth}x${width}`;
  return {
    name,
    description: `MLP, ${depth} hidden layer${depth === 1 ? '' : 's'} of ${width} ReLU units (paper App. A)`,
    countParams([h, w, c], numClasses) {
      let total = 0;
      let fanIn = h * w * c;
      for (let i = 0; i < depth; i++) {
        total += denseParams(fanIn, width);
        fanIn = width;
      }
      return { trainable: total + denseParams(fanIn, numClasses), nonTrainable: 0 };
    },
    build: async (opts) => buildMlp(await loadTf(), name, depth, width, opts),
  };
}

function buildMlp(tf: Tf, name: string, depth: number, width: number, opts: BuildOptions): tfTypes.LayersModel {
  const init = seededInits(tf, opts.seed, name);
  const custom = customLayers(tf);
  const input = tf.input({ shape: [...opts.inputShape], name: 'image' });
  let x = tf.layers.flatten({ name: 'flatten' }).apply(input) as tfTypes.SymbolicTensor;
  for (let i = 1; i <= depth; i++) {
    const layer = `fc${i}`;
    const dense = tf.layers.dense({ units: width, activation: 'relu', kernelInitializer: init.glorotUniform(layer), biasInitializer: init.zeros(), name: layer });
    // fc1 reads the (flattened) image, whose gradient nobody needs.
    x = (opts.fuseBiasRelu === false ? dense : fuseBiasReluInTraining(tf, dense, { inputGrad: i > 1 })).apply(x) as tfTypes.SymbolicTensor;
    if (opts.dropout !== undefined && opts.dropout > 0) {
      const drop = `${layer}_dropout`;
      x = custom.seededDropout({ rate: opts.dropout, seed: dropoutSeed(opts.seed, name, drop), name: drop }).apply(x) as tfTypes.SymbolicTensor;
    }
  }
  const dense = tf.layers.dense({ units: opts.numClasses, kernelInitializer: init.glorotUniform('logits'), biasInitializer: init.zeros(), name: 'logits' });
  // The logits layer reads fc<depth>'s output, so its input gradient is needed.
  const logits = (opts.fuseBiasRelu === false ? dense : fuseBiasReluInTraining(tf, dense)).apply(x) as tfTypes.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name });
}
