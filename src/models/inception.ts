// The paper's small Inception (Fig. 3), with and without batch norm. Conv module = conv → BN → ReLU,
// where BN learns only beta (TF-Slim's center=True, scale=False) and the conv has no bias; without
// BN the conv gets its bias back. Either way each conv adds one learnable offset per channel, which
// is how both variants count exactly 1,649,402 (SPEC §2.2). SAME padding gives 28 → 14 → 7.
import { convParams, denseParams } from './count.js';
import { customLayers } from './custom-layers.js';
import { fuseBiasReluInTraining } from './fused-training.js';
import { dropoutSeed, seededInits } from './init.js';
import { loadTf } from './tf.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { BuildOptions, ModelDef, Tf } from './types.js';

type Block =
  | { readonly kind: 'conv'; readonly filters: number }
  | { readonly kind: 'inception'; readonly ch1: number; readonly ch3: number }
  | { readonly kind: 'downsample'; readonly ch3: number };

const BLOCKS: readonly Block[] = [
  { kind: 'conv', filters: 96 },
  { kind: 'inception', ch1: 32, ch3: 32 },
  { kind: 'inception', ch1: 32, ch3: 48 },
  { kind: 'downsample', ch3: 80 },
  { kind: 'inception', ch1: 112, ch3: 48 },
  { kind: 'inception', ch1: 96, ch3: 64 },
  { kind: 'inception', ch1: 80, ch3: 80 },
  { kind: 'inception', ch1: 48, ch3: 96 },
  { kind: 'downsample', ch3: 96 },
  { kind: 'inception', ch1: 176, ch3: 160 },
  { kind: 'inception', ch1: 176, ch3: 160 },
];

export function inceptionDef(batchNorm: boolean): ModelDef {
  // Names as the lead's brief spells them: the batch-norm variant carries the suffix.
  const name = batchNorm ? 'small_inception_bn' : 'small_inception';
  return {
    name,
    description: `Small Inception (paper Fig. 3), ${batchNorm ? 'with batch norm (beta only)' : 'without batch norm (conv biases)'}`,
    countParams([, , c], numClasses) {
      let trainable = 0;
      let nonTrainable = 0;
      let channels = c;
      const conv = (k: number, out: number): void => {
        trainable += convParams(k, channels, out);
        if (batchNorm) nonTrainable += 2 * out; // moving mean and variance
      };
      for (const b of BLOCKS) {
        switch (b.kind) {
          case 'conv':
            conv(3, b.filters);
            channels = b.filters;
            break;
          case 'inception':
            conv(1, b.ch1);
            conv(3, b.ch3);
            channels = b.ch1 + b.ch3;
            break;
          case 'downsample':
            conv(3, b.ch3);
            channels = b.ch3 + channels;
            break;
        }
      }
      return { trainable: trainable + denseParams(channels, numClasses), nonTrainable };
    },
    build: async (opts) => buildInception(await loadTf(), name, batchNorm, opts),
  };
}

function buildInception(tf: Tf, name: string, batchNorm: boolean, opts: BuildOptions): tfTypes.LayersModel {
  const init = seededInits(tf, opts.seed, name);
  const custom = customLayers(tf);
  type Sym = tfTypes.SymbolicTensor;
  const apply = (layer: tfTypes.layers.Layer, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;

  const convModule = (x: Sym, prefix: string, filters: number, kernel: number, stride: number): Sym => {
    const convName = `${prefix}_conv`;
    const conv = (extra: { useBias: boolean; activation?: 'relu' }): tfTypes.layers.Layer =>
      tf.layers.conv2d({
        filters,
        kernelSize: kernel,
        strides: stride,
        padding: 'same',
        kernelInitializer: init.glorotUniform(convName),
        biasInitializer: init.zeros(),
        name: convName,
        ...extra,
      });
    // Without BN, bias and ReLU fuse into the conv (one FusedConv2D kernel, in training too).
    if (!batchNorm) {
      const layer = conv({ useBias: true, activation: 'relu' });
      // The first conv reads the image, whose gradient nobody needs.
      return apply(opts.fuseBiasRelu === false ? layer : fuseBiasReluInTraining(tf, layer, { inputGrad: x !== input }), x);
    }
    // Keras' defaults for momentum and epsilon (the paper gives none).
    const bn = { momentum: 0.99, epsilon: 1e-3, name: `${prefix}_bn` };
    // The first conv reads the image, whose gradient nobody needs: the fused op skips it.
    const linear = conv({ useBias: false });
    const z = apply(opts.fuseBiasRelu === false ? linear : fuseBiasReluInTraining(tf, linear, { inputGrad: x !== input }), x);
    // The ReLU fuses into the batch norm (one op; on webgpu its kernels apply and mask it).
    if (opts.fuseBiasRelu !== false) return apply(custom.betaBatchNorm({ ...bn, relu: true }), z);
    return apply(tf.layers.reLU({ name: `${prefix}_relu` }), apply(custom.betaBatchNorm(bn), z));
  };

  const input = tf.input({ shape: [...opts.inputShape], name: 'image' });
  let x: Sym = input;
  for (const [i, b] of BLOCKS.entries()) {
    const p = `b${i + 1}`;
    switch (b.kind) {
      case 'conv':
        x = convModule(x, p, b.filters, 3, 1);
        break;
      case 'inception': {
        const a = convModule(x, `${p}_1x1`, b.ch1, 1, 1);
        const c = convModule(x, `${p}_3x3`, b.ch3, 3, 1);
        x = apply(tf.layers.concatenate({ axis: -1, name: `${p}_concat` }), [a, c]);
        break;
      }
      case 'downsample': {
        const c = convModule(x, `${p}_3x3`, b.ch3, 3, 2);
        const pool = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: `${p}_pool` }), x);
        x = apply(tf.layers.concatenate({ axis: -1, name: `${p}_concat` }), [c, pool]);
        break;
      }
    }
  }
  x = apply(tf.layers.globalAveragePooling2d({ name: 'mean_pool' }), x);
  if (opts.dropout !== undefined && opts.dropout > 0) {
    x = apply(custom.seededDropout({ rate: opts.dropout, seed: dropoutSeed(opts.seed, name, 'dropout'), name: 'dropout' }), x);
  }
  const dense = tf.layers.dense({ units: opts.numClasses, kernelInitializer: init.glorotUniform('logits'), biasInitializer: init.zeros(), name: 'logits' });
  const logits = apply(opts.fuseBiasRelu === false ? dense : fuseBiasReluInTraining(tf, dense), x);
  return tf.model({ inputs: input, outputs: logits, name });
}
