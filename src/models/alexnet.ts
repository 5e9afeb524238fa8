// The paper's "small AlexNet": (conv 5×5×64 → max-pool 3/2 → LRN) twice, FC 384, FC 192, linear output.
// Filter counts, SAME padding, LRN constants and initializers follow the TF CIFAR-10 tutorial model,
// whose parameter count on 28×28×3 equals the paper's 1,387,786 exactly (SPEC §2.3); the module order
// is the paper's (pool before LRN in both modules).
import { convParams, denseParams, sameOut } from './count.js';
import { customLayers } from './custom-layers.js';
import { fuseBiasReluInTraining } from './fused-training.js';
import { dropoutSeed, seededInits } from './init.js';
import { loadTf } from './tf.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { BuildOptions, ModelDef, Tf } from './types.js';

const NAME = 'small_alexnet';
const FILTERS = 64;
const KERNEL = 5;
const HIDDEN = [384, 192] as const;
// TF tutorial: tf.nn.lrn(depth_radius=4, bias=1.0, alpha=0.001/9.0, beta=0.75).
const LRN = { depthRadius: 4, bias: 1, alpha: 0.001 / 9, beta: 0.75 } as const;

export const smallAlexnet: ModelDef = {
  name: NAME,
  description: 'Small AlexNet: (conv 5x5x64, max-pool 3/2, LRN) x2, FC 384, FC 192 (paper App. A, TF tutorial sizes)',
  countParams([h, w, c], numClasses) {
    const flat = sameOut(sameOut(h, 2), 2) * sameOut(sameOut(w, 2), 2) * FILTERS;
    const trainable =
      convParams(KERNEL, c, FILTERS) +
      convParams(KERNEL, FILTERS, FILTERS) +
      denseParams(flat, HIDDEN[0]) +
      denseParams(HIDDEN[0], HIDDEN[1]) +
      denseParams(HIDDEN[1], numClasses);
    return { trainable, nonTrainable: 0 };
  },
  build: async (opts) => buildAlexnet(await loadTf(), opts),
};

function buildAlexnet(tf: Tf, opts: BuildOptions): tfTypes.LayersModel {
  const init = seededInits(tf, opts.seed, NAME);
  const custom = customLayers(tf);
  const apply = (layer: tfTypes.layers.Layer, x: tfTypes.SymbolicTensor): tfTypes.SymbolicTensor =>
    layer.apply(x) as tfTypes.SymbolicTensor;
  // conv1 reads the image, whose gradient nobody needs.
  const fused = (layer: tfTypes.layers.Layer, inputGrad = true): tfTypes.layers.Layer =>
    opts.fuseBiasRelu === false ? layer : fuseBiasReluInTraining(tf, layer, { inputGrad });

  const input = tf.input({ shape: [...opts.inputShape], name: 'image' });
  let x = input;
  // Tutorial initial biases: 0 for conv1, 0.1 for conv2 and the hidden FC layers.
  const convBias = [0, 0.1] as const;
  for (let i = 1; i <= 2; i++) {
    const conv = `conv${i}`;
    x = apply(
      fused(tf.layers.conv2d({
        filters: FILTERS,
        kernelSize: KERNEL,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init.truncatedNormal(conv, 5e-2),
        biasInitializer: init.constant(convBias[i - 1]!),
        name: conv,
      }), i > 1),
      x,
    );
    x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: `pool${i}` }), x);
    x = apply(custom.lrn({ ...LRN, name: `norm${i}` }), x);
  }
  x = apply(tf.layers.flatten({ name: 'flatten' }), x);
  for (const [i, units] of HIDDEN.entries()) {
    const fc = `fc${i + 3}`;
    x = apply(
      fused(tf.layers.dense({ units, activation: 'relu', kernelInitializer: init.truncatedNormal(fc, 0.04), biasInitializer: init.constant(0.1), name: fc })),
      x,
    );
    if (opts.dropout !== undefined && opts.dropout > 0) {
      const drop = `${fc}_dropout`;
      x = apply(custom.seededDropout({ rate: opts.dropout, seed: dropoutSeed(opts.seed, NAME, drop), name: drop }), x);
    }
  }
  const logits = apply(
    fused(tf.layers.dense({ units: opts.numClasses, kernelInitializer: init.truncatedNormal('logits', 1 / 192), biasInitializer: init.zeros(), name: 'logits' })),
    x,
  );
  return tf.model({ inputs: input, outputs: logits, name: NAME });
}
